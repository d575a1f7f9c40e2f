"""Load test of ``POST /wechat``: signed text messages and scan events at concurrency 50.

Serves the app with gunicorn (the production worker settings) on a fresh PostgreSQL
database, drives it with a fixed number of pushes, then does the same against a bare Flask
endpoint served the same way, and prints messages/s, p50, p99, errors and the ratio.

    .venv/bin/python scripts/bench/wechat_endpoint.py                 # defaults below
    .venv/bin/python scripts/bench/wechat_endpoint.py --count 10000 --redis-url redis://127.0.0.1:6379/14

Targets (issue 4, a 2-core machine): p99 under 100 ms, zero errors, at least 0.3 of the bare
endpoint's throughput. The load generator runs on the same machine and takes CPU from both.

``--floor`` also serves ``wechat_floor.py``, the same pushes' statements on raw WSGI and raw
psycopg with nothing else, as a reference for what any Python endpoint could reach here, and
``wechat_floor_intake.py``, that floor with each 留言 handled by the app: what a lean endpoint
keeping the opinion intake shared with the H5 pages and the mini-program could reach.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.extensions import db  # noqa: E402
from scripts.benchlib import (  # noqa: E402
    BENCH_FIELD_KEY,
    Gunicorn,
    Process,
    ScratchDatabase,
    add_pg_admin_option,
    mock_wechat,
    percentile,
    sa_url,
)

TOKEN = "bench-token"  # noqa: S105 - the bench server's WECHAT_TOKEN
STATIONS = 30
RESIDENTS = 500

# Both servers run under the production gunicorn.conf.py (gthread, 2 workers a CPU × 4 threads,
# preloaded app, keep-alive, JSON access log, metrics hooks); these override its counts.
DEFAULT_WORKERS = max(2, (os.cpu_count() or 1) * 2)
DEFAULT_THREADS = 4

bare_app = Flask("bare")
# Registered with the database extension only so gunicorn.conf.py's post_fork hook (which
# renews each worker's connection pool) runs unchanged; the endpoint never uses it.
bare_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db.init_app(bare_app)


@bare_app.post("/wechat")
def bare_endpoint():
    """The bare comparison: Flask answering WeChat's "success" and nothing else."""
    return "success"


# -- the pushes ---------------------------------------------------------------------------


def _signed_query(nonce: int) -> str:
    timestamp = str(int(time.time()))
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, str(nonce)])).encode()).hexdigest()  # noqa: S324
    return f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}"


def _scan_xml(openid: str, code: str, created: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
        f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[{code}]]></EventKey>"
        f"<Ticket><![CDATA[TICKET]]></Ticket></xml>"
    )


def resident(run: int, n: int) -> str:
    return f"oBench{run:06d}{n % RESIDENTS:05d}"


def station_of(n: int, codes: list[str]) -> str:
    return codes[(n % RESIDENTS) % len(codes)]  # each resident follows one station


def first_scans(run: int, codes: list[str]) -> list[tuple[str, bytes]]:
    """Every resident scans their station's plaque once (the warm-up): they follow it from then on."""
    base_time = int(time.time()) - 2 * 10**6
    pushes = []
    for n in range(RESIDENTS):
        xml = _scan_xml(resident(run, n), station_of(n, codes), base_time + n)
        pushes.append((_signed_query(n), xml.encode("utf-8")))
    return pushes


def build_pushes(count: int, codes: list[str], run: int) -> list[tuple[str, bytes]]:
    """Alternating SCAN events and text messages (值班, 进度, 留言, help) from 500 followers.

    Run after ``first_scans(run, …)``: every sender follows one station, so 值班 names who
    is on duty there, 留言 stores an opinion (through msg_sec_check) and 进度 lists them.
    """
    texts = ["值班", "进度", "留言 第{i}条：小区门口路灯坏了两周，晚上出行不便", "你好"]
    base_time = int(time.time()) - 10**6
    pushes = []
    for i in range(count):
        n = i % RESIDENTS
        openid = resident(run, n)
        if i % 2 == 0:
            xml = _scan_xml(openid, station_of(n, codes), base_time + i)
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
        "p99": percentile(latencies, 0.99) * 1000,
        "errors": sum(r[1] for r in results),
    }


