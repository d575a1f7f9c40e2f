"""The 附件3 items the records decide, each scored with its partial-credit rule and the evidence.

The rules (also shown on the score sheet page and in the README):

- ``service_days`` 联系服务群众日 (4): the months of the year whose third Tuesday has come
  are due; a month counts when a 联系服务群众日 of the station in it was registered in the
  台账 (the activity of that reception is final). 4 × held / due, rounded down to 0.5.
- ``every_deputy`` 每位代表接待 (3): of the deputies placed at the station, those present at a
  registered 接待选民 activity there this year (as the 履职档案 counts it). 3 × share,
  rounded down to 0.5. No deputies placed: 0.
- ``feedback_rate`` 反馈率 (6): the year's opinions at the station (merged ones aside) that are
  due — answered, or past their reply (or, before assignment, acceptance) deadline. The
  resident is answered when the opinion was fed back (``app.analytics.kpi.is_fed_back``, the
  民意研判 KPI's own definition: fed back, closed, guided to the legal channel or taken up as a
  代表建议) or not accepted with a reason. 100% → 6, ≥ 95% → 4, ≥ 90% → 2, else 0. Nothing
  due: 6. Deliberately not the dashboard's 反馈率 (fed back ÷ accepted, every accepted opinion
  of the period): a yearly score must not fault an opinion still within its deadline (the
  sheet is worked out in January, when December's are not yet due), and a 不予受理 is
  answered too — the resident is told why.
- ``study_sessions`` 集中履职学习 (2): registered 履职学习 activities; participation of one
  session = placed deputies present / placed deputies, averaged. ≥ 2 sessions at ≥ 60% → 2;
  ≥ 2 sessions below 60%, or 1 session at ≥ 60% → 1; else 0.
- ``plan_announce`` 计划与预告 (3): 1 for a 年度活动计划 with at least one line; 1 for 预告 —
  held receptions announced before their day and registered activities (not from a
  reception) announced before they began: ≥ 90% → 1, ≥ 60% → 0.5; 1 for 常态化 — registered
  activities in every quarter begun, 1 × quarters with / quarters begun, rounded down to 0.5.
- ``registration`` 履职登记及时完整 (3): 1.5 × share of held receptions with a registered
  activity, plus 1.5 × share of registered activities that are complete (content and at
  least one deputy) and were registered within 7 days; rounded down to 0.5. Nothing: 0.
- ``dispatch`` 及时交办督办 (3): of the year's opinions (merged aside), those accepted by their
  acceptance deadline (or still within it) and, when the reply deadline passed without a
  reply, urged (督办). 3 × share, rounded down to 0.5. No opinions: 3.
- ``fixed_contacts_twice`` 固定联系 (3): placed deputies who have fixed contacts and
  contacted each of them at least twice this year. 3 × share, rounded down to 0.5.
- ``monitoring`` 监督活动 (3): registered 监督活动: ≥ 2 → 3, 1 → 1.5, 0 → 0.
- ``leaders`` 领导干部代表 (3): placed 领导干部代表 present at a registered activity at the
  station this year. 3 × share, rounded down to 0.5. None
  placed: 0.

Every item but the two opinion ones reads ``app.ledger.archive.station_year_facts_many``: the
ledger's yearly facts are the one definition of what a station registered, shared with the
履职档案 and the exports. The dashboard's 联系服务群众日, 接待群众人次 and 代表参与率
(``app.analytics.work``) deliberately count from receptions instead (see there).

"Registered" means a 台账 activity with status final; drafts do not count: a score rests on
what staff have recorded, never on what was only planned. "Held" receptions (for 预告 and
登记) are the announced, not cancelled ones dated in the year up to today.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select

from app.analytics.kpi import is_fed_back
from app.deputies.models import Deputy
from app.extensions import db
from app.ledger.archive import StationYearFacts, station_year_facts_many
from app.opinions.models import Opinion, OpinionStatus
from app.receptions.service import service_day_for
from app.stations.models import Placement, Station
from app.timeutil import local_day_start, to_local

S = OpinionStatus

RULES = {
    "service_days": (
        "第三个星期二已到的月份为应开展月份；某月的代表联系服务群众日已登记台账，该月计为已开展。"
        "得分 = 4 × 已开展月数 ÷ 应开展月数，按0.5分向下取整。"
    ),
    "every_deputy": (
        "编入本站的代表中，本年出席本站已登记的接待选民活动的比例（与履职档案一致）；"
        "得分 = 3 × 比例，按0.5分向下取整；未编入代表得0分。"
    ),
    "feedback_rate": (
        "本年本站意见（合并的除外）中已到期的：已答复群众的，"
        "或已超过答复（交办前为受理）期限的。反馈率100%得6分，"
        "≥95%得4分，≥90%得2分，否则0分；无到期意见得6分。"
    ),
    "study_sessions": (
        "已登记的履职学习活动；每次参与率 = 出席的本站代表 ÷ 编入本站的代表，"
        "取平均。≥2次且≥60%得2分；≥2次但不足60%，或1次且≥60%得1分；"
        "否则0分。"
    ),
    "plan_announce": (
        "有年度活动计划（至少一项）1分；活动提前预告比例≥90%得1分、≥60%得0.5分"
        "；已开始的每个季度都有已登记的活动得1分（按季度比例，0.5分向下取整）。"
    ),
    "registration": (
        "已举办的接待活动有已登记台账的比例 × 1.5分，"
        "加上内容完整（有内容、有参加代表）且7日内登记的台账比例 × 1.5分，"
        "按0.5分向下取整。"
    ),
    "dispatch": (
        "本年意见中按期受理（或仍在受理期限内）、且超过答复期限未答复时已督办的比例；"
        "得分 = 3 × 比例，按0.5分向下取整；无意见得3分。"
    ),
    "fixed_contacts_twice": (
        "编入本站的代表中，有固定联系群众且本年与每位联系对象联系不少于2次的比例；"
        "得分 = 3 × 比例，按0.5分向下取整。"
    ),
    "monitoring": ("已登记的监督活动：≥2次得3分，1次得1.5分，0次得0分。"),
    "leaders": (
        "编入本站的领导干部代表中，本年出席本站已登记活动的比例；"
        "得分 = 3 × 比例，按0.5分向下取整；未编入领导干部代表得0分。"
    ),
}

HALF = Decimal("0.5")


def floor_half(value: float | Decimal) -> Decimal:
    """Round down to a multiple of 0.5 (partial credit never rounds up)."""
    return (Decimal(str(value)) / HALF).to_integral_value(rounding=ROUND_FLOOR) * HALF


def share_score(max_score: float, part: int, whole: int) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    return floor_half(Decimal(str(max_score)) * part / whole)


@dataclass(frozen=True)
class Period:
    """The rating year up to ``until`` (the end of the year, or today in the running year)."""

    year: int
    until: date

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def utc_range(self) -> tuple[datetime, datetime]:
        """The period as stored (aware UTC) instants, from the first local midnight to the last."""
        return local_day_start(self.start), local_day_start(self.until + timedelta(days=1))


def period_of(year: int, today: date) -> Period:
    return Period(year, min(date(year, 12, 31), today))


@dataclass(frozen=True)
class AutoScore:
    score: Decimal
    evidence: str


@dataclass
class Facts:
    """One station's year as the rules read it: the ledger's facts (``app.ledger.archive``, the one
    definition of what was registered), the placed deputies by name, and the year's opinions."""

    station: Station
    period: Period
    today: date
    ledger: StationYearFacts
    deputies: list[Deputy] = field(default_factory=list)  # placed (active), for the evidence's names
    opinions: list = field(default_factory=list)  # the columns the two opinion rules read


