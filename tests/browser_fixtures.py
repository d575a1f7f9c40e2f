"""A live server on its own database and a real Chromium driven by Playwright.

Browser tests commit for real (the server answers from another thread), so each gets a
fresh database: a SQLite file, or under ``REQUIRE_SERVICES=1`` a PostgreSQL database.
Seed data with ``live_app.app_context()`` and ``db.session.commit()``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import REDIS_TEST_URL, REQUIRE_SERVICES, PgDatabases, make_test_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_SERVICES or os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def live_app(tmp_path) -> Iterator:
    """An app on a fresh, migrated database of its own, with the work calendar loaded."""
    dbs = None
    if REQUIRE_SERVICES:
        dbs = PgDatabases()
        url = dbs.create("live")
    else:
        url = "sqlite:///" + str(tmp_path / "live.db")
    app = make_test_app(
        url,
        REDIS_TEST_URL if REQUIRE_SERVICES else None,
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
    )
    from flask_migrate import upgrade

    from app.extensions import db
    from app.workdays.service import sync_from_library

    with app.app_context():
        upgrade()
        sync_from_library()
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if dbs is not None:
        dbs.drop_all()


@pytest.fixture
def live_server(live_app) -> Iterator[str]:
    """Serve ``live_app`` on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live_app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _page(browser, **context_options):
    context = browser.new_context(locale="zh-CN", **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # tests assert this stays empty
    return context, page


@pytest.fixture
def phone_page(browser, live_server):
    context, page = _page(browser, **PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser, live_server):
    context, page = _page(browser, viewport={"width": 1280, "height": 800})
    yield page
    context.close()
