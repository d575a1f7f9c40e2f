"""The fault drills of scripts/drills, each in its own process, in CI's PostgreSQL + Redis run.

They start private redis-server and PostgreSQL instances (never the shared ones), gunicorn and
workers, and take about a minute each; they run when ``REQUIRE_SERVICES=1`` (CI's second
run) or ``RUN_DRILLS=1``, and are skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WANTED = os.environ.get("REQUIRE_SERVICES") == "1" or os.environ.get("RUN_DRILLS") == "1"

pytestmark = [
    pytest.mark.drill,
    pytest.mark.real_commits,
    pytest.mark.skipif(not WANTED, reason="fault drills run with REQUIRE_SERVICES=1 or RUN_DRILLS=1"),
]


def _drill(script: str, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "drills" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout[-20000:])
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    assert "RESULT: PASSED" in result.stdout


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
def test_redis_stopped_during_load():
    _drill("redis_down.py", "--residents", "120", "--seconds", "24")


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
def test_postgres_restarted_during_load():
    _drill("postgres_restart.py", "--residents", "120", "--seconds", "30", "--down", "5")


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
def test_wechat_down_ten_minutes_compressed():
    _drill("wechat_down.py", "--compress", "40")
