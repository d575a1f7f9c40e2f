"""星级评定: the score sheet of a station's year, the evaluator's scores, and the workflow.

四 星级评定: 百分制 (功能配套30, 制度建设20, 联系群众25, 作用发挥25) plus at most 10 bonus.
≥ 80 达标, ≥ 85 三星, ≥ 90 四星, ≥ 95 五星 (the seed prints "满85分可以参评五星级": a
misprint for 三星级, as 90 and 95 give 四星 and 五星). The station assesses itself, the
市(县)区人大常委会 recommends, the 市人大常委会 decides. 市(县)区级 (and the city's own)
人大代表之家 are not rated: they are reviewed yearly instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.models import Role, StaffUser
from app.auth.scope import is_visible, scoped_select
from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models_base import utcnow
from app.rating.auto import RULES, auto_scores_many
from app.rating.items import BONUS_CAP, GROUPS, ITEMS, ITEMS_BY_KEY, Group, Item
from app.rating.models import RatingScore, RatingSheet, RatingStep, SheetState
from app.regions.models import RegionLevel
from app.stations.models import Station, StationKind, StationStatus
from app.timeutil import local_now

LEVELS = ("none", "qualified", "3star", "4star", "5star")
LEVEL_LABELS = {
    "none": "未达标",
    "qualified": "达标级",
    "3star": "三星级",
    "4star": "四星级",
    "5star": "五星级",
}
THRESHOLDS = (
    (Decimal(95), "5star"),
    (Decimal(90), "4star"),
    (Decimal(85), "3star"),
    (Decimal(80), "qualified"),
)
# 二 目标任务: 年内建设五星级10个、四星级30个、三星级60个.
TARGETS = {"5star": 10, "4star": 30, "3star": 60}
STAR_LEVELS = ("3star", "4star", "5star")
NOTE_MAX = 500


class NotRated(Conflict):
    code = "not_rated"

    def __init__(self) -> None:
        super().__init__("市(县)区级人大代表之家不参与星级评定，作为年度考核内容。")


def level_of(total: Decimal) -> str:
    """The level a total reaches (bonus included)."""
    for threshold, level in THRESHOLDS:
        if total >= threshold:
            return level
    return "none"


def capped_bonus(bonus: Decimal) -> Decimal:
    """附件3 加分项目: 限10分."""
    return min(bonus, Decimal(str(BONUS_CAP)))


def is_rated(station: Station) -> bool:
    # 四: 市(县)区级人大代表之家不参与星级评定 (nor, a fortiori, the city's own 之家).
    return not (
        station.kind == StationKind.HOME and station.level in (RegionLevel.CITY, RegionLevel.DISTRICT)
    )


@dataclass
class ItemScore:
    item: Item
    score: Decimal | None  # None: not entered yet (counts as 0)
    evidence: str = ""
    note: str = ""
    entered_by: str = ""
    entered_at: datetime | None = None
    rule: str = ""

    @property
    def auto(self) -> bool:
        return self.item.auto


@dataclass
class GroupScore:
    group: Group
    score: Decimal
    items: list[ItemScore] = field(default_factory=list)


@dataclass
class ScoreSheet:
    station: Station
    year: int
    sheet: RatingSheet | None
    groups: list[GroupScore]
    base: Decimal
    bonus: Decimal
    total: Decimal
    level: str

    @property
    def items(self) -> list[ItemScore]:
        return [i for g in self.groups for i in g.items]

    @property
    def state(self) -> str:
        return self.sheet.state if self.sheet is not None else SheetState.DRAFT

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


def score_sheet(station: Station, year: int, today: date | None = None) -> ScoreSheet:
    """Every 附件3 item of the station's year: auto items from the records, the rest as entered."""
    if not is_rated(station):
        raise NotRated()
    return score_sheets([station], year, today)[station.id]


def score_sheets(stations: list[Station], year: int, today: date | None = None) -> dict[int, ScoreSheet]:
    """The score sheets of many (rated) stations, read with one batch of queries for all."""
    today = today or local_now().date()
    ids = [s.id for s in stations]
    sheets = {
        sheet.station_id: sheet
        for sheet in db.session.scalars(
            select(RatingSheet)
            .where(RatingSheet.year == year, RatingSheet.station_id.in_(ids or [-1]))
            .options(selectinload(RatingSheet.scores).selectinload(RatingScore.entered_by))
        )
    }
    autos = auto_scores_many(stations, year, today)
    return {s.id: _build(s, year, sheets.get(s.id), autos[s.id]) for s in stations}


