"""Public H5 pages for residents: the station list and the page a plaque's QR code opens."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.errors import NotFound, ValidationFailed
from app.public.queries import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    STATION_KINDS,
    StationPage,
    get_public_station,
    public_deputies,
    region_ancestry,
    region_choices,
    search_stations,
)
from app.stations.models import StationKind
from app.validation import PHONE_RE

bp = Blueprint("public", __name__)


def _page_arg() -> int:
    # A resident's hand-edited URL is not worth an error page: fall back to the first page.
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return page if 1 <= page <= MAX_PAGE else 1


@bp.get("/")
def index():
    q = request.args.get("q", "").strip()
    region = request.args.get("region", "").strip()
    kind = request.args.get("kind", "").strip()
    if kind not in STATION_KINDS:
        kind = ""
    error = None
    try:
        result = search_stations(region_code=region or None, kind=kind or None, q=q or None, page=_page_arg())
    except ValidationFailed as exc:
        error = exc.message
        result = StationPage(items=[], total=0, page=1, per_page=DEFAULT_PER_PAGE)
    return render_template(
        "public/index.html",
        result=result,
        q=q,
        region=region,
        kind=kind,
        kinds=list(StationKind),
        regions=region_choices(),
        error=error,
    )


@bp.get("/s/<code>")
def station(code: str):
    try:
        station = get_public_station(code)
    except NotFound as exc:
        return render_template("public/not_found.html", message=exc.message), 404
    return render_template(
        "public/station.html",
        station=station,
        deputies=public_deputies(station),
        places=region_ancestry(station.region),
    )


@bp.app_template_filter("tel_href")
def tel_href(value: str | None) -> str | None:
    """``tel:`` link target for a phone-like contact, ``None`` for anything else (e.g. an e-mail)."""
    text = (value or "").strip()
    if not text or not PHONE_RE.match(text):
        return None
    return "tel:" + "".join(ch for ch in text if ch.isdigit() or ch == "+")
