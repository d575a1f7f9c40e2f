"""Every URL of 推送记录 in the console, in one place (prefix ``/console/outbox``)."""

from app.console_outbox import bp, views

bp.add_url_rule("/", "index", views.index, methods=["GET"])
bp.add_url_rule("/<int:row_id>/resend", "resend", views.resend, methods=["POST"])
