"""Drill: Redis stops during load. The pages, the API and /wechat keep answering; nothing is lost.

Starts a private redis-server (never the machine's 6379), a fresh database on the PostgreSQL
server of ``--pg-admin-url`` (never stopped), the mock WeChat API and gunicorn with REDIS_URL
pointing at the private Redis. Residents arrive steadily (H5, API, WeChat pushes); after a
third of the run Redis is killed, and brought back (empty) after another third.

Passes when: every request got its normal answer (no 5xx, no "try again" on /wechat, no
refused connection) before, during and after the outage; /healthz stays 200 reporting
redis "error" while it is down and "ok" after; every booking and opinion acknowledged to a
resident is in the database.

    python scripts/drills/redis_down.py [--residents 150] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness import (
    BackgroundLoad,
    Gunicorn,
    PrivateRedis,
    ScratchDatabase,
    Verdict,
    app_env,
    health,
    missing_acknowledged,
    mock_wechat,
    prepare_world,
    print_table,
    say,
)


def run(residents: int = 150, seconds: float = 30.0, pg_admin_url: str | None = None) -> bool:
    pg_admin_url = pg_admin_url or os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    workdir = Path(tempfile.mkdtemp(prefix="jzd-drill-redis-"))
    name = f"jzd_drill_redis_{os.getpid()}"
    scratch = ScratchDatabase(pg_admin_url, name)
    database_url = scratch.create()
    redis = PrivateRedis(workdir)
    running = []
    verdict = Verdict()
    try:
        say(f"setup: database {name}, private redis-server on port {redis.port}, logs in {workdir}")
        world = prepare_world(database_url, stations=10, capacity=30)
        redis.start()
        mock, mock_url = mock_wechat(workdir)
        running.append(mock)
        web = Gunicorn(app_env(database_url, redis.url, mock_url), workdir).start()
        running.append(web)
        verdict.check(
            health(web.base_url) == (200, {"status": "ok", "db": "ok", "redis": "ok"}), "healthy at start"
        )

        say(f"load: {residents} residents over {seconds:.0f} s (H5, mini-program API, WeChat pushes)")
        load = BackgroundLoad(web.base_url, world, residents, seconds).start()
        time.sleep(seconds / 3)
        say("fault: killing redis-server (SIGKILL)")
        redis.stop()
        down_at = time.monotonic()
        time.sleep(1)
        status, body = health(web.base_url)
        verdict.check(
            status == 200 and body.get("redis") == "error",
            f"/healthz while Redis is down: {status} {body}",
        )
        time.sleep(max(0.0, seconds / 3 - 1))
        say("repair: starting redis-server again (empty)")
        redis.start()
        up_at = time.monotonic()
        elapsed = load.join()
        time.sleep(1)
        verdict.check(
            health(web.base_url) == (200, {"status": "ok", "db": "ok", "redis": "ok"}),
            "/healthz after Redis is back reports it ok",
        )

        summary = print_table(load.recorder, elapsed)
        during = load.between(down_at, up_at)
        bad = [s for s in load.recorder.samples if s.outcome not in ("ok", "full")]
        verdict.check(len(during) > 0, f"{len(during)} requests answered while Redis was down")
        verdict.check(not bad, f"every request answered normally ({len(bad)} not)")
        for problem in load.recorder.problems[:10]:
            say(f"      {problem}")
        lost_b, lost_o = missing_acknowledged(database_url, load.recorder)
        verdict.check(
            not lost_b and not lost_o,
            f"all {len(load.recorder.bookings)} bookings and {len(load.recorder.opinions)} opinions "
            f"acknowledged are stored (missing: {lost_b + lost_o})",
        )
        slow = [s for s in during if s.ms > 2000]
        verdict.check(not slow, f"no request took over 2 s while Redis was down ({len(slow)} did)")
        say(f"requests: {summary['total']}, p99 {summary['p99']:.0f} ms")
    finally:
        for process in reversed(running):
            process.stop()
        redis.stop()
        scratch.drop()
    say("RESULT: " + ("PASSED" if verdict.ok else "FAILED: " + "; ".join(verdict.failures)))
    return verdict.ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--pg-admin-url", default=None)
    args = parser.parse_args()
    return 0 if run(args.residents, args.seconds, args.pg_admin_url) else 1


if __name__ == "__main__":
    sys.exit(main())
