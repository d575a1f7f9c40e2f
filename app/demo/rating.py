"""星级评定 demo: this year's score sheets of the demo town's stations, one in each workflow state.

The station the ``station`` account works at keeps a draft (some items scored) for the
newcomer to finish; the next has been self-assessed by the town (waiting for ``district``),
the next recommended by the district (waiting for ``city``), the last decided. Every step
goes through the real workflow (``advance``) with the demo accounts. A station that already
has this year's sheet is left alone, so a rerun writes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.auth.models import StaffUser
from app.demo.ledger import MAX_STATIONS
from app.extensions import db
from app.ledger.models import ActivityPlan
from app.rating.items import ITEMS
from app.rating.models import RatingSheet
from app.rating.service import LEVELS, advance, enter_scores, score_sheet, sheet_for
from app.stations.models import Station
from app.timeutil import local_now

# Points taken off each evaluator item (cycled), so the sheets are believable, not perfect.
DEDUCTIONS = (Decimal("0"), Decimal("0.5"), Decimal("0"), Decimal("1"), Decimal("0"))
NOTES = ("现场查看，符合要求", "资料齐全", "基本符合，个别内容待完善", "群众反映良好", "查阅台账和照片")


def _scores(items, deduction_offset: int) -> dict[str, tuple[str, str]]:
    values = {}
    for n, item in enumerate(items):
        cut = DEDUCTIONS[(n + deduction_offset) % len(DEDUCTIONS)]
        score = max(Decimal(0), Decimal(str(item.max)) - cut)
        values[item.key] = (str(score), NOTES[n % len(NOTES)])
    return values


def _one_lower(level: str) -> str:
    return LEVELS[max(1, LEVELS.index(level) - 1)] if level != "none" else "none"


def seed_ratings(stations: list[Station]) -> int:
    """Score sheets for up to four demo stations (the ledger's), in four workflow states; returns how many."""
    year = local_now().year
    users = {
        u.username: u
        for u in db.session.scalars(
            select(StaffUser).where(StaffUser.username.in_(("station", "town", "district", "city")))
        )
    }
    if len(users) < 4:
        return 0
    manual = [i for i in ITEMS if not i.auto and i.group != "bonus"]
    bonus = [i for i in ITEMS if i.group == "bonus"]
    written = 0
    for index, station in enumerate(stations[:MAX_STATIONS]):
        exists = db.session.scalar(
            select(RatingSheet.id).where(RatingSheet.station_id == station.id, RatingSheet.year == year)
        )
        if exists is not None:
            continue
        sheet = sheet_for(station, year)
        written += 1
        holder = users["station"] if users["station"].station_id == station.id else users["town"]
        if index == 0:
            # A self-assessment under way: the first half of the items scored.
            enter_scores(sheet, holder, _scores(manual[: len(manual) // 2], index))
            continue
        enter_scores(sheet, holder, _scores(manual, index))
        enter_scores(
            sheet, holder, _scores(bonus[: 2 + index], 1) | {"bonus_media": ("2", "省级媒体报道特色做法")}
        )
        advance(sheet, holder, "submit", note="已完成自评，材料已上传。")
        if index == 1:
            continue
        level = score_sheet(station, year).level
        advance(sheet, users["district"], "recommend", level=level, note="经区人大常委会实地检查，同意推荐。")
        if index == 2:
            continue
        advance(sheet, users["city"], "decide", level=_one_lower(level), note="经市人大常委会组织评定。")
    db.session.flush()
    return written


def demo_stations(first: Station) -> list[Station]:
    """The demo town's stations that got a year of ledger (they have this year's plan), ``first`` first."""
    year = local_now().year
    stations = list(
        db.session.scalars(
            select(Station)
            .join(ActivityPlan, ActivityPlan.station_id == Station.id)
            .where(ActivityPlan.year == year)
            .order_by(Station.id)
        )
    )
    return sorted(stations, key=lambda s: (s.id != first.id, s.id))
