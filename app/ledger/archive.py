"""履职档案 and the yearly facts of a station, computed from the ledger, never entered by hand.

Only registered (``final``) activities count; drafts are shown as "待登记" so staff see what is
still missing. A deputy "attended" an activity when their ``ActivityDeputy`` row says so.

Rules (三(二)2 and 附件3):

- 接待选民: each deputy receives residents at a station at least once a year — a final
  ``reception`` activity the deputy attended;
- 集中履职学习: at least twice a year — final ``study`` activities attended; the participation
  rate is attended / expected (every ``ActivityDeputy`` row of those sessions);
- 固定联系群众: the deputy has at least one active fixed contact, and each active one is
  contacted at least twice in the year (``ContactLog``).

Every function here reads with a fixed number of grouped queries, whatever the number of
deputies, activities or stations: the star rating (``app.rating.auto`` scores its 附件3 items
from ``station_year_facts_many``) and the exports reuse them. The 民意研判 dashboard's
联系服务群众日, 接待群众人次 and 代表参与率 (``app.analytics.work``) deliberately count from
receptions instead, live, before anything is registered: see there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from app.deputies.models import Deputy
from app.extensions import db
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityKind,
    ActivityOpinion,
    ActivityPlan,
    ActivityStatus,
    Attendance,
    ContactLog,
    FixedContact,
)
from app.opinions.models import Opinion, OpinionDeputy, OpinionStatus
from app.receptions.models import Reception, ReceptionKind, ReceptionStatus
from app.regions.models import Region
from app.stations.models import Placement, Station
from app.timeutil import local_day_start, local_now, to_local

RECEPTIONS_REQUIRED = 1  # 三(二)2 每位代表每年到"家站点"接待选民群众不少于1次
STUDY_REQUIRED = 2  # 附件3 制度建设 2: 每年组织集中履职学习不少于2次
STUDY_PARTICIPATION = 0.6  # … 代表参与率不低于60%
CONTACTS_PER_YEAR = 2  # 附件3 联系群众 1: 代表与固定联系对象每年联系不少于2次
ON_TIME_DAYS = 7  # 履职登记及时: registered within a week of the activity's end

# Opinion outcomes, as the archive groups them.
OUTCOME_GROUPS = {
    "closed": (OpinionStatus.CLOSED,),
    "answered": (OpinionStatus.REPLIED, OpinionStatus.FED_BACK, OpinionStatus.GUIDED),
    "converted": (OpinionStatus.CONVERTED, OpinionStatus.ESCALATED),
    "not_accepted": (OpinionStatus.REJECTED, OpinionStatus.MERGED),
}
OUTCOME_LABELS = {
    "closed": "已办结",
    "answered": "已答复/已反馈",
    "converted": "转为代表建议/已上报",
    "not_accepted": "不予受理/已合并",
    "in_progress": "办理中",
}


def _year_range(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)


def _outcome(status: str) -> str:
    for group, statuses in OUTCOME_GROUPS.items():
        if status in statuses:
            return group
    return "in_progress"


@dataclass(frozen=True)
class Requirement:
    """One yearly requirement of a deputy: what is asked, what was done, met or how far behind."""

    key: str
    title: str
    required: int
    done: int
    unit: str = "次"
    note: str = ""

    @property
    def met(self) -> bool:
        return self.done >= self.required

    @property
    def gap(self) -> int:
        return max(0, self.required - self.done)


@dataclass(frozen=True)
class ContactStatus:
    contact_id: int
    name: str
    contacts: int

    @property
    def met(self) -> bool:
        return self.contacts >= CONTACTS_PER_YEAR


@dataclass
class DeputyYearSummary:
    """A deputy's 履职档案 for one year."""

    deputy_id: int
    year: int
    attended_by_kind: dict[str, int] = field(default_factory=dict)
    absent: int = 0
    excused: int = 0
    receptions_attended: int = 0
    residents_received: int = 0
    study_attended: int = 0
    study_expected: int = 0
    opinions_collected: int = 0
    opinion_outcomes: dict[str, int] = field(default_factory=dict)
    fixed_contacts: list[ContactStatus] = field(default_factory=list)
    drafts_pending: int = 0

    @property
    def activities_attended(self) -> int:
        return sum(self.attended_by_kind.values())

    @property
    def study_rate(self) -> float | None:
        return self.study_attended / self.study_expected if self.study_expected else None

    @property
    def contacts_behind(self) -> list[ContactStatus]:
        return [c for c in self.fixed_contacts if not c.met]

    @property
    def requirements(self) -> list[Requirement]:
        contacts_met = sum(1 for c in self.fixed_contacts if c.met)
        return [
            Requirement("reception", "到家站点接待选民群众", RECEPTIONS_REQUIRED, self.receptions_attended),
            Requirement("study", "参加集中履职学习", STUDY_REQUIRED, self.study_attended),
            Requirement("fixed_contacts", "固定联系群众", 1, len(self.fixed_contacts), unit="名"),
            Requirement(
                "contact_twice",
                f"每名固定联系群众每年联系不少于{CONTACTS_PER_YEAR}次",
                len(self.fixed_contacts),
                contacts_met,
                unit="名",
                note=f"还差 {sum(CONTACTS_PER_YEAR - c.contacts for c in self.contacts_behind)} 次联系"
                if self.contacts_behind
                else "",
            ),
        ]

    @property
    def behind(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.met]

    @property
    def all_met(self) -> bool:
        return not self.behind


