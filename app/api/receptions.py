"""``/api/v1/stations/<code>/duty`` and ``/receptions``: who is on duty, and slots to book."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView

from app.api.base import api_blueprint
from app.api.errors import ErrorSchema
from app.api.schemas import DutySchema, ReceptionListSchema, ReceptionRangeArgs
from app.api.stations import deputy_item
from app.public.queries import announced_receptions, get_public_station
from app.public.slots import ReceptionView, reception_view, station_duty
from app.timeutil import local_now

blp = api_blueprint("api_receptions", __name__, "stations", "接待活动：谁在值班、可预约的时段")

DEFAULT_DAYS = 30


def reception_item(view: ReceptionView) -> dict:
    """A reception as the mini-program lists it: when, what, who is on duty, seats per slot."""
    reception = view.reception
    return {
        "id": reception.id,
        "station_code": reception.station.code,
        "date": reception.date,
        "start": f"{reception.start:%H:%M}",
        "end": f"{reception.end:%H:%M}",
        "kind": reception.kind,
        "kind_label": reception.kind_label,
        "topic": reception.topic,
        "under_way": view.under_way,
        "bookable": view.bookable,
        "deputies": [deputy_item(deputy) for deputy in reception.deputies],
        "slots": [
            {
                "start": f"{slot.start:%H:%M}",
                "end": f"{slot.end:%H:%M}",
                "capacity": slot.capacity,
                "booked": slot.booked,
                "available": slot.free,
                "open": slot.bookable,
            }
            for slot in view.slots
        ],
    }


@blp.route("/<string:code>/duty")
class StationDuty(MethodView):
    @blp.response(200, DutySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个站点，或它已撤销、暂停开放")
    def get(self, code: str):
        """The reception under way at the station now (or null) and the next announced ones."""
        duty = station_duty(get_public_station(code), local_now())
        return {
            "now": reception_item(duty.now) if duty.now is not None else None,
            "next": [reception_item(view) for view in duty.next],
        }


@blp.route("/<string:code>/receptions")
class StationReceptions(MethodView):
    @blp.arguments(ReceptionRangeArgs, location="query", as_kwargs=True)
    @blp.response(200, ReceptionListSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个站点，或它已撤销、暂停开放")
    def get(self, code: str, date_from=None, date_to=None):
        """The station's announced receptions between two dates (default: the next 30 days), with slots."""
        station = get_public_station(code)
        now = local_now()
        first = date_from or now.date()
        last = date_to or first + timedelta(days=DEFAULT_DAYS)
        items = [reception_item(reception_view(r, now)) for r in announced_receptions(station, first, last)]
        return {"items": items, "total": len(items)}
