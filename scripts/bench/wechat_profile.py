"""Where a ``POST /wechat`` spends its time: statements and CPU per push, by kind, in-process.

Wall-clock load tests need a quiet machine; this does not. It builds a fresh PostgreSQL
database like ``wechat_endpoint.py``, sends the same mix of signed pushes through Flask's
test client in one thread, and reports for each kind of push (SCAN, 值班, 进度, 留言, help)
the SQL statements it sent and the CPU it used, then cProfile's top functions.

    .venv/bin/python scripts/bench/wechat_profile.py --count 2000
    .venv/bin/python scripts/bench/wechat_profile.py --count 2000 --top 40 --sort tottime
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from wechat_endpoint import TOKEN, build_pushes, first_scans, prepare_database  # noqa: E402


def _kind(body: bytes) -> str:
    text = body.decode("utf-8")
    if "<Event><![CDATA[SCAN]]>" in text:
        return "SCAN"
    for word in ("值班", "进度", "留言"):
        if f"<Content><![CDATA[{word}" in text:
            return word
    return "help"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--kind", help="profile listing of one kind only (SCAN, 值班, 进度, 留言, help)")
    parser.add_argument("--show-sql", action="store_true", help="print the SQL of one push of each kind")
    parser.add_argument(
        "--no-profile", dest="profile", action="store_false", help="CPU figures without cProfile"
    )
    parser.add_argument(
        "--pg-admin-url", default=os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()

    from sqlalchemy import create_engine, event, text

    admin = create_engine(args.pg_admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    name = f"jzd_profile_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = args.pg_admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        codes = prepare_database(database_url)
        from app import create_app
        from app.extensions import db

        # Not "production": the mock WeChat API then answers msg_sec_check in-process.
        app = create_app(
            {
                "APP_ENV": "bench",
                "SECRET_KEY": "bench-secret-key-0123456789abcdef",
                "SQLALCHEMY_DATABASE_URI": database_url,
                "REDIS_URL": None,
                "PUBLIC_BASE_URL": "https://jzd.example.cn",
                "WECHAT_TOKEN": TOKEN,
                "SCHEDULER_IN_PROCESS": False,
            }
        )
        client = app.test_client()
        statements = [0]
        shown: set[str] = set()
        current = {"kind": "", "show": False}

        def count(_conn, _cursor, statement, *_args) -> None:
            statements[0] += 1
            if current["show"]:
                print(f"  {current['kind']}: {' '.join(statement.split())[:150]}")

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)

        def post(path: str, body: bytes) -> None:
            parts = urlsplit(path)
            response = client.post(parts.path, query_string=dict(parse_qsl(parts.query)), data=body)
            assert response.status_code == 200, response.status_code
            assert "稍后再试" not in response.get_data(as_text=True)

        run = 1
        for path, body in first_scans(run, codes):  # warm up: every resident follows a station
            post(path, body)

        per_kind: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
        by_kind: dict[str, cProfile.Profile] = defaultdict(cProfile.Profile)
        for path, body in build_pushes(args.count, codes, run):
            kind = _kind(body)
            current.update(kind=kind, show=args.show_sql and kind not in shown)
            shown.add(kind)
            before, cpu = statements[0], time.process_time()
            if args.profile:
                by_kind[kind].enable()
            post(path, body)
            if args.profile:
                by_kind[kind].disable()
            row = per_kind[kind]
            row[0] += 1
            row[1] += statements[0] - before
            row[2] += time.process_time() - cpu

        print(f"\n{args.count} pushes on PostgreSQL, in-process (test client, one thread)\n")
        # Unlike CPU time, the count of Python calls does not depend on how busy the machine is.
        calls = {kind: pstats.Stats(p).total_calls for kind, p in by_kind.items()} if args.profile else {}
        print(f"{'kind':<6} {'pushes':>7} {'statements':>11} {'CPU ms':>8} {'py calls':>9}")
        total = [0, 0, 0.0]
        for kind, (n, stmts, cpu) in sorted(per_kind.items()):
            per_push = calls.get(kind, 0) / n
            print(f"{kind:<6} {n:>7} {stmts / n:>11.1f} {cpu / n * 1000:>8.2f} {per_push:>9.0f}")
            total = [total[0] + n, total[1] + stmts, total[2] + cpu]
        all_calls = sum(calls.values()) / total[0]
        print(
            f"{'all':<6} {total[0]:>7} {total[1] / total[0]:>11.1f} "
            f"{total[2] / total[0] * 1000:>8.2f} {all_calls:>9.0f}"
        )
        print("(statements include BEGIN-less SQL only; the driver adds BEGIN and COMMIT round trips)\n")
        if args.profile and args.top:
            chosen = [p for kind, p in by_kind.items() if args.kind in (None, kind)]
            pstats.Stats(*chosen).sort_stats(args.sort).print_stats(args.top)
        with app.app_context():
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
