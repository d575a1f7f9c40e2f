"""民意研判 (issue 9): KPIs of opinions and station work, hot words, clusters, dashboards, the
monthly report. ``kpi`` defines every figure once; ``models`` and ``refresh`` keep the monthly
aggregates the dashboards read; the console pages live under ``/console/analytics``."""

from flask import Blueprint

from app.console.access import nav_context, require_login

bp = Blueprint("console_analytics", __name__)
bp.before_request(require_login)
bp.context_processor(nav_context)

# The URL rules attach the views to ``bp``; imported last because they need ``bp``.
from app.analytics import routes  # noqa: E402, F401
