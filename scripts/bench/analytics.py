# ruff: noqa: S608 - the SQL here is built from this file's constants, never from input
"""Benchmark of 民意研判: dashboard pages and their queries on a million opinions.

On a fresh PostgreSQL database (made here, dropped at the end unless ``--keep``): the demo
city (``flask demo seed``: 312 stations, 529 deputies), then ``--count`` opinions (default
1,000,000) spread over the last three years across every station, loaded in one
``INSERT … SELECT generate_series`` with realistic statuses, timings, ratings and texts
built from local place names and common complaints; three years of 联系服务群众日 at every
station. Then the aggregate refresh runs once (timed), and for the city admin and a district
admin every dashboard page is fetched (full request, rendered) and every query function the
pages are built from is timed beside the bare SQL aggregate it rests on, with their ratio.

Targets (issue 9): each page under 1 s; no query slower than 3x its bare aggregate.

    .venv/bin/python scripts/bench/analytics.py                  # 1,000,000 opinions
    .venv/bin/python scripts/bench/analytics.py --count 50000    # quick check
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import ScratchDatabase, add_pg_admin_option, stop_on_signals  # noqa: E402

PASSWORD = "bench-pass-2026"  # noqa: S105 - the generated demo accounts' password
PLACES = [
    "惠山古镇",
    "崇安寺",
    "南长街",
    "清名桥",
    "学前街",
    "中山路",
    "人民路",
    "解放路",
    "梁溪河",
    "蠡湖",
    "太湖新城",
    "鼋头渚",
    "锡惠公园",
    "三阳广场",
    "东亭",
    "梅村",
    "硕放",
    "洛社",
    "前洲",
    "玉祁",
    "堰桥",
    "钱桥",
    "阳山",
    "马山",
    "雪浪",
    "华庄",
    "河埒",
    "荣巷",
    "旺庄",
    "江溪",
    "新安",
    "鸿山",
    "澄江",
    "周庄",
    "华士",
    "丁蜀",
    "张渚",
    "宜城",
    "北塘",
    "金匮",
    "广益",
    "黄巷",
    "扬名",
    "清扬路",
    "运河",
    "长广溪",
    "尚贤河",
    "五里湖",
    "安镇",
    "东北塘",
]
ISSUES = [
    "小区门口的路灯坏了，晚上出行不便",
    "老旧小区加装电梯推进太慢",
    "停车位太少，车辆乱停乱放",
    "电动车充电桩不够，楼道里飞线充电很危险",
    "菜市场周边卫生差，垃圾清运不及时",
    "公交站台没有遮雨棚",
    "人行道被占用，老人孩子只能走机动车道",
    "夜间施工噪音扰民",
    "窨井盖破损，存在安全隐患",
    "红绿灯时间太短，行人来不及过马路",
    "社区食堂供餐时间太短",
    "养老服务站活动太少",
    "学区划分不合理，孩子上学远",
    "河道有异味，希望加强治理",
    "广场舞音响声音太大",
    "物业费上涨但服务没有改善",
    "垃圾分类投放点设置不合理",
    "道路坑洼积水，雨天出行困难",
    "地铁站出口缺少非机动车停放点",
    "小区绿化被毁，改成了停车场",
    "健身器材损坏无人维修",
    "外卖电动车逆行，存在交通隐患",
    "农贸市场缺斤短两",
    "医院挂号难，希望增加号源",
    "社区卫生服务中心药品不全",
    "快递驿站占用消防通道",
    "道路标线模糊需要重新施划",
    "雨水管网堵塞，一下雨就积水",
    "违章建筑影响采光",
    "餐饮油烟扰民",
]
CATEGORIES = [
    "urban",
    "traffic",
    "environment",
    "education",
    "health",
    "social_security",
    "elderly",
    "community",
    "market",
    "agriculture",
    "safety",
    "legal",
    "other",
]


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


OPINIONS_SQL = """
WITH st AS (SELECT array_agg(id ORDER BY id) AS ids FROM stations),
r AS (
  SELECT g,
    now() - (random() * interval '1095 days') AS created,
    random() AS rs, random() AS rt, random() AS rp, random() AS rc, random() AS ra,
    random() AS rr, random() AS rq, random() AS rst
  FROM generate_series(1, :count) AS g
),
s AS (
  SELECT r.*,
    CASE
      WHEN rs < 0.04 THEN 'rejected' WHEN rs < 0.07 THEN 'merged' WHEN rs < 0.10 THEN 'guided'
      WHEN created > now() - interval '3 days' AND rs < 0.6 THEN 'pending'
      WHEN created > now() - interval '20 days' AND rs < 0.5 THEN 'assigned'
      WHEN created > now() - interval '30 days' AND rs < 0.6 THEN 'fed_back'
      WHEN rs < 0.11 THEN 'assigned'
      ELSE 'closed'
    END AS status
  FROM r
)
INSERT INTO opinions (
  tracking_no, channel, station_id, resident_id, content, category, status, is_legal,
  accept_due, accepted_at, assigned_at, deadline, replied_at, fed_back_at, satisfaction, rated_at,
  closed_at, created_at, updated_at
)
SELECT
  'B' || lpad(g::text, 11, '0'),
  (ARRAY['h5','wechat','miniapp','staff'])[1 + floor(rt * 4)::int],
  st.ids[1 + floor(rst * array_length(st.ids, 1))::int],
  'bench-' || floor(rq * :count / 3)::int,
  (:places)[1 + floor(rp * :nplaces)::int] || (:issues)[1 + floor(rt * :nissues)::int],
  CASE WHEN status IN ('pending', 'rejected') THEN NULL ELSE (:cats)[1 + floor(rc * :ncats)::int] END,
  status,
  status = 'guided',
  (created AT TIME ZONE 'Asia/Shanghai')::date + 3,
  CASE WHEN status IN ('pending', 'rejected') THEN NULL ELSE created + ra * interval '4 days' END,
  CASE WHEN status IN ('assigned', 'fed_back', 'closed', 'guided') THEN created + interval '4 days' END,
  CASE WHEN status IN ('assigned', 'fed_back', 'closed', 'guided')
       THEN (created AT TIME ZONE 'Asia/Shanghai')::date + 25 END,
  CASE WHEN status IN ('fed_back', 'closed') THEN created + (5 + rr * 28) * interval '1 day' END,
  CASE WHEN status IN ('fed_back', 'closed') THEN created + (6 + rr * 28) * interval '1 day' END,
  CASE WHEN status = 'closed' THEN
    CASE WHEN rq < 0.72 THEN 'satisfied' WHEN rq < 0.92 THEN 'basically_satisfied' ELSE 'unsatisfied' END END,
  CASE WHEN status = 'closed' THEN created + (7 + rr * 30) * interval '1 day' END,
  CASE WHEN status IN ('closed', 'rejected', 'merged') THEN created + (7 + rr * 30) * interval '1 day' END,
  created,
  least(created + (7 + rr * 30) * interval '1 day', now() - interval '1 hour')
