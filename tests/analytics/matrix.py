"""Matrix rows for 民意研判 (app/analytics), added to tests/console/matrix.py's ROWS and SETUP.

Only tests/console/matrix.py imports this module (after its ``Row`` exists). Admins and station
staff use the dashboards; the monthly report is the admins'. A station or region of the other
branch in the query is 404.
"""

from __future__ import annotations

from app.console.access import ADMINS
from tests.console.matrix import STATION_WORKERS, Row

ANALYSTS = STATION_WORKERS  # admins and station staff

SETUP: list = []

ROWS = [
    Row("console_analytics.overview", "GET", lambda s: "/console/analytics/", ANALYSTS, scoped=False),
    Row(
        "console_analytics.overview",
        "GET",
        lambda s: f"/console/analytics/?station={s.station.id}",
        ANALYSTS,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console_analytics.topics",
        "GET",
        lambda s: f"/console/analytics/topics?station={s.station.id}",
        ANALYSTS,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console_analytics.work",
        "GET",
        lambda s: f"/console/analytics/work?station={s.station.id}",
        ANALYSTS,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console_analytics.opinions",
        "GET",
        lambda s: f"/console/analytics/opinions?metric=received&station={s.station.id}",
        ANALYSTS,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console_analytics.report",
        "GET",
        lambda s: f"/console/analytics/report?region={s.town.id}",
        ADMINS,
        shows=lambda s: s.town.name,
    ),
    Row(
        "console_analytics.report_pdf",
        "GET",
        lambda s: f"/console/analytics/report.pdf?region={s.town.id}",
        ADMINS,
    ),
]
