"""Every URL of 民意研判 in the console, in one place (prefix ``/console/analytics``)."""

from app.analytics import bp, views

_GET = ["GET"]

bp.add_url_rule("/", "overview", views.overview, methods=_GET)
bp.add_url_rule("/topics", "topics", views.topics, methods=_GET)
bp.add_url_rule("/work", "work", views.work, methods=_GET)
bp.add_url_rule("/opinions", "opinions", views.opinions, methods=_GET)
bp.add_url_rule("/report", "report", views.report, methods=_GET)
bp.add_url_rule("/report.pdf", "report_pdf", views.report_pdf, methods=_GET)
