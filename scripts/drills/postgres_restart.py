"""Drill: PostgreSQL restarts during load. The gap answers 503, nothing acknowledged is lost, all recovers.

Starts a private PostgreSQL cluster (initdb on a free port; never the machine's 5432), a
private redis-server, the mock WeChat API, gunicorn and one outbox worker (``flask outbox
drain --forever``). Residents arrive steadily; after a third of the run PostgreSQL is stopped
the hard way (``pg_ctl stop -m immediate``: a crash, recovered from the WAL at start) and
started again ``--down`` seconds later.

Passes when: no request got a 500 or no answer at all (the gap answers 503 with Retry-After,
or "try again later" on /wechat); within ``--recover`` seconds of PostgreSQL being back every
request succeeds again, without restarting anything (pool_pre_ping); every booking and opinion
acknowledged to a resident is in the database; the outbox worker is still running and the
outbox drains.

    python scripts/drills/postgres_restart.py [--residents 150] [--seconds 36] [--down 6]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness import (
    BackgroundLoad,
    Gunicorn,
    PrivatePostgres,
    PrivateRedis,
    Verdict,
    app_env,
    health,
    missing_acknowledged,
    mock_wechat,
    outbox_worker,
    prepare_world,
    print_table,
    sa_url,
    say,
)


def _pending(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(sa_url(database_url))
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar()
    engine.dispose()
    return count


def run(residents: int = 150, seconds: float = 36.0, down: float = 6.0, recover: float = 5.0) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="jzd-drill-pg-"))
    pg = PrivatePostgres(workdir)
    redis = PrivateRedis(workdir)
    running = []
    verdict = Verdict()
    try:
        say(
            f"setup: private PostgreSQL on port {pg.port} ({pg.data}), redis on {redis.port}, "
            f"logs in {workdir}"
        )
        pg.init()
        pg.start()
        database_url = pg.create_database("jiazhandian")
        world = prepare_world(database_url, stations=10, capacity=30)
        redis.start()
        mock, mock_url = mock_wechat(workdir)
        running.append(mock)
        env = app_env(database_url, redis.url, mock_url)
        web = Gunicorn(env, workdir).start()
        running.append(web)
        worker = outbox_worker(env, workdir, web)
        running.append(worker)
        verdict.check(health(web.base_url)[0] == 200, "healthy at start")

        say(f"load: {residents} residents over {seconds:.0f} s (H5, mini-program API, WeChat pushes)")
        load = BackgroundLoad(web.base_url, world, residents, seconds).start()
        time.sleep(seconds / 3)
        say("fault: pg_ctl stop -m immediate (as if the server crashed)")
        pg.stop("immediate")
        down_at = time.monotonic()
        time.sleep(1)
        status, body = health(web.base_url)
        verdict.check(status == 503 and body.get("db") == "error", f"/healthz in the gap: {status} {body}")
        time.sleep(max(0.0, down - 1))
        say("repair: starting PostgreSQL again (crash recovery)")
        pg.start()
        up_at = time.monotonic()
        elapsed = load.join()

        summary = print_table(load.recorder, elapsed)
        samples = load.recorder.samples
        gap = load.between(down_at, up_at)
        unclean = [s for s in samples if s.status == 0 or (s.status >= 500 and s.status != 503)]
        verdict.check(not unclean, f"no 500 and no unanswered request ({len(unclean)}: {unclean[:3]})")
        failed_in_gap = [s for s in gap if s.outcome not in ("ok", "full")]
        verdict.check(
            all(s.outcome in ("unavailable", "sorry") for s in failed_in_gap),
            f"requests in the gap failed cleanly: {len(failed_in_gap)} of {len(gap)} answered 503 "
            "(or 'try again later' on /wechat)",
        )
        outside = [s for s in samples if s.at < down_at - 0.5 or s.at > up_at + recover]
        bad_outside = [s for s in outside if s.outcome not in ("ok", "full")]
        verdict.check(
            not bad_outside,
            f"before the fault and from {recover:.0f} s after PostgreSQL is back, every request succeeds "
            f"({len(bad_outside)} of {len(outside)} did not)",
        )
        after = [s for s in samples if s.at > up_at + recover]
        verdict.check(len(after) > 20, f"{len(after)} requests served after recovery")
        lost_b, lost_o = missing_acknowledged(database_url, load.recorder)
        verdict.check(
            not lost_b and not lost_o,
            f"all {len(load.recorder.bookings)} bookings and {len(load.recorder.opinions)} opinions "
            f"acknowledged are stored (missing: {lost_b + lost_o})",
        )
        verdict.check(worker.alive, "the outbox worker survived the restart")
        deadline = time.monotonic() + 30
        while _pending(database_url) and time.monotonic() < deadline:
            time.sleep(1)
        left = _pending(database_url)
        verdict.check(left == 0, f"the outbox drained after the restart ({left} pending)")
        verdict.check(health(web.base_url)[0] == 200, "/healthz is 200 again")
        say(f"requests: {summary['total']}, in the gap: {len(gap)}; p99 {summary['p99']:.0f} ms")
    finally:
        for process in reversed(running):
            process.stop()
        redis.stop()
        pg.destroy()
    say("RESULT: " + ("PASSED" if verdict.ok else "FAILED: " + "; ".join(verdict.failures)))
    return verdict.ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=36.0)
    parser.add_argument("--down", type=float, default=6.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--recover", type=float, default=5.0, help="seconds allowed to recover")
    args = parser.parse_args()
    return 0 if run(args.residents, args.seconds, args.down, args.recover) else 1


if __name__ == "__main__":
    sys.exit(main())
