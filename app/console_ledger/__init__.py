"""台账 and 履职档案 in the staff console (``/console/ledger``)."""

from flask import Blueprint

from app.console.access import nav_context, require_login

bp = Blueprint("console_ledger", __name__)
# The same door and sidebar as the rest of the console.
bp.before_request(require_login)
bp.context_processor(nav_context)

# The URL rules attach the views to ``bp``; imported last because they need ``bp``.
from app.console_ledger import routes  # noqa: E402, F401
