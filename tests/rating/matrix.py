"""Matrix rows for 星级评定 (app/rating), added to tests/console/matrix.py's ROWS and SETUP.

Each side's station gets a draft score sheet for this year with every evaluator item scored,
so station staff (and the town) can submit it; the district and the city see it but may not
act on a draft, so their POSTs are refused (403) like everybody else's.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import ADMIN_ROLES, Role
from app.extensions import db
from app.rating.items import ITEMS
from app.rating.models import RatingScore, RatingSheet
from app.timeutil import local_now
from tests.auth.world import Side
from tests.console.matrix import Row

YEAR = local_now().year
VIEWERS = frozenset(ADMIN_ROLES) | {Role.STATION_STAFF}
DRAFT_HOLDERS = frozenset({Role.STATION_STAFF, Role.TOWN_ADMIN})


def sheet_of(s: Side) -> RatingSheet:
    found = db.session.scalar(
        select(RatingSheet).where(RatingSheet.station_id == s.station.id, RatingSheet.year == YEAR)
    )
    if found is not None:
        return found
    sheet = RatingSheet(station_id=s.station.id, year=YEAR, state="draft")
    sheet.scores = [
        RatingScore(item_key=item.key, score=item.max, note="矩阵评分") for item in ITEMS if not item.auto
    ]
    db.session.add(sheet)
    db.session.flush()
    return sheet


SETUP = [sheet_of]

ROWS = [
    Row(
        "console_rating.index",
        "GET",
        lambda s: f"/console/ratings/?year={YEAR}",
        VIEWERS,
        scoped=False,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console_rating.sheet",
        "GET",
        lambda s: f"/console/ratings/{YEAR}/{s.station.id}",
        VIEWERS,
        shows=lambda s: "矩阵评分",
    ),
    Row(
        "console_rating.sheet_xlsx",
        "GET",
        lambda s: f"/console/ratings/{YEAR}/{s.station.id}/sheet.xlsx",
        VIEWERS,
    ),
    Row(
        "console_rating.scores",
        "POST",
        lambda s: f"/console/ratings/{YEAR}/{s.station.id}/scores",
        DRAFT_HOLDERS,
        data=lambda s: {"score_site_location": "2", "note_site_location": "交通方便"},
    ),
    Row(
        "console_rating.step",
        "POST",
        lambda s: f"/console/ratings/{YEAR}/{s.station.id}/step",
        DRAFT_HOLDERS,
        data=lambda s: {"action": "submit", "note": "自评完成"},
    ),
]
