"""Every URL of 微信绑定 and 代表提醒 in the console, in one place (prefix ``/console/notify``)."""

from app.notify import console as views
from app.notify.console import bp

bp.add_url_rule("/bindings", "bindings", views.bindings, methods=["GET"])
bp.add_url_rule(
    "/bindings/<any(deputy, staff):kind>/<int:ident>/code", "create_code", views.create_code, methods=["POST"]
)
bp.add_url_rule(
    "/bindings/<any(deputy, staff):kind>/<int:ident>/unbind", "unbind", views.unbind_target, methods=["POST"]
)
bp.add_url_rule("/codes/<int:binding_id>", "code", views.code, methods=["GET"])
bp.add_url_rule("/codes/<int:binding_id>/qr.svg", "code_qr", views.code_qr, methods=["GET"])
bp.add_url_rule("/reminders", "reminders", views.reminders, methods=["GET"])
