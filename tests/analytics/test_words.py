"""Hot words: counted once per opinion, most frequent first, change against the previous period;
local names stay whole and stop words are dropped; similar opinions cluster."""

from __future__ import annotations

from datetime import date, timedelta

from app.analytics.kpi import Filters
from app.analytics.words import clusters, rising_topics, words_of
from app.auth.scope import scope_of
from app.extensions import db
from tests.analytics.data import add, at


def test_local_names_stay_whole_and_stop_words_go():
    words = words_of("希望惠山古镇门口的路灯尽快修好，路灯坏了")
    assert "惠山古镇" in words and "路灯" in words
    assert not {"希望", "尽快", "的", "了"} & words


def _period(today: date) -> tuple[date, date, date, date]:
    """This period: the last 10 days; the previous one: the 10 days before."""
    return today - timedelta(days=9), today, today - timedelta(days=19), today - timedelta(days=10)


def _seed(station, today: date) -> None:
    first, _last, prev_first, _prev_last = _period(today)
    now = [
        "惠山古镇路灯坏了，晚上很黑",
        "惠山古镇的路灯不亮",
        "路灯一直不亮，惠山古镇游客多",
        "路灯路灯路灯都坏了",  # one opinion: counts once
        "停车位太少",
        "停车位被占",
    ]
    before = ["路灯坏了", "停车位太少", "停车位不够", "停车位收费贵", "停车位乱收费"]
    for i, text in enumerate(now):
        add(station, at(first + timedelta(days=i % 9)), text)
    for i, text in enumerate(before):
        add(station, at(prev_first + timedelta(days=i)), text)
    db.session.commit()


def test_hotwords_order_and_change(client, place, staff_token):
    today = place.today
    # The dataset's own opinions arrived 40 days ago: outside both periods.
    s = place.station_b
    _seed(s, today)
    first, last, _pf, _pl = _period(today)
    response = client.get(
        "/api/v1/staff/stats/hotwords",
        query_string={"from": first.isoformat(), "to": last.isoformat(), "station": s.code},
        headers=staff_token(place.users["city"]),
    )
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert all(set(item) == {"word", "count", "change"} for item in items)
    counts = [item["count"] for item in items]
    assert counts == sorted(counts, reverse=True)
    by_word = {item["word"]: item for item in items}
    assert items[0] == {"word": "路灯", "count": 4, "change": 3}
    assert by_word["惠山古镇"] == {"word": "惠山古镇", "count": 3, "change": 3}
    assert by_word["停车位"] == {"word": "停车位", "count": 2, "change": -2}
    rising = rising_topics(scope_of(place.users["city"]), Filters(first, last, station=s), today)
    assert [h.word for h in rising[:2]] == ["路灯", "惠山古镇"]


def test_hotwords_are_scoped(client, place, staff_token):
    _seed(place.station_b, place.today)
    first, last, _pf, _pl = _period(place.today)
    items = client.get(
        "/api/v1/staff/stats/hotwords",
        query_string={"from": first.isoformat(), "to": last.isoformat()},
        headers=staff_token(place.users["district_a"]),
    ).get_json()["items"]
    assert "惠山古镇" not in {item["word"] for item in items}


def test_similar_opinions_make_one_cluster(place):
    first = place.today - timedelta(days=5)
    for i in range(5):
        add(
            place.station_a,
            at(first, 9 + i),
            "学前街社区门口的窨井盖坏了，晚上路过很危险",
            resident_id=f"r{i % 4}",
        )
    add(place.station_a, at(first, 16), "希望增加社区食堂的供餐时间")
    db.session.commit()
    groups = clusters(scope_of(place.users["district_a"]), Filters(first, place.today))
    assert groups[0].size == 5
    assert groups[0].residents == 4
    assert all("窨井盖" in o.content for o in groups[0].members)
