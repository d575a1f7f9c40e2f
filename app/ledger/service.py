"""Rules of the 台账: activities, attendance, opinions, records, plans, fixed contacts and logs.

Services check and ``flush``; the request (or the scheduler's job) commits. Every refusal is
a ``DomainError`` with a Chinese message naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, StaffUser
from app.auth.scope import is_visible
from app.auth.service import can_edit_station_info
from app.deputies.models import Deputy
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityKind,
    ActivityMode,
    ActivityOpinion,
    ActivityPlan,
    ActivityPlanItem,
    ActivityStatus,
    Attendance,
    ContactLog,
    ContactMode,
    FixedContact,
)
from app.models_base import utcnow
from app.opinions.models import Opinion, OpinionStatus
from app.receptions.models import Booking, BookingStatus, Reception, ReceptionStatus
from app.stations.models import Placement, Station
from app.timeutil import local_now
from app.validation import clean_int, clean_phone, clean_text

TITLE_MAX = 200
CONTENT_MAX = 5000
COUNT_MAX = 100_000
PLAN_ITEMS_MAX = 60
# How far back the end-of-reception sweep looks: the current and the previous year's ledgers.
SWEEP_YEARS_BACK = 1


# --- who may keep a station's ledger --------------------------------------------------------


def can_keep_ledger(user: StaffUser, station: Station) -> bool:
    """Station staff keep their own station's 台账; admins those of stations in their region."""
    return can_edit_station_info(user, station)


def can_keep_contacts(user: StaffUser, deputy: Deputy) -> bool:
    """Fixed contacts: admins who see the deputy, staff of a station the deputy is placed at, the deputy."""
    role = user.role_enum
    if role.is_admin or role is Role.STATION_STAFF:
        return is_visible(deputy, user)
    return role is Role.DEPUTY and user.deputy_id == deputy.id


# --- parsing ------------------------------------------------------------------------------


def _choice(value: object, enum: type, field: str, label: str, default: str | None = None) -> str:
    text = str(value or "").strip() or (default or "")
    if text not in {m.value for m in enum}:
        raise ValidationFailed(f"请选择{label}。", field=field)
    return text


def _parse_moment(day: object, clock: object, field: str, label: str, *, required: bool) -> datetime | None:
    day_text, clock_text = str(day or "").strip(), str(clock or "").strip()
    if not day_text:
        if required:
            raise ValidationFailed(f"请填写{label}日期。", field=field)
        return None
    try:
        parsed_day = date.fromisoformat(day_text)
    except ValueError:
        raise ValidationFailed(f"{label}日期格式应为 YYYY-MM-DD。", field=field) from None
    try:
        parsed_clock = (
            time.fromisoformat(clock_text).replace(second=0, microsecond=0) if clock_text else time(9)
        )
    except ValueError:
        raise ValidationFailed(f"{label}时间格式应为 HH:MM。", field=field) from None
    return datetime.combine(parsed_day, parsed_clock)


def clean_activity(data: Mapping[str, object], *, now: datetime | None = None) -> dict[str, Any]:
    """The editable fields of an activity, checked; times are local wall-clock times."""
    now = now or local_now()
    started = _parse_moment(data.get("date"), data.get("start"), "date", "活动", required=True)
    end_day = data.get("end_date") or data.get("date")
    ended = (
        _parse_moment(end_day, data.get("end"), "end", "结束", required=False)
        if str(data.get("end") or "").strip()
        else None
    )
    if ended is not None and ended < started:
        raise ValidationFailed("结束时间不能早于开始时间。", field="end")
    if started.date() > now.date():
        raise ValidationFailed("台账登记已开展的活动，活动时间不能晚于今天。", field="date")
    if started.year < 2000:
        raise ValidationFailed("活动日期不正确。", field="date")
    fields = {
        "kind": _choice(data.get("kind"), ActivityKind, "kind", "活动类型"),
        "mode": _choice(data.get("mode"), ActivityMode, "mode", "活动方式", ActivityMode.OFFLINE),
        "title": clean_text(data.get("title"), "title", "活动主题", max_len=TITLE_MAX),
        "content": clean_text(
            data.get("content"), "content", "活动内容", max_len=CONTENT_MAX, required=False
        ),
        "started_at": started,
        "ended_at": ended,
        "residents_received": clean_int(
            data.get("residents_received"), "residents_received", "接待群众人次", lo=0, hi=COUNT_MAX
        )
        or 0,
        "problems_solved": clean_int(
            data.get("problems_solved"), "problems_solved", "推动解决问题数", lo=0, hi=COUNT_MAX
        )
        or 0,
        "announce_channel": clean_text(
            data.get("announce_channel"), "announce_channel", "预告渠道", max_len=64, required=False
        ),
    }
    return fields


