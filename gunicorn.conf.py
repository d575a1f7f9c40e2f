"""gunicorn settings for 家站点 (``gunicorn -c gunicorn.conf.py wsgi:app``); see docs/deploy.md.

Every value can be overridden from the environment (the systemd unit's EnvironmentFile):
GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT, FORWARDED_ALLOW_IPS,
PROMETHEUS_MULTIPROC_DIR.

Worker class: **gthread**. A request here mostly waits — on PostgreSQL, and on WeChat
(``msg_sec_check`` when an opinion is left, OAuth code exchange, up to 4 s with our
timeouts). With ``sync`` one slow WeChat answer holds a whole process; threads let a worker
keep serving the rest meanwhile, at the cost of a few MB per thread. gevent/eventlet would
need psycopg and redis-py monkey-patched, which this code base is not tested under.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import time

from gunicorn.glogging import Logger

# --- garbage collection ----------------------------------------------------------------------
# The master imports the whole app (preload_app) and forks the workers from it. Python's cyclic
# garbage collector would walk those ~185,000 imported objects again and again in every worker:
# each full collection held a worker (all its threads) for ~250 ms in the /wechat load test,
# twice in a 5,000-push run. Collection is off while the app loads; everything loaded is
# frozen (never collected again) before the first fork, then collection resumes for what the
# workers allocate themselves — the pattern Python's ``gc.freeze`` documentation gives for
# pre-forking servers.
gc.disable()

# --- Prometheus: every worker writes its metrics to files here; /metrics adds them up. ------
# Must be set before the application (and prometheus_client) is imported: preload imports it
# in the master, right after this file is read.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/run/jiazhandian/metrics")

# --- sockets and processes ------------------------------------------------------------------
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# Two processes a core keep both cores busy while threads wait on I/O; each process holds a
# SQLAlchemy pool of 5 (+10 overflow) connections: workers × 15 must stay under PostgreSQL's
# max_connections (100 by default) together with the scheduler and outbox workers.
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Load the app once in the master: workers fork with it already imported (faster restarts,
# shared memory). Database connections are never opened in the master (see post_fork).
preload_app = True

# --- timeouts ---------------------------------------------------------------------------------
# WeChat gives up on a push after 5 s; nothing here should take 30. A worker stuck longer is
# killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# nginx keeps upstream connections open (keepalive in the nginx site): keep ours open longer.
keepalive = 75
# Heartbeat files on tmpfs: a worker never stalls on a slow disk (gunicorn docs, "Blocking OS calls").
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# --- behind nginx -----------------------------------------------------------------------------
# Trust X-Forwarded-Proto only from nginx on this host; the app trusts X-Forwarded-For per
# TRUSTED_PROXIES (set it to 1 behind one nginx).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_protocol = False
# gunicorn 23+'s control socket (~/.gunicorn/gunicorn.ctl) is not used: systemd manages the
# process, and two gunicorns on one host would fight over the one default path.
control_socket_disable = True
limit_request_line = 8190

# --- logs: one JSON object a line on stderr (journald) ----------------------------------------
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


class JsonLogger(Logger):
    """gunicorn's logger, writing access lines (and its own messages) as JSON."""

    def setup(self, cfg):
        super().setup(cfg)
        from pythonjsonlogger.json import JsonFormatter

        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
        )
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter)
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((k.lower(), v) for k, v in (resp.headers or []))
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "request_id": headers.get("x-request-id", "-"),
            "remote": environ.get("REMOTE_ADDR", "-"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", ""),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING", ""),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": environ.get("HTTP_USER_AGENT", ""),
        }
        try:
            self.access_log.info(json.dumps(line, ensure_ascii=False))
        except Exception:
            self.exception("could not write an access log line")


logger_class = JsonLogger


# --- hooks ------------------------------------------------------------------------------------


def on_starting(server):
    """Create the metrics directory; drop files left by processes that are gone."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        # Files are <kind>_<pid>.db; the scheduler and outbox workers may share the directory.
        pid = name.rsplit("_", 1)[-1].removesuffix(".db")
        if pid.isdigit() and not _alive(int(pid)):
            os.remove(os.path.join(path, name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def when_ready(server):
    """The app is loaded (preload): freeze it, and collect garbage again from now on."""
    gc.freeze()
    gc.enable()


def pre_fork(server, worker):
    """Whatever the master made since (a worker replaced later) is frozen too before a fork."""
    gc.freeze()


def post_fork(server, worker):
    """A fresh connection pool in each worker: never share the master's sockets."""
    # A reload (SIGHUP) reads this file again, turning collection off in the master without a
    # when_ready after it: a worker must never run without it.
    gc.enable()
    from app.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)


def child_exit(server, worker):
    """A worker is gone: its live gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