def load_facts(stations: list[Station], period: Period, today: date) -> dict[int, Facts]:
    """The facts of many stations in a fixed number of grouped queries, whatever their number."""
    ids = [s.id for s in stations]
    ledger = station_year_facts_many(ids, period.year, period.until)
    facts = {s.id: Facts(s, period, today, ledger[s.id]) for s in stations}
    if not ids:
        return facts
    q = db.session.execute
    placed = select(Placement.deputy_id).where(Placement.station_id.in_(ids))
    deputies = {d.id: d for d in db.session.scalars(select(Deputy).where(Deputy.id.in_(placed)))}
    for f in facts.values():
        f.deputies = [deputies[d] for d in f.ledger.deputies_placed]
    start, end = period.utc_range
    for row in q(
        select(
            Opinion.station_id,
            Opinion.status,
            Opinion.fed_back_at,
            Opinion.deadline,
            Opinion.accept_due,
            Opinion.accepted_at,
            Opinion.replied_at,
            Opinion.urge_count,
            Opinion.overdue_at,
        ).where(
            Opinion.station_id.in_(ids),
            Opinion.status != S.MERGED,
            Opinion.created_at >= start,
            Opinion.created_at < end,
        )
    ):
        facts[row.station_id].opinions.append(row)
    return facts