def _apply_announcement(activity: Activity, announced: bool, channel: str) -> None:
    """预告: keep the first moment it was recorded as announced; clearing it clears both."""
    if announced or channel:
        activity.announced_at = activity.announced_at or utcnow()
        activity.announce_channel = channel
    else:
        activity.announced_at = None
        activity.announce_channel = ""


def _require_draft(activity: Activity) -> None:
    if activity.status != ActivityStatus.DRAFT:
        raise Conflict("该活动已登记，如需修改请先退回草稿。")


# --- activities --------------------------------------------------------------------------


def create_activity(
    station: Station,
    data: Mapping[str, object],
    *,
    user: StaffUser | None,
    deputy_ids: Iterable[object] = (),
    now: datetime | None = None,
) -> Activity:
    """Record a new activity of a station as a draft, with the deputies expected (marked attended)."""
    fields = clean_activity(data, now=now)
    announced = bool(data.get("announced"))
    activity = Activity(
        station=station,
        station_id=station.id,
        status=ActivityStatus.DRAFT,
        created_by_id=user.id if user else None,
        **{k: v for k, v in fields.items() if k != "announce_channel"},
    )
    _apply_announcement(activity, announced, fields["announce_channel"])
    db.session.add(activity)
    activity.deputies = [
        ActivityDeputy(deputy_id=d.id, attendance=Attendance.ATTENDED) for d in _placed(station, deputy_ids)
    ]
    db.session.flush()
    return activity


def update_activity(
    activity: Activity, data: Mapping[str, object], *, now: datetime | None = None
) -> Activity:
    """Edit a draft's fields; the linked opinions bound 推动解决问题数 from below."""
    _require_draft(activity)
    fields = clean_activity(data, now=now)
    if activity.reception_id is not None and fields["kind"] != ActivityKind.RECEPTION:
        raise ValidationFailed("由接待活动生成的台账，类型只能是接待选民。", field="kind")
    _check_solved_floor(activity, fields["problems_solved"])
    for key, value in fields.items():
        if key != "announce_channel":
            setattr(activity, key, value)
    _apply_announcement(activity, bool(data.get("announced")), fields["announce_channel"])
    db.session.flush()
    return activity


def _placed(station: Station, deputy_ids: Iterable[object]) -> list[Deputy]:
    ids = {int(str(x)) for x in deputy_ids if str(x).strip().isdigit()}
    if not ids:
        return []
    placed = db.session.scalars(
        select(Deputy)
        .join(Placement, Placement.deputy_id == Deputy.id)
        .where(Placement.station_id == station.id, Deputy.id.in_(ids))
        .order_by(Deputy.id)
    ).all()
    if len(placed) != len(ids):
        raise ValidationFailed("只能登记编入本家站点的代表。", field="deputy_ids")
    return list(placed)


