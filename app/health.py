"""``GET /healthz`` for the load balancer: the database must answer; Redis is reported."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db, redis_client

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    status = 200
    try:
        db.session.execute(text("SELECT 1"))
        db_state = "ok"
    except Exception as exc:  # any driver error means "not serving"
        current_app.logger.warning("healthz: database unreachable: %s", exc)
        db.session.rollback()
        db_state = "error"
        status = 503
    client = redis_client()
    if client is None:
        redis_state = "off"
    else:
        try:
            client.ping()
            redis_state = "ok"
        except Exception as exc:
            current_app.logger.warning("healthz: redis unreachable: %s", exc)
            redis_state = "error"
    body = {"status": "ok" if status == 200 else "error", "db": db_state, "redis": redis_state}
    return jsonify(body), status
