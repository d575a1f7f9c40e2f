"""What the benchmarks (scripts/bench) and the fault drills (scripts/drills) share.

- ``free_port`` / ``wait_for_port``: a port to serve on, and waiting until something answers.
- ``Process``: a child in its own process group (stopped as a group), output in a log file;
  ``Gunicorn`` serves a WSGI target under the production ``gunicorn.conf.py`` on a free port;
  ``mock_wechat`` starts the standalone mock WeChat API.
- ``ScratchDatabase``: a fresh PostgreSQL database made on a server for one run and dropped
  afterwards (``WITH (FORCE)``); ``sa_url`` names the psycopg 3 driver for SQLAlchemy.
- ``percentile`` (the nearest-rank-below rule every report here uses), ``stop_on_signals`` and
  ``add_pg_admin_option`` (``--pg-admin-url``).

Import it as ``scripts.benchlib`` with the repository root on ``sys.path``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn, flask
# Production refuses to start without a field encryption key (any valid Fernet key will do here).
BENCH_FIELD_KEY = "pV2QW6Vt0w1Zb7m8mF0vXJ3uT1qzB2o0q6o1m7nKc2Y="
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_ADMIN_HELP = "a PostgreSQL database to connect to for CREATE DATABASE (a fresh one is made and dropped)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30, interval: float = 0.1) -> bool:
    """True once something accepts connections on ``port``; False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(interval)
    return False


def stop_group(popen: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Signal a child's whole process group; SIGKILL it if it has not ended within ``timeout``."""
    if popen.poll() is not None:
        return
    try:
        os.killpg(popen.pid, sig)
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=10)
    except ProcessLookupError:
        pass


class Process:
    """A child in its own process group, its output in a log file (or discarded)."""

    def __init__(self, command: list[str], env: dict | None = None, log: Path | None = None, cwd=ROOT):
        self.command = command
        self.env = env
        self.log = log
        self.cwd = cwd
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - child keeps it
        self.popen = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.alive:
            stop_group(self.popen, sig, timeout)


class Gunicorn(Process):
    """``target`` (default ``wsgi:app``) under the production gunicorn.conf.py, on a free port."""

    def __init__(
        self, env: dict, workdir: Path, workers: int = 2, threads: int = 4, target: str = "wsgi:app"
    ) -> None:
        self.port = free_port()
        self.target = target
        metrics = workdir / f"prometheus-{self.port}"
        metrics.mkdir(parents=True, exist_ok=True)
        env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
        command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), target]
        super().__init__(command, env=env, log=workdir / f"gunicorn-{self.port}.log")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        super().start()
        if not wait_for_port(self.port, 60):
            self.stop()
            raise RuntimeError(f"gunicorn for {self.target} did not start (see {self.log})")
        return self


def mock_wechat(workdir: Path | None = None) -> tuple[Process, str]:
    """The standalone mock WeChat API (log in ``workdir/mock.log``); returns it and its base URL."""
    port = free_port()
    env = {**os.environ, "SCHEDULER_IN_PROCESS": "0"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = Process(
        [str(BIN / "flask"), "--app", "wsgi", "wechat", "mock-server", "--port", str(port)],
        env=env,
        log=workdir / "mock.log" if workdir is not None else None,
    ).start()
    if not wait_for_port(port, 30):
        process.stop()
        raise RuntimeError("mock WeChat API did not start")
    return process, f"http://127.0.0.1:{port}"


def sa_url(url: str) -> str:
    """The URL for SQLAlchemy with the psycopg 3 driver."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


class ScratchDatabase:
    """A fresh database ``name`` on ``admin_url``'s server, for one run; dropped on ``drop()``.

    ``with ScratchDatabase(admin, name) as url:`` creates it and drops it afterwards unless
    ``keep``. ``url`` is ``postgresql://…/<name>`` (the app normalises the driver itself).
    """

    def __init__(self, admin_url: str, name: str, keep: bool = False) -> None:
        self.admin_url = admin_url
        self.name = name
        self.keep = keep
        self.url = admin_url.rsplit("/", 1)[0] + "/" + name

    def _execute(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(sa_url(self.admin_url), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(sql))
        finally:
            admin.dispose()

    def create(self) -> str:
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def drop(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def __enter__(self) -> str:
        return self.create()

    def __exit__(self, *_exc) -> None:
        if not self.keep:
            self.drop()


def add_pg_admin_option(parser: argparse.ArgumentParser, help: str = PG_ADMIN_HELP) -> None:
    """``--pg-admin-url``: the server the scratch database is made on (``TEST_PG_URL`` by default)."""
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help=help)


def percentile(ordered: list[float], fraction: float) -> float:
    """The value at ``fraction`` (e.g. 0.99) of ``ordered`` (sorted, not empty), nearest rank below."""
    return ordered[max(0, int(len(ordered) * fraction) - 1)]


def stop_on_signals() -> None:
    """Turn SIGTERM and SIGINT into SystemExit, so ``finally`` blocks drop databases and stop servers.

    SIGINT too: a script started in the background has SIGINT ignored otherwise.
    """

    def _terminate(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