def set_attendance(activity: Activity, attendance: Mapping[object, object]) -> Activity:
    """Set the deputies of a draft and whether each attended, was absent or excused.

    ``attendance`` maps deputy ids to ``attended``/``absent``/``excused``; a deputy left out
    (or given ``""``) is removed from the activity. Only deputies placed at the station count.
    """
    _require_draft(activity)
    wanted: dict[int, str] = {}
    for raw_id, raw_status in attendance.items():
        status = str(raw_status or "").strip()
        if not status:
            continue
        if status not in {a.value for a in Attendance}:
            raise ValidationFailed("出席情况只能是出席、缺席或请假。", field="attendance")
        wanted[int(str(raw_id))] = status
    kept = {d.deputy_id for d in activity.deputies}
    new_ids = [i for i in wanted if i not in kept]
    _placed(activity.station, new_ids)
    for row in list(activity.deputies):
        if row.deputy_id in wanted:
            row.attendance = wanted[row.deputy_id]
        else:
            activity.deputies.remove(row)
    for deputy_id in new_ids:
        activity.deputies.append(ActivityDeputy(deputy_id=deputy_id, attendance=wanted[deputy_id]))
    db.session.flush()
    return activity


def _solved_links(activity: Activity) -> int:
    return sum(1 for link in activity.opinions if link.solved)


def _check_solved_floor(activity: Activity, problems_solved: int) -> None:
    linked = _solved_links(activity)
    if problems_solved < linked:
        raise ValidationFailed(
            f"推动解决问题数不能少于已关联的已办结意见数（{linked} 件）。", field="problems_solved"
        )


def link_opinion(activity: Activity, opinion: Opinion, *, solved: bool = False) -> ActivityOpinion:
    """Link an opinion of the station to a draft: collected there, or (``solved``) pushed to a solution.

    A solved link needs the opinion 已办结, and raises 推动解决问题数 to at least the solved links.
    """
    _require_draft(activity)
    if opinion.station_id != activity.station_id:
        raise ValidationFailed("只能关联本家站点的群众意见。", field="opinion_id")
    if solved and opinion.status != OpinionStatus.CLOSED:
        raise ValidationFailed("只有已办结的意见才能计入推动解决问题数。", field="opinion_id")
    link = next((x for x in activity.opinions if x.opinion_id == opinion.id), None)
    if link is None:
        link = ActivityOpinion(opinion_id=opinion.id, solved=solved)
        link.opinion = opinion
        activity.opinions.append(link)
    else:
        link.solved = solved
    activity.problems_solved = max(activity.problems_solved, _solved_links(activity))
    db.session.flush()
    return link


def unlink_opinion(activity: Activity, opinion_id: int) -> None:
    """Remove an opinion from a draft; 推动解决问题数 keeps what staff entered."""
    _require_draft(activity)
    link = next((x for x in activity.opinions if x.opinion_id == opinion_id), None)
    if link is None:
        raise ValidationFailed("该意见未关联本活动。", field="opinion_id")
    activity.opinions.remove(link)
    db.session.flush()


def finalise_activity(activity: Activity, user: StaffUser | None, *, now: datetime | None = None) -> Activity:
    """登记: a draft becomes part of the ledger, counted in archives and the rating. Checked first."""
    _require_draft(activity)
    now = now or local_now()
    if activity.started_at > now:
        raise ValidationFailed("活动尚未开始，不能登记。", field="date")
    if not any(d.attendance == Attendance.ATTENDED for d in activity.deputies):
        raise ValidationFailed("请至少登记一名出席的代表。", field="attendance")
    if activity.kind == ActivityKind.RECEPTION and not activity.content.strip() and not activity.opinions:
        raise ValidationFailed("请填写接待情况（活动内容），或关联收集到的群众意见。", field="content")
    _check_solved_floor(activity, activity.problems_solved)
    activity.status = ActivityStatus.FINAL
    activity.finalised_at = utcnow()
    activity.finalised_by_id = user.id if user else None
    db.session.flush()
    return activity


