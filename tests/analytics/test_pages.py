"""The console pages: numbers from the raw rows, drill-down to the opinions, the report."""

from __future__ import annotations

import re

from tests.analytics.data import period_of


def _q(place, **extra) -> dict:
    first, last = period_of(place.data.d0, place.today)
    return {"from": first.isoformat(), "to": last.isoformat(), **extra}


def _card(html: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}".*?an-card-value">(.*?)</div>', html, re.S)
    assert match, key
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_overview_shows_the_districts_numbers(login, place):
    client = login(place.users["district_a"])
    response = client.get("/console/analytics/", query_string=_q(place))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _card(html, "received") == "8"
    assert _card(html, "accepted") == "5"
    assert _card(html, "closed") == "3"
    assert _card(html, "overdue") == "1"
    assert _card(html, "on_time_accept_rate") == "66.7%"
    assert _card(html, "on_time_close_rate") == "33.3%"
    assert _card(html, "feedback_rate") == "80.0%"
    assert _card(html, "satisfaction_rate") == "66.7%"
    assert _card(html, "p90_close_days") == "20 天"
    # Definitions on the page, charts' data, and nothing of district B.
    assert "提交后 2 个工作日" in html
    assert 'data-chart="' in html and "<canvas" in html
    assert "B村联络站" not in html and "B区" not in html
    assert 'class="spark"' in html


def test_drill_down_lists_the_opinions_behind_a_number(login, place):
    client = login(place.users["district_a"])
    html = client.get("/console/analytics/opinions", query_string=_q(place, metric="overdue")).get_data(
        as_text=True
    )
    assert place.data.a[2].tracking_no in html
    assert place.data.b[2].tracking_no not in html  # B's overdue one is not A's business
    assert "共 1 条" in html
    html = client.get("/console/analytics/opinions", query_string=_q(place, metric="accept_late")).get_data(
        as_text=True
    )
    assert place.data.a[1].tracking_no in html and place.data.a[3].tracking_no in html
    assert "共 2 条" in html
    assert client.get("/console/analytics/opinions", query_string={"metric": "nope"}).status_code == 404


def test_out_of_scope_filters_are_404(login, place):
    client = login(place.users["district_a"])
    assert (
        client.get("/console/analytics/", query_string={"region": place.tree["district_b"].id}).status_code
        == 404
    )
    assert client.get("/console/analytics/", query_string={"station": place.station_b.id}).status_code == 404
    assert (
        client.get(
            "/console/analytics/report", query_string={"region": place.tree["district_b"].id}
        ).status_code
        == 404
    )


def test_topics_and_work_pages(login, place):
    client = login(place.users["district_a"])
    html = client.get("/console/analytics/topics", query_string=_q(place)).get_data(as_text=True)
    assert "路灯" in html and "同一问题集中反映" in html
    html = client.get("/console/analytics/work", query_string=_q(place)).get_data(as_text=True)
    assert "A村联络站" in html and "an-heat" in html and "B村联络站" not in html


def test_monthly_report_html_and_pdf(login, place):
    client = login(place.users["district_a"])
    month = place.data.d0.strftime("%Y-%m")
    query = {"region": place.tree["district_a"].id, "month": month}
    html = client.get("/console/analytics/report", query_string=query).get_data(as_text=True)
    assert "民意分析报告" in html and "按时受理率" in html
    response = client.get("/console/analytics/report.pdf", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF") and b"FontFile" in body  # the CJK font is embedded
    assert client.get("/console/analytics/report", query_string={"month": "2026-99"}).status_code == 422


def test_units_and_deputies_have_no_dashboard(login, place, make_user, make_unit):
    unit = make_unit(place.tree["town_a"])
    client = login(make_user("unit_staff", unit))
    assert client.get("/console/analytics/").status_code == 403


def test_unit_filter_counts_what_the_unit_holds_now(login, place, make_unit):
    from app.extensions import db

    unit = make_unit(place.tree["town_a"], name="A镇住建局")
    place.data.a[2].unit_id = unit.id  # the overdue one
    db.session.commit()
    client = login(place.users["district_a"])
    html = client.get("/console/analytics/", query_string=_q(place, unit=unit.id)).get_data(as_text=True)
    assert _card(html, "received") == "1" and _card(html, "overdue") == "1"
    foreign = make_unit(place.tree["town_b"], name="B镇住建局")
    db.session.commit()
    assert client.get("/console/analytics/", query_string={"unit": foreign.id}).status_code == 404
