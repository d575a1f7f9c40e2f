"""Load test of ``POST /wechat``: signed text messages and scan events at concurrency 50.

Serves the app with gunicorn (the production worker settings) on a fresh PostgreSQL
database, drives it with a fixed number of pushes, then does the same against a bare Flask
endpoint served the same way, and prints messages/s, p50, p99, errors and the ratio.

    .venv/bin/python scripts/bench/wechat_endpoint.py                 # defaults below
    .venv/bin/python scripts/bench/wechat_endpoint.py --count 10000 --redis-url redis://127.0.0.1:6379/14

Targets (issue 4, a 2-core machine): p99 under 100 ms, zero errors, at least 0.3 of the bare
endpoint's throughput. The load generator runs on the same machine and takes CPU from both.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from flask import Flask

# Production refuses to start without a field encryption key (any valid Fernet key will do here).
BENCH_FIELD_KEY = "pV2QW6Vt0w1Zb7m8mF0vXJ3uT1qzB2o0q6o1m7nKc2Y="

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-token"  # noqa: S105 - the bench server's WECHAT_TOKEN
STATIONS = 30
RESIDENTS = 500

# What gunicorn gets for both servers: the settings we recommend for production.
DEFAULT_WORKERS = 4
DEFAULT_THREADS = 4

bare_app = Flask("bare")


@bare_app.post("/wechat")
def bare_endpoint():
    """The bare comparison: Flask answering WeChat's "success" and nothing else."""
    return "success"


# -- the pushes ---------------------------------------------------------------------------


def _signed_query(nonce: int) -> str:
    timestamp = str(int(time.time()))
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, str(nonce)])).encode()).hexdigest()  # noqa: S324
    return f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}"


def build_pushes(count: int, codes: list[str]) -> list[tuple[str, bytes]]:
    """Alternating SCAN events and text messages (留言, 进度, 值班, help) from 500 residents."""
    texts = ["值班", "进度", "留言 第{i}条：小区门口路灯坏了两周，晚上出行不便", "你好"]
    base_time = int(time.time()) - 10**6
    run = uuid.uuid4().int % 10**6
    pushes = []
    for i in range(count):
        openid = f"oBench{run:06d}{i % RESIDENTS:05d}"
        if i % 2 == 0:
            code = codes[(i % RESIDENTS) % len(codes)]  # each resident follows one station
            xml = (
                f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
                f"</FromUserName><CreateTime>{base_time + i}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                f"<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[{code}]]></EventKey>"
                f"<Ticket><![CDATA[TICKET]]></Ticket></xml>"
            )
        else:
            content = texts[(i // 2) % len(texts)].format(i=i)
            xml = (
                f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
                f"</FromUserName><CreateTime>{base_time + i}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{content}]]></Content><MsgId>{run * 10**8 + i}</MsgId></xml>"
            )
        pushes.append((_signed_query(i), xml.encode("utf-8")))
    return pushes


# -- the load generator -------------------------------------------------------------------


def _drive(port: int, pushes: list[tuple[str, bytes]], threads: int, out) -> None:
    """One client process: ``threads`` keep-alive connections sharing the pushes."""
    lock = threading.Lock()
    feed = iter(pushes)
    latencies: list[float] = []
    errors = 0

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while True:
            with lock:
                item = next(feed, None)
            if item is None:
                break
            path, body = item
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "text/xml"})
                response = conn.getresponse()
                answer = response.read()
                ok = response.status == 200 and (answer == b"success" or answer.startswith(b"<xml>"))
                ok = ok and "稍后再试".encode() not in answer
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - started)
            bad += 0 if ok else 1
        with lock:
            latencies.extend(mine)
            errors += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((latencies, errors))