FROM s, st
"""

SERVICE_DAYS_SQL = """
INSERT INTO receptions (station_id, date, start, "end", kind, topic, status, service_month, slot_minutes,
  slot_capacity, needs_confirmation, schedule_note, announced_at, created_at, updated_at)
SELECT s.id,
  (m + ((9 - extract(dow FROM m)::int) % 7) * interval '1 day' + interval '14 days')::date,
  time '09:00', time '11:30', 'service_day', '',
  CASE WHEN random() < 0.06 THEN 'cancelled' ELSE 'announced' END,
  to_char(m, 'YYYY-MM'), 30, 5, false, '', m, m, m
FROM stations s,
  generate_series(
    date_trunc('month', now() - interval '35 months'), date_trunc('month', now()), interval '1 month'
  ) m
ON CONFLICT (station_id, service_month) DO NOTHING
"""

DUTIES_SQL = """
INSERT INTO reception_duties (reception_id, deputy_id, created_at, updated_at)
SELECT r.id, p.deputy_id, now(), now()
FROM receptions r
JOIN LATERAL (
  SELECT deputy_id FROM placements WHERE station_id = r.station_id
  ORDER BY md5(r.id::text || deputy_id::text) LIMIT 2
) p ON true
ON CONFLICT DO NOTHING
"""


def prepare(config: dict, count: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.demo.service import seed_demo
    from app.extensions import db

    app = create_app(config)
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        seed_demo(PASSWORD)
        db.session.commit()
        print(f"demo city seeded: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        db.session.execute(text("SELECT setseed(0.42)"))
        sql = (
            OPINIONS_SQL.replace(":places", _sql_array(PLACES))
            .replace(":issues", _sql_array(ISSUES))
            .replace(":cats", _sql_array(CATEGORIES))
        )
        db.session.execute(
            text(sql),
            {"count": count, "nplaces": len(PLACES), "nissues": len(ISSUES), "ncats": len(CATEGORIES)},
        )
        db.session.execute(text(SERVICE_DAYS_SQL))
        db.session.execute(text(DUTIES_SQL))
        db.session.commit()
        print(f"{count:,} opinions and 3 years of service days loaded: {time.perf_counter() - t:.1f} s")
        db.session.remove()
        db.engine.dispose()


def vacuum(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _best(fn: Callable[[], object], repeat: int) -> float:
    """Median of ``repeat`` runs after one warm-up, in seconds."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


