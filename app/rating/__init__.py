"""星级评定 (issue 8 item 3): score sheets by 附件3, auto items from the records, the workflow.

``items`` is the table of 附件3 as data, ``auto`` the rules for the items the records decide,
``service`` the sheet, the evaluator's scores and the station → district → city workflow;
``views``/``routes`` the console room ``/console/ratings``; ``api`` the staff JSON endpoint.
"""

from flask import Blueprint

from app.console.access import nav_context, require_login

bp = Blueprint("console_rating", __name__)
bp.before_request(require_login)
bp.context_processor(nav_context)

from app.rating import routes  # noqa: E402, F401
