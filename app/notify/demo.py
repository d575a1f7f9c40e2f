"""Demo data for pushes: followers of the demo station, bound deputies and staff (flask demo seed).

So a newcomer who announces a reception at the demo station sees one push per follower in
推送记录 and at the mock, and sees in 代表提醒 the reminders each placed deputy will get
(one deputy left unbound, to show how staff find and bind them). Idempotent.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import StaffUser
from app.extensions import db
from app.models_base import utcnow
from app.wechat.models import StationFollow, Subscriber

FOLLOWERS = 30
PLACED = 4  # deputies placed at the demo station, so 代表提醒 shows several
WEEKLY = 10  # of them opted in to the weekly digest


def seed_push_demo(station, staff_username: str = "station") -> int:
    """Followers of ``station``, WeChat bindings of its deputies (all but one) and staff; count created."""
    created = _place_more(station)
    placements = sorted(station.placements, key=lambda p: p.deputy_id)
    for placement in placements[:-1] if len(placements) > 1 else placements:
        deputy = placement.deputy
        if not deputy.openid:
            deputy.openid = f"oDemoDeputy{deputy.id:017d}"
            created += 1
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == staff_username))
    if user is not None and not user.openid:
        user.openid = f"oDemoStaff{user.id:018d}"
        created += 1
    openids = [f"oDemoFollower{i:015d}" for i in range(FOLLOWERS)]
    known = db.session.scalars(select(Subscriber).where(Subscriber.openid.in_(openids)))
    found = {s.openid: s for s in known}
    for i, openid in enumerate(openids):
        subscriber = found.get(openid)
        if subscriber is None:
            subscriber = Subscriber(
                openid=openid, subscribed=True, subscribed_at=utcnow(), wants_weekly_digest=i < WEEKLY
            )
            db.session.add(subscriber)
            db.session.flush()
            db.session.add(StationFollow(subscriber_id=subscriber.id, station_id=station.id, via="qrscene"))
            created += 1
    db.session.flush()
    return created


def _place_more(station) -> int:
    """Place deputies kept by the station's region or above there, up to ``PLACED`` (one serves several)."""
    from app.deputies.models import Deputy
    from app.stations.service import place_deputy

    missing = PLACED - len(station.placements)
    if missing <= 0:
        return 0
    placed = {p.deputy_id for p in station.placements}
    regions, region = [], station.region
    while region is not None:  # the village, its town, district, city: whoever keeps the record
        regions.append(region.id)
        region = region.parent
    candidates = db.session.scalars(
        select(Deputy)
        .where(Deputy.region_id.in_(regions), Deputy.active.is_(True), Deputy.id.not_in(placed or {0}))
        .order_by(Deputy.id)
        .limit(missing)
    ).all()
    for deputy in candidates:
        place_deputy(station, deputy)
    db.session.flush()
    db.session.refresh(station)
    return len(candidates)
