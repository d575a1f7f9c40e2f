"""The staff inbox: which opinions a user sees, filtered, counted and ordered by urgency.

Every query starts from the scope (app/auth/scope.py), so a filter can only narrow what the
user may see. The console inbox and the staff JSON API build their lists here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, true
from sqlalchemy.orm import selectinload

from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.scope import region_ids_under, scoped_select, station_ids_under, visible
from app.extensions import db
from app.opinions.models import Category, Channel, Opinion, OpinionStatus
from app.opinions.pipeline import DEADLINE_STATUSES, OPEN_STATUSES
from app.opinions.service import normalise_tracking_no
from app.regions.models import Region
from app.timeutil import local_day_start, local_now

S = OpinionStatus
OPEN = "open"  # a status filter of its own: everything still waiting for somebody
SORTS = {"deadline": "按紧急程度", "newest": "最新提交", "oldest": "最早提交"}
Q_MAX = 64


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None  # an OpinionStatus value or OPEN
    region_id: int | None = None
    station_id: int | None = None
    unit_id: int | None = None
    category: str | None = None
    channel: str | None = None
    overdue: bool = False
    late: bool = False
    todo: bool = False  # what this user can act on now
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    sort: str = "deadline"
    problems: tuple[str, ...] = field(default=(), compare=False)

    def without_status(self) -> InboxFilter:
        return replace(self, status=None)


def _flag(raw: object) -> bool:
    return str(raw or "").strip().lower() in ("1", "on", "true", "yes")


def _int(raw: object) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def parse_filter(args: Mapping[str, object]) -> InboxFilter:
    """Filters from query arguments; a value that makes no sense is dropped and explained."""
    problems: list[str] = []
    status = str(args.get("status") or "").strip() or None
    if status is not None and status != OPEN and status not in S.__members__.values():
        problems.append("未知的办理状态，已忽略。")
        status = None
    channel = str(args.get("channel") or "").strip() or None
    if channel is not None and channel not in Channel.__members__.values():
        problems.append("未知的留言渠道，已忽略。")
        channel = None
    days: dict[str, date | None] = {}
    for key, label in (("from", "开始日期"), ("to", "结束日期")):
        text = str(args.get(key) or "").strip()
        try:
            days[key] = date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(f"{label}格式应为 年-月-日，已忽略。")
            days[key] = None
    if days["from"] and days["to"] and days["from"] > days["to"]:
        problems.append("开始日期晚于结束日期，已对调。")
        days["from"], days["to"] = days["to"], days["from"]
    sort = str(args.get("sort") or "deadline").strip()
    return InboxFilter(
        status=status,
        region_id=_int(args.get("region")),
        station_id=_int(args.get("station")),
        unit_id=_int(args.get("unit")),
        category=str(args.get("category") or "").strip()[:32] or None,
        channel=channel,
        overdue=_flag(args.get("overdue")),
        late=_flag(args.get("late")),
        todo=_flag(args.get("todo")),
        date_from=days["from"],
        date_to=days["to"],
        q=str(args.get("q") or "").strip()[:Q_MAX],
        sort=sort if sort in SORTS else "deadline",
        problems=tuple(problems),
    )


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Past the reply deadline while still with the unit (pipeline.is_overdue, in SQL)."""
    return and_(Opinion.status.in_(DEADLINE_STATUSES), Opinion.deadline < today)


def late_condition(today: date) -> ColumnElement[bool]:
    """Not accepted within the acceptance limit (pipeline.is_accept_late, in SQL)."""
    return and_(Opinion.status == S.PENDING, Opinion.accept_due < today)


def todo_condition(user: StaffUser) -> ColumnElement[bool]:
    """What waits for this user's role: the pipeline's who-does-what, as one WHERE clause."""
    role = user.role_enum
    if role is Role.STATION_STAFF:
        return and_(
            Opinion.station_id == user.station_id,
            Opinion.owner_region_id.is_(None),
            Opinion.status.in_((S.PENDING, S.ACCEPTED, S.REPLIED)),
        )
    if role is Role.UNIT_STAFF:
        return and_(Opinion.unit_id == user.unit_id, Opinion.status.in_(DEADLINE_STATUSES))
    if role in ADMIN_ROLES and user.region is not None:
        owned = or_(
            Opinion.owner_region_id.is_(None), Opinion.owner_region_id.in_(region_ids_under(user.region.path))
        )
        waiting = or_(
            Opinion.status.in_((S.CLASSIFIED, S.ESCALATED)),
            and_(Opinion.status == S.FED_BACK, Opinion.needs_decision.is_(True)),
        )
        return and_(owned, waiting)
    return false()


