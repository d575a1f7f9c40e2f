"""Every URL of 意见办理 in the console, in one place (prefix ``/console/opinions``)."""

from app.console_opinions import audit, bp, replies, views

_GET = ["GET"]
_POST = ["POST"]
_FORM = ["GET", "POST"]

bp.add_url_rule("/", "inbox", views.inbox, methods=_GET)
bp.add_url_rule("/bulk-assign", "bulk_assign", views.bulk_assign, methods=_POST)

bp.add_url_rule("/replies/", "replies", replies.index, methods=_GET)
bp.add_url_rule("/replies/new", "reply_new", replies.new, methods=_FORM)
bp.add_url_rule("/replies/<int:template_id>/edit", "reply_edit", replies.edit, methods=_FORM)
bp.add_url_rule("/replies/<int:template_id>/delete", "reply_delete", replies.delete, methods=_POST)

bp.add_url_rule("/audit/", "audit", audit.index, methods=_GET)
bp.add_url_rule("/audit/export.csv", "audit_export", audit.export, methods=_GET)

# Last: a tracking number is any word, so the fixed paths above must not be read as one.
bp.add_url_rule("/<tracking_no>", "detail", views.detail, methods=_GET)
bp.add_url_rule("/<tracking_no>/actions", "act", views.act, methods=_POST)
bp.add_url_rule("/<tracking_no>/contact", "reveal", views.reveal, methods=_POST)