def _build(station: Station, year: int, sheet: RatingSheet | None, autos: dict) -> ScoreSheet:
    entered = {s.item_key: s for s in sheet.scores} if sheet is not None else {}
    groups: list[GroupScore] = []
    for group in GROUPS:
        rows = []
        for item in (i for i in ITEMS if i.group == group.key):
            if item.auto:
                found = autos[item.key]
                rows.append(ItemScore(item, found.score, evidence=found.evidence, rule=RULES[item.key]))
            else:
                row = entered.get(item.key)
                rows.append(
                    ItemScore(
                        item,
                        Decimal(row.score) if row is not None else None,
                        note=row.note if row is not None else "",
                        entered_by=row.entered_by.display_name if row is not None and row.entered_by else "",
                        entered_at=row.entered_at if row is not None else None,
                    )
                )
        total = sum((r.score or Decimal(0) for r in rows), Decimal(0))
        groups.append(GroupScore(group, total, rows))
    base = sum((g.score for g in groups if not g.group.is_bonus), Decimal(0))
    bonus = capped_bonus(sum((g.score for g in groups if g.group.is_bonus), Decimal(0)))
    total = base + bonus
    return ScoreSheet(station, year, sheet, groups, base, bonus, total, level_of(total))


def sheet_for(station: Station, year: int) -> RatingSheet:
    """The station's sheet for the year, created (as a draft) on first use."""
    if not is_rated(station):
        raise NotRated()
    sheet = db.session.scalar(
        select(RatingSheet).where(RatingSheet.station_id == station.id, RatingSheet.year == year)
    )
    if sheet is None:
        sheet = RatingSheet(station=station, year=year, state=SheetState.DRAFT)
        db.session.add(sheet)
        db.session.flush()
    return sheet


# --- who may do what -------------------------------------------------------------------------


def _holds(user: StaffUser, sheet: RatingSheet) -> bool:
    """Whether the sheet is on the user's desk now: the step it waits for is the user's."""
    role = user.role_enum
    if not is_visible(sheet.station, user):
        return False
    if sheet.state == SheetState.DRAFT:
        return role in (Role.STATION_STAFF, Role.TOWN_ADMIN)
    if sheet.state == SheetState.SUBMITTED:
        return role is Role.DISTRICT_ADMIN
    if sheet.state == SheetState.RECOMMENDED:
        return role is Role.CITY_ADMIN
    return False


ACTIONS = {
    # action: (from state, to state, label)
    "submit": (SheetState.DRAFT, SheetState.SUBMITTED, "提交自评"),
    "recommend": (SheetState.SUBMITTED, SheetState.RECOMMENDED, "区人大推荐"),
    "return": (None, None, "退回"),
    "decide": (SheetState.RECOMMENDED, SheetState.DECIDED, "市人大评定"),
}
RETURNS = {SheetState.SUBMITTED: SheetState.DRAFT, SheetState.RECOMMENDED: SheetState.SUBMITTED}
WHO = {
    SheetState.DRAFT: "家站点工作人员或镇人大/街道工委",
    SheetState.SUBMITTED: "市(县)区人大",
    SheetState.RECOMMENDED: "市人大",
}


def can_edit(user: StaffUser, sheet: RatingSheet | None, station: Station) -> bool:
    if sheet is None:
        return user.role_enum in (Role.STATION_STAFF, Role.TOWN_ADMIN) and is_visible(station, user)
    return _holds(user, sheet)


def allowed_actions(user: StaffUser, sheet: RatingSheet | None, station: Station) -> list[str]:
    state = sheet.state if sheet is not None else SheetState.DRAFT
    if not can_edit(user, sheet, station):
        return []
    actions = [a for a, (src, _dst, _l) in ACTIONS.items() if src == state]
    if state in RETURNS:
        actions.append("return")
    return actions


def enter_scores(sheet: RatingSheet, user: StaffUser, values: dict[str, tuple[str, str]]) -> int:
    """Store evaluator scores ``{item key: (score, note)}``; only the sheet's holder, only manual items."""
    if not _holds(user, sheet):
        raise Forbidden(_not_yours(sheet))
    changed = 0
    for key, (raw, note) in values.items():
        item = ITEMS_BY_KEY.get(key)
        if item is None or item.auto:
            raise ValidationFailed("该项由系统根据台账和办理记录自动计分，不能手工填写。", field=key)
        raw = (raw or "").strip()
        note = (note or "").strip()
        existing = next((s for s in sheet.scores if s.item_key == key), None)
        if raw == "":
            if existing is not None:
                sheet.scores.remove(existing)
                changed += 1
            continue
        try:
            score = Decimal(raw).quantize(Decimal("0.1"))
        except InvalidOperation:
            raise ValidationFailed(f"“{item.title}”的得分应为数字。", field=key) from None
        if score < 0 or score > Decimal(str(item.max)):
            raise ValidationFailed(f"“{item.title}”的得分应在 0 到 {item.max:g} 分之间。", field=key)
        if len(note) > NOTE_MAX:
            raise ValidationFailed(f"说明最多 {NOTE_MAX} 字。", field=key)
        if existing is not None and existing.score == score and existing.note == note:
            continue
        if existing is None:
            existing = RatingScore(item_key=key, score=score, note=note)
            sheet.scores.append(existing)
        existing.score, existing.note = score, note
        existing.entered_by_id, existing.entered_at = user.id, utcnow()
        changed += 1
    db.session.flush()
    return changed


