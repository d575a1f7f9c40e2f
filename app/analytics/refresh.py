"""The aggregate refresh: recompute the stored months whose opinions changed; idempotent.

A month's rows are deleted and rebuilt from the opinions in one transaction, from the same
expressions the live figures use (``app.analytics.kpi.counter_expressions``), so a refreshed
month equals the live count by construction. Which months: every month the first time, then
those with an opinion updated since the watermark. The watermark is set a little before the
refresh started, so a change committed while it ran is caught by the next one (and counted
live meanwhile); running it twice, or after downtime, gives the same tables.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, func, insert, select, text

from app.analytics.kpi import (
    REFRESH_NAME,
    STORED,
    close_days_expression,
    closed_condition,
    counter_expressions,
    next_month,
    start_of,
)
from app.analytics.models import CloseDaysMonth, OpinionMonth, RefreshState, WordMonth
from app.analytics.sqltime import as_date, local_month
from app.analytics.words import words_of
from app.extensions import db
from app.models_base import utcnow
from app.opinions.models import Opinion

MARGIN = timedelta(minutes=2)
# PostgreSQL advisory lock: two refreshes (scheduler and CLI) never rebuild one month at once.
LOCK_KEY = 0x6A7A64616E61  # "jzdana"
BATCH = 5000


@dataclass
class RefreshResult:
    months: list[date]
    opinion_rows: int = 0
    word_rows: int = 0


def _month_range(month: date):
    return Opinion.created_at >= start_of(month), Opinion.created_at < start_of(next_month(month))


def _insert(model, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[i : i + BATCH])


def rebuild_month(month: date) -> tuple[int, int]:
    """Replace one month's stored rows by a fresh count; returns (counter rows, word rows)."""
    for model in (OpinionMonth, CloseDaysMonth, WordMonth):
        db.session.execute(delete(model).where(model.month == month))
    in_month = _month_range(month)
    category = func.coalesce(Opinion.category, "")
    exprs = counter_expressions()
    stmt = (
        select(Opinion.station_id, category, *(func.sum(e) for e in exprs.values()))
        .where(*in_month)
        .group_by(Opinion.station_id, category)
    )
    rows = [
        {
            "month": month,
            "station_id": station_id,
            "category": (cat or "")[:32],
            **dict(zip(STORED, map(int, values), strict=True)),
        }
        for station_id, cat, *values in db.session.execute(stmt)
    ]
    _insert(OpinionMonth, rows)
    days = close_days_expression()
    hist = (
        select(Opinion.station_id, days, func.count())
        .where(*in_month, closed_condition())
        .group_by(Opinion.station_id, days)
    )
    _insert(
        CloseDaysMonth,
        [
            {"month": month, "station_id": s, "days": int(d), "n": int(n)}
            for s, d, n in db.session.execute(hist)
        ],
    )
    per_station: dict[int, Counter] = defaultdict(Counter)
    for station_id, content in db.session.execute(
        select(Opinion.station_id, Opinion.content).where(*in_month)
    ):
        per_station[station_id].update(words_of(content))
    word_rows = [
        {"month": month, "station_id": s, "word": w, "n": n}
        for s, counts in per_station.items()
        for w, n in counts.items()
    ]
    _insert(WordMonth, word_rows)
    return len(rows), len(word_rows)


def refresh_aggregates(*, full: bool = False) -> RefreshResult:
    """Bring the stored months up to date with the opinions (all of them when ``full``); flushes."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    started = utcnow()
    state = db.session.get(RefreshState, REFRESH_NAME)
    months_q = select(local_month(Opinion.created_at)).distinct()
    if state is not None and not full:
        months_q = months_q.where(Opinion.updated_at >= state.watermark)
    months = sorted({as_date(m) for m in db.session.scalars(months_q)})
    if full or state is None:
        # Stored months whose opinions are all gone must go too.
        stale = set(db.session.scalars(select(OpinionMonth.month).distinct())) - set(months)
        for month in stale:
            for model in (OpinionMonth, CloseDaysMonth, WordMonth):
                db.session.execute(delete(model).where(model.month == month))
    result = RefreshResult(months)
    for month in months:
        counters, words = rebuild_month(month)
        result.opinion_rows += counters
        result.word_rows += words
    if state is None:
        state = RefreshState(name=REFRESH_NAME)
        db.session.add(state)
    state.watermark = started - MARGIN
    state.refreshed_at = started
    state.months = len(months)
    db.session.flush()
    return result


def last_refresh() -> RefreshState | None:
    return db.session.get(RefreshState, REFRESH_NAME)
