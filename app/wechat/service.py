"""Rules of the official account: followers and follows, exactly-once inbound, nearest stations."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, TextClause, bindparam, select, text, update

from app.extensions import db
from app.models_base import utcnow
from app.stations.lookup import StationRef
from app.stations.models import Station, StationStatus
from app.wechat.models import (
    InboundMessage,
    StationFollow,
    StationQrCode,
    Subscriber,
    TemplateDelivery,
)
from app.wechat.protocol import Inbound

# The scanned station: an ORM row or the cached snapshot a QR scan reads (only ``id`` is used).
StationLike = Station | StationRef

EARTH_RADIUS_M = 6_371_000


@dataclass
class Outcome:
    """What a handler did with one push: the reply text (None: just "success") and an audit note."""

    reply: str | None
    action: str
    ref: str = ""


# -- statements ------------------------------------------------------------------------
# The endpoint answers every push with a handful of queries; building them once (with bind
# parameters) instead of per call keeps the Python side of each query small.

_SUBSCRIBER = select(Subscriber).where(Subscriber.openid == bindparam("openid"))
_SUBSCRIBERS = Subscriber.__table__
_FOLLOWS = StationFollow.__table__
# A follower scanning a station they follow: one statement, which also says whether they did.
_FOLLOW_SEEN = (
    update(_FOLLOWS)
    .where(
        # Parameter names must differ from column names in an UPDATE.
        _FOLLOWS.c.subscriber_id == bindparam("follower"),
        _FOLLOWS.c.station_id == bindparam("followed"),
    )
    .values(last_scanned_at=bindparam("seen_at"), updated_at=bindparam("seen_at"))
    .returning(_FOLLOWS.c.id)
)
# StationRef's columns, not ORM rows: a follower's stations are read on most text pushes.
_FOLLOWED = (
    select(Station.id, Station.code, Station.name, Station.address, Station.phone, Station.status)
    .join(StationFollow, StationFollow.station_id == Station.id)
    .join(Subscriber, Subscriber.id == StationFollow.subscriber_id)
    .where(Subscriber.openid == bindparam("openid"), Station.status == StationStatus.ACTIVE)
    .order_by(StationFollow.last_scanned_at.desc(), StationFollow.id.desc())
)
_INBOUND = InboundMessage.__table__
# A repeated delivery: count it on the first one's row and read the reply it got, at once.
_REPEATED_DELIVERY = (
    update(_INBOUND)
    .where(_INBOUND.c.dedup_key == bindparam("key"))
    .values(deliveries=_INBOUND.c.deliveries + 1, last_delivery_at=bindparam("at"))
    .returning(_INBOUND.c.reply)
)


@functools.cache
def _insert_or_nothing_sql(table_name: str, columns: tuple[str, ...]) -> TextClause:
    table = db.metadata.tables[table_name]
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    # Names come from our own metadata, never from input; values are bound.
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING id"  # noqa: S608
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns)).columns(table.c.id)


def _insert_or_nothing(model, values: dict) -> int | None:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (PostgreSQL and SQLite): the new id or None.

    One round trip, no savepoint. A concurrent transaction inserting the same key makes this
    wait for it: None once it commits, the new id if it rolled back.
    """
    return db.session.scalar(_insert_or_nothing_sql(model.__tablename__, tuple(sorted(values))), values)


# -- followers -------------------------------------------------------------------------
# A SCAN is the commonest push: a follower scanning a plaque (often one they follow). It
# costs one statement: an upsert of the follow that finds the follower by openid. Only a
# follower we have not seen, or one who had unsubscribed, takes a second and third.


# Hand-written: SQLAlchemy never caches the compiled form of its dialect-specific INSERT …
# ON CONFLICT constructs, and compiling one costs more than running it. This SQL reads the
# same on PostgreSQL and SQLite.

# Follow a station as the subscribed follower ``openid``; no row when there is none. Scanning
# a followed station again only moves it to the front; ``via`` keeps how they first came.
_FOLLOW_UPSERT = text(
    "INSERT INTO wechat_station_follows"
    " (subscriber_id, station_id, via, last_scanned_at, created_at, updated_at)"
    " SELECT id, :station_id, :via, :now, :now, :now FROM wechat_subscribers"
    " WHERE openid = :openid AND subscribed = :yes"
    " ON CONFLICT (subscriber_id, station_id) DO UPDATE"
    " SET last_scanned_at = excluded.last_scanned_at, updated_at = excluded.updated_at"
    " RETURNING subscriber_id"
).bindparams(
    bindparam("station_id", type_=_FOLLOWS.c.station_id.type),
    bindparam("via", type_=_FOLLOWS.c.via.type),
    bindparam("now", type_=_FOLLOWS.c.last_scanned_at.type),
    bindparam("openid", type_=_SUBSCRIBERS.c.openid.type),
    bindparam("yes", True, type_=_SUBSCRIBERS.c.subscribed.type),
)

