"""Every URL of 台账 and 履职档案 in the console, in one place (prefix ``/console/ledger``)."""

from app.console_ledger import bp, people, plans, views

_GET = ["GET"]
_POST = ["POST"]
_FORM = ["GET", "POST"]

bp.add_url_rule("/", "index", views.index, methods=_GET)
bp.add_url_rule("/new", "new", views.new, methods=_FORM)
bp.add_url_rule("/from-reception/<int:reception_id>", "from_reception", views.from_reception, methods=_POST)
bp.add_url_rule("/<int:activity_id>", "detail", views.detail, methods=_GET)
bp.add_url_rule("/<int:activity_id>/edit", "edit", views.edit, methods=_FORM)
bp.add_url_rule("/<int:activity_id>/attendance", "attendance", views.attendance, methods=_POST)
bp.add_url_rule("/<int:activity_id>/opinions", "link_opinion", views.link, methods=_POST)
bp.add_url_rule(
    "/<int:activity_id>/opinions/<int:opinion_id>/delete", "unlink_opinion", views.unlink, methods=_POST
)
bp.add_url_rule("/<int:activity_id>/finalise", "finalise", views.finalise, methods=_POST)
bp.add_url_rule("/<int:activity_id>/reopen", "reopen", views.reopen, methods=_POST)
bp.add_url_rule("/<int:activity_id>/delete", "delete", views.delete, methods=_POST)
bp.add_url_rule("/<int:activity_id>/records", "upload", views.upload, methods=_POST)
bp.add_url_rule("/<int:activity_id>/records/<int:record_id>", "record", views.record, methods=_GET)
bp.add_url_rule(
    "/<int:activity_id>/records/<int:record_id>/delete", "record_delete", views.record_delete, methods=_POST
)

bp.add_url_rule("/plans/", "plans", plans.index, methods=_GET)
bp.add_url_rule("/plans/<int:station_id>/<int:year>", "plan", plans.plan, methods=_FORM)

bp.add_url_rule("/contacts/", "contacts", people.contacts, methods=_GET)
bp.add_url_rule("/contacts/new", "contact_new", people.contact_new, methods=_FORM)
bp.add_url_rule("/contacts/<int:contact_id>", "contact", people.contact, methods=_GET)
bp.add_url_rule("/contacts/<int:contact_id>/edit", "contact_edit", people.contact_edit, methods=_FORM)
bp.add_url_rule("/contacts/<int:contact_id>/logs", "log_new", people.log_new, methods=_POST)
bp.add_url_rule(
    "/contacts/<int:contact_id>/logs/<int:log_id>/delete", "log_delete", people.log_delete, methods=_POST
)

bp.add_url_rule("/archive/<int:deputy_id>", "archive", people.archive, methods=_GET)
bp.add_url_rule("/behind", "behind", people.behind, methods=_GET)
