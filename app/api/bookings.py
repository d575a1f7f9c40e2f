"""``/api/v1/bookings``: a resident books a slot at a reception, lists and cancels their own."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from flask.views import MethodView

from app.api.base import api_blueprint, stored_moment
from app.api.errors import ErrorSchema
from app.api.residents import rate_limited, resident_required
from app.api.schemas import BookingArgs, BookingListSchema, BookingSchema
from app.errors import NotFound
from app.extensions import db
from app.public.queries import public_reception
from app.receptions.bookings import book_slot, bookings_of, cancel_booking, get_booking
from app.receptions.models import Booking, BookingStatus
from app.security.masking import mask_phone
from app.timeutil import local_now

blp = api_blueprint("api_bookings", __name__, "bookings", "预约：在接待活动的时段预约面见代表")

# Anything else is not a booking code: refused before it reaches the database.
BOOKING_CODE_RE = re.compile(r"^[0-9A-Za-z]{1,16}$")


def booking_item(booking: Booking, now: datetime) -> dict:
    """A resident's own booking: the code to show at the desk, the slot, and the reception."""
    reception = booking.reception
    starts = datetime.combine(reception.date, booking.slot_start)
    station = reception.station
    return {
        "code": booking.code,
        "status": booking.status,
        "status_label": booking.status_label,
        "slot_start": f"{booking.slot_start:%H:%M}",
        "slot_end": f"{(starts + timedelta(minutes=reception.slot_minutes)).time():%H:%M}",
        "name": booking.name,
        "mobile": mask_phone(booking.mobile),  # masked like the H5 booking page shows it
        "topic": booking.topic,
        "cancellable": booking.status == BookingStatus.BOOKED and starts > now,
        "created_at": stored_moment(booking.created_at),
        "reception": {
            "id": reception.id,
            "date": reception.date,
            "start": f"{reception.start:%H:%M}",
            "end": f"{reception.end:%H:%M}",
            "kind": reception.kind,
            "kind_label": reception.kind_label,
            "topic": reception.topic,
            "status": reception.status,
            "status_label": reception.status_label,
            "station": {"code": station.code, "name": station.name, "address": station.address},
        },
    }


def _own_booking(code: str) -> Booking:
    if not BOOKING_CODE_RE.match(code):
        raise NotFound("未找到该预约。")
    return get_booking(code)


@blp.route("")
class BookingList(MethodView):
    @resident_required(blp)
    @blp.arguments(BookingArgs)
    @blp.response(201, BookingSchema)
    @blp.alt_response(
        404, schema=ErrorSchema, description="没有这场接待活动，或它还未公告、已取消（not_found）"
    )
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="该时段已约满（slot_full），或本场已有您的预约（already_booked）",
    )
    @rate_limited(blp, "booking")
    def post(self, data: dict, resident: str):
        """Book a seat in a slot; capacity is never exceeded, whatever the concurrency."""
        now = local_now()
        booking = book_slot(
            reception=public_reception(data["reception_id"]),
            slot_start=time.fromisoformat(data["slot_start"]),
            resident_id=resident,
            name=data["name"],
            mobile=data["mobile"],
            topic=data["topic"],
            channel="miniapp",
            now=now,
        )
        db.session.commit()
        return booking_item(booking, now)


@blp.route("/mine")
class MyBookings(MethodView):
    @resident_required(blp)
    @blp.response(200, BookingListSchema)
    def get(self, resident: str):
        """The resident's own bookings, newest reception first."""
        now = local_now()
        items = [booking_item(booking, now) for booking in bookings_of(resident)]
        return {"items": items, "total": len(items)}


@blp.route("/<string:code>")
class BookingDetail(MethodView):
    @resident_required(blp)
    @blp.response(200, BookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个预约，或它不是您的")
    @blp.alt_response(
        409, schema=ErrorSchema, description="已取消、已结束或时段已开始，不能取消（not_cancellable）"
    )
    def delete(self, code: str, resident: str):
        """Cancel one's own booking until its slot starts; the seat is free again."""
        now = local_now()
        booking = cancel_booking(_own_booking(code), resident_id=resident, now=now)
        db.session.commit()
        return booking_item(booking, now)
