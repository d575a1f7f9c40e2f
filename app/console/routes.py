"""Every URL of the staff console, in one place (prefix ``/console``)."""

from app.console import (
    auth_views,
    bp,
    collected,
    dashboard,
    deputies,
    plaques,
    receptions,
    regions,
    stations,
    units,
    users,
    workdays,
)
from app.console.access import nav_context, require_login

bp.before_request(require_login)
bp.context_processor(nav_context)

_GET = ["GET"]
_POST = ["POST"]
_FORM = ["GET", "POST"]

bp.add_url_rule("/login", "login", auth_views.login, methods=_FORM)
bp.add_url_rule("/logout", "logout", auth_views.logout, methods=_POST)
bp.add_url_rule("/password", "password", auth_views.change_password, methods=_FORM)
bp.add_url_rule("/", "dashboard", dashboard.index, methods=_GET)

bp.add_url_rule("/regions/", "regions", regions.index, methods=_GET)
bp.add_url_rule("/regions/<int:region_id>/children/new", "region_new_child", regions.new_child, methods=_FORM)
bp.add_url_rule("/regions/<int:region_id>/edit", "region_edit", regions.edit, methods=_FORM)
bp.add_url_rule("/regions/<int:region_id>/delete", "region_delete", regions.delete, methods=_POST)

bp.add_url_rule("/stations/", "stations", stations.index, methods=_GET)
bp.add_url_rule("/stations/new", "station_new", stations.new, methods=_FORM)
bp.add_url_rule("/stations/<int:station_id>", "station_detail", stations.detail, methods=_GET)
bp.add_url_rule("/stations/<int:station_id>/edit", "station_edit", stations.edit, methods=_FORM)
bp.add_url_rule("/stations/<int:station_id>/placements", "station_place", stations.place, methods=_POST)
bp.add_url_rule(
    "/stations/<int:station_id>/placements/<int:deputy_id>/delete",
    "station_unplace",
    stations.unplace,
    methods=_POST,
)

bp.add_url_rule("/deputies/", "deputies", deputies.index, methods=_GET)
bp.add_url_rule("/deputies/new", "deputy_new", deputies.new, methods=_FORM)
bp.add_url_rule("/deputies/<int:deputy_id>", "deputy_detail", deputies.detail, methods=_GET)
bp.add_url_rule("/deputies/<int:deputy_id>/edit", "deputy_edit", deputies.edit, methods=_FORM)
bp.add_url_rule("/deputies/<int:deputy_id>/photo", "deputy_photo", deputies.upload_photo, methods=_POST)
bp.add_url_rule(
    "/deputies/<int:deputy_id>/photo/delete", "deputy_photo_delete", deputies.remove_photo, methods=_POST
)

bp.add_url_rule("/units/", "units", units.index, methods=_GET)
bp.add_url_rule("/units/new", "unit_new", units.new, methods=_FORM)
bp.add_url_rule("/units/<int:unit_id>", "unit_detail", units.detail, methods=_GET)
bp.add_url_rule("/units/<int:unit_id>/edit", "unit_edit", units.edit, methods=_FORM)

bp.add_url_rule("/users/", "users", users.index, methods=_GET)
bp.add_url_rule("/users/new", "user_new", users.new, methods=_FORM)
bp.add_url_rule("/users/<int:user_id>/edit", "user_edit", users.edit, methods=_FORM)
bp.add_url_rule("/users/<int:user_id>/unlock", "user_unlock", users.unlock, methods=_POST)

bp.add_url_rule("/calendar/", "calendar", workdays.year, methods=_GET)
bp.add_url_rule("/calendar/day", "calendar_day", workdays.edit_day, methods=_FORM)
bp.add_url_rule("/calendar/day/reset", "calendar_reset", workdays.reset, methods=_POST)

bp.add_url_rule("/receptions/", "receptions", receptions.index, methods=_GET)
bp.add_url_rule("/receptions/new", "reception_new", receptions.new, methods=_FORM)
bp.add_url_rule("/receptions/generate", "receptions_generate", receptions.generate, methods=_POST)
bp.add_url_rule("/receptions/<int:reception_id>", "reception_detail", receptions.detail, methods=_GET)
bp.add_url_rule("/receptions/<int:reception_id>/edit", "reception_edit", receptions.edit, methods=_FORM)
bp.add_url_rule(
    "/receptions/<int:reception_id>/announce", "reception_announce", receptions.announce, methods=_POST
)
bp.add_url_rule("/receptions/<int:reception_id>/cancel", "reception_cancel", receptions.cancel, methods=_POST)
bp.add_url_rule(
    "/receptions/<int:reception_id>/confirm", "reception_confirm", receptions.confirm, methods=_POST
)
bp.add_url_rule("/receptions/<int:reception_id>/bookings", "booking_new", receptions.book, methods=_POST)
bp.add_url_rule(
    "/receptions/<int:reception_id>/bookings/<int:booking_id>/attendance",
    "booking_attendance",
    receptions.attendance,
    methods=_POST,
)
bp.add_url_rule(
    "/receptions/<int:reception_id>/bookings/<int:booking_id>/cancel",
    "booking_cancel",
    receptions.cancel_booking_view,
    methods=_POST,
)

bp.add_url_rule(
    "/stations/<int:station_id>/plaque/preview.png", "station_plaque_preview", plaques.preview, methods=_GET
)
bp.add_url_rule(
    "/stations/<int:station_id>/plaque.<any(png, pdf):fmt>", "station_plaque", plaques.download, methods=_GET
)
bp.add_url_rule("/plaques/", "plaques", plaques.batch_page, methods=_GET)
bp.add_url_rule("/plaques/batch", "plaque_batch_start", plaques.batch_start, methods=_POST)
bp.add_url_rule("/plaques/batch/<job_id>", "plaque_batch_progress", plaques.batch_progress, methods=_GET)
bp.add_url_rule(
    "/plaques/batch/<job_id>/download", "plaque_batch_download", plaques.batch_download, methods=_GET
)

bp.add_url_rule("/collected/", "collected", collected.index, methods=_GET)
bp.add_url_rule("/collected/new", "collected_new", collected.new, methods=_FORM)
