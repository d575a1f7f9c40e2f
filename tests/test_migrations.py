"""The Alembic revisions build exactly the models' schema on an empty PostgreSQL database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from app.extensions import db
from tests.conftest import make_test_app


def test_upgrade_on_empty_postgres_matches_models(pg_url):
    app = make_test_app(pg_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == [], f"migrations and models differ: {diff}"
    assert {"regions", "stations", "deputies", "staff_users", "calendar_days"} <= tables
