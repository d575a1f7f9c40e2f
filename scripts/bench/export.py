"""Benchmark of the Excel export: time and peak memory for N opinions against N/10 (memory must stay flat).

On a fresh PostgreSQL database (made here, dropped at the end; ``--sqlite`` for a temporary
SQLite file instead) it loads ``--count`` opinions (default 100,000) at one station, then
exports the opinions list twice, each in a child process of its own: the first ``count/10``
opinions (one community's) and all of them. Each child starts the app, resets its peak RSS
(``/proc/self/clear_refs``), exports, and prints the wall time and how much the peak
resident memory rose above the started app's. Streaming keeps that rise about the same for
both sizes; time grows with the rows.

    .venv/bin/python scripts/bench/export.py                    # 100,000 vs 10,000 on PostgreSQL
    .venv/bin/python scripts/bench/export.py --count 10000      # reduced scale
    .venv/bin/python scripts/bench/export.py --count 10000 --sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import ScratchDatabase, sa_url  # noqa: E402

START = datetime(2026, 1, 1, 8, tzinfo=UTC)
CHUNK = 5_000


def _app(database_url: str):
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-secret-key-0123456789",
            "SCHEDULER_IN_PROCESS": False,
            "REDIS_URL": None,
        }
    )


def _seed(database_url: str, count: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app.extensions import db
    from app.opinions.models import Opinion
    from app.regions.service import create_region
    from app.stations.service import create_station

    app = _app(database_url)
    with app.app_context():
        upgrade()
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213001", name="崇安寺街道", parent=district)
        village = create_region(code="320213001001", name="测试社区", parent=town)
        other = create_region(code="320213001002", name="另一社区", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "测试社区人大代表联络站", "address": "测试路1号"}
        )
        station_b = create_station(
            region=other, kind="station", data={"name": "另一社区人大代表联络站", "address": "测试路2号"}
        )
        db.session.commit()
        small = max(1, count // 10)
        for first in range(0, count, CHUNK):
            rows = [
                {
                    "tracking_no": f"B{n:011d}",
                    "channel": "h5",
                    "station_id": station.id if n < small else station_b.id,
                    "content": f"第{n}条意见：小区门口的路灯坏了两周，晚上出行不便，请尽快修复。" * 2,
                    "contact_name": "王秀英",
                    "contact_mobile": "13912345678",
                    "status": "pending",
                    "content_check": "unchecked",
                    "created_at": START + timedelta(seconds=n * 60),
                    "updated_at": START,
                }
                for n in range(first, min(first + CHUNK, count))
            ]
            db.session.execute(insert(Opinion), rows)
            db.session.commit()
            print(f"  seeded {min(first + CHUNK, count):,}/{count:,}", end="\r", flush=True)
        print()
    with app.app_context():
        db.engine.dispose()


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _child(database_url: str, out: str, region: str | None) -> None:
    """Run one export and print its time and the peak memory it added to the started app."""
    from app.exports.opinions import operator_select, opinions_workbook
    from app.exports.xlsx import write_workbook

    app = _app(database_url)
    with app.app_context():
        before = _status_kb("VmRSS")
        # Reset the peak (VmHWM) to the current RSS (Linux ≥ 4.0), so start-up does not count.
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        started = time.perf_counter()
        rows = write_workbook(opinions_workbook(operator_select(region, None, None)), Path(out))
        seconds = time.perf_counter() - started
        peak = _status_kb("VmHWM")
    print(
        json.dumps(
            {"rows": rows, "seconds": seconds, "rss_mb": before / 1024, "added_mb": (peak - before) / 1024}
        )
    )


def _run_child(database_url: str, out: str, region: str | None) -> dict:
    args = [sys.executable, __file__, "--child", "--url", database_url, "--out", out]
    if region:
        args += ["--region", region]
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    parser.add_argument("--region", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.url, args.out, args.region)
        return

    workdir = Path(tempfile.mkdtemp(prefix="jzd-bench-export-"))
    scratch = None
    if args.sqlite:
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        scratch = ScratchDatabase(args.pg, f"jzd_bench_export_{uuid.uuid4().hex[:8]}")
        url = sa_url(scratch.create())

    try:
        print(f"Loading {args.count:,} opinions into {'SQLite' if args.sqlite else 'PostgreSQL'} …")
        _seed(url, args.count)
        runs = [
            ("small", _run_child(url, str(workdir / "small.xlsx"), "320213001001")),  # the first count/10
            ("large", _run_child(url, str(workdir / "large.xlsx"), None)),
        ]
        print(
            f"{'run':<6} {'rows':>9} {'seconds':>8} {'rows/s':>8} "
            f"{'app RSS MB':>10} {'export peak MB':>14} {'file MB':>8}"
        )
        for label, run in runs:
            size = (workdir / f"{label}.xlsx").stat().st_size / 1e6
            print(
                f"{label:<6} {run['rows']:>9,} {run['seconds']:>8.2f} {run['rows'] / run['seconds']:>8,.0f} "
                f"{run['rss_mb']:>10.1f} {run['added_mb']:>14.1f} {size:>8.1f}"
            )
        (_s, small), (_l, large) = runs
        print(
            f"\nrows ×{large['rows'] / small['rows']:.0f}: memory the export added "
            f"{small['added_mb']:.1f} MB → {large['added_mb']:.1f} MB (flat when streaming); "
            f"time ×{large['seconds'] / small['seconds']:.1f}"
        )
    finally:
        for path in workdir.iterdir():
            path.unlink(missing_ok=True)
        workdir.rmdir()
        if scratch is not None:
            scratch.drop()


if __name__ == "__main__":
    main()