# -- servers ------------------------------------------------------------------------------


def serve(target: str, env: dict, args, workdir: Path) -> Gunicorn:
    """``target`` under the production gunicorn.conf.py, as docs/deploy.md runs it.

    Access lines go to a log file, as to journald in production: both servers pay for them.
    """
    return Gunicorn(env, workdir, workers=args.workers, threads=args.threads, target=target).start()


def prepare_database(database_url: str) -> list[str]:
    """Migrate the database and open a few stations; returns their codes.

    Each station has two deputies and an announced reception next week, so a SCAN or 值班
    answers with who is on duty, as on a real plaque.
    """
    sys.path.insert(0, str(ROOT))
    from datetime import time as clock
    from datetime import timedelta

    from flask_migrate import upgrade

    from app import create_app
    from app.deputies.service import create_deputy
    from app.extensions import db
    from app.receptions.models import Reception, ReceptionDuty
    from app.regions.service import create_region
    from app.stations.service import create_station, place_deputy
    from app.timeutil import local_now

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None, "SCHEDULER_IN_PROCESS": False}
    )
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
            deputies = []
            for name in (f"压测代表{i}甲", f"压测代表{i}乙"):
                mandate = {"level": "town", "term": "第十八届", "start_year": 2022}
                deputy = create_deputy(region=village, data={"name": name}, mandates=[mandate])
                place_deputy(station, deputy)
                deputies.append(deputy)
            reception = Reception(
                station=station,
                date=local_now().date() + timedelta(days=7),
                start=clock(9),
                end=clock(11, 30),
                kind="service_day",
                status="announced",
            )
            reception.duties = [ReceptionDuty(deputy=d) for d in deputies]
            db.session.add(reception)
        db.session.commit()
        db.engine.dispose()
    return codes


def _cpu_of(pids) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            # Fields after "(comm)": state is [0], ppid [1], utime [11], stime [12].
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def _children(pid: int) -> list[int]:
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


class CpuMeter:
    """CPU used by the servers during a run: gunicorn (master and workers), PostgreSQL's
    backends for the bench database, the mock WeChat API. Unlike msgs/s, CPU per push hardly
    depends on what else the machine is doing."""

    def __init__(self, gunicorn: Process, mock: Process, admin, database: str) -> None:
        self.groups = {"gunicorn": lambda: _children(gunicorn.pid), "mock": lambda: [mock.pid]}
        self.groups["postgres"] = lambda: self._backends(admin, database)

    @staticmethod
    def _backends(admin, database: str) -> list[int]:
        with admin.connect() as conn:
            rows = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
            return [row.pid for row in rows]

    def __enter__(self) -> CpuMeter:
        self.before = {name: _cpu_of(pids()) for name, pids in self.groups.items()}
        return self

    def __exit__(self, *_exc) -> None:
        after = {name: _cpu_of(pids()) for name, pids in self.groups.items()}
        self.used = {
            name: sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in after[name].items())
            for name in self.groups
        }


