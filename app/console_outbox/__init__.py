"""推送记录 in the staff console (``/console/outbox``): the outbox, filtered, with resend (city admins)."""

from flask import Blueprint

from app.console.access import nav_context, require_login

bp = Blueprint("console_outbox", __name__)
# The same door and sidebar as the rest of the console.
bp.before_request(require_login)
bp.context_processor(nav_context)

# The URL rules attach the views to ``bp``; imported last because they need ``bp``.
from app.console_outbox import routes  # noqa: E402, F401
