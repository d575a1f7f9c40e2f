"""民意研判: every opinion KPI defined once — its Chinese definition, its SQL, its drill-down.

Opinions are counted in the period they were **received** (提交时间, local dates, both ends
included): "closed" is how many of the opinions received in the period are closed now. The
stored counters (``COUNTERS``) are sums of per-opinion flags, so they add up across stations,
categories and months; that is what lets ``app.analytics.models.OpinionMonth`` hold them per
month and station, and the live query and the stored table give the same numbers. Figures that
depend on today (overdue now, acceptance late now) are always counted live.

The dashboards, the staff API (``/api/v1/staff/stats``), the monthly report and the tests all
read their numbers through ``figures()`` and the rates through ``Counters``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
)

from app.analytics.models import CloseDaysMonth, OpinionMonth, RefreshState
from app.analytics.sqltime import as_date, days_between, local_day_end, local_month
from app.auth.models import Role
from app.auth.scope import Scope, station_ids_under, visible
from app.extensions import db
from app.opinions.inbox import late_condition, overdue_condition
from app.opinions.models import Opinion, OpinionStatus
from app.opinions.pipeline import DEADLINE_STATUSES
from app.regions.models import Region
from app.stations.models import Station
from app.timeutil import local_day_start
from app.units.models import HandlingUnit

S = OpinionStatus
REFRESH_NAME = "opinions"
SATISFIED = ("satisfied", "basically_satisfied")
# 反馈: the resident has been given the outcome (fed back, closed, guided to the legal channel,
# taken up as a 代表建议). The one definition: this KPI and the star rating's 反馈率 item
# (app.rating.auto) both read it; they differ only in which opinions they divide by (see there).
FED_BACK_STATUSES = (S.FED_BACK, S.GUIDED, S.CONVERTED, S.CLOSED)


def fed_back_condition() -> ColumnElement[bool]:
    """SQL: the opinion's outcome has reached the resident (``FED_BACK_STATUSES`` or a feedback time)."""
    return or_(Opinion.fed_back_at.is_not(None), Opinion.status.in_(FED_BACK_STATUSES))


def is_fed_back(status: str, fed_back_at: datetime | None) -> bool:
    """Python twin of ``fed_back_condition`` for rows already loaded."""
    return fed_back_at is not None or status in FED_BACK_STATUSES


# --- what each KPI means (shown on every page beside the number) ----------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    definition: str
    kind: str = "count"  # count | rate | days


KPIS: dict[str, Kpi] = {
    k.key: k
    for k in (
        Kpi(
            "received",
            "收到意见",
            "统计期内（按提交日期）各渠道收到的群众意见建议条数，含后来合并、不予受理的。",
        ),
        Kpi("accepted", "已受理", "统计期内收到的意见中，已经受理的条数（不含不予受理、未受理即合并的）。"),
        Kpi("closed", "已办结", "统计期内收到的意见中，目前状态为“已办结”的条数。"),
        Kpi(
            "overdue",
            "逾期未答复",
            "统计期内收到的意见中，截至今天已超过答复期限、承办单位仍未答复的条数（实时）。",
        ),
        Kpi(
            "on_time_accept_rate",
            "按时受理率",
            "在受理时限（提交后 2 个工作日，当天结束前）内受理的条数 ÷"
            "（已受理的条数 + 超过时限仍未受理的条数）。"
            "无可统计的意见时不计算。",
            "rate",
        ),
        Kpi(
            "on_time_close_rate",
            "按时办结率",
            "已交办的意见中，承办单位在答复期限（交办后按分类规定的工作日）内答复的条数 ÷"
            "（已答复的条数 + 已过期限仍未答复的条数）。再交办的以最近一次期限为准。",
            "rate",
        ),
        Kpi(
            "feedback_rate",
            "反馈率",
            "已受理的意见中，已把办理结果反馈给群众的比例（已反馈、已办结、引导依法反映、转为代表建议均计为已反馈）。"
            "附件3 要求达到 100%。",
            "rate",
        ),
        Kpi(
            "satisfaction_rate",
            "满意率",
            "群众作出评价的意见中，评价为“满意”或“基本满意”的比例（以最近一次评价为准）。",
            "rate",
        ),
        Kpi(
            "avg_close_days",
            "平均办结天数",
            "已办结的意见从提交到办结经过的自然日数（按北京时间日期相减，当天办结为 0 天）的平均值。",
            "days",
        ),
        Kpi(
            "p90_close_days",
            "90% 办结天数",
            "已办结的意见中，90% 在这个天数内（含）办结"
            "（最近秩法：n 条按天数从小到大排列，取第 0.9×n 条（向上取整）的天数）。",
            "days",
        ),
    )
}