IN_SCOPE = (
    "station_id IN (SELECT s.id FROM stations s JOIN regions g ON g.id = s.region_id WHERE g.path LIKE :path)"
)
# Overdue and late acceptance are counted live from opinions (they depend on today's date).
LIVE_TODAY = (
    "SELECT count(*) FILTER (WHERE status = 'pending' AND accept_due < current_date), "
    "count(*) FILTER (WHERE status IN ('assigned', 'guided') AND deadline < current_date) "
    "FROM opinions WHERE status IN ('pending', 'assigned', 'guided') AND created_at >= :t0"
)
HELD = "SELECT id FROM receptions WHERE date BETWEEN :m0 AND :m1 AND status = 'announced'"
# The bare SQL each query function rests on (several statements where the function runs several).
# Built from constants only (no input reaches them).
BARE = {
    "totals": "SELECT days, sum(n) FROM analytics_close_days WHERE month BETWEEN :m0 AND :m1 "
    "GROUP BY days; "
    "SELECT sum(received), sum(accepted), sum(accepted_on_time), sum(closed), sum(replied_due), "
    "sum(replied_on_time), sum(fed_back), sum(rated), sum(satisfied) "
    "FROM analytics_opinion_months WHERE month BETWEEN :m0 AND :m1; " + LIVE_TODAY,
    "trend": "SELECT month, sum(received), sum(accepted), sum(closed) FROM analytics_opinion_months "
    "WHERE month BETWEEN :m0 AND :m1 GROUP BY month; " + LIVE_TODAY,
    "categories": "SELECT category, sum(received), sum(closed), sum(rated), sum(satisfied) "
    "FROM analytics_opinion_months WHERE month BETWEEN :m0 AND :m1 GROUP BY category; " + LIVE_TODAY,
    # The region table's function adds the stations up per table row in SQL (a join to a
    # station → row list); its bare reference stays the plain per-station grouping, without that.
    "region_table": "SELECT station_id, month, sum(received), sum(closed), sum(accepted) "
    "FROM analytics_opinion_months WHERE month BETWEEN :m0 AND :m1 GROUP BY station_id, month; " + LIVE_TODAY,
    "hot_words": "SELECT word, sum(n) FROM analytics_word_months WHERE month BETWEEN :m0 AND :m1 "
    "GROUP BY word; "
    "SELECT word, sum(n) FROM analytics_word_months WHERE month BETWEEN :p0 AND :p1 GROUP BY word",
    "clusters": "SELECT id, content FROM opinions WHERE created_at >= :t0 AND status <> 'merged' "
    "ORDER BY created_at DESC LIMIT 400",
    "work_figures": "SELECT count(*), count(*) FILTER (WHERE status = 'announced') "
    "FROM receptions WHERE date BETWEEN :m0 AND :m1 AND status <> 'cancelled'; "
    f"SELECT count(*) FROM bookings WHERE status = 'attended' AND reception_id IN ({HELD}); "
    f"SELECT count(*) FROM opinions WHERE channel = 'staff' AND reception_id IN ({HELD}); "
    "SELECT count(DISTINCT deputy_id) FROM placements; "
    f"SELECT count(DISTINCT deputy_id) FROM reception_duties WHERE reception_id IN ({HELD}); "
    "SELECT date FROM receptions WHERE date BETWEEN :m0 AND :m1 AND kind = 'service_day' "
    "AND status = 'announced'",
    "service_day_heat": "SELECT station_id, date FROM receptions WHERE date BETWEEN :m0 AND :m1 "
    "AND kind = 'service_day' AND status = 'announced'; SELECT id, name FROM stations",
}
RAW_TOTALS = (
    "SELECT count(*), count(accepted_at), count(*) FILTER (WHERE status = 'closed'), count(satisfaction) "
    "FROM opinions WHERE created_at >= :t0"
)