def _final_in_year(year: int):
    start, end = _year_range(year)
    return (
        Activity.status == ActivityStatus.FINAL,
        Activity.started_at >= start,
        Activity.started_at < end,
    )


def deputy_year_summaries(deputy_ids: Sequence[int], year: int) -> dict[int, DeputyYearSummary]:
    """The 履职档案 of many deputies at once: five grouped queries whatever their number."""
    ids = list(deputy_ids)
    if not ids:
        return {}
    summaries = {deputy_id: DeputyYearSummary(deputy_id, year) for deputy_id in ids}
    summary = summaries.__getitem__
    start, end = _year_range(year)

    # Attendance by kind and status (final activities of the year).
    rows = db.session.execute(
        select(ActivityDeputy.deputy_id, Activity.kind, ActivityDeputy.attendance, func.count())
        .join(Activity, Activity.id == ActivityDeputy.activity_id)
        .where(ActivityDeputy.deputy_id.in_(ids), *_final_in_year(year))
        .group_by(ActivityDeputy.deputy_id, Activity.kind, ActivityDeputy.attendance)
    ).all()
    for deputy_id, kind, attendance, n in rows:
        s = summary(deputy_id)
        if kind == ActivityKind.STUDY:
            s.study_expected += n
        if attendance == Attendance.ATTENDED:
            s.attended_by_kind[kind] = s.attended_by_kind.get(kind, 0) + n
            if kind == ActivityKind.RECEPTION:
                s.receptions_attended += n
            elif kind == ActivityKind.STUDY:
                s.study_attended += n
        elif attendance == Attendance.ABSENT:
            s.absent += n
        else:
            s.excused += n

    # 接待群众人次: residents received at receptions the deputy attended (each deputy present
    # is credited with the reception's whole count: they received them together).
    rows = db.session.execute(
        select(ActivityDeputy.deputy_id, func.coalesce(func.sum(Activity.residents_received), 0))
        .join(Activity, Activity.id == ActivityDeputy.activity_id)
        .where(
            ActivityDeputy.deputy_id.in_(ids),
            ActivityDeputy.attendance == Attendance.ATTENDED,
            Activity.kind == ActivityKind.RECEPTION,
            *_final_in_year(year),
        )
        .group_by(ActivityDeputy.deputy_id)
    ).all()
    for deputy_id, n in rows:
        summary(deputy_id).residents_received = int(n)

    # Opinions that came through the deputy in the year, by current status.
    via = (
        select(OpinionDeputy.deputy_id.label("deputy_id"), OpinionDeputy.opinion_id.label("opinion_id"))
        .where(OpinionDeputy.deputy_id.in_(ids))
        .union(
            select(Opinion.deputy_id.label("deputy_id"), Opinion.id.label("opinion_id")).where(
                Opinion.deputy_id.in_(ids)
            )
        )
        .subquery()
    )
    rows = db.session.execute(
        select(via.c.deputy_id, Opinion.status, func.count())
        .join(Opinion, Opinion.id == via.c.opinion_id)
        .where(
            Opinion.created_at >= local_day_start(start.date()),
            Opinion.created_at < local_day_start(end.date()),
        )
        .group_by(via.c.deputy_id, Opinion.status)
    ).all()
    for deputy_id, status, n in rows:
        s = summary(deputy_id)
        s.opinions_collected += n
        group = _outcome(status)
        s.opinion_outcomes[group] = s.opinion_outcomes.get(group, 0) + n

    # Fixed contacts (active) and their contacts in the year.
    logs = (
        select(ContactLog.fixed_contact_id, func.count().label("n"))
        .where(ContactLog.contacted_on >= date(year, 1, 1), ContactLog.contacted_on < date(year + 1, 1, 1))
        .group_by(ContactLog.fixed_contact_id)
        .subquery()
    )
    rows = db.session.execute(
        select(FixedContact.deputy_id, FixedContact.id, FixedContact.name, func.coalesce(logs.c.n, 0))
        .outerjoin(logs, logs.c.fixed_contact_id == FixedContact.id)
        .where(FixedContact.deputy_id.in_(ids), FixedContact.active.is_(True))
        .order_by(FixedContact.deputy_id, FixedContact.id)
    ).all()
    for deputy_id, contact_id, name, n in rows:
        summary(deputy_id).fixed_contacts.append(ContactStatus(contact_id, name, int(n)))

    # Drafts the deputy is on: work staff still have to register.
    rows = db.session.execute(
        select(ActivityDeputy.deputy_id, func.count())
        .join(Activity, Activity.id == ActivityDeputy.activity_id)
        .where(
            ActivityDeputy.deputy_id.in_(ids),
            Activity.status == ActivityStatus.DRAFT,
            Activity.started_at >= start,
            Activity.started_at < end,
        )
        .group_by(ActivityDeputy.deputy_id)
    ).all()
    for deputy_id, n in rows:
        summary(deputy_id).drafts_pending = n
    return summaries


