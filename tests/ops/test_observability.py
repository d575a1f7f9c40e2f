"""Request ids, JSON logs, ``/metrics`` (protection and content) and 503 on a database outage."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from app.extensions import db
from app.notify.models import OutboxMessage
from app.observability import json_formatter
from tests.conftest import make_test_app

OWN_APP = pytest.mark.real_commits
ROOT = Path(__file__).resolve().parents[2]
CLOSED_PG_URL = "postgresql://postgres@127.0.0.1:1/jzd"
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def own_app(tmp_path):
    """Apps of their own (a route added, other settings), on an empty SQLite file or a given URL."""
    made = []

    def make(database_url: str | None = None, **extra):
        application = make_test_app(database_url or "sqlite:///" + str(tmp_path / "ops.db"), **extra)
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def json_log():
    """Capture every log line as the production handler would write it (JSON on a stream)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)


# --- request id --------------------------------------------------------------------------


def test_request_id_from_nginx_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "0123456789abcdef0123456789abcdef"})
    assert response.headers["X-Request-ID"] == "0123456789abcdef0123456789abcdef"


def test_request_id_generated_when_missing_or_malformed(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" {"level":"forged"}'})
    assert forged.headers["X-Request-ID"] != 'x" {"level":"forged"}'
    assert len(forged.headers["X-Request-ID"]) == 32
    assert client.get("/healthz").headers["X-Request-ID"] != generated


def test_error_pages_carry_the_request_id_too(client):
    response = client.get("/no/such/page", headers={"X-Request-ID": "req-404-000000001"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "req-404-000000001"


@OWN_APP
def test_every_log_line_of_a_request_is_json_with_its_id(own_app, json_log):
    application = own_app()

    def failing_query():
        logging.getLogger("app.somewhere").warning("about to query")
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    application.add_url_rule("/_test_sql_error", "sql_error", failing_query)
    response = application.test_client().get("/_test_sql_error", headers={"X-Request-ID": "req-sql-00000001"})
    assert response.status_code == 500
    lines = json_log()
    mine = [line for line in lines if line.get("request_id") == "req-sql-00000001"]
    assert {"time", "level", "logger", "message", "request_id"} <= set(mine[0])
    assert any(line["message"] == "about to query" for line in mine)
    sql_error = [line for line in mine if line["level"] == "ERROR"]
    assert sql_error and "no_such_table" in sql_error[0]["exc_info"]
    # Lines outside any request say so, rather than borrowing one.
    logging.getLogger("app.elsewhere").warning("no request here")
    assert json_log()[-1]["request_id"] == "-"


# --- /metrics ----------------------------------------------------------------------------


def test_metrics_content(client, db_session):
    client.get("/healthz")
    client.get("/no/such/page")
    db_session.add(
        OutboxMessage(kind="opinion_update", channel="template", openid="o-metrics", dedup_key="metrics:1")
    )
    db_session.flush()
    body = client.get("/metrics").get_data(as_text=True)
    assert 'jzd_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'route="<unmatched>",status="404"' in body
    assert 'jzd_http_request_duration_seconds_bucket{le="0.3",method="GET",route="/healthz"}' in body
    from prometheus_client.parser import text_string_to_metric_families

    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if not sample.labels
    }
    assert values["jzd_database_up"] == 1
    assert values["jzd_outbox_pending"] >= 1
    assert values["jzd_outbox_oldest_pending_age_seconds"] >= 0
    assert "jzd_opinions_overdue" in values


def test_wechat_api_errors_counted_by_errcode(app, client):
    from app.wechat.client import WeChatApiError, official_account

    before = REGISTRY.get_sample_value("jzd_wechat_api_errors_total", {"errcode": "45009"}) or 0
    client.post(
        "/_wechat_mock/_mock/faults",
        json={"path": "/cgi-bin/message/template/send", "errcode": 45009, "times": 1},
    )
    with pytest.raises(WeChatApiError):
        official_account().send_template("o-metrics", "TPL", {"k": {"value": "v"}})
    assert REGISTRY.get_sample_value("jzd_wechat_api_errors_total", {"errcode": "45009"}) == before + 1
    assert 'jzd_wechat_api_errors_total{errcode="45009"}' in client.get("/metrics").get_data(as_text=True)


@OWN_APP
def test_metrics_hidden_from_the_public(own_app):
    application = own_app(METRICS_ALLOW_NETWORKS="10.0.0.0/8", METRICS_TOKEN="scrape-token-123")
    web = application.test_client()
    public = {"REMOTE_ADDR": "203.0.113.7"}
    assert web.get("/metrics", environ_base=public).status_code == 404
    assert (
        web.get("/metrics", environ_base=public, headers={"Authorization": "Bearer wrong"}).status_code == 404
    )
    ok = web.get("/metrics", environ_base=public, headers={"Authorization": "Bearer scrape-token-123"})
    assert ok.status_code == 200 and b"jzd_http_requests_total" in ok.data
    assert web.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    # Through a proxy we were not told to trust, a "private" address proves nothing.
    proxied = web.get(
        "/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert proxied.status_code == 404


@OWN_APP
def test_metrics_default_is_localhost_only(own_app):
    web = own_app().test_client()
    assert web.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert web.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.20"}).status_code == 404


def test_metrics_multiprocess_mode(tmp_path):
    """Under gunicorn (PROMETHEUS_MULTIPROC_DIR) two processes' counts add up in one scrape."""
    script = (
        "from tests.conftest import make_test_app\n"
        "import sys\n"
        "app = make_test_app('sqlite:///' + sys.argv[1])\n"
        "c = app.test_client()\n"
        "c.get('/healthz')\n"
        "if sys.argv[2] == 'scrape':\n"
        "    print(c.get('/metrics').get_data(as_text=True))\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"])
    database = str(tmp_path / "mp.db")
    for mode in ("count", "scrape"):
        result = subprocess.run(
            [sys.executable, "-c", script, database, mode], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    assert 'jzd_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in result.stdout


# --- outages -----------------------------------------------------------------------------


@OWN_APP
def test_database_down_is_503_not_500(own_app):
    web = own_app(CLOSED_PG_URL).test_client()
    api = web.get("/api/v1/stations")
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "unavailable"
    assert api.headers["Retry-After"] == "5"
    page = web.get("/s/ABC123")
    assert page.status_code == 503
    assert "服务暂时不可用".encode() in page.data


@OWN_APP
def test_redis_down_wechat_token_still_works(own_app):
    application = own_app(REDIS_URL=CLOSED_REDIS_URL)
    from app.wechat.client import official_account

    with application.app_context():
        token = official_account().access_token
        assert token
        assert official_account().access_token == token  # kept in the process meanwhile
