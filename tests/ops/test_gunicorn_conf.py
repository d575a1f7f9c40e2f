"""gunicorn.conf.py as production runs it: the workers' garbage collection."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request

from scripts.benchlib import Gunicorn


def _worker_state(server: Gunicorn, not_pid: int | None = None, seconds: float = 30) -> dict:
    """The probe's answer, from a worker other than ``not_pid`` (a replaced one)."""
    deadline = time.monotonic() + seconds
    while True:
        with urllib.request.urlopen(f"{server.base_url}/gc", timeout=5) as answer:  # noqa: S310 - local
            state = json.loads(answer.read())
        if state["pid"] != not_pid or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def test_workers_collect_garbage_with_the_preloaded_app_frozen(tmp_path):
    """The loaded app is frozen before the fork; each worker collects its own garbage, even after a reload."""
    env = {**os.environ, "GUNICORN_LOGLEVEL": "warning"}
    server = Gunicorn(env, tmp_path, workers=1, threads=1, target="tests.ops.gc_probe:app").start()
    try:
        first = _worker_state(server)
        assert first["enabled"] is True
        assert first["frozen"] > 10_000  # Flask, SQLAlchemy and the app's modules, imported by the master

        # SIGHUP re-reads gunicorn.conf.py in the master (which turns collection off there)
        # and replaces the workers: the new one must collect garbage all the same.
        os.kill(server.pid, signal.SIGHUP)
        second = _worker_state(server, not_pid=first["pid"])
        assert second["pid"] != first["pid"]
        assert second["enabled"] is True
        assert second["frozen"] > 10_000
    finally:
        server.stop()