# Make ``openid`` a subscribed follower, new or back after unsubscribing; returns the id. Only
# a change of state is written: a follower subscribing again keeps their dates.
_SUBSCRIBER_UPSERT = text(
    "INSERT INTO wechat_subscribers (openid, subscribed, subscribed_at, created_at, updated_at)"
    " VALUES (:openid, :yes, :now, :now, :now)"
    " ON CONFLICT (openid) DO UPDATE SET subscribed = excluded.subscribed,"
    " subscribed_at = CASE WHEN wechat_subscribers.subscribed"
    " THEN wechat_subscribers.subscribed_at ELSE excluded.subscribed_at END,"
    " unsubscribed_at = CASE WHEN wechat_subscribers.subscribed"
    " THEN wechat_subscribers.unsubscribed_at END,"
    " updated_at = CASE WHEN wechat_subscribers.subscribed"
    " THEN wechat_subscribers.updated_at ELSE excluded.updated_at END"
    " RETURNING id"
).bindparams(
    bindparam("openid", type_=_SUBSCRIBERS.c.openid.type),
    bindparam("now", type_=_SUBSCRIBERS.c.subscribed_at.type),
    bindparam("yes", True, type_=_SUBSCRIBERS.c.subscribed.type),
)


def subscriber_of(openid: str) -> Subscriber | None:
    """The follower with this openid, if we have seen them."""
    return db.session.scalar(_SUBSCRIBER, {"openid": openid})


def _subscriber(openid: str) -> tuple[Subscriber, bool]:
    subscriber = subscriber_of(openid)
    if subscriber is not None:
        return subscriber, False
    new_id = _insert_or_nothing(Subscriber, {"openid": openid, "subscribed": True, "subscribed_at": utcnow()})
    return subscriber_of(openid), new_id is not None


def subscribe(openid: str, *, station: StationLike | None = None, via: str = "qrscene") -> int:
    """Mark ``openid`` as following the account (again), and the station they scanned if any.

    Idempotent and safe under concurrent deliveries; a follower may follow several stations.
    Returns the follower's id (the handlers need no more: no ORM object is built for it).
    """
    now = utcnow()
    if station is not None:
        values = {"openid": openid, "station_id": station.id, "via": via, "now": now}
        subscriber_id = db.session.scalar(_FOLLOW_UPSERT, values)
        if subscriber_id is not None:
            return subscriber_id
    subscriber_id = db.session.scalar(_SUBSCRIBER_UPSERT, {"openid": openid, "now": now})
    if station is not None:
        db.session.execute(_FOLLOW_UPSERT, values)
    _expire_loaded(Subscriber, subscriber_id)
    return subscriber_id


def _expire_loaded(model, pk: int) -> None:
    # A copy this session loaded before the upsert is out of date now.
    found = db.session.identity_map.get(db.session.identity_key(model, pk))
    if found is not None:
        db.session.expire(found)


def unsubscribe(openid: str) -> Subscriber:
    """Mark the follower as gone; their follows and history stay."""
    subscriber, _ = _subscriber(openid)
    subscriber.subscribed = False
    subscriber.unsubscribed_at = utcnow()
    db.session.flush()
    return subscriber


def follow_station(subscriber: Subscriber, station: StationLike, *, via: str = "scan") -> bool:
    """Follow ``station`` (idempotent; a follower may follow several); True when new.

    Not on the hot path (``subscribe`` does it in one statement); follows whatever the
    follower's state.
    """
    now = utcnow()
    key = {"subscriber_id": subscriber.id, "station_id": station.id}
    for _attempt in range(2):
        seen = {"follower": subscriber.id, "followed": station.id, "seen_at": now}
        if db.session.execute(_FOLLOW_SEEN, seen).first() is not None:
            return False
        if _insert_or_nothing(StationFollow, {**key, "via": via, "last_scanned_at": now}) is not None:
            return True
        # A concurrent scan created it between our update and insert: update it now.
    return False


def followed_stations(openid: str) -> list[StationRef]:
    """The active stations a follower follows, the most recently scanned first (as read now)."""
    return [StationRef(*row) for row in db.session.execute(_FOLLOWED, {"openid": openid})]


# -- where --------------------------------------------------------------------------------


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearest_stations(lat: float, lng: float, limit: int = 3) -> list[tuple[Station, float]]:
    """The ``limit`` active stations nearest to a point, nearest first, with distances in metres."""
    # A city has hundreds to a few thousand stations: measuring them all in Python is cheap.
    rows = db.session.execute(
        select(Station.id, Station.lat, Station.lng).where(
            Station.status == StationStatus.ACTIVE, Station.lat.is_not(None), Station.lng.is_not(None)
        )
    ).all()
    ranked = sorted((distance_m(lat, lng, float(r.lat), float(r.lng)), r.id) for r in rows)[:limit]
    ids = [station_id for _, station_id in ranked]
    stations = {s.id: s for s in db.session.scalars(select(Station).where(Station.id.in_(ids)))}
    return [(stations[i], d) for d, i in ranked]