def reopen_activity(activity: Activity) -> Activity:
    """退回草稿: a registered activity goes back to draft to be corrected (and registered again)."""
    if activity.status != ActivityStatus.FINAL:
        raise Conflict("该活动还是草稿。")
    activity.status = ActivityStatus.DRAFT
    activity.finalised_at = None
    activity.finalised_by_id = None
    db.session.flush()
    return activity


def delete_activity(activity: Activity) -> None:
    """Delete a draft that should not be in the ledger; a reception's draft cannot be (it would come back)."""
    _require_draft(activity)
    if activity.reception_id is not None:
        raise Conflict("由接待活动生成的台账不能删除，请如实登记（例如无群众到访）。")
    from app.ledger.records import delete_record_files

    delete_record_files(activity)
    db.session.delete(activity)
    db.session.flush()


# --- reception → draft activity ------------------------------------------------------------


def reception_ended(reception: Reception, now: datetime) -> bool:
    return datetime.combine(reception.date, reception.end) <= now


def _prefill(reception: Reception) -> Activity:
    bookings = db.session.scalars(
        select(Booking).where(Booking.reception_id == reception.id).order_by(Booking.slot_start, Booking.id)
    ).all()
    attended = [b for b in bookings if b.status == BookingStatus.ATTENDED]
    opinions = db.session.scalars(
        select(Opinion).where(Opinion.reception_id == reception.id).order_by(Opinion.id)
    ).all()
    when = f"{reception.date:%Y-%m-%d} {reception.start:%H:%M}—{reception.end:%H:%M}"
    lines = [f"{reception.station.name} {reception.kind_label}，{when}。"]
    held = [b for b in bookings if b.status != BookingStatus.CANCELLED]
    if held:
        lines.append(f"预约 {len(held)} 人次，到场 {len(attended)} 人次。")
    topics = [b.topic for b in attended if b.topic]
    if topics:
        lines.append("反映事项：" + "；".join(topics[:20]) + ("等。" if len(topics) > 20 else "。"))
    if opinions:
        lines.append(f"收集群众意见 {len(opinions)} 件。")
    title = reception.topic or reception.kind_label
    activity = Activity(
        station_id=reception.station_id,
        kind=ActivityKind.RECEPTION,
        status=ActivityStatus.DRAFT,
        started_at=datetime.combine(reception.date, reception.start),
        ended_at=datetime.combine(reception.date, reception.end),
        title=title[:TITLE_MAX],
        content="\n".join(lines),
        mode=ActivityMode.OFFLINE,
        # 接待群众人次: the residents who came; walk-ins staff add by hand.
        residents_received=len(attended),
        problems_solved=0,
        reception_id=reception.id,
        announced_at=reception.announced_at,
        announce_channel="公众号/扫码页" if reception.announced_at else "",
    )
    # Deputies on duty are expected; staff mark absences before registering.
    activity.deputies = [
        ActivityDeputy(deputy_id=d.deputy_id, attendance=Attendance.ATTENDED) for d in reception.duties
    ]
    activity.opinions = [ActivityOpinion(opinion_id=o.id, solved=False) for o in opinions]
    return activity


def draft_from_reception(
    reception: Reception, *, user: StaffUser | None = None, now: datetime | None = None
) -> tuple[Activity, bool]:
    """The reception's activity, created as a pre-filled draft if it has none; ``(activity, created)``.

    Idempotent and race-safe: ``activities.reception_id`` is unique, so two callers (the sweep
    and a staff member finishing the reception) end with one activity, never two drafts.
    """
    now = now or local_now()
    existing = db.session.scalar(select(Activity).where(Activity.reception_id == reception.id))
    if existing is not None:
        return existing, False
    if reception.status != ReceptionStatus.ANNOUNCED:
        raise Conflict("只有已公告的接待活动才能登记台账。")
    if datetime.combine(reception.date, reception.start) > now:
        raise Conflict("接待活动尚未开始，不能登记台账。")
    activity = _prefill(reception)
    activity.created_by_id = user.id if user else None
    try:
        with db.session.begin_nested():
            db.session.add(activity)
            db.session.flush()
    except IntegrityError:
        # Someone else drafted it between our look-up and our insert: use theirs.
        existing = db.session.scalar(select(Activity).where(Activity.reception_id == reception.id))
        if existing is None:
            raise
        return existing, False
    return activity, True