def check_work_done(database_url: str, pushes: list[tuple[str, bytes]]) -> None:
    """The pushes really did their work: every one logged once, each 留言 one opinion."""

    expected_opinions = sum("留言".encode() in body for _, body in pushes)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT count(*) FROM wechat_inbound")).scalar_one()
        opinions = conn.execute(text("SELECT count(*) FROM opinions WHERE channel = 'wechat'")).scalar_one()
        follows = conn.execute(text("SELECT count(*) FROM wechat_station_follows")).scalar_one()
    engine.dispose()
    print(
        f"/wechat stored: {logged} inbound rows (expected {RESIDENTS + len(pushes)}), "
        f"{opinions} opinions (expected {expected_opinions}), {follows} follows (expected {RESIDENTS})"
    )
    if (logged, opinions, follows) != (RESIDENTS + len(pushes), expected_opinions, RESIDENTS):
        raise SystemExit("the endpoint answered without doing all its work")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="pushes per server (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--client-processes", type=int, default=2)
    add_pg_admin_option(parser)
    parser.add_argument("--redis-url", default=None, help="Redis for the app, as in production (optional)")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also serve scripts/bench/wechat_floor.py (each push's own statements, no more) and "
        "wechat_floor_intake.py (the same, each 留言 handled by the app)",
    )
    args = parser.parse_args()

    name = f"jzd_bench_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="jzd_bench_"))  # gunicorn logs and metrics files
    scratch = ScratchDatabase(args.pg_admin_url, name)
    database_url = scratch.create()
    admin = create_engine(sa_url(args.pg_admin_url), isolation_level="AUTOCOMMIT")  # the CPU meter's
    servers: list[Process] = []
    try:
        codes = prepare_database(database_url)
        # 留言 goes through msg_sec_check: answer it from the standalone mock, as a stand-in for WeChat.
        mock, mock_url = mock_wechat()
        servers.append(mock)
        env = {
            **os.environ,
            "APP_ENV": "production",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "FIELD_ENCRYPTION_KEY": BENCH_FIELD_KEY,
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": "https://jzd.example.cn",
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_API_BASE": mock_url,
        }
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        else:
            env.pop("REDIS_URL", None)

        results = {}
        bare = "scripts.bench.wechat_endpoint:bare_app"
        servers_under_test = [("/wechat", "wsgi:app"), ("bare Flask", bare)]
        if args.floor:
            servers_under_test[1:1] = [
                ("floor", "scripts.bench.wechat_floor:app"),
                ("floor+留言", "scripts.bench.wechat_floor_intake:app"),
            ]
        for label, target in servers_under_test:
            process = serve(target, env, args, workdir)
            port = process.port
            servers.append(process)
            clients = args.concurrency, args.client_processes
            run = uuid.uuid4().int % 10**6
            load(port, first_scans(run, codes), *clients)  # warm up, not counted
            pushes = build_pushes(args.count, codes, run)
            with CpuMeter(process, mock, admin, name) as meter:
                results[label] = load(port, pushes, *clients)
            results[label]["cpu"] = {k: v * 1000 / len(pushes) for k, v in meter.used.items()}
            process.stop(timeout=15)
            servers.remove(process)
            if target == "wsgi:app":
                check_work_done(sa_url(database_url), pushes)

        print(
            f"\ngunicorn -c gunicorn.conf.py, {args.workers} gthread workers × {args.threads} threads; "
            f"{args.count} pushes per server at concurrency {args.concurrency}; "
            f"PostgreSQL{' + Redis' if args.redis_url else ''}; {os.cpu_count()} CPUs\n"
        )
        print(f"{'server':<12} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for label, r in results.items():
            print(f"{label:<12} {r['rate']:>9.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['errors']:>7}")
        ratio = results["/wechat"]["rate"] / results["bare Flask"]["rate"]
        print(f"\nratio /wechat : bare = {ratio:.2f}")
        if "floor" in results:
            floor = results["floor"]["rate"] / results["bare Flask"]["rate"]
            print(
                f"ratio floor : bare = {floor:.2f}  (a lower bound: each push's own statements, nothing else)"
            )
            floor = results["floor+留言"]["rate"] / results["bare Flask"]["rate"]
            print(f"ratio floor+留言 : bare = {floor:.2f}  (the floor, but each 留言 handled by the app)")
        print(f"\nCPU ms per push  {'gunicorn':>9} {'postgres':>9} {'mock API':>9}")
        for label, r in results.items():
            cpu = r["cpu"]
            print(f"{label:<16} {cpu['gunicorn']:>9.2f} {cpu['postgres']:>9.2f} {cpu['mock']:>9.2f}")
        print()
        ok = results["/wechat"]["p99"] < 100 and results["/wechat"]["errors"] == 0 and ratio >= 0.3
        print("targets (p99 < 100 ms, 0 errors, ratio ≥ 0.3):", "met" if ok else "NOT met")
        mock.stop(timeout=15)
        servers.remove(mock)
    finally:
        for process in servers:
            process.stop(timeout=15)
        admin.dispose()
        scratch.drop()
        print(f"gunicorn logs: {workdir}")


if __name__ == "__main__":
    main()
