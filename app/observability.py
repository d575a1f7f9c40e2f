"""Operations: a request id on every log line, JSON logs, and Prometheus metrics at ``/metrics``.

- **Request id.** Taken from ``X-Request-ID`` (nginx sets it to ``$request_id``) when it looks
  like one, else generated; echoed in the response header and put on every log record made
  while the request runs, whichever logger made it (SQLAlchemy's included).
- **Logs.** ``LOG_FORMAT=json`` (the production default) writes one JSON object a line:
  ``time``, ``level``, ``logger``, ``message``, ``request_id`` (and ``exc_info``).
- **Metrics.** Counters and the latency histogram live in prometheus-client; under gunicorn
  (``PROMETHEUS_MULTIPROC_DIR`` set, see gunicorn.conf.py) every worker writes its own files
  and a scrape adds them up. Outbox depth and age and overdue opinions are counted in the
  database at scrape time. ``/metrics`` answers only ``METRICS_TOKEN`` (``Authorization:
  Bearer …``) or a client inside ``METRICS_ALLOW_NETWORKS``; anyone else gets a 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
import time
import uuid

from flask import Flask, Response, abort, current_app, g, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from outside as a request id: nginx's $request_id is 32 hex characters;
# anything printable and short is fine, nothing that could forge a log line.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

HTTP_REQUESTS = Counter(
    "jzd_http_requests_total", "HTTP requests answered, by route and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "jzd_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WECHAT_API_ERRORS = Counter(
    "jzd_wechat_api_errors_total",
    "Failed calls to the WeChat API, by errcode ('network' when WeChat did not answer).",
    ["errcode"],
)


def count_wechat_error(errcode: int | None) -> None:
    """Count one failed WeChat API call (called by app/wechat/client.py)."""
    WECHAT_API_ERRORS.labels(errcode="network" if errcode is None else str(errcode)).inc()


# --- request id and logs -----------------------------------------------------------------


def current_request_id() -> str:
    """The id of the request being served, or "-" outside a request.

    Read from ``g``: Flask's requests and the ``/wechat`` endpoint (an application context
    of its own, app/wechat/endpoint.py) both put it there; a request's teardown takes it
    out again, since an application context (a CLI command's, a test's) may outlive it.
    """
    if has_app_context():
        return g.get("request_id") or "-"
    return "-"


_factory_installed = False


def _install_record_factory() -> None:
    """Every LogRecord gets ``request_id``, whatever logger or handler is involved."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def json_formatter() -> logging.Formatter:
    """One JSON object a line: time, level, logger, message, request_id (and exc_info)."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


class _OurHandler(logging.StreamHandler):
    """The stderr handler this module installs (marked, so a second app only reformats it)."""


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """Log to stderr as JSON (``json``) or text lines, each carrying the request id."""
    _install_record_factory()
    root = logging.getLogger()
    ours = next((h for h in root.handlers if isinstance(h, _OurHandler)), None)
    if ours is None:
        if any(not isinstance(h, _OurHandler) for h in root.handlers) and log_format != "json":
            return  # someone else (pytest, an embedding host) configured logging already
        ours = _OurHandler()
        root.addHandler(ours)
    ours.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.setLevel(level)


def request_id_from(incoming: str) -> str:
    """nginx's ``X-Request-ID`` when it looks like one, else a new id."""
    return incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


def _start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    if started is not None:
        # The rule, not the path: /s/<code> is one route however many stations there are.
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        observe_request(request.method, route, response.status_code, started)
    return response


def _end_request(_exc: BaseException | None) -> None:
    g.pop("request_id", None)


def observe_request(method: str, route: str, status: int, started: float) -> None:
    """Count an answered request and its latency since ``started`` (``time.perf_counter``)."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


# --- metrics endpoint --------------------------------------------------------------------


class DatabaseCollector:
    """Gauges read from the database when Prometheus scrapes: outbox backlog, overdue opinions."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models_base import utcnow
        from app.notify.models import OutboxMessage, OutboxStatus
        from app.opinions.inbox import overdue_condition
        from app.opinions.models import Opinion
        from app.timeutil import local_now

        up = GaugeMetricFamily("jzd_database_up", "1 when the metrics query reached the database.")
        depth = GaugeMetricFamily("jzd_outbox_pending", "WeChat pushes waiting in the outbox.")
        age = GaugeMetricFamily(
            "jzd_outbox_oldest_pending_age_seconds", "Age of the oldest push still pending (0 when none)."
        )
        overdue = GaugeMetricFamily(
            "jzd_opinions_overdue", "Opinions past their reply deadline, still with the handling unit."
        )
        try:
            pending = OutboxMessage.status == OutboxStatus.PENDING
            count, oldest = db.session.execute(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(pending)
            ).one()
            late = db.session.scalar(
                select(func.count(Opinion.id)).where(overdue_condition(local_now().date()))
            )
        except Exception as exc:  # the database is down: say so, and still serve the rest
            db.session.rollback()
            log.warning("metrics: database query failed: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        depth.add_metric([], count or 0)
        if oldest is not None and oldest.tzinfo is None:  # SQLite drops the (UTC) zone
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0)
        overdue.add_metric([], late or 0)
        yield from (up, depth, age, overdue)


def _client_allowed(app: Flask) -> bool:
    token = app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if request.headers.get("X-Forwarded-For") and not app.config.get("TRUSTED_PROXIES"):
        # Came through a proxy we were not told to trust: the address is the proxy's, not the client's.
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in net for net in app.extensions["metrics_networks"])


def metrics_view():
    app = current_app._get_current_object()
    if not _client_allowed(app):
        abort(404)  # as if there were nothing here
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (HTTP_REQUESTS, HTTP_LATENCY, WECHAT_API_ERRORS):
            registry.register(collector)
    registry.register(DatabaseCollector(app))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def parse_networks(spec: str) -> list:
    """``"127.0.0.1/32, 10.0.0.0/8"`` → networks; an empty string allows no address."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()]


def init_app(app: Flask) -> None:
    """Logs, request ids, and the ``/metrics`` endpoint."""
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.extensions["metrics_networks"] = parse_networks(app.config["METRICS_ALLOW_NETWORKS"])
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
