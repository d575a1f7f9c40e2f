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
deputies or activities: the star rating (issue 8 item 3) and the exports reuse them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, or_, select

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
from app.timeutil import LOCAL_TZ, local_now, to_local

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
        .where(Opinion.created_at >= _aware(start), Opinion.created_at < _aware(end))
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


def _aware(moment: datetime) -> datetime:
    """A local year boundary as the UTC-aware instant opinions' ``created_at`` is stored in."""
    return moment.replace(tzinfo=LOCAL_TZ).astimezone(UTC)


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

    Months are 1..12. "Placed" deputies are those placed at the station now.
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
    # Announced receptions of the year that ended without any activity (nothing registered).
    receptions_unrecorded: int = 0
    residents_received: int = 0
    problems_solved: int = 0
    opinions_linked: int = 0
    has_plan: bool = False
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
        """Attended / (placed × sessions) over the year's study sessions."""
        expected = sum(s.placed for s in self.study_sessions)
        return sum(s.attended for s in self.study_sessions) / expected if expected else None


def _month(column):
    return func.extract("month", column)


def station_year_facts(station_id: int, year: int) -> StationYearFacts:
    """The yearly facts of one station, from registered activities, plans and contact logs."""
    facts = StationYearFacts(station_id, year)
    start, end = _year_range(year)
    final_here = (Activity.station_id == station_id, *_final_in_year(year))

    facts.deputies_placed = list(
        db.session.scalars(
            select(Placement.deputy_id)
            .where(Placement.station_id == station_id)
            .order_by(Placement.deputy_id)
        )
    )
    placed = set(facts.deputies_placed)

    rows = db.session.execute(
        select(_month(Activity.started_at), func.count())
        .join(Reception, Reception.id == Activity.reception_id)
        .where(
            *final_here, Activity.kind == ActivityKind.RECEPTION, Reception.kind == ReceptionKind.SERVICE_DAY
        )
        .group_by(_month(Activity.started_at))
    ).all()
    facts.service_days_by_month = {int(m): n for m, n in rows}
    rows = db.session.execute(
        select(_month(Reception.date), func.count())
        .where(
            Reception.station_id == station_id,
            Reception.kind == ReceptionKind.SERVICE_DAY,
            Reception.status == ReceptionStatus.ANNOUNCED,
            Reception.date >= start.date(),
            Reception.date < end.date(),
        )
        .group_by(_month(Reception.date))
    ).all()
    facts.service_days_scheduled_by_month = {int(m): n for m, n in rows}

    rows = db.session.execute(
        select(
            Activity.kind,
            func.count(),
            func.coalesce(func.sum(Activity.residents_received), 0),
            func.coalesce(func.sum(Activity.problems_solved), 0),
        )
        .where(*final_here)
        .group_by(Activity.kind)
    ).all()
    for kind, n, residents, solved in rows:
        facts.activities_by_kind[kind] = n
        facts.activities_final += n
        facts.residents_received += int(residents)
        facts.problems_solved += int(solved)
    facts.monitoring_activities = facts.activities_by_kind.get(ActivityKind.MONITORING, 0)
    facts.research_activities = facts.activities_by_kind.get(ActivityKind.RESEARCH, 0)
    facts.publicity_activities = facts.activities_by_kind.get(ActivityKind.PUBLICITY, 0)
    facts.activities_draft = db.session.scalar(
        select(func.count()).where(
            Activity.station_id == station_id,
            Activity.status == ActivityStatus.DRAFT,
            Activity.started_at >= start,
            Activity.started_at < end,
        )
    )
    facts.activities_announced = db.session.scalar(
        select(func.count()).where(*final_here, Activity.announced_at.is_not(None))
    )
    # On time: compared in Python (portable across SQLite and PostgreSQL date arithmetic).
    on_time = 0
    for ended, started, finalised in db.session.execute(
        select(Activity.ended_at, Activity.started_at, Activity.finalised_at).where(*final_here)
    ):
        if finalised is not None and (to_local(finalised) - (ended or started)).days < ON_TIME_DAYS:
            on_time += 1
    facts.activities_on_time = on_time
    has_activity = select(Activity.id).where(Activity.reception_id == Reception.id).exists()
    facts.receptions_unrecorded = db.session.scalar(
        select(func.count()).where(
            Reception.station_id == station_id,
            Reception.status == ReceptionStatus.ANNOUNCED,
            Reception.date >= start.date(),
            Reception.date < min(end.date(), local_now().date() + timedelta(days=1)),
            ~has_activity,
        )
    )
    facts.opinions_linked = db.session.scalar(
        select(func.count(func.distinct(ActivityOpinion.opinion_id)))
        .join(Activity, Activity.id == ActivityOpinion.activity_id)
        .where(*final_here)
    )

    # Who attended what, here and anywhere.
    rows = db.session.execute(
        select(ActivityDeputy.deputy_id, Activity.station_id, Activity.kind)
        .join(Activity, Activity.id == ActivityDeputy.activity_id)
        .where(
            ActivityDeputy.deputy_id.in_(placed or [-1]),
            ActivityDeputy.attendance == Attendance.ATTENDED,
            *_final_in_year(year),
        )
        .distinct()
    ).all()
    received_here, received_any, attended_here = set(), set(), set()
    for deputy_id, at_station, kind in rows:
        if at_station == station_id:
            attended_here.add(deputy_id)
        if kind == ActivityKind.RECEPTION:
            received_any.add(deputy_id)
            if at_station == station_id:
                received_here.add(deputy_id)
    facts.deputies_received_here = sorted(received_here)
    facts.deputies_received_anywhere = sorted(received_any)

    rows = db.session.execute(
        select(
            Activity.id,
            Activity.started_at,
            func.count(ActivityDeputy.id).filter(ActivityDeputy.attendance == Attendance.ATTENDED),
        )
        .outerjoin(ActivityDeputy, ActivityDeputy.activity_id == Activity.id)
        .where(*final_here, Activity.kind == ActivityKind.STUDY)
        .group_by(Activity.id, Activity.started_at)
        .order_by(Activity.started_at, Activity.id)
    ).all()
    facts.study_sessions = [StudySession(aid, at, int(n), len(placed)) for aid, at, n in rows]

    plan = db.session.scalar(
        select(ActivityPlan).where(ActivityPlan.station_id == station_id, ActivityPlan.year == year)
    )
    if plan is not None:
        from app.ledger.service import plan_progress

        facts.has_plan = True
        lines = plan_progress(plan)
        facts.planned_total = sum(line.planned for line in lines)
        facts.plan_done_total = sum(min(line.done, line.planned) for line in lines)

    logs = (
        select(ContactLog.fixed_contact_id, func.count().label("n"))
        .where(ContactLog.contacted_on >= date(year, 1, 1), ContactLog.contacted_on < date(year + 1, 1, 1))
        .group_by(ContactLog.fixed_contact_id)
        .subquery()
    )
    per_deputy: dict[int, list[int]] = defaultdict(list)
    for deputy_id, n in db.session.execute(
        select(FixedContact.deputy_id, func.coalesce(logs.c.n, 0))
        .outerjoin(logs, logs.c.fixed_contact_id == FixedContact.id)
        .where(FixedContact.deputy_id.in_(placed or [-1]), FixedContact.active.is_(True))
    ):
        per_deputy[deputy_id].append(int(n))
    facts.deputies_with_contacts = sorted(per_deputy)
    facts.deputies_contacts_met = sorted(
        d for d, counts in per_deputy.items() if all(n >= CONTACTS_PER_YEAR for n in counts)
    )
    facts.fixed_contacts = sum(len(c) for c in per_deputy.values())
    facts.fixed_contacts_met = sum(1 for c in per_deputy.values() for n in c if n >= CONTACTS_PER_YEAR)

    facts.leaders_placed = sorted(
        db.session.scalars(select(Deputy.id).where(Deputy.id.in_(placed or [-1]), Deputy.is_leader.is_(True)))
    )
    facts.leaders_attended = sorted(set(facts.leaders_placed) & attended_here)
    return facts


def stations_year_facts(station_ids: Iterable[int], year: int) -> dict[int, StationYearFacts]:
    """Facts of several stations (one ``station_year_facts`` each; for exports and the city view)."""
    return {sid: station_year_facts(sid, year) for sid in station_ids}