def deputy_year_summary(deputy_id: int, year: int) -> DeputyYearSummary:
    """One deputy's 履职档案 for a year, each requirement met or behind with its gap."""
    return deputy_year_summaries([deputy_id], year)[deputy_id]


def deputy_activities(deputy_id: int, year: int) -> list[tuple[Activity, str]]:
    """The deputy's activities of the year (final and draft) with their attendance, oldest first."""
    start, end = _year_range(year)
    rows = db.session.execute(
        select(Activity, ActivityDeputy.attendance)
        .join(ActivityDeputy, ActivityDeputy.activity_id == Activity.id)
        .where(ActivityDeputy.deputy_id == deputy_id, Activity.started_at >= start, Activity.started_at < end)
        .order_by(Activity.started_at, Activity.id)
    ).all()
    return [(activity, attendance) for activity, attendance in rows]


# --- who is behind -----------------------------------------------------------------------


@dataclass(frozen=True)
class BehindRow:
    deputy: Deputy
    region: Region
    summary: DeputyYearSummary


def deputies_behind(visible_deputies: Select, year: int, *, region: Region | None = None) -> list[BehindRow]:
    """Active deputies (of ``visible_deputies``, optionally within ``region``) with a requirement unmet.

    Sorted by region path, then by how far behind, for staff to act on region by region.
    """
    where = [Deputy.active.is_(True), Deputy.id.in_(visible_deputies)]
    if region is not None:
        in_region = select(Region.id).where(Region.path.startswith(region.path, autoescape=True))
        placed = select(Placement.deputy_id).join(Station).where(Station.region_id.in_(in_region))
        where.append(or_(Deputy.region_id.in_(in_region), Deputy.id.in_(placed)))
    deputies = db.session.scalars(select(Deputy).where(*where).order_by(Deputy.id)).all()
    summaries = deputy_year_summaries([d.id for d in deputies], year)
    regions = {
        r.id: r
        for r in db.session.scalars(select(Region).where(Region.id.in_({d.region_id for d in deputies})))
    }
    rows = [
        BehindRow(d, regions[d.region_id], summaries[d.id]) for d in deputies if not summaries[d.id].all_met
    ]
    rows.sort(key=lambda r: (r.region.path, -sum(x.gap for x in r.summary.behind), r.deputy.id))
    return rows


# --- a station's year, for the star rating ------------------------------------------------------


@dataclass(frozen=True)
class StudySession:
    activity_id: int
    started_at: datetime
    attended: int
    placed: int

    @property
    def rate(self) -> float | None:
        return self.attended / self.placed if self.placed else None