# -- pushes WeChat reports on ------------------------------------------------------------


def record_template_delivery(msgid: int, openid: str, status: str) -> TemplateDelivery:
    """Store WeChat's TEMPLATESENDJOBFINISH report for a template message (last report wins)."""
    values = {"msgid": msgid, "openid": openid, "status": status, "reported_at": utcnow()}
    if _insert_or_nothing(TemplateDelivery, values) is None:
        db.session.execute(
            update(TemplateDelivery.__table__)
            .where(TemplateDelivery.__table__.c.msgid == msgid)
            .values(status=status, reported_at=values["reported_at"])
        )
    fresh = select(TemplateDelivery).where(TemplateDelivery.msgid == msgid)
    return db.session.scalar(fresh.execution_options(populate_existing=True))


# -- QR codes --------------------------------------------------------------------------


def save_station_qrcode(station: Station, ticket: str, url: str) -> StationQrCode:
    """Remember the permanent parametric QR WeChat issued for ``station``."""
    qrcode = db.session.scalar(select(StationQrCode).where(StationQrCode.station_id == station.id))
    if qrcode is None:
        qrcode = StationQrCode(station=station)
        db.session.add(qrcode)
    qrcode.scene, qrcode.ticket, qrcode.url = station.code, ticket, url
    db.session.flush()
    return qrcode


# -- inbound, exactly once ---------------------------------------------------------------


def _summary(inbound: Inbound) -> str:
    fields = inbound.fields
    if inbound.msg_type == "text":
        text = str(fields.get("Content") or "")
    elif inbound.msg_type == "location":
        text = f"{fields.get('Location_X')},{fields.get('Location_Y')} {fields.get('Label') or ''}"
    elif inbound.event == "location":
        text = f"{fields.get('Latitude')},{fields.get('Longitude')}"
    else:
        text = str(fields.get("EventKey") or fields.get("Status") or "")
    return text.strip()[:200]


def _sent_at(inbound: Inbound) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(inbound.fields.get("CreateTime")), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _inbound_values(inbound: Inbound, key: str) -> dict:
    return {
        "dedup_key": key,
        "openid": inbound.openid[:64],
        "msg_type": inbound.msg_type[:32],
        "event": inbound.event[:48],
        "sent_at": _sent_at(inbound),
        "summary": _summary(inbound),
        "received_at": utcnow(),
        "last_delivery_at": utcnow(),
    }


def statements_commit_alone() -> None:
    """Run this session's next transaction in autocommit: each statement commits by itself.

    For pushes whose handler is ``repeatable`` (reads, idempotent upserts): no BEGIN and
    COMMIT round trips. The isolation level is the connection's until it goes back to the
    pool. PostgreSQL only, and only on a session that owns its connection (the tests' joined
    sessions keep their transaction).
    """
    bind = db.session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def receive(inbound: Inbound, handle: Callable[[Inbound], Outcome]) -> tuple[str | None, bool]:
    """Act on a push and log it, in the caller's transaction; returns ``(reply, claimed)``.

    The handler acts first; then one row goes in under the push's unique dedup key, holding
    what came in and what was done: the dedup record and the audit log in one statement.
    When another delivery of the same push holds that key (committed, or in flight: the
    insert then waits for it) ``claimed`` is False, and the caller must roll back what this
    delivery did and answer with ``repeated_delivery``. So four concurrent deliveries of one
    留言 make one opinion and four identical replies. Handlers must therefore keep all their
    effects inside the transaction (an outbox row, never a direct call to WeChat).
    """
    outcome = handle(inbound)
    values = _inbound_values(inbound, inbound.dedup_key[:160])
    values.update(reply=outcome.reply, action=outcome.action[:48], ref=outcome.ref[:64])
    return outcome.reply, _insert_or_nothing(InboundMessage, values) is not None


def repeated_delivery(inbound: Inbound) -> str | None:
    """Count another delivery of a push already handled; the reply the first one got."""
    values = {"key": inbound.dedup_key[:160], "at": utcnow()}
    return db.session.execute(_REPEATED_DELIVERY, values).scalar_one()


def record_failure(inbound: Inbound, error: str, reply: str) -> None:
    """Log a push whose handling failed (after the caller rolled back), with the reply sent."""
    values = _inbound_values(inbound, inbound.dedup_key[:160])
    values.update(action="failed", ref=error[:64], status="failed", reply=reply)
    # If another delivery of it got through meanwhile, its record stands.
    _insert_or_nothing(InboundMessage, values)
