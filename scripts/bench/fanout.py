"""Benchmark of 公告接待时间: enqueue one push per follower, then deliver them to the mock WeChat API.

On a fresh PostgreSQL database (made here, dropped at the end): ``--count`` subscribers
(default 100,000) follow one station; announcing a reception there queues one outbox row
per follower (printed: seconds, target under 20 s). Then ``--workers`` sender processes
drain the outbox against the standalone mock (``flask wechat mock-server`` in a
subprocess, ``WECHAT_API_BASE`` pointed at it) and the messages/s are printed beside the
mock's own capacity, measured by as many processes posting template messages to it
directly with the same HTTP client, at the same concurrency (``--threads`` threads per
process, as each worker sends through ``OUTBOX_SEND_THREADS`` threads; target ratio at
least 0.8). Workers claim ``OUTBOX_BATCH_SIZE`` rows at a time.

    .venv/bin/python scripts/bench/fanout.py                   # 100,000 followers, 4 workers
    .venv/bin/python scripts/bench/fanout.py --count 10000 --workers 2 --capacity-count 4000
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import (  # noqa: E402
    BENCH_FIELD_KEY,
    ScratchDatabase,
    add_pg_admin_option,
    mock_wechat,
    sa_url,
    stop_on_signals,
)

TEMPLATE_PATH = "/cgi-bin/message/template/send"
CHUNK = 10_000


def _config(database_url: str, api_base: str, rate: float, threads: int, batch: int) -> dict:
    return {
        "APP_ENV": "production",
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "FIELD_ENCRYPTION_KEY": BENCH_FIELD_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "PUBLIC_BASE_URL": "https://jzd.example.cn",
        "WECHAT_API_BASE": api_base,
        "OUTBOX_RATE_PER_SECOND": rate,
        "OUTBOX_SEND_THREADS": threads,
        "OUTBOX_BATCH_SIZE": batch,
        "SCHEDULER_IN_PROCESS": False,
    }


# -- the database -------------------------------------------------------------------------


def prepare(config: dict, count: int) -> int:
    """Migrate, open one station and let ``count`` subscribers follow it; returns the station id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from app import create_app
    from app.deputies.service import create_deputy
    from app.extensions import db
    from app.regions.service import create_region
    from app.stations.service import create_station, place_deputy
    from app.wechat.models import Subscriber

    app = create_app(config)
    with app.app_context():
        upgrade()
        city = create_region(code="FANOUT1", name="压测市", parent=None)
        district = create_region(code="FANOUT2", name="压测区", parent=city)
        town = create_region(code="FANOUT3", name="压测街道", parent=district)
        village = create_region(code="FANOUT4", name="压测社区", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "压测社区人大代表联络站", "address": "压测路1号"}
        )
        deputy = create_deputy(
            region=village,
            data={"name": "压测代表", "unit": "压测单位", "post": "职员"},
            mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
        )
        place_deputy(station, deputy)
        station_id = station.id
        for start in range(0, count, CHUNK):
            rows = [
                {"openid": f"oFanout{i:021d}", "subscribed": True, "wants_announcements": True}
                for i in range(start, min(count, start + CHUNK))
            ]
            db.session.execute(insert(Subscriber), rows)
        db.session.execute(
            text(
                "INSERT INTO wechat_station_follows (subscriber_id, station_id, via, created_at, updated_at) "
                "SELECT id, :station, 'scan', now(), now() FROM wechat_subscribers"
            ),
            {"station": station_id},
        )
        db.session.commit()
        db.engine.dispose()
    return station_id


