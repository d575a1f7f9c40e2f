"""民意研判 pages: overview, topics, station work, the drill-down list, the monthly report."""

from __future__ import annotations

from datetime import date

from flask import Response, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.analytics import report as reports
from app.analytics.kpi import (
    KPIS,
    METRICS,
    WORK_KPIS,
    kpi_items,
    metric_condition,
    opinion_conditions,
    totals,
)
from app.analytics.refresh import last_refresh
from app.analytics.service import (
    ANALYSTS,
    OVERVIEW_KPIS,
    Request,
    categories,
    category_names,
    parse_request,
    region_grouping,
    region_table,
    trend,
)
from app.analytics.words import clusters, hot_words, period_words, rising_topics
from app.analytics.work import service_day_heat, work_figures
from app.auth.models import ADMIN_ROLES
from app.auth.scope import scope_of, visible
from app.console.access import me, paginate, region_options, roles
from app.errors import NotFound
from app.extensions import db
from app.opinions.models import Opinion
from app.stations.models import Station
from app.timeutil import local_now, to_local
from app.units.models import HandlingUnit

IDS_MAX = 400


def _common(req: Request, today: date) -> dict:
    user = me()
    return {
        "req": req,
        "f": req.filters,
        "today": today,
        "regions": region_options() if user.role_enum in ADMIN_ROLES else [],
        "stations": db.session.execute(
            select(Station.id, Station.name)
            .where(visible(Station, user))
            .order_by(Station.region_id, Station.name)
            .limit(500)
        ).all(),
        "units": db.session.execute(
            select(HandlingUnit.id, HandlingUnit.name)
            .where(visible(HandlingUnit, user))
            .order_by(HandlingUnit.name)
        ).all()
        if user.role_enum in ADMIN_ROLES
        else [],
        "refreshed": last_refresh(),
        "to_local": to_local,
        "kpis": KPIS,
        "work_kpis": WORK_KPIS,
    }


def _drill(req: Request, metric: str, **changes) -> str:
    return url_for("console_analytics.opinions", metric=metric, **req.args(**changes))


def _month_args(month: date, req: Request) -> dict:
    from app.analytics.kpi import next_month

    f = req.filters
    last = min(next_month(month).toordinal() - 1, f.date_to.toordinal())
    return {"from": max(month, f.date_from).isoformat(), "to": date.fromordinal(last).isoformat()}


@roles(ANALYSTS)
def overview():
    today = local_now().date()
    user = me()
    req = parse_request(request.args, user, today)
    scope = scope_of(user)
    f = req.filters
    counters = totals(scope, f, today)
    # One grouping by table row × month feeds both the region table and the trend.
    grouping = region_grouping(user, f, today)
    series = trend(scope, f, today, grouping[1])
    cats = categories(scope, f, today)
    months, rows = region_table(user, f, today, grouping)
    work = work_figures(scope, f, today)
    trend_chart = {
        "type": "line",
        "labels": [f"{m:%Y-%m}" for m in series["months"]],
        "datasets": [
            {"label": "收到", "data": series["received"]},
            {"label": "已受理", "data": series["accepted"]},
            {"label": "已办结", "data": series["closed"]},
        ],
        "links": [_drill(req, "received", **_month_args(m, req)) for m in series["months"]],
    }
    category_chart = {
        "type": "bar",
        "labels": [name for _code, name, _c in cats],
        "datasets": [{"label": "收到", "data": [c.received for _code, _name, c in cats]}],
        "links": [_drill(req, "received", category=code) for code, _n, _c in cats],
    }
    return render_template(
        "console/analytics/overview.html",
        cards=kpi_items(OVERVIEW_KPIS, counters),
        counters=counters,
        series=series,
        cats=cats,
        months=months,
        rows=rows,
        work=work,
        trend_chart=trend_chart,
        category_chart=category_chart,
        drill=lambda metric, **kw: _drill(req, metric, **kw),
        month_args=lambda m: _month_args(m, req),
        **_common(req, today),
    )


@roles(ANALYSTS)
def topics():
    today = local_now().date()
    user = me()
    req = parse_request(request.args, user, today)
    scope = scope_of(user)
    f = req.filters
    counts = period_words(scope, f, today)
    words = hot_words(scope, f, today, limit=30, counts=counts)
    rising = rising_topics(scope, f, today, counts=counts)
    groups = clusters(scope, f)
    words_chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [h.word for h in words[:20]],
        "datasets": [
            {"label": "本期", "data": [h.count for h in words[:20]]},
            {"label": "上期", "data": [h.previous for h in words[:20]]},
        ],
        "links": [
            url_for("console_analytics.opinions", metric="received", q=h.word, **req.args())
            for h in words[:20]
        ],
    }
    return render_template(
        "console/analytics/topics.html",
        words=words,
        rising=rising,
        groups=groups,
        previous=f.previous(),
        words_chart=words_chart,
        **_common(req, today),
    )


@roles(ANALYSTS)
def work():
    today = local_now().date()
    user = me()
    req = parse_request(request.args, user, today)
    scope = scope_of(user)
    f = req.filters
    figures = work_figures(scope, f, today)
    months, heat = service_day_heat(scope, f, today)
    chart = {
        "type": "bar",
        "labels": [f"{m:%Y-%m}" for m in figures.service_days_by_month],
        "datasets": [{"label": "联系服务群众日（场）", "data": list(figures.service_days_by_month.values())}],
        "links": [],
    }
    return render_template(
        "console/analytics/work.html",
        work=figures,
        months=months,
        heat=heat,
        chart=chart,
        heat_max=max([max(r.cells, default=0) for r in heat], default=0),
        **_common(req, today),
    )


@roles(ANALYSTS)
def opinions():
    """The drill-down: the opinions behind a number, by the KPI's own condition."""
    today = local_now().date()
    user = me()
    req = parse_request(request.args, user, today)
    metric = request.args.get("metric", "received")
    if metric not in METRICS:
        raise NotFound("没有这个统计项。")
    where = [*opinion_conditions(scope_of(user), req.filters), metric_condition(metric, today)]
    q = request.args.get("q", "").strip()[:32]
    if q:
        where.append(Opinion.content.contains(q, autoescape=True))
    raw_ids = request.args.get("ids", "")
    ids: list[int] = []
    if raw_ids:
        ids = [int(x) for x in raw_ids.split(",") if x.strip().isdigit()][:IDS_MAX]
        where.append(Opinion.id.in_(ids))
    stmt = (
        select(Opinion)
        .where(*where)
        .options(selectinload(Opinion.station))
        .order_by(Opinion.created_at.desc(), Opinion.id.desc())
    )
    page = paginate(stmt)
    return render_template(
        "console/analytics/opinions.html",
        page=page,
        metric=METRICS[metric],
        metric_key=metric,
        q=q,
        ids=ids,
        category_names=category_names(),
        **_common(req, today),
    )


@roles(ADMIN_ROLES)
def report():
    today = local_now().date()
    data = reports.monthly_report(me(), request.args, today)
    return render_template("console/analytics/report.html", r=data, kpis=KPIS, work_kpis=WORK_KPIS)


@roles(ADMIN_ROLES)
def report_pdf():
    today = local_now().date()
    data = reports.monthly_report(me(), request.args, today)
    # The HTML version carries every figure and word the PDF draws: same HTML, same PDF.
    html = render_template("console/analytics/report.html", r=data, kpis=KPIS, work_kpis=WORK_KPIS)
    pdf = reports.cached_pdf(data, html)
    name = f"minyi-report-{data.region.code}-{data.month:%Y%m}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename={name}"},
    )