# Station-work KPIs (app.analytics.work computes them; their words live here with the rest).
WORK_KPIS: dict[str, Kpi] = {
    k.key: k
    for k in (
        Kpi("receptions_planned", "计划接待", "统计期内安排的接待活动场次（所有类型，不含已取消的）。"),
        Kpi(
            "receptions_held",
            "已开展接待",
            "统计期内已公告且日期已过（含今天）的接待活动场次。",
        ),
        Kpi(
            "service_days_held",
            "联系服务群众日",
            "已开展的“代表联系服务群众日”场次（每月第三周星期二，遇节假日顺延）；每站每月应不少于 1 次。",
        ),
        Kpi(
            "residents_received",
            "接待群众人次",
            "已开展接待活动中登记“已到场”的预约人数，加上在这些接待活动中现场收集的意见条数。",
        ),
        Kpi(
            "deputies_participation",
            "代表参与率",
            "编入统计范围内家站点的代表中，统计期内在已开展的接待活动值班的代表所占比例"
            "（附件3：每位代表每年到“家站点”接待选民群众不少于 1 次）。",
            "rate",
        ),
    )
}


# --- the counters, per opinion, summable -----------------------------------------------------


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def counter_expressions() -> dict[str, ColumnElement[int]]:
    """Each stored counter as a per-opinion 0/1 flag over ``opinions`` (sum them)."""
    o = Opinion
    accepted = o.accepted_at.is_not(None)
    replied_due = and_(o.deadline.is_not(None), o.replied_at.is_not(None))
    return {
        "received": literal(1),
        "accepted": _flag(accepted),
        "accepted_on_time": _flag(
            and_(accepted, or_(o.accept_due.is_(None), o.accepted_at < local_day_end(o.accept_due)))
        ),
        "closed": _flag(o.status == S.CLOSED),
        "replied_due": _flag(replied_due),
        "replied_on_time": _flag(and_(replied_due, o.replied_at < local_day_end(o.deadline))),
        "fed_back": _flag(and_(accepted, fed_back_condition())),
        "rated": _flag(o.satisfaction.is_not(None)),
        "satisfied": _flag(o.satisfaction.in_(SATISFIED)),
    }


STORED = tuple(counter_expressions())


def close_days_expression() -> ColumnElement[int]:
    return days_between(Opinion.created_at, Opinion.closed_at)


def closed_condition() -> ColumnElement[bool]:
    return and_(Opinion.status == S.CLOSED, Opinion.closed_at.is_not(None))