def _not_yours(sheet: RatingSheet) -> str:
    if sheet.state == SheetState.DECIDED:
        return "该评分表已由市人大评定，不能再修改。"
    return f"该评分表当前为“{sheet.state_label}”，应由{WHO[SheetState(sheet.state)]}办理。"


def advance(
    sheet: RatingSheet, user: StaffUser, action: str, *, level: str | None = None, note: str = ""
) -> RatingStep:
    """Take one workflow step; refuses (with the reason) any step not the user's to take now."""
    if action not in ACTIONS:
        raise ValidationFailed("未知的操作。")
    if not _holds(user, sheet):
        raise Forbidden(_not_yours(sheet))
    state = SheetState(sheet.state)
    if action == "return":
        if state not in RETURNS:
            raise Conflict("当前状态不能退回。", code="illegal_step")
        target = RETURNS[state]
    else:
        src, target, label = ACTIONS[action]
        if state != src:
            raise Conflict(f"评分表当前为“{sheet.state_label}”，不能{label}。", code="illegal_step")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"意见最多 {NOTE_MAX} 字。", field="note")
    if action == "return" and not note:
        raise ValidationFailed("退回时请写明理由。", field="note")
    current = score_sheet(sheet.station, sheet.year)
    if action == "submit":
        missing = [
            i.item.title for i in current.items if not i.auto and i.item.group != "bonus" and i.score is None
        ]
        if missing:
            raise ValidationFailed(f"还有 {len(missing)} 项未评分（如“{missing[0]}”），请评完再提交自评。")
        level = current.level
    elif action in ("recommend", "decide"):
        level = (level or "").strip()
        if level not in LEVELS:
            raise ValidationFailed("请选择等级。", field="level")
        ceiling = current.level if action == "recommend" else (sheet.recommended_level or "none")
        if LEVELS.index(level) > LEVELS.index(ceiling):
            raise ValidationFailed(
                f"得分 {current.total} 分（{LEVEL_LABELS[current.level]}）"
                + ("" if action == "recommend" else f"，区推荐为{LEVEL_LABELS[ceiling]}")
                + f"，不能{'推荐' if action == 'recommend' else '评定'}为{LEVEL_LABELS[level]}。",
                field="level",
            )
        if action == "recommend":
            sheet.recommended_level = level
        else:
            sheet.decided_level = level
    else:
        level = None
        if target == SheetState.DRAFT:
            sheet.recommended_level = None
    step = RatingStep(
        action=action,
        from_state=state,
        to_state=target,
        level=level,
        total=current.total,
        note=note,
        user_id=user.id,
        at=utcnow(),
    )
    sheet.steps.append(step)
    sheet.state = target
    sheet.total_at_step = current.total
    db.session.flush()
    return step


# --- the year at a glance --------------------------------------------------------------------


@dataclass
class YearRow:
    station: Station
    sheet: RatingSheet | None
    total: Decimal
    level: str


def rated_stations_select(user: StaffUser | None):
    stmt = (scoped_select(Station, user) if user is not None else select(Station)).where(
        Station.status == StationStatus.ACTIVE
    )
    return stmt.where(
        ~((Station.kind == StationKind.HOME) & Station.level.in_((RegionLevel.CITY, RegionLevel.DISTRICT)))
    )


def year_rows(user: StaffUser | None, year: int) -> list[YearRow]:
    """Each rated station the user sees, with its live total and level (one batch of queries)."""
    stations = list(
        db.session.scalars(
            rated_stations_select(user)
            .options(selectinload(Station.region))
            .order_by(Station.region_id, Station.id)
        )
    )
    views = score_sheets(stations, year)
    return [YearRow(s, views[s.id].sheet, views[s.id].total, views[s.id].level) for s in stations]


def decided_counts(user: StaffUser | None, year: int) -> dict[str, int]:
    """How many stations the city has decided at each level this year (within the user's scope)."""
    ids = rated_stations_select(user).with_only_columns(Station.id)
    stmt = (
        select(RatingSheet.decided_level, func.count())
        .where(
            RatingSheet.year == year, RatingSheet.state == SheetState.DECIDED, RatingSheet.station_id.in_(ids)
        )
        .group_by(RatingSheet.decided_level)
    )
    counts = dict.fromkeys(LEVELS, 0)
    for level, n in db.session.execute(stmt):
        counts[level or "none"] = n
    return counts
