"""Public H5 pages for residents: stations, who is on duty, booking, opinions, tracking, 我的.

Resident pages run under ``with_resident``: the WeChat openid (via snsapi_base OAuth) or a
signed anonymous id, remembered in a cookie; bookings and opinions belong to that identity.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, send_from_directory, url_for

from app.errors import DomainError, NotFound, ValidationFailed
from app.extensions import db, limiter
from app.opinions.service import (
    CONTENT_MAX,
    CONTENT_MIN,
    MAX_PHOTOS,
    PHOTO_MAX_BYTES,
    active_categories,
    get_by_tracking_no,
    normalise_tracking_no,
    opinions_of,
    submit_opinion,
)
from app.public.limits import configured, resident_key
from app.public.progress import (
    category_label,
    group_tracking_no,
    opinion_progress,
    public_answer,
    public_timeline,
)
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
from app.public.slots import (
    bookable_receptions,
    cn_date,
    parse_slot_choice,
    reception_view,
    station_duty,
    station_reception,
)
from app.receptions.bookings import (
    AlreadyBooked,
    SlotFull,
    book_slot,
    bookings_of,
    cancel_booking,
    get_booking,
)
from app.stations.models import Station, StationKind
from app.timeutil import local_now, to_local
from app.validation import PHONE_RE
from app.wechat.oauth import current_resident, with_resident

bp = Blueprint("public", __name__)

BOOKING_CODE_MAX = 16


def _page_arg() -> int:
    # A resident's hand-edited URL is not worth an error page: fall back to the first page.
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return page if 1 <= page <= MAX_PAGE else 1


def _not_found(message: str):
    return render_template("public/not_found.html", message=message), 404


# Browsers (and "add to home screen") ask for these at the site root whatever the page says.
@bp.get('/<any("favicon.ico", "apple-touch-icon.png"):name>')
def root_icon(name: str):
    return send_from_directory(current_app.static_folder, name, max_age=7 * 24 * 3600)


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
@with_resident
def station(code: str):
    try:
        station = get_public_station(code)
    except NotFound as exc:
        return _not_found(exc.message)
    return render_template(
        "public/station.html",
        station=station,
        deputies=public_deputies(station),
        places=region_ancestry(station.region),
        duty=station_duty(station, local_now()),
    )


# --- booking (预约) -------------------------------------------------------------------------


def _booking_form(station: Station, *, form=None, error=None, field=None, existing=None, status=200):
    return (
        render_template(
            "public/book.html",
            station=station,
            receptions=bookable_receptions(station, local_now()),
            form=form or {},
            error=error,
            field=field,
            existing=existing,
        ),
        status,
    )


@bp.get("/s/<code>/book")
@with_resident
def book_form(code: str):
    try:
        station = get_public_station(code)
    except NotFound as exc:
        return _not_found(exc.message)
    return _booking_form(station)


@bp.post("/s/<code>/book")
@limiter.limit(configured("PUBLIC_LIMIT_PER_ADDRESS"))
@limiter.limit(configured("PUBLIC_LIMIT_BOOKING_RESIDENT"), key_func=resident_key)
@with_resident
def book(code: str):
    try:
        station = get_public_station(code)
    except NotFound as exc:
        return _not_found(exc.message)
    form = {key: request.form.get(key, "") for key in ("slot", "name", "mobile", "topic")}
    try:
        reception_id, slot_start = parse_slot_choice(form["slot"])
        reception = station_reception(station, reception_id)
        booking = book_slot(
            reception=reception,
            slot_start=slot_start,
            resident_id=current_resident().id,
            name=form["name"],
            mobile=form["mobile"],
            topic=form["topic"],
            channel="h5",
        )
    except AlreadyBooked as exc:
        db.session.rollback()
        return _booking_form(station, form=form, error=exc.message, existing=exc.booking, status=409)
    except SlotFull:
        db.session.rollback()
        form["slot"] = ""
        message = f"{slot_start:%H:%M} 这个时段刚刚约满了，请换一个时段。"
        return _booking_form(station, form=form, error=message, field="slot", status=409)
    except DomainError as exc:
        db.session.rollback()
        field = "slot" if exc.field in ("slot", "slot_start", "reception_id") else exc.field
        return _booking_form(station, form=form, error=exc.message, field=field, status=exc.status)
    db.session.commit()
    return redirect(url_for("public.booking", code=booking.code, new=1), code=303)


def _own_booking(code: str):
    """The resident's own booking by code; anyone else's is "not found", never shown."""
    if not code or len(code) > BOOKING_CODE_MAX or not code.isalnum():
        raise NotFound("未找到该预约。")
    booking = get_booking(code)
    if booking.resident_id != current_resident().id:
        raise NotFound("未找到该预约。")
    return booking


def _booking_page(booking, *, error=None, notice=None, just_booked=False, status=200):
    view = reception_view(booking.reception, local_now())
    slot = next((s for s in view.slots if s.start == booking.slot_start), None)
    return (
        render_template(
            "public/booking.html",
            booking=booking,
            reception=booking.reception,
            station=booking.reception.station,
            slot=slot,
            cancellable=booking.is_active and slot is not None and not slot.started,
            error=error,
            notice=notice,
            just_booked=just_booked,
        ),
        status,
    )


@bp.get("/b/<code>")
@with_resident
def booking(code: str):
    try:
        booking = _own_booking(code)
    except NotFound as exc:
        return _not_found(exc.message)
    notice = "预约已取消，座位已释放。" if request.args.get("cancelled") and not booking.is_active else None
    return _booking_page(booking, notice=notice, just_booked=request.args.get("new") == "1")


@bp.post("/b/<code>/cancel")
@limiter.limit(configured("PUBLIC_LIMIT_PER_ADDRESS"))
@limiter.limit(configured("PUBLIC_LIMIT_CANCEL_RESIDENT"), key_func=resident_key)
@with_resident
def cancel(code: str):
    try:
        booking = _own_booking(code)
        cancel_booking(booking, resident_id=current_resident().id)
    except NotFound as exc:
        return _not_found(exc.message)
    except DomainError as exc:
        db.session.rollback()
        return _booking_page(_own_booking(code), error=exc.message, status=exc.status)
    db.session.commit()
    return redirect(url_for("public.booking", code=booking.code, cancelled=1), code=303)


# --- opinions (留言) ------------------------------------------------------------------------


def _opinion_form(station: Station, *, form=None, error=None, field=None, status=200):
    duty = station_duty(station, local_now())
    on_duty = {deputy.id for deputy in duty.now.reception.deputies} if duty.now else set()
    chosen = (form or {}).get("deputy") or request.args.get("deputy", "")
    return (
        render_template(
            "public/opinion.html",
            station=station,
            deputies=public_deputies(station),
            on_duty=on_duty,
            categories=active_categories(),
            form=form or {},
            chosen_deputy=chosen if chosen.isdigit() else "",
            error=error,
            field=field,
            resident=current_resident(),
            content_min=CONTENT_MIN,
            content_max=CONTENT_MAX,
            max_photos=MAX_PHOTOS,
            photo_max_mb=PHOTO_MAX_BYTES // (1024 * 1024),
        ),
        status,
    )


@bp.get("/s/<code>/opinion")
@with_resident
def opinion_form(code: str):
    try:
        station = get_public_station(code)
    except NotFound as exc:
        return _not_found(exc.message)
    return _opinion_form(station)


def _addressed_to(station: Station, raw: str):
    """The deputy a resident chose (placed at this station) and the reception they are on duty at."""
    if not raw:
        return None, None
    deputy = next((d for d in public_deputies(station) if str(d.id) == raw), None)
    if deputy is None:
        raise ValidationFailed("请从本站的代表中选择，或选择“不指定代表”。", field="deputy")
    duty = station_duty(station, local_now())
    if duty.now is not None and deputy in duty.now.reception.deputies:
        return deputy, duty.now.reception
    return deputy, None


@bp.post("/s/<code>/opinion")
@limiter.limit(configured("PUBLIC_LIMIT_PER_ADDRESS"))
@limiter.limit(configured("PUBLIC_LIMIT_OPINION_RESIDENT"), key_func=resident_key)
@with_resident
def opinion(code: str):
    try:
        station = get_public_station(code)
    except NotFound as exc:
        return _not_found(exc.message)
    form = {key: request.form.get(key, "") for key in ("content", "category", "deputy", "name", "mobile")}
    photos = [f for f in request.files.getlist("photos") if f and f.filename]
    resident = current_resident()
    try:
        deputy, reception = _addressed_to(station, form["deputy"].strip())
        opinion = submit_opinion(
            station=station,
            content=form["content"],
            channel="h5",
            resident_id=resident.id,
            wechat_openid=resident.id if resident.is_wechat else None,
            contact_name=form["name"],
            contact_mobile=form["mobile"],
            category=form["category"],
            reception=reception,
            deputy=deputy,
            photos=[f.stream for f in photos],
        )
    except DomainError as exc:
        db.session.rollback()
        # Browsers never refill a file input: say so rather than let the photos vanish quietly.
        exc_message = exc.message + "（照片需要重新选择。）" if photos else exc.message
        field = "photos" if exc.field in ("photo", "photos") else exc.field
        return _opinion_form(station, form=form, error=exc_message, field=field, status=exc.status)
    db.session.commit()
    return redirect(url_for("public.track", tracking_no=opinion.tracking_no, new=1), code=303)


# --- following an opinion (/t/) -------------------------------------------------------------


@bp.get("/t")
def track_lookup():
    number = normalise_tracking_no(request.args.get("no", ""))
    if not number:
        return redirect(url_for("public.me") + "#lookup")
    return redirect(url_for("public.track", tracking_no=number))


@bp.get("/t/<tracking_no>")
@with_resident
def track(tracking_no: str):
    number = normalise_tracking_no(tracking_no[:64])
    try:
        opinion = get_by_tracking_no(number) if number else None
    except NotFound:
        opinion = None
    if opinion is None:
        return render_template("public/track_missing.html", number=tracking_no[:64]), 404
    if number != tracking_no:
        # "abcd-efgh jkmn" typed by hand: one canonical address for the page.
        return redirect(url_for("public.track", tracking_no=number, new=request.args.get("new")), code=301)
    mine = bool(opinion.resident_id) and opinion.resident_id == current_resident().id
    return render_template(
        "public/track.html",
        opinion=opinion,
        number=group_tracking_no(opinion.tracking_no),
        progress=opinion_progress(opinion),
        timeline=public_timeline(opinion),
        answer=public_answer(opinion),
        submitted_at=to_local(opinion.created_at),
        mine=mine,
        just_sent=mine and request.args.get("new") == "1",
    )


# --- 我的 ------------------------------------------------------------------------------------


@bp.get("/me")
@with_resident
def me():
    resident = current_resident()
    now = local_now()
    bookings = bookings_of(resident.id)
    return render_template(
        "public/me.html",
        resident=resident,
        opinions=opinions_of(resident.id, limit=50),
        bookings=bookings,
        upcoming={
            b.id
            for b in bookings
            if b.is_active and (b.reception.date, b.slot_start) > (now.date(), now.time())
        },
    )


@bp.app_template_filter("tel_href")
def tel_href(value: str | None) -> str | None:
    """``tel:`` link target for a phone-like contact, ``None`` for anything else (e.g. an e-mail)."""
    text = (value or "").strip()
    if not text or not PHONE_RE.match(text):
        return None
    return "tel:" + "".join(ch for ch in text if ch.isdigit() or ch == "+")


bp.add_app_template_filter(cn_date, "cn_date")
bp.add_app_template_filter(to_local, "to_local")
bp.add_app_template_global(category_label, "category_label")


# The rating form posts to a view of its own module; importing it attaches it to ``bp``.
from app.public import rating  # noqa: E402, F401
