"""Drill: the WeChat API is down for ten minutes (time-compressed); the outbox catches up afterwards.

Starts the mock WeChat API, a private redis-server, a fresh database on the PostgreSQL server of
``--pg-admin-url`` and two outbox workers (``flask outbox drain --forever``). Pushes are queued
steadily before, during and after the outage. The outage is the mock answering every template
send with errcode -1 (系统繁忙) for ``600 / --compress`` seconds; the workers' back-off is
compressed by the same factor (OUTBOX_RETRY_BASE_S 30 s → 30/N, OUTBOX_RETRY_MAX_S 1 h → 3600/N).

Passes when: every push queued is sent exactly once as far as WeChat can tell (each
client_msg_id delivered, no row dead or undeliverable), the backlog is gone within the outage's
length again after WeChat is back, and the failures were counted by errcode in the metrics.

    python scripts/drills/wechat_down.py [--compress 30] [--rate 4]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness import BIN, PrivateRedis, Process, ScratchDatabase, Verdict, app_env, mock_wechat, sa_url, say

TEMPLATE_SEND = "/cgi-bin/message/template/send"


def _status_counts(engine) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())


def run(compress: float = 30.0, rate: float = 4.0, pg_admin_url: str | None = None) -> bool:
    from sqlalchemy import create_engine, text

    pg_admin_url = pg_admin_url or os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    outage = 600 / compress
    workdir = Path(tempfile.mkdtemp(prefix="jzd-drill-wechat-"))
    name = f"jzd_drill_wechat_{os.getpid()}"
    scratch = ScratchDatabase(pg_admin_url, name)
    database_url = scratch.create()
    redis = PrivateRedis(workdir)
    running: list[Process] = []
    verdict = Verdict()
    engine = None
    try:
        from flask_migrate import upgrade

        from app import create_app

        config = {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None, "SCHEDULER_IN_PROCESS": False}
        with create_app(config).app_context():
            upgrade()
        engine = create_engine(sa_url(database_url))
        redis.start()
        mock, mock_url = mock_wechat(workdir)
        running.append(mock)
        metrics = workdir / "prometheus"
        metrics.mkdir()
        env = app_env(
            database_url,
            redis.url,
            mock_url,
            OUTBOX_RETRY_BASE_S=str(30 / compress),
            OUTBOX_RETRY_MAX_S=str(3600 / compress),
            PROMETHEUS_MULTIPROC_DIR=str(metrics),
        )
        for i in (1, 2):
            running.append(
                Process(
                    [str(BIN / "flask"), "--app", "wsgi", "outbox", "drain", "--forever"],
                    env=env,
                    log=workdir / f"outbox-{i}.log",
                ).start()
            )
        say(
            f"setup: database {name}, mock WeChat at {mock_url}, 2 outbox workers; time compressed "
            f"{compress:g}x: outage {outage:.0f} s, back-off {30 / compress:g} s doubling up to "
            f"{3600 / compress:g} s; logs in {workdir}"
        )

        keys: list[str] = []
        stop = threading.Event()

        def enqueue() -> None:
            run_id = uuid.uuid4().hex[:8]
            n = 0
            while not stop.is_set():
                key = f"drill:{run_id}:{n}"
                with engine.begin() as conn:
                    conn.execute(
                        text(
                            "INSERT INTO outbox (kind, channel, openid, template, data, dedup_key, "
                            "status, attempts, last_error, created_at, updated_at) VALUES "
                            "('opinion_update', 'template', :openid, 'TPL_OPINION_UPDATE', "
                            "CAST(:data AS JSON), :key, 'pending', 0, '', now(), now())"
                        ),
                        {
                            "openid": f"oDrill{n:06d}",
                            "data": '{"fields": {"thing1": "留言已受理"}}',
                            "key": key,
                        },
                    )
                keys.append(key)
                n += 1
                stop.wait(1 / rate)

        producer = threading.Thread(target=enqueue, daemon=True)
        producer.start()
        time.sleep(5)
        say(f"fault: WeChat answers every template send with errcode -1 for {outage:.0f} s")
        requests.post(
            f"{mock_url}/_mock/faults", json={"path": TEMPLATE_SEND, "errcode": -1, "times": 10**6}, timeout=5
        ).raise_for_status()
        down_at = time.monotonic()
        while time.monotonic() < down_at + outage:
            time.sleep(min(5.0, down_at + outage - time.monotonic()))
            say(f"      during the outage: {_status_counts(engine)}")
        requests.delete(f"{mock_url}/_mock/faults", timeout=5).raise_for_status()
        up_at = time.monotonic()
        say("repair: WeChat answers again")
        time.sleep(5)
        stop.set()
        producer.join()
        queued = len(keys)
        deadline = up_at + outage + 10
        caught_up = None
        while time.monotonic() < deadline:
            counts = _status_counts(engine)
            if not counts.get("pending"):
                caught_up = time.monotonic() - up_at
                break
            time.sleep(0.5)
        counts = _status_counts(engine)
        say(f"after: {counts} of {queued} queued")
        verdict.check(
            caught_up is not None,
            f"backlog gone {caught_up:.1f} s after WeChat came back (≈ {caught_up * compress / 60:.1f} min "
            f"uncompressed; allowed {outage + 10:.0f} s)"
            if caught_up is not None
            else f"backlog NOT gone within {outage + 10:.0f} s of WeChat coming back",
        )
        verdict.check(
            counts.get("sent", 0) == queued and not counts.get("dead") and not counts.get("undeliverable"),
            f"all {queued} pushes sent, none given up",
        )
        records = requests.get(
            f"{mock_url}/_mock/requests", params={"path": TEMPLATE_SEND}, timeout=10
        ).json()
        refused = [r for r in records["items"] if r.get("errcode") == -1]
        delivered = [r for r in records["items"] if r.get("errcode") == 0 and not r.get("duplicate")]
        expected = {hashlib.sha1(k.encode()).hexdigest()[:32] for k in keys}  # noqa: S324 - sender.client_msg_id
        got = [r["json"].get("client_msg_id") for r in delivered]
        verdict.check(len(refused) > 0, f"the outage was real: {len(refused)} sends refused with -1")
        verdict.check(
            set(got) == expected and len(got) == len(expected),
            f"WeChat delivered each push once: {len(set(got))} distinct of {len(expected)}, "
            f"{len(got)} deliveries",
        )
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(metrics))
        counted = registry.get_sample_value("jzd_wechat_api_errors_total", {"errcode": "-1"}) or 0
        verdict.check(counted == len(refused), f"metrics counted {counted:.0f} WeChat errors with errcode -1")
        verdict.check(all(p.alive for p in running), "the mock and both workers are still running")
    finally:
        for process in reversed(running):
            process.stop()
        redis.stop()
        if engine is not None:
            engine.dispose()
        scratch.drop()
    say("RESULT: " + ("PASSED" if verdict.ok else "FAILED: " + "; ".join(verdict.failures)))
    return verdict.ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compress", type=float, default=30.0, help="time factor (30: 10 min → 20 s)")
    parser.add_argument("--rate", type=float, default=4.0, help="pushes queued a second")
    parser.add_argument("--pg-admin-url", default=None)
    args = parser.parse_args()
    return 0 if run(args.compress, args.rate, args.pg_admin_url) else 1


if __name__ == "__main__":
    sys.exit(main())
