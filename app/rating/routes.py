"""Every URL of 星级评定 in the console, in one place (prefix ``/console/ratings``)."""

from app.rating import bp, views

bp.add_url_rule("/", "index", views.index, methods=["GET"])
bp.add_url_rule("/<int:year>/<int:station_id>", "sheet", views.sheet, methods=["GET"])
bp.add_url_rule("/<int:year>/<int:station_id>/scores", "scores", views.scores, methods=["POST"])
bp.add_url_rule("/<int:year>/<int:station_id>/step", "step", views.step, methods=["POST"])
bp.add_url_rule("/<int:year>/<int:station_id>/sheet.xlsx", "sheet_xlsx", views.sheet_xlsx, methods=["GET"])