def announce(config: dict, station_id: int) -> tuple[float, int]:
    """Create an announced reception at the station; (seconds to commit, rows queued)."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.notify.models import OutboxMessage
    from app.receptions.service import create_reception
    from app.stations.models import Station
    from app.timeutil import local_now

    app = create_app(config)
    with app.app_context():
        station = db.session.get(Station, station_id)
        deputy_ids = [p.deputy_id for p in station.placements]
        day = local_now().date() + timedelta(days=7)
        started = time.perf_counter()
        create_reception(
            station,
            {
                "kind": "topic",
                "date": day.isoformat(),
                "start": "09:00",
                "end": "11:00",
                "topic": "压测专题接待",
            },
            deputy_ids=deputy_ids,
            announce=True,
        )
        db.session.commit()
        seconds = time.perf_counter() - started
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        db.engine.dispose()
    return seconds, queued


def tune(database_url: str, pending_index: bool) -> None:
    """ANALYZE the outbox as autovacuum would after a bulk insert; optionally the partial index."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sa_url(database_url))
    with engine.begin() as conn:
        if pending_index:
            # Not in the schema: an experiment for the claim query (ORDER BY id over pending rows).
            conn.execute(text("CREATE INDEX bench_outbox_pending ON outbox (id) WHERE status = 'pending'"))
        conn.execute(text("ANALYZE outbox"))
    engine.dispose()


