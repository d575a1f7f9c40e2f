"""scripts/backup.sh and scripts/restore.sh: a populated database and upload folder survive the trip."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app.extensions import db
from tests.conftest import make_test_app

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.real_commits

needs_pg_tools = pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("psql")),
    reason="PostgreSQL client tools (pg_dump, pg_restore, psql) not installed",
)


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        counts = {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() for name in tables}  # noqa: S608
    engine.dispose()
    return counts


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@needs_pg_tools
def test_backup_then_restore_into_a_fresh_database(pg_databases, tmp_path):
    source_url = pg_databases.create("bk_src")
    uploads = tmp_path / "uploads"
    application = make_test_app(source_url, UPLOAD_FOLDER=str(uploads))
    from flask_migrate import upgrade

    with application.app_context():
        upgrade()
        db.session.remove()
    # The demo city: hundreds of regions, stations, deputies, units and accounts.
    result = application.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with application.app_context():
        db.engine.dispose()
    (uploads / "opinions" / "2026" / "11").mkdir(parents=True)
    (uploads / "opinions" / "2026" / "11" / "a1b2c3.jpg").write_bytes(os.urandom(50_000))
    (uploads / "deputies").mkdir()
    (uploads / "deputies" / "代表照片.png").write_bytes(b"\x89PNG" + os.urandom(1000))
    before = _counts(source_url)
    assert before["stations"] > 100 and before["staff_users"] >= 6

    backups = tmp_path / "backups"
    env = {
        **os.environ,
        "DATABASE_URL": source_url,
        "UPLOAD_FOLDER": str(uploads),
        "BACKUP_DIR": str(backups),
        "BACKUP_KEEP": "2",
    }
    stamps = []
    for stamp in ("20261124-023000", "20261125-023000", "20261126-023000"):
        done = subprocess.run(
            ["sh", str(ROOT / "scripts" / "backup.sh")],
            env={**env, "BACKUP_STAMP": stamp},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        stamps.append(done.stdout.strip())
    assert stamps[-1] == "20261126-023000"
    # Rotation kept the newest two pairs.
    assert sorted(p.name for p in backups.iterdir()) == [
        "jiazhandian-20261125-023000.dump",
        "jiazhandian-20261125-023000.uploads.tar.gz",
        "jiazhandian-20261126-023000.dump",
        "jiazhandian-20261126-023000.uploads.tar.gz",
    ]

    target_url = pg_databases.create("bk_dst")
    restored = tmp_path / "restored"
    restore_env = {**os.environ, "DATABASE_URL": target_url, "UPLOAD_FOLDER": str(restored)}
    base = str(backups / "jiazhandian-20261126-023000")
    done = subprocess.run(
        ["sh", str(ROOT / "scripts" / "restore.sh"), base], env=restore_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert _counts(target_url) == before
    assert _files(restored) == _files(uploads)
    # The restored database is at the migrations' head: the release's upgrade is a no-op.
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    engine = create_engine(target_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert sorted(current) == sorted(heads)

    # A second restore into the now populated database is refused, nothing touched.
    again = subprocess.run(
        ["sh", str(ROOT / "scripts" / "restore.sh"), base], env=restore_env, capture_output=True, text=True
    )
    assert again.returncode == 3
    assert "already has" in again.stderr
