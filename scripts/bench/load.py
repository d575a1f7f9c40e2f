"""A third-Tuesday morning (代表联系服务群众日): residents scanning, reading, booking, leaving opinions.

``--residents`` residents (default 2,000) arrive at random within ``--minutes`` (default 10);
``--compress N`` plays those minutes N times faster. Each resident scans a station's plaque and
then, as on the day: 60% use the H5 pages (station, booking form and booking, opinion form and
opinion, tracking page), 25% the mini-program API (sign in, station, receptions, booking,
opinion), 15% the official account (a signed SCAN push to /wechat, then 留言/值班/进度).
40% try to book, 30% leave an opinion. Each resident comes from an address of their own (as
nginx passes it, TRUSTED_PROXIES=1), so per-address limits apply as in production.

The service runs as in production: gunicorn with gunicorn.conf.py, PostgreSQL (a fresh database
on ``--pg-admin-url``'s server, dropped afterwards), Redis (a private redis-server unless
``--redis-url`` is given), one outbox worker (``flask outbox drain --forever``) and the
standalone mock WeChat API. Prints throughput, p50/p99 per route and errors, then checks that
every booking and opinion acknowledged to a resident is in the database.

    python scripts/bench/load.py                                   # the full morning, 10 minutes
    python scripts/bench/load.py --residents 200 --compress 20     # a quick check, 30 seconds

Target (issue 10): p99 under 300 ms and zero errors. Exit status 1 on any error or lost record.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "drills"))
sys.path.insert(0, str(ROOT))

from harness import (  # noqa: E402
    Gunicorn,
    PrivateRedis,
    Recorder,
    app_env,
    missing_acknowledged,
    mock_wechat,
    outbox_worker,
    prepare_world,
    print_table,
    run_residents,
    say,
)

from scripts.benchlib import ScratchDatabase, add_pg_admin_option  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10.0, help="the morning's rush, in real minutes")
    parser.add_argument("--compress", type=float, default=1.0, help="play the minutes this many times faster")
    parser.add_argument("--stations", type=int, default=60, help="stations with a reception tomorrow")
    parser.add_argument("--capacity", type=int, default=20, help="seats per 30-minute slot")
    parser.add_argument("--workers", type=int, default=os.cpu_count() * 2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--client-threads", type=int, default=64, help="concurrent residents at most")
    add_pg_admin_option(
        parser, help="a database on the server to use for CREATE DATABASE (a fresh one is made and dropped)"
    )
    parser.add_argument(
        "--redis-url", default=None, help="an existing Redis (default: a private redis-server)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="jzd-load-"))
    name = f"jzd_load_{os.getpid()}"
    scratch = ScratchDatabase(args.pg_admin_url, name)
    database_url = scratch.create()
    running: list = []
    redis = None
    try:
        say(f"preparing {args.stations} stations with a reception tomorrow in {name}")
        world = prepare_world(database_url, stations=args.stations, capacity=args.capacity)
        if args.redis_url:
            redis_url = args.redis_url
        else:
            redis = PrivateRedis(workdir)
            redis.start()
            redis_url = redis.url
        mock, mock_url = mock_wechat(workdir)
        running.append(mock)
        env = app_env(database_url, redis_url, mock_url)
        web = Gunicorn(env, workdir, workers=args.workers, threads=args.threads).start()
        running.append(web)
        running.append(outbox_worker(env, workdir, web))
        seconds = args.minutes * 60 / args.compress
        say(
            f"{args.residents} residents over {args.minutes:g} min"
            f"{f' compressed {args.compress:g}x to {seconds:.0f} s' if args.compress != 1 else ''}; "
            f"gunicorn {args.workers} workers x {args.threads} threads on {os.cpu_count()} CPUs; "
            f"logs in {workdir}"
        )
        # Warm-up: a few residents, not counted (first requests compile templates, fill pools).
        run_residents(web.base_url, world, Recorder(), 20, 2, threads=8, seed=args.seed + 1)
        recorder = Recorder()
        elapsed = run_residents(
            web.base_url,
            world,
            recorder,
            args.residents,
            seconds,
            threads=args.client_threads,
            seed=args.seed,
        )
        summary = print_table(recorder, elapsed)
        lost_bookings, lost_opinions = missing_acknowledged(database_url, recorder)
        print(
            f"\nacknowledged: {len(recorder.bookings)} bookings, {len(recorder.opinions)} opinions; "
            f"missing from the database: {len(lost_bookings)} bookings, {len(lost_opinions)} opinions"
        )
        for problem in recorder.problems[:10]:
            print("  error:", problem)
        met = summary["errors"] == 0 and summary["p99"] < 300
        print("target (p99 < 300 ms, 0 errors):", "met" if met else "NOT met")
        return 0 if summary["errors"] == 0 and not lost_bookings and not lost_opinions else 1
    finally:
        for process in reversed(running):
            process.stop()
        if redis is not None:
            redis.stop()
        scratch.drop()


if __name__ == "__main__":
    sys.exit(main())
