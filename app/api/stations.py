"""``/api/v1/stations``: the public station directory, for the mini-program and anyone else."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from app.api.base import api_blueprint
from app.api.errors import ErrorSchema
from app.api.schemas import (
    NearbyArgs,
    NearbyListSchema,
    StationDetailSchema,
    StationListArgs,
    StationListSchema,
)
from app.deputies.models import Deputy
from app.public.queries import get_public_station, public_deputies, search_stations
from app.stations.models import Station
from app.template_helpers import media_url
from app.wechat.service import nearest_stations

blp = api_blueprint("api_stations", __name__, "stations", "家站点：人大代表之家、联络站、联系点")


def _float(value) -> float | None:
    return float(value) if value is not None else None


def station_item(station: Station) -> dict:
    """A station as listed: what the plaque and a map need."""
    return {
        "code": station.code,
        "name": station.name,
        "kind": station.kind,
        "kind_label": station.kind_label,
        "address": station.address,
        "phone": station.phone,
        "location": {"lat": _float(station.lat), "lng": _float(station.lng)},
        "region": {"code": station.region.code, "name": station.region.name},
        "opening_hours": station.opening_hours,
    }


def deputy_item(deputy: Deputy) -> dict:
    """A deputy as on the station's wall (上墙: name, photo, unit and post, contact)."""
    photo = media_url(deputy.photo)
    return {
        "id": deputy.id,
        "name": deputy.name,
        # Absolute: the mini-program cannot resolve a path against our host.
        "photo_url": current_app.config["PUBLIC_BASE_URL"] + photo if photo else None,
        "levels": deputy.levels,
        "levels_label": deputy.levels_label,
        "unit": deputy.unit,
        "post": deputy.post,
        "public_contact": deputy.public_contact,
    }


@blp.route("")
class StationList(MethodView):
    @blp.arguments(StationListArgs, location="query", as_kwargs=True)
    @blp.response(200, StationListSchema)
    def get(self, page: int, per_page: int, region: str | None = None, kind: str | None = None, q=None):
        """Active stations, filtered by region subtree, kind and name; paged."""
        result = search_stations(region_code=region, kind=kind, q=q, page=page, per_page=per_page)
        return {"items": [station_item(s) for s in result.items], "total": result.total}


@blp.route("/nearby")
class StationsNearby(MethodView):
    @blp.arguments(NearbyArgs, location="query", as_kwargs=True)
    @blp.response(200, NearbyListSchema)
    def get(self, lat: float, lng: float, limit: int):
        """The active stations nearest to a point, nearest first, with the distance in metres."""
        # The same search as the official account's answer to a location message.
        found = nearest_stations(lat, lng, limit=limit)
        items = [{**station_item(station), "distance_m": round(metres)} for station, metres in found]
        return {"items": items, "total": len(items)}


@blp.route("/<string:code>")
class StationDetail(MethodView):
    @blp.response(200, StationDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个站点，或它已撤销、暂停开放")
    def get(self, code: str):
        """One active station with its intro and the deputies placed there."""
        station = get_public_station(code)
        item = station_item(station)
        item.update(
            intro=station.intro,
            area_m2=station.area_m2,
            deputies=[deputy_item(d) for d in public_deputies(station)],
        )
        return item
