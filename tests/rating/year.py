"""A constructed year (2025) of one 联络站's records with hand-worked 附件3 answers.

Four deputies are placed at the station; 甲 is a 领导干部代表. The expected scores below are
worked out by hand from these rows and the rules in app/rating/auto.py, not by the code.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from app.deputies.models import Deputy
from app.extensions import db
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityPlan,
    ActivityPlanItem,
    ContactLog,
    FixedContact,
)
from app.opinions.models import Opinion
from app.receptions.models import Reception, ReceptionDuty
from app.receptions.service import third_tuesday
from app.stations.models import Station
from app.timeutil import LOCAL_TZ

YEAR = 2025
TODAY = date(2026, 1, 20)
_numbers = itertools.count(1)

EXPECTED = {
    # Jan–Aug registered of 12 months (Sep a draft, Oct announced only): 4 × 8/12 = 2.67 → 2.5
    "service_days": Decimal("2.5"),
    # 甲、乙、丙 at registered 接待选民 activities, 丁 only at a draft one: 3 × 3/4 = 2.25 → 2.0
    "every_deputy": Decimal("2.0"),
    # 20 opinions: 19 answered, 1 open past its deadline: 95% → 4
    "feedback_rate": Decimal("4"),
    # 2 sessions, 3/4 and 2/4 of the placed deputies: mean 62.5% ≥ 60% → 2
    "study_sessions": Decimal("2"),
    # plan 1 + 预告 12 of 13 (92%) 1 + activities in Q1, Q2, Q3 of 4 (0.75 → 0.5) = 2.5
    "plan_announce": Decimal("2.5"),
    # 1.5 × 8/10 receptions registered + 1.5 × 11/11 activities timely and complete = 2.7 → 2.5
    "registration": Decimal("2.5"),
    # 18 of 20 accepted in time (2 accepted late): 3 × 0.9 = 2.7 → 2.5
    "dispatch": Decimal("2.5"),
    # 甲 (2 contacts, twice each) and 丁 (1 contact, three times) of 4: 3 × 2/4 = 1.5
    "fixed_contacts_twice": Decimal("1.5"),
    # one 监督活动: 1.5
    "monitoring": Decimal("1.5"),
    # the one 领导干部代表 (甲) attended registered activities: 3
    "leaders": Decimal("3"),
}
AUTO_TOTAL = sum(EXPECTED.values())  # 24.0


@dataclass
class Year:
    station: Station
    deputies: list[Deputy]


def _utc(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour)).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def _activity(station, kind, day, deputies, *, reception=None, announced=True, absent=()):
    started = datetime.combine(day, time(14))
    activity = Activity(
        station=station,
        kind=kind,
        status="final",
        started_at=started,
        title=f"{kind} {day}",
        content="活动内容记录",
        reception_id=reception.id if reception is not None else None,
        announced_at=_utc(day - timedelta(days=3)) if announced else None,
        finalised_at=_utc(day + timedelta(days=2)),
    )
    activity.deputies = [ActivityDeputy(deputy=d, attendance="attended") for d in deputies] + [
        ActivityDeputy(deputy=d, attendance="absent") for d in absent
    ]
    db.session.add(activity)
    return activity


def _opinion(station, n: int, **fields) -> Opinion:
    created = datetime(YEAR, 3, 1, 10, tzinfo=LOCAL_TZ) + timedelta(days=n * 10)
    data = {
        "tracking_no": f"RT{next(_numbers):010d}",
        "channel": "h5",
        "station": station,
        "content": f"意见{n}",
        "status": "closed",
        "created_at": created,
        "accept_due": (created + timedelta(days=3)).date(),
        "accepted_at": created + timedelta(days=1),
        "fed_back_at": created + timedelta(days=20),
    }
    data.update(fields)
    opinion = Opinion(**data)
    db.session.add(opinion)
    return opinion


def build_year(make_region, make_station, make_deputy) -> Year:
    city = make_region(None, "评分市")
    district = make_region(city, "评分区")
    town = make_region(district, "评分镇")
    village = make_region(town, "评分村")
    station = make_station(village, name="评分村人大代表联络站")
    names = ["甲代表", "乙代表", "丙代表", "丁代表"]
    deputies = [make_deputy(town, name=n, station=station) for n in names]
    jia, yi, bing, ding = deputies
    jia.is_leader = True
    # A foreign station's records must not count: one of everything there.
    other = make_station(village, name="隔壁联络站")

    receptions = []
    for month in range(1, 11):  # 联系服务群众日 in Jan–Oct only
        day = third_tuesday(YEAR, month)
        reception = Reception(
            station=station,
            date=day,
            start=time(9),
            end=time(11, 30),
            kind="service_day",
            status="announced",
            service_month=f"{YEAR}-{month:02d}",
            announced_at=_utc(day - timedelta(days=7)),
        )
        reception.duties = [ReceptionDuty(deputy=d) for d in deputies]
        db.session.add(reception)
        receptions.append(reception)
    # Cancelled in November: not held.
    db.session.add(
        Reception(
            station=station,
            date=third_tuesday(YEAR, 11),
            start=time(9),
            end=time(11),
            kind="service_day",
            status="cancelled",
            service_month=f"{YEAR}-11",
        )
    )
    db.session.add(
        Reception(
            station=other,
            date=third_tuesday(YEAR, 12),
            start=time(9),
            end=time(11),
            kind="service_day",
            status="announced",
            service_month=f"{YEAR}-12",
        )
    )
    db.session.flush()

    # Registered reception activities Jan–Aug (甲 odd months, 乙 even, 丙 also in Feb);
    # September's is still a draft (丁 there does not count), October's was never registered.
    for month, reception in enumerate(receptions[:8], start=1):
        present = [jia if month % 2 else yi] + ([bing] if month == 2 else [])
        _activity(station, "reception", reception.date, present, reception=reception)
    draft = _activity(station, "reception", receptions[8].date, [ding], reception=receptions[8])
    draft.status = "draft"
    # Study in Mar and Jun, monitoring in Sep.
    _activity(station, "study", date(YEAR, 3, 10), [jia, yi, bing], absent=[ding])
    _activity(station, "study", date(YEAR, 6, 10), [jia, yi], absent=[bing, ding], announced=False)
    _activity(station, "monitoring", date(YEAR, 9, 10), [yi])
    # Drafts and another station's activities do not count.
    draft = _activity(station, "monitoring", date(YEAR, 11, 10), [ding])
    draft.status = "draft"
    _activity(other, "reception", date(YEAR, 12, 5), [ding])

    plan = ActivityPlan(station=station, year=YEAR)
    plan.items = [ActivityPlanItem(kind="study", planned_count=2)]
    db.session.add(plan)

    # 固定联系群众: 甲 two contacts twice each; 乙 one contact once; 丁 one contact three times.
    def contact(deputy, times):
        fc = FixedContact(deputy=deputy, name=f"{deputy.name}的联系人")
        fc.logs = [ContactLog(deputy=deputy, contacted_on=date(YEAR, 2 + i, 5)) for i in range(times)]
        db.session.add(fc)

    contact(jia, 2)
    contact(jia, 2)
    contact(yi, 1)
    contact(ding, 3)
    # A contact log of the previous year does not count for 乙.
    fc = FixedContact(deputy=yi, name="去年联系的")
    fc.logs = [ContactLog(deputy=yi, contacted_on=date(YEAR - 1, 12, 1)) for _ in range(2)]
    db.session.add(fc)

    # 20 opinions: 17 closed in time, 2 closed but accepted late, 1 assigned and past its deadline.
    for n in range(17):
        _opinion(station, n)
    for n in range(17, 19):
        created = datetime(YEAR, 3, 1, 10, tzinfo=LOCAL_TZ) + timedelta(days=n * 10)
        _opinion(station, n, accepted_at=created + timedelta(days=6))
    created = datetime(YEAR, 11, 1, 10, tzinfo=LOCAL_TZ)
    _opinion(
        station,
        19,
        status="assigned",
        created_at=created,
        fed_back_at=None,
        deadline=date(YEAR, 11, 25),
        urge_count=1,
    )
    # Merged opinions and other stations' do not count.
    _opinion(station, 20, status="merged", fed_back_at=None)
    _opinion(other, 21, status="pending", fed_back_at=None, accepted_at=None)
    db.session.flush()
    return Year(station, deputies)