def _category_condition(code: str) -> ColumnElement[bool]:
    # Before 分类 an opinion may carry the name a resident picked on the H5 form.
    category = db.session.scalar(select(Category).where(Category.code == code))
    names = [code] + ([category.name] if category is not None else [])
    return Opinion.category.in_(names)


def _conditions(user: StaffUser, f: InboxFilter, today: date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.status == OPEN:
        where.append(Opinion.status.in_(OPEN_STATUSES))
    elif f.status:
        where.append(Opinion.status == f.status)
    if f.region_id is not None:
        region = db.session.scalar(select(Region).where(Region.id == f.region_id, visible(Region, user)))
        # A region outside the scope filters to nothing rather than to everything.
        where.append(
            Opinion.station_id.in_(station_ids_under(region.path)) if region is not None else false()
        )
    if f.station_id is not None:
        where.append(Opinion.station_id == f.station_id)
    if f.unit_id is not None:
        where.append(Opinion.unit_id == f.unit_id)
    if f.category:
        where.append(_category_condition(f.category))
    if f.channel:
        where.append(Opinion.channel == f.channel)
    if f.overdue:
        where.append(overdue_condition(today))
    if f.late:
        where.append(late_condition(today))
    if f.todo:
        where.append(todo_condition(user))
    if f.date_from:
        where.append(Opinion.created_at >= local_day_start(f.date_from))
    if f.date_to:
        where.append(Opinion.created_at < local_day_start(f.date_to + timedelta(days=1)))
    if f.q:
        number = normalise_tracking_no(f.q)
        match = Opinion.content.contains(f.q, autoescape=True)
        where.append(or_(match, Opinion.tracking_no == number) if number else match)
    return where


def urgency_order(today: date) -> list:
    """Most urgent first: the nearest (or most overdue) clock, then what waits without one, oldest first."""
    due = case(
        (Opinion.status.in_(DEADLINE_STATUSES), Opinion.deadline),
        (Opinion.status == S.PENDING, Opinion.accept_due),
        else_=None,
    )
    bucket = case(
        (and_(Opinion.status.in_(OPEN_STATUSES), due.is_not(None)), 0),
        (Opinion.status.in_(OPEN_STATUSES), 1),
        else_=2,
    )
    return [bucket, due.asc(), Opinion.created_at.asc(), Opinion.id.asc()]


def inbox_select(user: StaffUser, f: InboxFilter, today: date | None = None) -> Select:
    """The user's opinions matching ``f``, in the chosen order, ready to page."""
    today = today or local_now().date()
    stmt = scoped_select(Opinion, user, *_conditions(user, f, today)).options(
        selectinload(Opinion.station), selectinload(Opinion.unit)
    )
    if f.sort == "newest":
        return stmt.order_by(Opinion.created_at.desc(), Opinion.id.desc())
    if f.sort == "oldest":
        return stmt.order_by(Opinion.created_at.asc(), Opinion.id.asc())
    return stmt.order_by(*urgency_order(today))


def status_counts(user: StaffUser, f: InboxFilter, today: date | None = None) -> dict[str, int]:
    """How many of the user's opinions match ``f`` in each status (the status filter itself aside)."""
    today = today or local_now().date()
    where = _conditions(user, f.without_status(), today)
    stmt = select(Opinion.status, func.count()).where(visible(Opinion, user), *where).group_by(Opinion.status)
    counts = {status: 0 for status in S}
    for status, n in db.session.execute(stmt):
        counts[status] = n
    counts[OPEN] = sum(n for status, n in counts.items() if status in OPEN_STATUSES)
    counts["all"] = sum(n for status, n in counts.items() if status in S.__members__.values())
    return counts


def count(user: StaffUser, *where: ColumnElement[bool]) -> int:
    """How many opinions the user sees that meet ``where``."""
    stmt = select(func.count()).select_from(Opinion).where(visible(Opinion, user), *(where or (true(),)))
    return db.session.scalar(stmt) or 0
