"""A year of 台账 for the demo town's stations, so the ledger, plans and archives are not empty.

For each station of the demo town (the one the ``town`` and ``station`` accounts work in), up to
``MAX_STATIONS``: a 年度活动计划, the past months' 联系服务群众日 with their registered activity,
two 集中履职学习, monitoring, research, publicity, and two fixed contacts per deputy with logs.
Deliberately imperfect — a month without a service day, an absent deputy, a contact visited
once — so the archive's "behind" and the plan's gaps have something to show. A station that
already has this year's plan is left alone, so a rerun writes nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityPlan,
    ActivityPlanItem,
    ContactLog,
    FixedContact,
)
from app.receptions.models import Reception, ReceptionDuty, ReceptionKind, ReceptionStatus
from app.receptions.service import service_day_for
from app.regions.models import Region
from app.stations.models import Station
from app.timeutil import local_now

MAX_STATIONS = 4
SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱马胡郭何高林罗"
GIVEN = ["秀英", "建国", "桂兰", "志强", "玉梅", "国平", "海燕", "卫东", "丽华", "明德", "春花", "永康"]
TOPICS = ["老旧小区加装电梯", "停车难", "垃圾分类", "河道整治", "菜场改造", "养老服务", "学校周边交通"]
# (kind, month, title): what each demo station did besides the monthly service days.
EXTRA = [
    ("study", 3, "集中履职学习：代表法和监督法"),
    ("publicity", 4, "宪法和民法典进社区宣传"),
    ("monitoring", 5, "民生实事项目推进情况视察"),
    ("research", 6, "老旧小区改造专题调研"),
    ("study", 9, "集中履职学习：预算审查监督"),
    ("monitoring", 10, "食品安全专项监督"),
    ("review", 11, "代表向选民述职评议"),
]
PLAN = [
    ("reception", None, 12, "每月第三个星期二代表联系服务群众日"),
    ("study", None, 2, "集中履职学习"),
    ("monitoring", None, 2, "代表监督活动"),
    ("research", 6, 1, "专题调研"),
    ("publicity", None, 2, "法治和惠民政策宣传"),
    ("review", 11, 1, "代表述职评议"),
]


def seed_ledger(town_code: str, first: Station | None = None) -> int:
    """The demo town's stations' year of ledger (``first`` among them); returns how many activities."""
    today = local_now().date()
    year = today.year
    town = db.session.scalar(select(Region).where(Region.code == town_code))
    if town is None:
        return 0
    stations = db.session.scalars(
        select(Station)
        .join(Region, Region.id == Station.region_id)
        .where(Region.path.startswith(town.path))
        .order_by(Station.kind.desc(), Station.code)
        .limit(MAX_STATIONS)
    ).all()
    if first is not None and first not in stations:
        stations = [first, *stations[: MAX_STATIONS - 1]]
    written = 0
    for index, station in enumerate(stations):
        planned = db.session.scalar(
            select(ActivityPlan.id).where(ActivityPlan.station_id == station.id, ActivityPlan.year == year)
        )
        if planned is not None or not station.deputies:
            continue
        written += _seed_station(station, year, today, random.Random(f"{station.code}:{year}"), index)
    return written


def _attendance(deputies, rng: random.Random, *, absent_last: bool) -> list[ActivityDeputy]:
    rows = []
    for i, deputy in enumerate(deputies):
        status = "attended"
        if absent_last and i == len(deputies) - 1 and len(deputies) > 2:
            status = "absent"  # one deputy never comes: the behind list shows them
        elif i == 1 and rng.random() < 0.3:
            status = "excused"  # the first deputy always comes: the demo account's archive is complete
        rows.append(ActivityDeputy(deputy_id=deputy.id, attendance=status))
    return rows


def _activity(station, kind, when, title, content, deputies, **extra) -> Activity:
    activity = Activity(
        station_id=station.id,
        kind=kind,
        status="final",
        started_at=when,
        ended_at=when + timedelta(hours=2),
        title=title,
        content=content,
        mode="offline",
        # Registered the next day: 履职登记及时.
        finalised_at=datetime.combine(when.date() + timedelta(days=1), time(2), tzinfo=UTC),
        **extra,
    )
    activity.deputies = deputies
    db.session.add(activity)
    return activity


def _seed_station(station: Station, year: int, today: date, rng: random.Random, index: int) -> int:
    deputies = station.deputies
    written = 0
    skipped_month = 7 if index % 2 else None  # an imperfect station misses July
    for month in range(1, 13):
        day, _moved = service_day_for(year, month)  # confirmed by staff on the day it moved to
        if day >= today or month == skipped_month:
            continue
        key = f"{year:04d}-{month:02d}"
        reception = db.session.scalar(
            select(Reception).where(Reception.station_id == station.id, Reception.service_month == key)
        )
        if reception is None:
            reception = Reception(
                station_id=station.id,
                date=day,
                start=time(9),
                end=time(11, 30),
                kind=ReceptionKind.SERVICE_DAY,
                topic="代表联系服务群众日",
                status=ReceptionStatus.ANNOUNCED,
                service_month=key,
                slot_minutes=30,
                slot_capacity=5,
                announced_at=datetime.combine(day - timedelta(days=7), time(1), tzinfo=UTC),
            )
            on_duty = [deputies[(month + i) % len(deputies)] for i in range(min(2, len(deputies)))]
            reception.duties = [ReceptionDuty(deputy_id=d.id) for d in on_duty]
            db.session.add(reception)
            db.session.flush()
        elif db.session.scalar(select(Activity.id).where(Activity.reception_id == reception.id)):
            continue
        on_duty = [duty.deputy for duty in reception.duties] or deputies[:1]
        topics = rng.sample(TOPICS, 2)
        residents = rng.randint(2, 9)
        _activity(
            station,
            "reception",
            datetime.combine(reception.date, reception.start),
            "代表联系服务群众日",
            f"接待群众 {residents} 人次，主要反映{topics[0]}、{topics[1]}等问题，已登记并转交办理。",
            [ActivityDeputy(deputy_id=d.id, attendance="attended") for d in on_duty],
            residents_received=residents,
            problems_solved=rng.randint(0, 2),
            reception_id=reception.id,
            announced_at=reception.announced_at,
            announce_channel="公众号、社区公告栏",
        )
        written += 1
    for kind, month, title in EXTRA:
        when = datetime(year, month, 12, 14, 30)
        if when.date() >= today:
            continue
        _activity(
            station,
            kind,
            when,
            title,
            f"{station.name}组织编入代表参加{title}。",
            _attendance(deputies, rng, absent_last=True),
            announced_at=datetime.combine(when.date() - timedelta(days=5), time(1), tzinfo=UTC),
            announce_channel="代表微信群",
        )
        written += 1
    plan = ActivityPlan(station_id=station.id, year=year, note="按“八有”要求，保证代表活动常态化、多样化。")
    plan.items = [
        ActivityPlanItem(kind=kind, month=month, planned_count=count, title=title)
        for kind, month, count, title in PLAN
    ]
    db.session.add(plan)
    for d_index, deputy in enumerate(deputies):
        existing = db.session.scalar(select(FixedContact.id).where(FixedContact.deputy_id == deputy.id))
        if existing is not None:
            continue
        for c_index in range(2):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            contact = FixedContact(
                deputy_id=deputy.id,
                name=name,
                phone=f"139{rng.randint(10000000, 99999999)}",
                address=f"{station.region.name}{rng.randint(1, 30)}号",
                active=True,
            )
            visits = 1 if (d_index % 3 == 2 and c_index == 1) else 2
            contact.logs = [
                ContactLog(
                    deputy_id=deputy.id,
                    contacted_on=min(date(year, 3 + 5 * v, 8 + c_index), today),
                    mode=rng.choice(["visit", "phone", "wechat"]),
                    content=f"走访了解{rng.choice(TOPICS)}方面的意见。",
                )
                for v in range(visits)
            ]
            db.session.add(contact)
    db.session.flush()
    return written