def _names(deputies: list[Deputy]) -> str:
    names = "、".join(d.name for d in deputies[:10])
    return names + (f"等{len(deputies)}人" if len(deputies) > 10 else "")


def service_days(f: Facts) -> AutoScore:
    # 附件3 联系群众 2: 每月组织“代表联系服务群众日”活动不少于1次 (4分). A month is due once its
    # service day has come: the third Tuesday, or the working day it moved to (春节 2026: 2月24日).
    due = [m for m in range(1, 13) if service_day_for(f.period.year, m)[0] <= f.period.until]
    held = {m for m, n in f.ledger.service_days_by_month.items() if n > 0}
    if not due:
        return AutoScore(Decimal(4), "本年尚无应开展服务日的月份。")
    missing = [m for m in due if m not in held]
    unregistered = sorted(
        {m for m, n in f.ledger.service_days_scheduled_by_month.items() if n > 0} & set(missing)
    )
    score = share_score(4, len(due) - len(missing), len(due))
    text = f"应开展 {len(due)} 个月，已登记台账 {len(due) - len(missing)} 个月"
    if missing:
        text += "；未开展或未登记：" + "、".join(f"{m}月" for m in missing)
    if unregistered:
        text += "（其中" + "、".join(f"{m}月" for m in unregistered) + "已公告服务日，台账尚未登记）"
    return AutoScore(score, text + "。")


def every_deputy(f: Facts) -> AutoScore:
    # 附件3 联系群众 2 / 三(二)2: 每位代表每年到“家站点”接待选民群众不少于1次 (3分).
    if not f.deputies:
        return AutoScore(Decimal(0), "本站未编入代表。")
    received = set(f.ledger.deputies_received_here)
    behind = [d for d in f.deputies if d.id not in received]
    done = len(f.deputies) - len(behind)
    text = f"编入代表 {len(f.deputies)} 名，已接待 {done} 名"
    if behind:
        text += "；尚未接待：" + _names(behind)
    return AutoScore(share_score(3, done, len(f.deputies)), text + "。")


def _answered(opinion: Opinion) -> bool:
    # Fed back as the 民意研判 KPI defines it, or not accepted with a reason given to the resident.
    return is_fed_back(opinion.status, opinion.fed_back_at) or opinion.status == S.REJECTED


def _overdue(opinion: Opinion, today: date) -> bool:
    clock = opinion.deadline or opinion.accept_due
    return clock is None or clock < today