def load(port: int, pushes: list[tuple[str, bytes]], concurrency: int, processes: int) -> dict:
    """Send all pushes with ``concurrency`` connections over ``processes`` client processes."""
    queue = multiprocessing.Queue()
    chunks = [pushes[i::processes] for i in range(processes)]
    per_process = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    started = time.perf_counter()
    procs = [
        multiprocessing.Process(target=_drive, args=(port, chunk, n, queue))
        for chunk, n in zip(chunks, per_process, strict=True)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(itertools.chain.from_iterable(r[0] for r in results))
    return {
        "count": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": sum(r[1] for r in results),
    }


# -- servers ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(target: str, env: dict, args) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--keep-alive",
        "5",
        "--chdir",
        str(Path(__file__).resolve().parent if target.startswith("wechat_endpoint") else ROOT),
        target,
    ]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    if not _wait_for(port):
        stop(process)
        raise SystemExit(f"gunicorn for {target} did not start")
    return process, port


def _wait_for(port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def prepare_database(database_url: str) -> list[str]:
    """Migrate the database and open a few stations with coordinates; returns their codes."""
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.regions.service import create_region
    from app.stations.service import create_station

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        city = create_region(code="BENCH01", name="压测市", parent=None)
        district = create_region(code="BENCH02", name="压测区", parent=city)
        town = create_region(code="BENCH03", name="压测街道", parent=district)
        codes = []
        for i in range(STATIONS):
            village = create_region(code=f"BENCHV{i:03d}", name=f"压测社区{i}", parent=town)
            station = create_station(
                region=village,
                kind="station",
                data={
                    "name": f"压测社区{i}人大代表联络站",
                    "address": f"压测路{i}号",
                    "lat": f"{31.50 + i * 0.003:.6f}",
                    "lng": f"{120.25 + i * 0.003:.6f}",
                },
            )
            codes.append(station.code)
        db.session.commit()
        db.engine.dispose()
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="pushes per server (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database to connect to for CREATE DATABASE (a fresh one is made and dropped)",
    )
    parser.add_argument("--redis-url", default=None, help="Redis for the app, as in production (optional)")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    admin_url = args.pg_admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"jzd_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = args.pg_admin_url.rsplit("/", 1)[0] + "/" + name
    servers = []
    try:
        codes = prepare_database(database_url)
        # 留言 goes through msg_sec_check: answer it from the standalone mock, as a stand-in for WeChat.
        mock_port = _free_port()
        flask = str(ROOT / ".venv" / "bin" / "flask")
        mock = subprocess.Popen(
            [flask, "--app", "wsgi", "wechat", "mock-server", "--port", str(mock_port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        servers.append(mock)
        if not _wait_for(mock_port):
            raise SystemExit("the mock WeChat API did not start")
        env = {
            **os.environ,
            "APP_ENV": "production",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "FIELD_ENCRYPTION_KEY": BENCH_FIELD_KEY,
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": "https://jzd.example.cn",
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_API_BASE": f"http://127.0.0.1:{mock_port}",
        }
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        else:
            env.pop("REDIS_URL", None)

        results = {}
        for label, target in (("/wechat", "wsgi:app"), ("bare Flask", "wechat_endpoint:bare_app")):
            process, port = serve(target, env, args)
            servers.append(process)
            clients = args.concurrency, args.client_processes
            load(port, build_pushes(min(500, args.count), codes), *clients)  # warm up, not counted
            results[label] = load(port, build_pushes(args.count, codes), *clients)
            stop(process)
            servers.remove(process)

        print(
            f"\ngunicorn --workers {args.workers} --worker-class {args.worker_class} "
            f"--threads {args.threads}; "
            f"{args.count} pushes per server at concurrency {args.concurrency}; "
            f"PostgreSQL{' + Redis' if args.redis_url else ''}; {os.cpu_count()} CPUs\n"
        )
        print(f"{'server':<12} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for label, r in results.items():
            print(f"{label:<12} {r['rate']:>9.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['errors']:>7}")
        ratio = results["/wechat"]["rate"] / results["bare Flask"]["rate"]
        print(f"\nratio /wechat : bare = {ratio:.2f}")
        ok = results["/wechat"]["p99"] < 100 and results["/wechat"]["errors"] == 0 and ratio >= 0.3
        print("targets (p99 < 100 ms, 0 errors, ratio ≥ 0.3):", "met" if ok else "NOT met")
        stop(mock)
        servers.remove(mock)
    finally:
        for process in servers:
            stop(process)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
