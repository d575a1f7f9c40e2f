"""家站点: the service behind a city's People's Congress deputy liaison network."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from app import observability
from app.config import check_config, load_config
from app.db_pool import init_pool
from app.extensions import csrf, db, init_redis, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, error pages, CLI."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=(config or {}).get("INSTANCE_PATH")
        or os.environ.get("INSTANCE_PATH")
        or str(PROJECT_ROOT / "instance"),
    )
    app.config.from_mapping(load_config(app.instance_path, config))
    check_config(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.json.ensure_ascii = False  # Chinese stays readable in JSON (Flask 3 ignores JSON_AS_ASCII)
    observability.init_app(app)  # logs with request ids, /metrics

    _import_models()
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True, render_as_batch=True
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    init_redis(app)
    limiter.init_app(app)
    _tune_sqlite(app)
    init_pool(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from app import web_errors
    from app.analytics import bp as console_analytics_bp
    from app.api import init_api
    from app.console import bp as console_bp
    from app.console_ledger import bp as console_ledger_bp
    from app.console_opinions import bp as console_opinions_bp
    from app.console_outbox import bp as console_outbox_bp
    from app.exports import bp as console_exports_bp
    from app.health import bp as health_bp
    from app.media.views import bp as media_bp
    from app.notify.console import bp as console_notify_bp
    from app.notify.public_views import bp as notify_public_bp
    from app.public.views import bp as public_bp
    from app.rating import bp as console_rating_bp
    from app.wechat import mount_mock
    from app.wechat.console import bp as wechat_console_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(notify_public_bp)
    mount_mock(app)
    app.register_blueprint(console_bp, url_prefix="/console")
    app.register_blueprint(wechat_console_bp, url_prefix="/console/wechat")
    app.register_blueprint(console_opinions_bp, url_prefix="/console/opinions")
    app.register_blueprint(console_outbox_bp, url_prefix="/console/outbox")
    app.register_blueprint(console_exports_bp, url_prefix="/console/exports")
    app.register_blueprint(console_rating_bp, url_prefix="/console/ratings")
    app.register_blueprint(console_ledger_bp, url_prefix="/console/ledger")
    app.register_blueprint(console_notify_bp, url_prefix="/console/notify")
    app.register_blueprint(console_analytics_bp, url_prefix="/console/analytics")
    init_api(app)
    web_errors.init_app(app)

    from app import security

    security.init_app(app)  # headers and CSP, field encryption key, masked logs, `flask retention`

    from app.wechat import endpoint

    # /wechat: WeChat's pushes, answered outside the page pipeline (no session, CSRF, login,
    # rate limit: they come signed from WeChat's few servers). See app/wechat/endpoint.py.
    endpoint.mount(app)

    from app.analytics.cli import analytics_cli
    from app.auth.cli import users_cli
    from app.demo.cli import demo_cli
    from app.plaques.cli import plaques_cli
    from app.receptions.cli import receptions_cli
    from app.wechat.cli import wechat_cli
    from app.workdays.cli import calendar_cli

    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(wechat_cli)
    app.cli.add_command(receptions_cli)
    app.cli.add_command(plaques_cli)
    app.cli.add_command(analytics_cli)

    from app.exports.cli import export_cli

    app.cli.add_command(export_cli)

    from app import template_helpers

    template_helpers.init_app(app)

    # Issue 7: outbox and scheduler commands; the scheduler in-process in the embedded default.
    from app.notify.cli import outbox_cli, scheduler_cli
    from app.notify.scheduler import start_in_process

    app.cli.add_command(outbox_cli)
    app.cli.add_command(scheduler_cli)
    start_in_process(app)
    return app


def _import_models() -> None:
    """Import every model module so metadata (and Alembic) sees the whole schema."""
    from app.analytics import models as _analytics  # noqa: F401
    from app.auth import models as _auth  # noqa: F401
    from app.deputies import models as _deputies  # noqa: F401
    from app.exports import models as _exports  # noqa: F401
    from app.ledger import models as _ledger  # noqa: F401
    from app.notify import models as _notify  # noqa: F401
    from app.opinions import models as _opinions  # noqa: F401
    from app.rating import models as _rating  # noqa: F401
    from app.receptions import models as _receptions  # noqa: F401
    from app.regions import models as _regions  # noqa: F401
    from app.security import models as _security  # noqa: F401
    from app.stations import models as _stations  # noqa: F401
    from app.units import models as _units  # noqa: F401
    from app.wechat import models as _wechat  # noqa: F401
    from app.workdays import models as _workdays  # noqa: F401


def _tune_sqlite(app: Flask) -> None:
    """SQLite: enforce foreign keys, wait on locks, and let SQLAlchemy own BEGIN/SAVEPOINT."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # pysqlite's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy docs).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            if engine.url.database not in (None, "", ":memory:"):
                # Readers never wait for the writer.
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # Take the write lock up front: two deferred transactions that both read and then
            # write deadlock in SQLite ("database is locked"); immediate ones queue instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
