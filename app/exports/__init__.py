"""Excel exports (issue 8 item 4): sheets formatted for printing, large ones as background jobs.

``xlsx`` writes sheets row by row in constant memory; ``jobs`` runs an export in the
background with its progress in the database; ``kinds`` lists what can be exported;
``views``/``routes`` are the console room ``/console/exports``; ``cli`` is ``flask export``.
"""

from flask import Blueprint

from app.console.access import nav_context, require_login

bp = Blueprint("console_exports", __name__)
bp.before_request(require_login)
bp.context_processor(nav_context)

from app.exports import routes  # noqa: E402, F401
