"""Opinions with known timings, statuses and ratings in two districts, and the KPIs recomputed
from those raw rows in plain Python — the independent check of app.analytics.kpi."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.analytics.kpi import month_start
from app.extensions import db
from app.opinions.models import Opinion
from app.stations.models import Station
from app.timeutil import LOCAL_TZ

_numbers = itertools.count(1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local wall-clock moment as the aware UTC datetime it is stored as."""
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def local_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).date()


def add(
    station: Station, created: datetime, content: str = "小区门口路灯坏了，晚上出行不便。", **fields
) -> Opinion:
    """One opinion row exactly as given (no pipeline: the point is known raw values)."""
    n = next(_numbers)
    opinion = Opinion(
        tracking_no=f"T{n:011d}",
        channel=fields.pop("channel", "h5"),
        station_id=station.id,
        content=content,
        status=fields.pop("status", "pending"),
        created_at=created,
        updated_at=fields.pop("updated_at", created),
        resident_id=fields.pop("resident_id", f"resident-{n}"),
        **fields,
    )
    db.session.add(opinion)
    db.session.flush()
    return opinion


@dataclass
class Dataset:
    a: list[Opinion]
    b: list[Opinion]
    d0: date


def build(station_a: Station, station_b: Station, d0: date, today: date) -> Dataset:
    """Eight opinions at A, three at B; d0 is the day most of them arrive (well before today)."""
    A = station_a
    a = [
        # Closed on time and satisfied; accepted 23:30 on its acceptance limit (still on time).
        add(
            A,
            at(d0),
            category="traffic",
            status="closed",
            accept_due=d0 + timedelta(days=2),
            accepted_at=at(d0 + timedelta(days=2), 23, 30),
            deadline=d0 + timedelta(days=15),
            replied_at=at(d0 + timedelta(days=10)),
            fed_back_at=at(d0 + timedelta(days=11)),
            satisfaction="satisfied",
            rated_at=at(d0 + timedelta(days=12)),
            closed_at=at(d0 + timedelta(days=12)),
        ),
        # Accepted ten minutes after its limit ended, replied two days late, rated unsatisfied,
        # closed by a supervisor on day 20.
        add(
            A,
            at(d0, 15),
            category="env",
            status="closed",
            accept_due=d0 + timedelta(days=2),
            accepted_at=at(d0 + timedelta(days=3), 0, 10),
            deadline=d0 + timedelta(days=10),
            replied_at=at(d0 + timedelta(days=12)),
            fed_back_at=at(d0 + timedelta(days=13)),
            satisfaction="unsatisfied",
            rated_at=at(d0 + timedelta(days=14)),
            closed_at=at(d0 + timedelta(days=20)),
        ),
        # With the unit and overdue now.
        add(
            A,
            at(d0 + timedelta(days=1)),
            category="traffic",
            status="assigned",
            accept_due=d0 + timedelta(days=3),
            accepted_at=at(d0 + timedelta(days=1), 16),
            deadline=today - timedelta(days=3),
            assigned_at=at(d0 + timedelta(days=2)),
        ),
        # Still pending, past its acceptance limit.
        add(A, at(d0 + timedelta(days=2)), status="pending", accept_due=d0 + timedelta(days=4)),
        # Pending, within its limit.
        add(A, at(today - timedelta(days=1)), status="pending", accept_due=today + timedelta(days=1)),
        # Not accepted.
        add(
            A,
            at(d0 + timedelta(days=3)),
            status="rejected",
            accept_due=d0 + timedelta(days=5),
            closed_at=at(d0 + timedelta(days=4)),
        ),
        # 涉法涉诉, guided: answered to the resident, not overdue.
        add(
            A,
            at(d0 + timedelta(days=4)),
            category="legal",
            status="guided",
            is_legal=True,
            accept_due=d0 + timedelta(days=6),
            accepted_at=at(d0 + timedelta(days=4), 11),
            deadline=today + timedelta(days=5),
        ),
        # Closed the day it came in, basically satisfied.
        add(
            A,
            at(d0 + timedelta(days=5), 9),
            category="env",
            status="closed",
            accept_due=d0 + timedelta(days=7),
            accepted_at=at(d0 + timedelta(days=5), 10),
            fed_back_at=at(d0 + timedelta(days=5), 16),
            satisfaction="basically_satisfied",
            rated_at=at(d0 + timedelta(days=5), 17),
            closed_at=at(d0 + timedelta(days=5), 17),
        ),
    ]
    B = station_b
    b = [
        add(
            B,
            at(d0),
            category="env",
            status="closed",
            accept_due=d0 + timedelta(days=2),
            accepted_at=at(d0 + timedelta(days=1)),
            deadline=d0 + timedelta(days=15),
            replied_at=at(d0 + timedelta(days=5)),
            fed_back_at=at(d0 + timedelta(days=6)),
            satisfaction="satisfied",
            rated_at=at(d0 + timedelta(days=7)),
            closed_at=at(d0 + timedelta(days=7)),
        ),
        add(B, at(d0 + timedelta(days=1)), status="pending", accept_due=d0 + timedelta(days=3)),
        add(
            B,
            at(d0 + timedelta(days=2)),
            category="traffic",
            status="assigned",
            accept_due=d0 + timedelta(days=4),
            accepted_at=at(d0 + timedelta(days=2)),
            deadline=today - timedelta(days=1),
        ),
    ]
    db.session.flush()
    return Dataset(a, b, d0)


def expected(opinions: list[Opinion], today: date) -> dict:
    """The KPIs as their Chinese definitions say, computed row by row."""
    accepted = [o for o in opinions if o.accepted_at is not None]
    on_time = [o for o in accepted if o.accept_due is None or local_day(o.accepted_at) <= o.accept_due]
    late_pending = [o for o in opinions if o.status == "pending" and o.accept_due < today]
    replied = [o for o in opinions if o.deadline is not None and o.replied_at is not None]
    replied_on_time = [o for o in replied if local_day(o.replied_at) <= o.deadline]
    overdue = [o for o in opinions if o.status in ("assigned", "guided") and o.deadline < today]
    fed_back = [
        o for o in accepted if o.fed_back_at is not None or o.status in ("guided", "converted", "closed")
    ]
    rated = [o for o in opinions if o.satisfaction]
    satisfied = [o for o in rated if o.satisfaction in ("satisfied", "basically_satisfied")]
    days = sorted(
        (local_day(o.closed_at) - local_day(o.created_at)).days for o in opinions if o.status == "closed"
    )

    def rate(num: list, den: int) -> float | None:
        return len(num) / den if den else None

    return {
        "received": len(opinions),
        "accepted": len(accepted),
        "closed": sum(1 for o in opinions if o.status == "closed"),
        "overdue": len(overdue),
        "on_time_accept_rate": rate(on_time, len(accepted) + len(late_pending)),
        "on_time_close_rate": rate(replied_on_time, len(replied) + len(overdue)),
        "feedback_rate": rate(fed_back, len(accepted)),
        "satisfaction_rate": rate(satisfied, len(rated)),
        "avg_close_days": sum(days) / len(days) if days else None,
        "p90_close_days": days[math.ceil(0.9 * len(days)) - 1] if days else None,
    }


def period_of(d0: date, today: date) -> tuple[date, date]:
    """From the first of d0's month to today."""
    return month_start(d0), today