def feedback_rate(f: Facts) -> AutoScore:
    # 附件3 联系群众 3: 群众意见建议反馈率达100% (6分).
    due = [o for o in f.opinions if _answered(o) or _overdue(o, f.today)]
    answered = [o for o in due if _answered(o)]
    if not due:
        return AutoScore(Decimal(6), f"本年收到意见 {len(f.opinions)} 条，均未到答复期限。")
    rate = Decimal(len(answered)) / len(due)
    score = 6 if rate == 1 else 4 if rate >= Decimal("0.95") else 2 if rate >= Decimal("0.9") else 0
    percent = (rate * 100).quantize(Decimal("0.1"))
    text = (
        f"本年收到意见 {len(f.opinions)} 条，已到期 {len(due)} 条，"
        f"已反馈 {len(answered)} 条，反馈率 {percent}%。"
    )
    return AutoScore(Decimal(score), text)


def study_sessions(f: Facts) -> AutoScore:
    # 附件3 制度建设 2: 每年组织集中履职学习不少于2次、代表参与率不低于60% (2分).
    sessions = f.ledger.study_sessions
    if not sessions:
        return AutoScore(Decimal(0), "本年没有已登记的履职学习。")
    if not f.deputies:
        return AutoScore(Decimal(0), f"履职学习 {len(sessions)} 次，但本站未编入代表，参与率无从计算。")
    rates = [Decimal(s.attended) / s.placed for s in sessions]
    mean = sum(rates) / len(rates)
    good = mean >= Decimal("0.6")
    score = 2 if len(sessions) >= 2 and good else 1 if len(sessions) >= 2 or good else 0
    percent = (mean * 100).quantize(Decimal("0.1"))
    return AutoScore(Decimal(score), f"履职学习 {len(sessions)} 次，平均参与率 {percent}%。")