@dataclass
class Counters:
    received: int = 0
    accepted: int = 0
    accepted_on_time: int = 0
    closed: int = 0
    replied_due: int = 0
    replied_on_time: int = 0
    fed_back: int = 0
    rated: int = 0
    satisfied: int = 0
    # Live, as of today.
    late_accept: int = 0
    overdue: int = 0
    close_days: dict[int, int] = field(default_factory=dict)

    def add(self, other: Counters) -> None:
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for days, n in other.close_days.items():
            self.close_days[days] = self.close_days.get(days, 0) + n

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return num / den if den else None

    @property
    def on_time_accept_rate(self) -> float | None:
        return self._rate(self.accepted_on_time, self.accepted + self.late_accept)

    @property
    def on_time_close_rate(self) -> float | None:
        return self._rate(self.replied_on_time, self.replied_due + self.overdue)

    @property
    def feedback_rate(self) -> float | None:
        return self._rate(self.fed_back, self.accepted)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def avg_close_days(self) -> float | None:
        n = sum(self.close_days.values())
        return sum(d * k for d, k in self.close_days.items()) / n if n else None

    @property
    def p90_close_days(self) -> int | None:
        n = sum(self.close_days.values())
        if not n:
            return None
        rank = -(-9 * n // 10)  # ceil(0.9 n), nearest-rank
        seen = 0
        for days in sorted(self.close_days):
            seen += self.close_days[days]
            if seen >= rank:
                return days
        return None  # unreachable

    def value(self, key: str):
        return getattr(self, key)

    def stats(self) -> dict:
        """The staff API's ``/stats`` answer (the Contract's eight keys)."""
        return {
            "received": self.received,
            "accepted": self.accepted,
            "closed": self.closed,
            "overdue": self.overdue,
            "on_time_accept_rate": self.on_time_accept_rate,
            "on_time_close_rate": self.on_time_close_rate,
            "feedback_rate": self.feedback_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }


SUMMED = (*STORED, "late_accept", "overdue")


# --- what is asked: period, place, category ---------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """A period of local dates (both ends included) and an optional region, station, category."""

    date_from: date
    date_to: date
    region: Region | None = None
    station: Station | None = None
    category: str | None = None
    unit: HandlingUnit | None = None  # the unit an opinion is assigned to now

    def previous(self) -> Filters:
        """The period of the same length just before this one (for "change" and rising topics)."""
        length = (self.date_to - self.date_from).days + 1
        return replace(
            self,
            date_from=self.date_from - timedelta(days=length),
            date_to=self.date_from - timedelta(days=1),
        )


start_of = local_day_start  # local midnight of a day as the UTC moment it is stored as


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """First days of every month from ``first``'s to ``last``'s, in order."""
    out, month = [], month_start(first)
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def place_conditions(f: Filters, column) -> list[ColumnElement[bool]]:
    """The filters' region and station as conditions on a station id ``column``."""
    where = []
    if f.region is not None:
        where.append(column.in_(station_ids_under(f.region.path)))
    if f.station is not None:
        where.append(column == f.station.id)
    return where


def station_filter(scope: Scope, f: Filters, column) -> list[ColumnElement[bool]]:
    """Station conditions for the stored tables: the scope's stations, then region and station."""
    return [column.in_(select(Station.id).where(visible(Station, scope))), *place_conditions(f, column)]


def opinion_conditions(scope: Scope, f: Filters, *, dated: bool = True) -> list[ColumnElement[bool]]:
    """The opinions behind the figures: the scope's, received in the period, place and category."""
    where = [visible(Opinion, scope)]
    if dated:
        where += [
            Opinion.created_at >= start_of(f.date_from),
            Opinion.created_at < start_of(f.date_to + timedelta(days=1)),
        ]
    where += place_conditions(f, Opinion.station_id)
    if f.category is not None:
        where.append(func.coalesce(Opinion.category, "") == f.category)
    if f.unit is not None:
        where.append(Opinion.unit_id == f.unit.id)
    return where


def uses_store(scope: Scope) -> bool:
    """The stored rows are per station: they answer for admins and station staff, whose scope is
    a set of stations. A unit's or a deputy's opinions are few and counted live."""
    return scope.is_admin or scope.role is Role.STATION_STAFF


def dirty_months() -> set[date] | None:
    """Months whose opinions changed since the last refresh (``None``: never refreshed)."""
    state = db.session.get(RefreshState, REFRESH_NAME)
    if state is None:
        return None
    rows = db.session.scalars(
        select(local_month(Opinion.created_at)).where(Opinion.updated_at >= state.watermark).distinct()
    )
    return {as_date(m) for m in rows}


def split_period(scope: Scope, f: Filters, today: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Whole months the stored rows can answer for, and the (from, to) day ranges to count live."""
    if not uses_store(scope) or f.unit is not None:  # the stored rows are not split by unit
        return [], [(f.date_from, f.date_to)]
    dirty = dirty_months()
    if dirty is None:
        return [], [(f.date_from, f.date_to)]
    stored: list[date] = []
    live: list[tuple[date, date]] = []
    for month in months_between(f.date_from, f.date_to):
        last = next_month(month) - timedelta(days=1)
        lo, hi = max(month, f.date_from), min(last, f.date_to)
        # Nothing is received after today: a period reaching today covers its month so far.
        whole = lo == month and (hi == last or hi >= today)
        if whole and month not in dirty and month <= today:
            stored.append(month)
        elif month <= today:
            if live and live[-1][1] + timedelta(days=1) == lo:
                live[-1] = (live[-1][0], hi)
            else:
                live.append((lo, hi))
    return stored, live


GROUPS = ("month", "category", "station")


def _station_rows(station_groups: dict[object, list[int]]) -> CTE:
    """A small table (station_id, row_index) mapping each station to the position of its group
    in ``station_groups``: joined to, it lets SQL add a group's stations up (a region table's rows).
    The join costs about what grouping by the plain station column does; a CASE over the
    station ids (tried before) made the query about twice as slow."""
    # Written out as text: SQLAlchemy's values() takes ~10 ms to compile 300 pairs, every time.
    # Only integers reach it; VALUES names its columns column1, column2 (PostgreSQL, SQLite).
    pairs = ", ".join(
        f"({int(station_id)}, {n})" for n, ids in enumerate(station_groups.values()) for station_id in ids
    )
    return (
        text(f"SELECT column1 AS station_id, column2 AS row_index FROM (VALUES {pairs}) AS pairs")  # noqa: S608
        .columns(station_id=Integer, row_index=Integer)
        .cte("table_rows")
    )


def _live_key(name: str, grouping: CTE | None = None):
    if name == "station":
        return Opinion.station_id if grouping is None else grouping.c.row_index
    return {"month": local_month(Opinion.created_at), "category": func.coalesce(Opinion.category, "")}[name]


def _stored_key(name: str, table, grouping: CTE | None = None):
    if name == "station":
        return table.station_id if grouping is None else grouping.c.row_index
    return {"month": table.month, "category": getattr(table, "category", None)}[name]


def _joined(stmt: Select, table, grouping: CTE | None) -> Select:
    """``stmt`` over ``table``'s rows of the grouped stations only, when grouping stations."""
    if grouping is None:
        return stmt
    return stmt.join_from(table, grouping, grouping.c.station_id == table.station_id)


def _norm(name: str, key):
    if name == "month":
        return as_date(key)
    return "" if key is None else key


def figures(
    scope: Scope,
    f: Filters,
    today: date,
    group: tuple[str, ...] = (),
    *,
    close_days: bool = True,
    station_groups: dict[int, list[int]] | None = None,
) -> dict[tuple, Counters]:
    """The KPI counters of the opinions the filters select, grouped by any of month, category
    and station: ``{(key, ...): Counters}``; ungrouped, the one key is ``()``.

    With ``station_groups`` ({key: [station ids]}, each station in one group at most)
    "station" groups by those keys instead, added up per key in SQL (a region table's rows);
    stations in no group are left out."""
    out: dict[tuple, Counters] = {}
    grouping: CTE | None = None
    row_keys: list[object] = []
    if station_groups is not None:
        station_groups = {key: ids for key, ids in station_groups.items() if ids}
        if not station_groups:
            return {(): Counters()} if not group else {}
        grouping = _station_rows(station_groups)
        row_keys = list(station_groups)  # SQL answers with a group's position

    def make_key(raw) -> tuple:
        if grouping is None:
            return tuple(_norm(name, value) for name, value in zip(group, raw, strict=True))
        return tuple(
            _norm(name, row_keys[value] if name == "station" else value)
            for name, value in zip(group, raw, strict=True)
        )

    def bucket(raw) -> Counters:
        key = make_key(raw)
        if key not in out:
            out[key] = Counters()
        return out[key]

    width = len(group)

    def add_counts(rows) -> None:
        for row in rows:
            key = make_key(row[:width])
            values = [int(v or 0) for v in row[width:]]
            c = out.get(key)
            if c is None:
                out[key] = Counters(*values)  # the stored counters are Counters' first fields
            else:
                for name, value in zip(STORED, values, strict=True):
                    setattr(c, name, getattr(c, name) + value)

    def add_days(rows) -> None:
        for row in rows:
            c = bucket(row[: len(group)])
            d, n = int(row[-2]), int(row[-1])
            c.close_days[d] = c.close_days.get(d, 0) + n

    stored, live = split_period(scope, f, today)
    keys_live = [_live_key(name, grouping) for name in group]
    if stored:
        t = OpinionMonth
        keys = [_stored_key(name, t, grouping) for name in group]
        where = [t.month.in_(stored), *station_filter(scope, f, t.station_id)]
        if f.category is not None:
            where.append(t.category == f.category)
        stmt = select(*keys, *(func.sum(getattr(t, n)) for n in STORED)).where(*where).group_by(*keys)
        add_counts(db.session.execute(_joined(stmt, t, grouping)))
        if close_days and "category" not in group and f.category is None:
            h = CloseDaysMonth
            hkeys = [_stored_key(name, h, grouping) for name in group]
            hwhere = [h.month.in_(stored), *station_filter(scope, f, h.station_id)]
            stmt = select(*hkeys, h.days, func.sum(h.n)).where(*hwhere).group_by(*hkeys, h.days)
            add_days(db.session.execute(_joined(stmt, h, grouping)))
        elif close_days:
            # The histogram is not kept per category: count those months' closing days live.
            for month in stored:
                where = opinion_conditions(
                    scope, replace(f, date_from=month, date_to=next_month(month) - timedelta(days=1))
                )
                stmt = (
                    select(*keys_live, close_days_expression(), func.count())
                    .where(*where, closed_condition())
                    .group_by(*keys_live, close_days_expression())
                )
                add_days(db.session.execute(_joined(stmt, Opinion, grouping)))
    exprs = counter_expressions()
    keys = [_live_key(name, grouping) for name in group]
    for lo, hi in live:
        where = opinion_conditions(scope, replace(f, date_from=lo, date_to=hi))
        stmt = select(*keys, *(func.sum(e) for e in exprs.values())).where(*where).group_by(*keys)
        add_counts(db.session.execute(_joined(stmt, Opinion, grouping)))
        if close_days:
            days = close_days_expression()
            stmt = select(*keys, days, func.count()).where(*where, closed_condition()).group_by(*keys, days)
            add_days(db.session.execute(_joined(stmt, Opinion, grouping)))
    # Today's figures: always live, over the whole period.
    stmt = (
        select(*keys, func.sum(_flag(late_condition(today))), func.sum(_flag(overdue_condition(today))))
        .where(*opinion_conditions(scope, f), Opinion.status.in_((S.PENDING, *DEADLINE_STATUSES)))
        .group_by(*keys)
    )
    for row in db.session.execute(_joined(stmt, Opinion, grouping)):
        late, overdue = row[-2], row[-1]
        if late or overdue:
            c = bucket(row[: len(group)])
            c.late_accept += int(late or 0)
            c.overdue += int(overdue or 0)
    if not group and () not in out:
        out[()] = Counters()
    return out


def totals(scope: Scope, f: Filters, today: date) -> Counters:
    """The period's figures for the scope and filters, ungrouped."""
    return figures(scope, f, today)[()]


# --- drill-down: the opinions behind a number -------------------------------------------------


@dataclass(frozen=True)
class Metric:
    label: str
    condition: Callable[[date], ColumnElement[bool]]


def _c(expr_name: str) -> Callable[[date], ColumnElement[bool]]:
    return lambda today: counter_expressions()[expr_name] == 1


METRICS: dict[str, Metric] = {
    "received": Metric("收到的意见", lambda today: true()),
    "accepted": Metric("已受理的意见", _c("accepted")),
    "closed": Metric("已办结的意见", _c("closed")),
    "overdue": Metric("逾期未答复的意见", overdue_condition),
    "accept_late": Metric(
        "未按时受理的意见",
        lambda today: or_(
            late_condition(today),
            and_(counter_expressions()["accepted"] == 1, counter_expressions()["accepted_on_time"] == 0),
        ),
    ),
    "reply_late": Metric(
        "未按时答复的意见",
        lambda today: or_(
            overdue_condition(today),
            and_(counter_expressions()["replied_due"] == 1, counter_expressions()["replied_on_time"] == 0),
        ),
    ),
    "not_fed_back": Metric(
        "已受理但尚未反馈的意见",
        lambda today: and_(counter_expressions()["accepted"] == 1, counter_expressions()["fed_back"] == 0),
    ),
    "rated": Metric("群众已评价的意见", _c("rated")),
    "unsatisfied": Metric("群众评价不满意的意见", lambda today: Opinion.satisfaction == "unsatisfied"),
}


def metric_condition(name: str, today: date) -> ColumnElement[bool]:
    metric = METRICS.get(name)
    return metric.condition(today) if metric is not None else false()


def kpi_items(keys: Iterable[str], counters: Counters) -> list[dict]:
    """KPI cards: label, value, definition and the drill-down metric of each."""
    drill = {
        "received": "received",
        "accepted": "accepted",
        "closed": "closed",
        "overdue": "overdue",
        "on_time_accept_rate": "accept_late",
        "on_time_close_rate": "reply_late",
        "feedback_rate": "not_fed_back",
        "satisfaction_rate": "unsatisfied",
        "avg_close_days": "closed",
        "p90_close_days": "closed",
    }
    return [{"kpi": KPIS[key], "value": counters.value(key), "metric": drill.get(key)} for key in keys]