def sent_count(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(sa_url(database_url))
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar()
    engine.dispose()
    return count


# -- the workers --------------------------------------------------------------------------


def _child_signals() -> None:
    # The parent's handlers turn SIGTERM into SystemExit; a worker ended by the parent just stops.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _drain_worker(config: dict, ready, go, results) -> None:
    _child_signals()
    from app import create_app
    from app.extensions import db
    from app.notify.sender import DrainReport, drain, pending_count

    app = create_app(config)
    total = DrainReport()
    with app.app_context():
        from app.wechat.client import official_account

        official_account().access_token  # fetch the token before the clock starts  # noqa: B018
        ready.release()
        go.wait()
        while True:
            report = drain(limit=500)
            total.add(report)
            if report.handled == 0 and pending_count() == 0:
                break
        db.engine.dispose()
    results.put((total.sent, total.retrying, total.dead, total.undeliverable))


def _post_worker(api_base: str, offset: int, count: int, threads: int, ready, go, results) -> None:
    """Post ``count`` template messages straight to the mock from ``threads`` threads, one session each."""
    _child_signals()
    import threading

    import requests

    token = requests.get(
        f"{api_base}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": "wxbench", "secret": "bench"},
        timeout=5,
    ).json()["access_token"]
    oks = [0] * threads

    def post(n: int) -> None:
        http = requests.Session()
        for i in range(offset + n, offset + count, threads):
            body = {
                "touser": f"oCapacity{i:019d}",
                "template_id": "TPL_RECEPTION",
                "data": {"thing1": {"value": "压测专题接待"}, "time2": {"value": "2026-12-15 09:00"}},
                "url": "https://jzd.example.cn/s/bench",
                "client_msg_id": f"capacity-{i}",
            }
            answer = http.post(
                f"{api_base}{TEMPLATE_PATH}", params={"access_token": token}, json=body, timeout=(1.5, 2.5)
            ).json()
            oks[n] += answer.get("errcode") == 0

    ready.release()
    go.wait()
    pool = [threading.Thread(target=post, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put(sum(oks))


def _run_processes(
    target, argsets: list[tuple], *, limit_s: float = 3600, progress=None
) -> tuple[float, list]:
    """Start one process per argument set, all at once; time until all are done (or ``limit_s``).

    Returns the seconds and each process's result; processes still running at the limit
    are terminated and give no result. ``progress()`` is called every 10 s.
    """
    ctx = multiprocessing.get_context("fork")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    processes = [ctx.Process(target=target, args=(*a, ready, go, results)) for a in argsets]
    try:
        for process in processes:
            process.start()
        for _ in processes:
            if not ready.acquire(timeout=120):
                raise SystemExit("a worker did not get ready")
        started = time.perf_counter()
        go.set()
        out = []
        next_report = started + 10
        while len(out) < len(processes) and time.perf_counter() - started < limit_s:
            with contextlib.suppress(queue.Empty):
                out.append(results.get(timeout=1))
            if progress is not None and time.perf_counter() >= next_report:
                progress(time.perf_counter() - started)
                next_report += 10
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.join(timeout=2)  # those that delivered their result are exiting
            if process.is_alive():
                process.terminate()
            process.join(timeout=30)
    return seconds, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="followers of the station")
    parser.add_argument("--workers", type=int, default=4, help="sender processes (and capacity posters)")
    parser.add_argument(
        "--threads",
        type=int,
        default=8,
        help="send threads per worker (OUTBOX_SEND_THREADS); the capacity posters use as many",
    )
    parser.add_argument("--batch", type=int, default=50, help="rows claimed at once (OUTBOX_BATCH_SIZE)")
    parser.add_argument(
        "--capacity-count", type=int, default=20_000, help="messages posted to measure the mock's capacity"
    )
    parser.add_argument(
        "--rate", type=float, default=0, help="OUTBOX_RATE_PER_SECOND for the workers (0: no limit)"
    )
    add_pg_admin_option(parser)
    parser.add_argument(
        "--time-limit", type=float, default=900, help="stop the drain after this many seconds"
    )
    parser.add_argument(
        "--pending-index",
        action="store_true",
        help="experiment: add a partial index on outbox(id) WHERE status='pending' before draining",
    )
    args = parser.parse_args()

    stop_on_signals()
    scratch = ScratchDatabase(args.pg_admin_url, f"jzd_fanout_{os.getpid()}")
    database_url = scratch.create()
    mock = None
    try:
        mock, api_base = mock_wechat()
        config = _config(database_url, api_base, args.rate, args.threads, args.batch)

        started = time.perf_counter()
        station_id = prepare(config, args.count)
        print(f"{args.count} followers of one station set up in {time.perf_counter() - started:.1f} s")

        enqueue_s, queued = announce(config, station_id)
        print(f"enqueue: {queued} outbox rows in {enqueue_s:.2f} s (target < 20 s)", flush=True)
        tune(database_url, args.pending_index)
        if args.pending_index:
            print("experiment: partial index on outbox(id) WHERE status = 'pending'")

        per = args.capacity_count // args.workers
        cap_s, oks = _run_processes(
            _post_worker, [(api_base, n * per, per, args.threads) for n in range(args.workers)]
        )
        capacity = sum(oks) / cap_s
        print(
            f"mock capacity: {sum(oks)} template sends by {args.workers} processes × {args.threads} threads"
            f" in {cap_s:.1f} s",
            flush=True,
        )

        import requests

        requests.delete(f"{api_base}/_mock/requests", timeout=5)
        last = {"t": 0.0, "sent": 0}

        def progress(elapsed: float) -> None:
            done = sent_count(database_url)
            window = (done - last["sent"]) / (elapsed - last["t"])
            print(f"  {elapsed:6.0f} s: {done:>7} sent, {window:6.0f}/s over the last interval", flush=True)
            last.update(t=elapsed, sent=done)

        drain_s, outcomes = _run_processes(
            _drain_worker, [(config,)] * args.workers, limit_s=args.time_limit, progress=progress
        )
        sent = sent_count(database_url)
        rate = sent / drain_s
        finished = len(outcomes) == args.workers
        print(
            f"drain: {sent} of {queued} sent by {args.workers} worker processes in {drain_s:.1f} s"
            + ("" if finished else f" (STOPPED at the {args.time_limit:.0f} s limit)")
            + (
                f" (retrying {sum(o[1] for o in outcomes)}, dead {sum(o[2] for o in outcomes)}, "
                f"undeliverable {sum(o[3] for o in outcomes)})"
                if finished
                else ""
            )
        )
        ratio = rate / capacity
        print(f"\n{'':<18} {'msgs/s':>9}")
        print(f"{'outbox workers':<18} {rate:>9.0f}")
        print(f"{'mock capacity':<18} {capacity:>9.0f}")
        print(f"ratio {ratio:.2f} (target ≥ 0.8); {os.cpu_count()} CPUs, everything on this machine")
        ok = enqueue_s < 20 and ratio >= 0.8 and sent == queued
        print("targets:", "met" if ok else "NOT met")
    finally:
        if mock is not None:
            mock.stop(timeout=15)
        scratch.drop()


if __name__ == "__main__":
    main()