def _bare_for(region_wide: bool) -> dict[str, str]:
    """The bare statements; below the city they are limited to the region's stations, as the page is."""
    if region_wide:
        return dict(BARE)
    out = dict(BARE)
    for key in ("totals", "trend", "categories", "region_table", "hot_words"):
        out[key] = out[key].replace("WHERE month", f"WHERE {IN_SCOPE} AND month")
        out[key] = out[key].replace("WHERE status IN", f"WHERE {IN_SCOPE} AND status IN")
    return out


def _run_bare(sql: str, params: dict) -> None:
    from sqlalchemy import text

    from app.extensions import db

    for part in sql.split("; "):
        db.session.execute(text(part), params).all()


def _query_functions(user, f, today) -> dict[str, Callable[[], object]]:
    from app.analytics.kpi import totals
    from app.analytics.service import categories, region_table, trend
    from app.analytics.words import clusters, hot_words
    from app.analytics.work import service_day_heat, work_figures
    from app.auth.scope import scope_of

    scope = scope_of(user)
    return {
        "totals": lambda: totals(scope, f, today),
        "trend": lambda: trend(scope, f, today),
        "categories": lambda: categories(scope, f, today),
        "region_table": lambda: region_table(user, f, today),
        "hot_words": lambda: hot_words(scope, f, today),
        "clusters": lambda: clusters(scope, f),
        "work_figures": lambda: work_figures(scope, f, today),
        "service_day_heat": lambda: service_day_heat(scope, f, today),
    }


def measure_queries(user, today, repeat: int) -> bool:
    """Each query function against its bare SQL; False when one is over 3x."""
    from app.analytics.kpi import Filters
    from app.analytics.service import default_period

    first, last = default_period(today)
    f = Filters(first, last)
    prev = f.previous()
    params = {"m0": first, "m1": last, "p0": prev.date_from, "p1": prev.date_to, "t0": first}
    params["path"] = user.region.path + "%"
    city = user.region.parent_id is None
    bare = _bare_for(city)
    ok = True
    print(f"\n{user.username} ({user.region.name}) — query function vs the bare SQL aggregate it rests on")
    print(f"{'query':<18}{'function ms':>12}{'bare ms':>10}{'ratio':>8}")
    for name, fn in _query_functions(user, f, today).items():
        took = _best(fn, repeat)
        base = _best(lambda sql=bare[name]: _run_bare(sql, params), repeat)
        if name == "clusters":
            # Not an aggregate: one indexed fetch, then grouping the texts in Python (rapidfuzz).
            print(f"{name:<18}{took * 1000:>12.1f}{base * 1000:>10.1f}{'':>8}  (fetch + CPU grouping)")
            continue
        ratio = took / base if base else float("inf")
        # A few ms of Python around a sub-millisecond statement is not a slow query.
        good = ratio <= 3 or took < 0.010
        ok = ok and good
        mark = "" if good else "  <-- over 3x"
        print(f"{name:<18}{took * 1000:>12.1f}{base * 1000:>10.1f}{ratio:>8.2f}{mark}")
    raw = RAW_TOTALS + ("" if city else f" AND {IN_SCOPE}")
    raw_ms = _best(lambda: _run_bare(raw, params), repeat) * 1000
    print(f"(the same KPI totals straight from the opinions table: {raw_ms:.1f} ms)")
    return ok