@dataclass
class StationYearFacts:
    """What the ledger says a station did in a year: the counts the star rating scores.

    This is the one definition of these facts: ``app.rating.auto`` scores its 附件3 items from
    them (``station_year_facts_many``), the 履职档案 and the exports read the same.

    Months are 1..12. "Placed" deputies are the active deputies placed at the station now (a
    deputy whose mandate ended is no longer expected to come). "Held" receptions are announced
    (not cancelled) ones dated in the year up to ``today``.
    """

    station_id: int
    year: int
    # 联系服务群众日: months with a registered reception activity of a service-day reception.
    service_days_by_month: dict[int, int] = field(default_factory=dict)
    # Announced service-day receptions that have been scheduled (held or not) by month: evidence.
    service_days_scheduled_by_month: dict[int, int] = field(default_factory=dict)
    deputies_placed: list[int] = field(default_factory=list)
    # Placed deputies who attended at least one registered reception here / at any station.
    deputies_received_here: list[int] = field(default_factory=list)
    deputies_received_anywhere: list[int] = field(default_factory=list)
    study_sessions: list[StudySession] = field(default_factory=list)
    monitoring_activities: int = 0
    research_activities: int = 0
    publicity_activities: int = 0
    activities_by_kind: dict[str, int] = field(default_factory=dict)
    activities_final: int = 0
    activities_draft: int = 0
    activities_announced: int = 0
    # Registered within ON_TIME_DAYS of the activity's end (or start, when no end is recorded).
    activities_on_time: int = 0
    # … and complete: some content and at least one deputy listed (履职登记及时、完整).
    activities_complete_on_time: int = 0
    # Months (1..12) with at least one registered activity (代表活动常态化, by quarter).
    months_with_activity: set[int] = field(default_factory=set)
    # 活动安排提前预告: held receptions and registered activities not from a reception (those
    # are counted with their reception), and how many of them were announced before they began.
    announceable: int = 0
    announced_in_advance: int = 0
    receptions_held: int = 0
    # Held receptions with a registered activity, and those with no activity at all (not even a draft).
    receptions_registered: int = 0
    receptions_unrecorded: int = 0
    residents_received: int = 0
    problems_solved: int = 0
    opinions_linked: int = 0
    has_plan: bool = False
    plan_lines: int = 0
    planned_total: int = 0
    plan_done_total: int = 0
    # Fixed contacts of the placed deputies.
    deputies_with_contacts: list[int] = field(default_factory=list)
    deputies_contacts_met: list[int] = field(default_factory=list)
    fixed_contacts: int = 0
    fixed_contacts_met: int = 0
    # 领导干部代表 placed here, and those who attended at least one registered activity here.
    leaders_placed: list[int] = field(default_factory=list)
    leaders_attended: list[int] = field(default_factory=list)

    @property
    def months_with_service_day(self) -> int:
        return sum(1 for n in self.service_days_by_month.values() if n > 0)

    @property
    def study_count(self) -> int:
        return len(self.study_sessions)

    @property
    def study_participation(self) -> float | None:
        """Placed deputies attended / (placed × sessions) over the year's study sessions."""
        expected = sum(s.placed for s in self.study_sessions)
        return sum(s.attended for s in self.study_sessions) / expected if expected else None


def registered_on_time(finalised: datetime | None, started: datetime, ended: datetime | None) -> bool:
    """履职登记及时: registered (finalised) within ON_TIME_DAYS of the activity's end, or its start."""
    return finalised is not None and to_local(finalised) <= (ended or started) + timedelta(days=ON_TIME_DAYS)