def draft_ended_receptions(now: datetime | None = None) -> list[Activity]:
    """The scheduler's sweep: every announced reception that has ended and has no activity gets a draft.

    Looks back to the start of the previous year, so a run after downtime misses nothing and a
    second run creates nothing.
    """
    now = now or local_now()
    since = date(now.year - SWEEP_YEARS_BACK, 1, 1)
    ended = or_(
        Reception.date < now.date(),
        and_(Reception.date == now.date(), Reception.end <= now.time()),
    )
    has_activity = select(Activity.id).where(Activity.reception_id == Reception.id).exists()
    receptions = db.session.scalars(
        select(Reception)
        .where(Reception.status == ReceptionStatus.ANNOUNCED, Reception.date >= since, ended, ~has_activity)
        .order_by(Reception.date, Reception.id)
    ).all()
    created = []
    for reception in receptions:
        activity, new = draft_from_reception(reception, now=now)
        if new:
            created.append(activity)
    return created


# --- plans -------------------------------------------------------------------------------


def clean_plan_items(rows: Iterable[Mapping[str, object]]) -> list[dict[str, Any]]:
    """Plan lines from a form: blank lines are skipped; each line a kind, a count, an optional month."""
    items = []
    for index, row in enumerate(rows):
        if not any(str(v or "").strip() for k, v in row.items() if k != "kind"):
            continue
        field = f"items-{index}"
        items.append(
            {
                "kind": _choice(row.get("kind"), ActivityKind, field, "计划活动类型"),
                "month": clean_int(row.get("month"), field, "月份", lo=1, hi=12),
                "planned_count": clean_int(
                    row.get("planned_count"), field, "计划次数", lo=1, hi=366, required=True
                ),
                "title": clean_text(row.get("title"), field, "计划内容", max_len=TITLE_MAX, required=False),
            }
        )
    if len(items) > PLAN_ITEMS_MAX:
        raise ValidationFailed(f"一份年度计划最多 {PLAN_ITEMS_MAX} 项。", field="items")
    if not items:
        raise ValidationFailed("请至少填写一项计划活动。", field="items")
    return items


def save_plan(
    station: Station,
    year: int,
    items: Iterable[Mapping[str, object]],
    *,
    note: object = "",
    user: StaffUser | None = None,
) -> ActivityPlan:
    """Create or replace a station's 年度活动计划 for a year (one plan a station a year)."""
    if not 2000 <= year <= 2100:
        raise ValidationFailed("年份不正确。", field="year")
    cleaned = clean_plan_items(items)
    note_text = clean_text(note, "note", "计划说明", max_len=CONTENT_MAX, required=False)
    plan = db.session.scalar(
        select(ActivityPlan).where(ActivityPlan.station_id == station.id, ActivityPlan.year == year)
    )
    if plan is None:
        plan = ActivityPlan(station_id=station.id, year=year, created_by_id=user.id if user else None)
        db.session.add(plan)
    plan.note = note_text
    plan.items = [ActivityPlanItem(**item) for item in cleaned]
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("该家站点本年度的计划刚被他人创建，请刷新后修改。") from None
    return plan


@dataclass(frozen=True)
class PlanLine:
    """One plan line and what the ledger shows was done toward it."""

    kind: str
    kind_label: str
    month: int | None
    title: str
    planned: int
    done: int

    @property
    def gap(self) -> int:
        return max(0, self.planned - self.done)

    @property
    def met(self) -> bool:
        return self.done >= self.planned


