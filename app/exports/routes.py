"""Every URL of the export room in the console, in one place (prefix ``/console/exports``)."""

from app.exports import bp, views

bp.add_url_rule("/", "index", views.index, methods=["GET"])
bp.add_url_rule("/start/<kind>", "start", views.start, methods=["POST"])
bp.add_url_rule("/<job_id>", "job", views.job, methods=["GET"])
bp.add_url_rule("/<job_id>/progress", "progress", views.progress, methods=["GET"])
bp.add_url_rule("/<job_id>/download", "download", views.download, methods=["GET"])