def plan_announce(f: Facts) -> AutoScore:
    # 附件3 制度建设 2: 有年度活动计划，活动安排提前预告，代表活动常态化 (3分).
    plan_lines = f.ledger.plan_lines
    plan = Decimal(1) if plan_lines else Decimal(0)
    events, announced = f.ledger.announceable, f.ledger.announced_in_advance
    ratio = Decimal(announced) / events if events else Decimal(0)
    notice = Decimal(1) if ratio >= Decimal("0.9") else HALF if ratio >= Decimal("0.6") else Decimal(0)
    quarters_due = [q for q in range(4) if date(f.period.year, q * 3 + 1, 1) <= f.period.until]
    active_quarters = {(month - 1) // 3 for month in f.ledger.months_with_activity}
    regular = share_score(1, len([q for q in quarters_due if q in active_quarters]), len(quarters_due))
    text = (
        f"年度活动计划：{'有（' + str(plan_lines) + '项）' if plan_lines else '无'}；"
        f"提前预告 {announced}/{events} 次；"
        f"有活动的季度 {len(active_quarters & set(quarters_due))}/{len(quarters_due)}。"
    )
    return AutoScore(plan + notice + regular, text)


def registration(f: Facts) -> AutoScore:
    # 附件3 制度建设 3: 代表进“家站点”履职情况登记及时、完整 (3分).
    held, covered = f.ledger.receptions_held, f.ledger.receptions_registered
    registered, good = f.ledger.activities_final, f.ledger.activities_complete_on_time
    if not held and not registered:
        return AutoScore(Decimal(0), "本年没有已举办的接待活动，也没有已登记的台账。")
    part = Decimal(0)
    if held:
        part += Decimal("1.5") * covered / held
    else:
        part += Decimal("1.5")
    if registered:
        part += Decimal("1.5") * good / registered
    text = (
        f"已举办接待活动 {held} 次，已登记台账 {covered} 次；"
        f"已登记台账 {registered} 条，其中7日内登记且内容完整 {good} 条。"
    )
    return AutoScore(floor_half(part), text)


def dispatch(f: Facts) -> AutoScore:
    # 附件3 制度建设 3: 群众意见建议及时得到交办、督办 (3分).
    if not f.opinions:
        return AutoScore(Decimal(3), "本年没有群众意见。")

    def timely(o: Opinion) -> bool:
        if o.accept_due is not None:
            if o.accepted_at is None:
                accepted_ok = o.status != S.PENDING or o.accept_due >= f.today
            else:
                accepted_ok = to_local(o.accepted_at).date() <= o.accept_due
            if not accepted_ok:
                return False
        if o.deadline is not None:
            replied = to_local(o.replied_at).date() if o.replied_at is not None else None
            late = (replied is None and o.deadline < f.today and not _answered(o)) or (
                replied is not None and replied > o.deadline
            )
            if late and not (o.urge_count or o.overdue_at is not None):
                return False
        return True

    ok = len([o for o in f.opinions if timely(o)])
    return AutoScore(
        share_score(3, ok, len(f.opinions)),
        f"本年意见 {len(f.opinions)} 条，按期受理且逾期已督办 {ok} 条。",
    )


def fixed_contacts_twice(f: Facts) -> AutoScore:
    # 附件3 联系群众 1: 代表与固定联系对象每年联系不少于2次 (3分).
    if not f.deputies:
        return AutoScore(Decimal(0), "本站未编入代表。")
    met_ids = set(f.ledger.deputies_contacts_met)
    met = [d for d in f.deputies if d.id in met_ids]
    behind = [d for d in f.deputies if d not in met]
    text = f"编入代表 {len(f.deputies)} 名，与每位固定联系对象联系不少于2次的 {len(met)} 名"
    if behind:
        text += "；未达到：" + _names(behind)
    return AutoScore(share_score(3, len(met), len(f.deputies)), text + "。")


def monitoring(f: Facts) -> AutoScore:
    # 附件3 作用发挥 1: 开展代表监督活动，每年不少于2次 (3分).
    n = f.ledger.monitoring_activities
    score = Decimal(3) if n >= 2 else Decimal("1.5") if n == 1 else Decimal(0)
    return AutoScore(score, f"已登记的监督活动 {n} 次。")


def leaders(f: Facts) -> AutoScore:
    # 附件3 联系群众 1: 领导干部代表带头走进“家站点”活动 (3分).
    leading = [d for d in f.deputies if d.is_leader]
    if not leading:
        return AutoScore(Decimal(0), "本站未编入领导干部代表。")
    came = set(f.ledger.leaders_attended)
    present = [d for d in leading if d.id in came]
    behind = [d for d in leading if d.id not in came]
    text = f"编入领导干部代表 {len(leading)} 名，本年到站参加活动 {len(present)} 名"
    if behind:
        text += "；尚未参加：" + _names(behind)
    return AutoScore(share_score(3, len(present), len(leading)), text + "。")


AUTO_RULES: dict[str, Callable[[Facts], AutoScore]] = {
    "service_days": service_days,
    "every_deputy": every_deputy,
    "feedback_rate": feedback_rate,
    "study_sessions": study_sessions,
    "plan_announce": plan_announce,
    "registration": registration,
    "dispatch": dispatch,
    "fixed_contacts_twice": fixed_contacts_twice,
    "monitoring": monitoring,
    "leaders": leaders,
}


def score_facts(facts: Facts) -> dict[str, AutoScore]:
    """Every auto item of one station's facts, scored, with its evidence."""
    scored = {key: rule(facts) for key, rule in AUTO_RULES.items()}
    return {key: AutoScore(s.score.quantize(Decimal("0.1")), s.evidence) for key, s in scored.items()}


def auto_scores_many(stations: list[Station], year: int, today: date) -> dict[int, dict[str, AutoScore]]:
    """The auto items of many stations' ``year`` (one batch of queries for all of them)."""
    facts = load_facts(stations, period_of(year, today), today)
    return {station_id: score_facts(f) for station_id, f in facts.items()}


def auto_scores(station: Station, year: int, today: date) -> dict[str, AutoScore]:
    """Every auto item of ``station``'s ``year`` scored from the records, with its evidence."""
    return auto_scores_many([station], year, today)[station.id]