def done_by_kind_month(station_id: int, year: int) -> dict[tuple[str, int], int]:
    """Registered (final) activities of a station in a year, counted by (kind, month): one query."""
    month = func.extract("month", Activity.started_at)
    rows = db.session.execute(
        select(Activity.kind, month, func.count())
        .where(
            Activity.station_id == station_id,
            Activity.status == ActivityStatus.FINAL,
            Activity.started_at >= datetime(year, 1, 1),
            Activity.started_at < datetime(year + 1, 1, 1),
        )
        .group_by(Activity.kind, month)
    ).all()
    return {(kind, int(m)): n for kind, m, n in rows}


def plan_progress(plan: ActivityPlan, done: Mapping[tuple[str, int], int] | None = None) -> list[PlanLine]:
    """Planned vs done: a monthly line counts that month's activities of its kind, a yearly line the year's.

    Done is capped by nothing: a line shows what was done even beyond plan. ``done`` (the station's
    ``done_by_kind_month``) may be passed when the caller has counted it already, for many stations.
    """
    if done is None:
        done = done_by_kind_month(plan.station_id, plan.year)
    lines = []
    for item in plan.items:
        if item.month:
            count = done.get((item.kind, item.month), 0)
        else:
            count = sum(n for (kind, _m), n in done.items() if kind == item.kind)
        lines.append(PlanLine(item.kind, item.kind_label, item.month, item.title, item.planned_count, count))
    return lines


# --- fixed contacts and logs -----------------------------------------------------------------


def _contact_fields(data: Mapping[str, object]) -> dict[str, Any]:
    return {
        "name": clean_text(data.get("name"), "name", "联系群众姓名", max_len=32),
        "phone": clean_phone(data.get("phone"), "phone", "联系电话"),
        "address": clean_text(
            data.get("address"), "address", "住址/所在村(社区)", max_len=200, required=False
        ),
        "note": clean_text(data.get("note"), "note", "备注", max_len=500, required=False),
    }


def create_fixed_contact(deputy: Deputy, data: Mapping[str, object]) -> FixedContact:
    """Add a 固定联系群众 of a deputy."""
    contact = FixedContact(deputy_id=deputy.id, active=True, **_contact_fields(data))
    contact.deputy = deputy
    db.session.add(contact)
    db.session.flush()
    return contact


def update_fixed_contact(contact: FixedContact, data: Mapping[str, object]) -> FixedContact:
    """Edit a fixed contact; ``active`` off keeps its logs but drops it from the yearly requirement."""
    for key, value in _contact_fields(data).items():
        setattr(contact, key, value)
    contact.active = bool(data.get("active"))
    db.session.flush()
    return contact


def log_contact(
    contact: FixedContact,
    data: Mapping[str, object],
    *,
    user: StaffUser | None = None,
    today: date | None = None,
) -> ContactLog:
    """Record that the deputy contacted this fixed contact (date, way, what was discussed)."""
    today = today or local_now().date()
    raw = str(data.get("contacted_on") or "").strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("请填写联系日期（YYYY-MM-DD）。", field="contacted_on") from None
    if day > today:
        raise ValidationFailed("联系日期不能晚于今天。", field="contacted_on")
    if not contact.active:
        raise Conflict("该联系群众已停用，请先启用再登记联系。")
    log = ContactLog(
        fixed_contact_id=contact.id,
        deputy_id=contact.deputy_id,
        contacted_on=day,
        mode=_choice(data.get("mode"), ContactMode, "mode", "联系方式", ContactMode.VISIT),
        content=clean_text(data.get("content"), "content", "联系内容", max_len=CONTENT_MAX, required=False),
        created_by_id=user.id if user else None,
    )
    contact.logs.append(log)
    db.session.flush()
    return log


def delete_contact_log(log: ContactLog) -> None:
    db.session.delete(log)
    db.session.flush()
