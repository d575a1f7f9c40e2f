"""``flask analytics demo``: a year of plausible opinions at the demo stations, so the 民意研判
pages have something to show a newcomer. Idempotent (each row has a fixed dedup key); refused
in production."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, insert, select

from app.errors import Forbidden
from app.extensions import db
from app.opinions.models import Opinion
from app.stations.models import Station
from app.timeutil import LOCAL_TZ, local_now

PLACES = ["惠山古镇", "崇安寺", "南长街", "清名桥", "学前街", "中山路", "人民路", "蠡湖", "太湖新城", "东亭"]
ISSUES = [
    ("urban", "小区门口的路灯坏了，晚上出行不便"),
    ("urban", "老旧小区加装电梯推进太慢"),
    ("traffic", "停车位太少，车辆乱停乱放"),
    ("safety", "电动车充电桩不够，楼道里飞线充电很危险"),
    ("environment", "菜市场周边卫生差，垃圾清运不及时"),
    ("traffic", "公交站台没有遮雨棚"),
    ("environment", "夜间施工噪音扰民"),
    ("urban", "窨井盖破损，存在安全隐患"),
    ("elderly", "社区食堂供餐时间太短"),
    ("education", "学区划分不合理，孩子上学远"),
    ("environment", "河道有异味，希望加强治理"),
    ("community", "物业费上涨但服务没有改善"),
]
COUNT = 1200
KEY = "demo-analytics-"


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour)).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def seed_demo_opinions(count: int = COUNT) -> int:
    """Add the demo opinions that are missing; returns how many were added. Flushes."""
    if current_app.config.get("APP_ENV") == "production":
        raise Forbidden("当前为生产环境（APP_ENV=production），不能写入演示数据。", code="production")
    have = db.session.scalar(select(func.count()).where(Opinion.dedup_key.like(f"{KEY}%"))) or 0
    if have >= count:
        return 0
    stations = list(db.session.scalars(select(Station.id).order_by(Station.id)))
    if not stations:
        return 0
    rng = random.Random(2026)  # the same demo every time
    today = local_now().date()
    rows = []
    for n in range(count):
        # Drawn for every n, so the rows already there are the same rows as before.
        age = int(rng.random() ** 1.5 * 365)
        day = today - timedelta(days=age)
        category, issue = rng.choice(ISSUES)
        place = rng.choice(PLACES)
        station_id = stations[int(rng.random() ** 2 * len(stations))]  # a few busy stations
        r = rng.random()
        created = _at(day, 8 + rng.randrange(12))
        if age < 3 and r < 0.6:
            status = "pending"
        elif age < 25 and r < 0.5:
            status = "assigned"
        elif r < 0.04:
            status = "rejected"
        else:
            status = "closed"
        row = {
            "tracking_no": f"DEMOA{n:07d}",
            "dedup_key": f"{KEY}{n}",
            "channel": rng.choice(["h5", "wechat", "miniapp", "staff"]),
            "station_id": station_id,
            "resident_id": f"demo-resident-{rng.randrange(count // 2)}",
            "content": place + issue,
            "category": None if status in ("pending", "rejected") else category,
            "status": status,
            "accept_due": day + timedelta(days=3),
            "created_at": created,
            "updated_at": created,
        }
        if status in ("assigned", "closed"):
            row["accepted_at"] = created + timedelta(hours=4 + rng.randrange(60))
            row["assigned_at"] = row["accepted_at"] + timedelta(hours=2)
            row["deadline"] = day + timedelta(days=21)
        if status == "closed":
            replied = created + timedelta(days=3 + rng.randrange(25))
            row.update(
                replied_at=replied,
                reply_text="已安排处理。",
                fed_back_at=replied + timedelta(days=1),
                answer_text="已安排处理。",
                satisfaction=rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [70, 22, 8])[0],
                rated_at=replied + timedelta(days=2),
                closed_at=replied + timedelta(days=2),
            )
        if status == "rejected":
            row["closed_at"] = created + timedelta(days=1)
        rows.append(row)
    existing = set(db.session.scalars(select(Opinion.dedup_key).where(Opinion.dedup_key.like(f"{KEY}%"))))
    missing = [row for row in rows if row["dedup_key"] not in existing]
    # Rows differ in their keys (insertmanyvalues needs one shape): fill the absent ones.
    columns = set().union(*(row.keys() for row in missing)) if missing else set()
    for row in missing:
        for column in columns:
            row.setdefault(column, None)
        for column, blank in (("reply_text", ""), ("answer_text", "")):
            if row[column] is None:
                row[column] = blank
    if missing:
        db.session.execute(insert(Opinion), missing)
    db.session.flush()
    return len(missing)