def station_year_facts_many(
    station_ids: Iterable[int], year: int, today: date | None = None
) -> dict[int, StationYearFacts]:
    """The yearly facts of many stations in a fixed number of grouped queries, whatever their number.

    ``today`` (default: the local date) bounds the "held" receptions of the running year.
    """
    ids = list(dict.fromkeys(station_ids))
    all_facts = {sid: StationYearFacts(sid, year) for sid in ids}
    if not ids:
        return all_facts
    today = today or local_now().date()
    start, end = _year_range(year)
    q = db.session.execute

    # Placed (active) deputies, and which of them are 领导干部代表.
    placed: dict[int, set[int]] = defaultdict(set)
    for station_id, deputy_id, is_leader in q(
        select(Placement.station_id, Deputy.id, Deputy.is_leader)
        .join(Deputy, Deputy.id == Placement.deputy_id)
        .where(Placement.station_id.in_(ids), Deputy.active.is_(True))
        .order_by(Deputy.id)
    ):
        f = all_facts[station_id]
        f.deputies_placed.append(deputy_id)
        placed[station_id].add(deputy_id)
        if is_leader:
            f.leaders_placed.append(deputy_id)
    # The same deputies as a subquery (not a long list of parameters, for the city's many stations).
    every_placed = (
        select(Placement.deputy_id)
        .join(Deputy, Deputy.id == Placement.deputy_id)
        .where(Placement.station_id.in_(ids), Deputy.active.is_(True))
    )

    # The year's activities (registered and draft), one row each.
    final: dict[int, Any] = {}
    done: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
    for a in q(
        select(
            Activity.id,
            Activity.station_id,
            Activity.kind,
            Activity.status,
            Activity.reception_id,
            Activity.started_at,
            Activity.ended_at,
            Activity.announced_at,
            Activity.finalised_at,
            Activity.residents_received,
            Activity.problems_solved,
            (func.length(func.coalesce(Activity.content, "")) > 0).label("has_content"),
        ).where(Activity.station_id.in_(ids), Activity.started_at >= start, Activity.started_at < end)
    ):
        f = all_facts[a.station_id]
        if a.status == ActivityStatus.DRAFT:
            f.activities_draft += 1
            continue
        if a.status != ActivityStatus.FINAL:
            continue
        final[a.id] = a
        f.activities_final += 1
        f.activities_by_kind[a.kind] = f.activities_by_kind.get(a.kind, 0) + 1
        f.residents_received += int(a.residents_received or 0)
        f.problems_solved += int(a.problems_solved or 0)
        f.months_with_activity.add(a.started_at.month)
        key = (a.kind, a.started_at.month)
        done[a.station_id][key] = done[a.station_id].get(key, 0) + 1
        if a.announced_at is not None:
            f.activities_announced += 1
        if a.reception_id is None:
            f.announceable += 1
            if a.announced_at is not None and to_local(a.announced_at) < a.started_at:
                f.announced_in_advance += 1
    for f in all_facts.values():
        f.monitoring_activities = f.activities_by_kind.get(ActivityKind.MONITORING, 0)
        f.research_activities = f.activities_by_kind.get(ActivityKind.RESEARCH, 0)
        f.publicity_activities = f.activities_by_kind.get(ActivityKind.PUBLICITY, 0)

    # Who was listed at and attended the registered activities here.
    listed: dict[int, int] = defaultdict(int)
    present: dict[int, set[int]] = defaultdict(set)
    for activity_id, deputy_id, attendance in q(
        select(ActivityDeputy.activity_id, ActivityDeputy.deputy_id, ActivityDeputy.attendance)
        .join(Activity, Activity.id == ActivityDeputy.activity_id)
        .where(Activity.station_id.in_(ids), *_final_in_year(year))
    ):
        listed[activity_id] += 1
        if attendance == Attendance.ATTENDED:
            present[activity_id].add(deputy_id)
    # Placed deputies who received residents at any station.
    received_any = set(
        db.session.scalars(
            select(ActivityDeputy.deputy_id)
            .join(Activity, Activity.id == ActivityDeputy.activity_id)
            .where(
                ActivityDeputy.deputy_id.in_(every_placed),
                ActivityDeputy.attendance == Attendance.ATTENDED,
                Activity.kind == ActivityKind.RECEPTION,
                *_final_in_year(year),
            )
            .distinct()
        )
    )

    by_station: dict[int, list[Any]] = defaultdict(list)
    for a in final.values():
        by_station[a.station_id].append(a)
    for station_id, f in all_facts.items():
        here = placed[station_id]
        attended_here: set[int] = set()
        received_here: set[int] = set()
        for a in sorted(by_station[station_id], key=lambda a: (a.started_at, a.id)):
            came = present[a.id] & here
            attended_here |= came
            if a.kind == ActivityKind.RECEPTION:
                received_here |= came
            elif a.kind == ActivityKind.STUDY:
                f.study_sessions.append(StudySession(a.id, a.started_at, len(came), len(here)))
            if registered_on_time(a.finalised_at, a.started_at, a.ended_at):
                f.activities_on_time += 1
                if a.has_content and listed[a.id] > 0:
                    f.activities_complete_on_time += 1
        f.deputies_received_here = sorted(received_here)
        f.deputies_received_anywhere = sorted(here & received_any)
        f.leaders_attended = sorted(set(f.leaders_placed) & attended_here)

    # Receptions: service days registered and scheduled by month; held ones registered and announced.
    registered = {a.reception_id for a in final.values() if a.reception_id is not None}
    any_activity = select(Activity.id).where(Activity.reception_id == Reception.id).exists()
    for r in q(
        select(
            Reception.id,
            Reception.station_id,
            Reception.date,
            Reception.start,
            Reception.kind,
            Reception.announced_at,
            any_activity.label("has_activity"),
        ).where(
            Reception.station_id.in_(ids),
            Reception.status == ReceptionStatus.ANNOUNCED,
            Reception.date >= start.date(),
            Reception.date < end.date(),
        )
    ):
        f = all_facts[r.station_id]
        if r.kind == ReceptionKind.SERVICE_DAY:
            month = r.date.month
            f.service_days_scheduled_by_month[month] = f.service_days_scheduled_by_month.get(month, 0) + 1
        if r.date > today:
            continue
        f.receptions_held += 1
        f.announceable += 1
        if r.announced_at is not None and to_local(r.announced_at) < datetime.combine(r.date, r.start):
            f.announced_in_advance += 1
        if r.id in registered:
            f.receptions_registered += 1
        if not r.has_activity:
            f.receptions_unrecorded += 1
    service_day_ids = select(Reception.id).where(
        Reception.station_id.in_(ids), Reception.kind == ReceptionKind.SERVICE_DAY
    )
    for station_id, activity_id in q(
        select(Activity.station_id, Activity.id).where(
            Activity.id.in_(list(final) or [-1]),
            Activity.kind == ActivityKind.RECEPTION,
            Activity.reception_id.in_(service_day_ids),
        )
    ):
        f = all_facts[station_id]
        month = final[activity_id].started_at.month
        f.service_days_by_month[month] = f.service_days_by_month.get(month, 0) + 1

    for station_id, n in q(
        select(Activity.station_id, func.count(func.distinct(ActivityOpinion.opinion_id)))
        .join(Activity, Activity.id == ActivityOpinion.activity_id)
        .where(Activity.station_id.in_(ids), *_final_in_year(year))
        .group_by(Activity.station_id)
    ):
        all_facts[station_id].opinions_linked = n

    from app.ledger.service import plan_progress

    for plan in db.session.scalars(
        select(ActivityPlan)
        .where(ActivityPlan.station_id.in_(ids), ActivityPlan.year == year)
        .options(selectinload(ActivityPlan.items))
    ):
        f = all_facts[plan.station_id]
        lines = plan_progress(plan, done[plan.station_id])
        f.has_plan = True
        f.plan_lines = len(lines)
        f.planned_total = sum(line.planned for line in lines)
        f.plan_done_total = sum(min(line.done, line.planned) for line in lines)

    logs = (
        select(ContactLog.fixed_contact_id, func.count().label("n"))
        .where(ContactLog.contacted_on >= date(year, 1, 1), ContactLog.contacted_on < date(year + 1, 1, 1))
        .group_by(ContactLog.fixed_contact_id)
        .subquery()
    )
    per_deputy: dict[int, list[int]] = defaultdict(list)
    for deputy_id, n in q(
        select(FixedContact.deputy_id, func.coalesce(logs.c.n, 0))
        .outerjoin(logs, logs.c.fixed_contact_id == FixedContact.id)
        .where(FixedContact.deputy_id.in_(every_placed), FixedContact.active.is_(True))
    ):
        per_deputy[deputy_id].append(int(n))
    for station_id, f in all_facts.items():
        mine = {d: per_deputy[d] for d in placed[station_id] if d in per_deputy}
        f.deputies_with_contacts = sorted(mine)
        f.deputies_contacts_met = sorted(
            d for d, counts in mine.items() if all(n >= CONTACTS_PER_YEAR for n in counts)
        )
        f.fixed_contacts = sum(len(c) for c in mine.values())
        f.fixed_contacts_met = sum(1 for c in mine.values() for n in c if n >= CONTACTS_PER_YEAR)
    return all_facts


def station_year_facts(station_id: int, year: int, today: date | None = None) -> StationYearFacts:
    """The yearly facts of one station, from registered activities, plans and contact logs."""
    return station_year_facts_many([station_id], year, today)[station_id]


def stations_year_facts(station_ids: Iterable[int], year: int) -> dict[int, StationYearFacts]:
    """Facts of several stations (the exports and the city view): one batch of queries for all."""
    return station_year_facts_many(station_ids, year)
