"""Serve stored uploads; only the re-encoded JPEGs we wrote, never with an executable type."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("media", __name__)


@bp.get("/media/<path:relative>")
def media(relative: str):
    if not relative.endswith(".jpg"):
        from flask import abort

        abort(404)
    response = send_from_directory(
        current_app.config["UPLOAD_FOLDER"], relative, mimetype="image/jpeg", max_age=86400
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