def measure_pages(app, client, username: str, today, repeat: int) -> bool:
    """Every dashboard page as a full request, rendered; False when one takes 1 s or more."""
    client.post("/console/login", data={"username": username, "password": PASSWORD})
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    pages = {
        "overview": "/console/analytics/",
        "topics": "/console/analytics/topics",
        "work": "/console/analytics/work",
        "drill-down": "/console/analytics/opinions?metric=overdue",
        "report (HTML)": f"/console/analytics/report?month={month}",
        "report (PDF)": f"/console/analytics/report.pdf?month={month}",
    }
    print(f"{'page':<18}{'ms':>12}")
    shutil.rmtree(Path(app.instance_path) / "reports", ignore_errors=True)
    t = time.perf_counter()
    client.get(pages["report (PDF)"])
    print(f"{'report (PDF) 1st':<18}{(time.perf_counter() - t) * 1000:>12.1f}  (drawn once, then served)")
    ok = True
    for name, url in pages.items():

        def fetch(url: str = url) -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        took = _best(fetch, repeat)
        ok = ok and took < 1
        print(f"{name:<18}{took * 1000:>12.1f}{'' if took < 1 else '  <-- over 1 s'}")
    client.post("/console/logout")
    return ok


def measure(config: dict, repeat: int) -> bool:
    from sqlalchemy import select, text

    from app import create_app
    from app.analytics.refresh import refresh_aggregates
    from app.analytics.report import build_common_font
    from app.analytics.service import default_period
    from app.auth.models import StaffUser
    from app.extensions import db
    from app.timeutil import local_now

    app = create_app(config)
    ok = True
    with app.app_context():
        t = time.perf_counter()
        result = refresh_aggregates(full=True)
        db.session.commit()
        print(
            f"aggregate refresh (full, {len(result.months)} months): {time.perf_counter() - t:.1f} s, "
            f"{result.opinion_rows:,} KPI rows, {result.word_rows:,} word rows"
        )
        t = time.perf_counter()
        refresh_aggregates()
        db.session.commit()
        print(f"aggregate refresh again (nothing changed): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        build_common_font()
        print(f"report font ready: {time.perf_counter() - t:.1f} s (cut once per installation)")
        vacuum(config["SQLALCHEMY_DATABASE_URI"])
        today = local_now().date()
        first, last = default_period(today)
        opinions_total = db.session.scalar(text("SELECT count(*) FROM opinions"))
        print(f"opinions in the database: {opinions_total:,}; period {first} .. {last} (the default)")

        client = app.test_client()
        for username in ("city", "district"):
            user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
            ok = measure_queries(user, today, repeat) and ok
            ok = measure_pages(app, client, username, today, repeat) and ok
            db.session.remove()
    return ok


def _config(database_url: str) -> dict:
    return {
        "APP_ENV": "development",
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "SCHEDULER_IN_PROCESS": False,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="opinions to generate")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each query (median)")
    add_pg_admin_option(parser)
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated database (its name is printed)"
    )
    parser.add_argument(
        "--reuse",
        metavar="DATABASE_URL",
        help="measure a database an earlier --keep run generated (no new data)",
    )
    args = parser.parse_args()

    stop_on_signals()

    if args.reuse:
        ok = measure(_config(args.reuse), args.repeat)
        print(f"\ntargets {'met' if ok else 'NOT met'}")
        return
    name = f"jzd_analytics_{os.getpid()}"
    scratch = ScratchDatabase(args.pg_admin_url, name)
    database_url = scratch.create()
    config = _config(database_url)
    print(f"database {name}")
    try:
        started = time.perf_counter()
        prepare(config, args.count)
        vacuum(database_url)
        ok = measure(config, args.repeat)
        print(f"\ntotal {time.perf_counter() - started:.0f} s; targets {'met' if ok else 'NOT met'}")
    finally:
        if not args.keep:
            scratch.drop()
        else:
            print(f"kept database {database_url}")


if __name__ == "__main__":
    main()
