"""SQL statements per push on ``/wechat``: the hot path stays cheap (issue 4, Speed).

Every SCAN and every 留言 is counted statement by statement; a change that adds a query
to the path WeChat waits on shows up here. Savepoints are not counted: the test harness
turns every commit and rollback of a view into one.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import time, timedelta

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.opinions.models import Opinion
from app.receptions.models import Reception, ReceptionDuty
from app.timeutil import local_now
from app.wechat.models import InboundMessage, StationFollow
from tests.wechat.sender import documented

HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
uncached: list[str] = []


@contextmanager
def counting():
    """Collect the SQL the code under test sends (savepoints are dropped by ``_ours``)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, context, _executemany):
        statements.append(" ".join(statement.split()))
        if context.cache_hit is not context.dialect.CACHE_HIT and not statement.startswith(HARNESS):
            # Compiled again, or never cacheable (SQLAlchemy's INSERT … ON CONFLICT constructs):
            # compiling costs more than running the statement.
            uncached.append(statements[-1])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _ours(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith(HARNESS)]


@pytest.fixture(autouse=True)
def _fresh_uncached():
    uncached.clear()


@pytest.fixture
def station_on_duty(region_tree, make_station, make_deputy):
    """A station with two deputies and an announced reception next week."""
    village = region_tree()["village_a"]
    station = make_station(village, name="清扬社区人大代表联络站", lat="31.5700", lng="120.3000")
    deputies = [make_deputy(village, name=n, station=station) for n in ("王建国", "李秀英")]
    reception = Reception(
        station=station,
        date=local_now().date() + timedelta(days=7),
        start=time(9),
        end=time(11, 30),
        kind="service_day",
        status="announced",
    )
    reception.duties = [ReceptionDuty(deputy=d) for d in deputies]
    db.session.add(reception)
    db.session.flush()
    return station


def test_a_repeated_scan_costs_two_statements(wx, openid, station_on_duty):
    code = station_on_duty.code
    wx.scan(openid, code)  # the follower and the follow are new
    # The fixture's station and reception are committed with that first push, which empties
    # this worker's caches (as a console edit would); the second scan fills them again.
    wx.scan(openid, code)
    with counting() as statements:
        answer = wx.scan(openid, code)
    assert "王建国" in answer.content and code in answer.content
    ours = _ours(statements)
    # The follow upsert and the inbound row (dedup key and audit record in one); the station
    # and who is on duty come from this worker's caches.
    assert len(ours) <= 2, "\n".join(ours)
    assert uncached == [], "compiled on every push:\n" + "\n".join(uncached)


def test_a_follower_never_seen_costs_four_more(wx, openid, station_on_duty):
    with counting() as statements:
        answer = wx.scan(openid, station_on_duty.code)
    assert "王建国" in answer.content
    ours = _ours(statements)
    # Once per follower: the follow finds no subscriber, who is inserted, then the follow; and
    # this worker has not read the (new) station and its receptions yet.
    assert len(ours) <= 6, "\n".join(ours)


def test_a_leave_opinion_costs_a_bounded_number_of_statements(wx, openid, station_on_duty, mock_api):
    wx.scan(openid, station_on_duty.code)
    wx.text(openid, "留言 小区里的健身器材坏了")  # this worker reads the work calendar once
    with counting() as statements:
        answer = wx.text(openid, "留言 小区门口路灯坏了两周，晚上出行不便")
    opinion = db.session.scalar(select(Opinion).where(Opinion.content.startswith("小区门口路灯")))
    assert opinion.resident_id == openid and opinion.tracking_no in answer.content
    ours = _ours(statements)
    # followed stations, opinion dedup check, opinion and its first event, inbound row; the
    # work calendar comes from this worker's cache.
    assert len(ours) <= 5, "\n".join(ours)
    assert uncached == [], "compiled on every push:\n" + "\n".join(uncached)


def test_a_repeated_delivery_is_answered_as_the_first_and_changes_nothing(wx, openid, station_on_duty):
    code = station_on_duty.code
    wx.scan(openid, code)
    wx.scan(openid, code)  # caches filled (see above)
    xml = documented("event_scan", FromUserName=openid, EventKey=code)
    first = wx.post(xml)
    follow = db.session.scalar(select(StationFollow).where(StationFollow.station_id == station_on_duty.id))
    scanned_at = follow.last_scanned_at
    with counting() as statements:
        again = wx.post(xml)
    assert again.content == first.content
    ours = _ours(statements)
    # No Redis in front (a repeat is rare: WeChat retries after 5 s without an answer): the
    # handler's upsert, the refused claim (then a rollback), and the count on the first row.
    assert len(ours) <= 3, "\n".join(ours)
    key = f"evt:{openid}:"
    row = db.session.scalar(
        select(InboundMessage).where(InboundMessage.dedup_key.startswith(key), InboundMessage.deliveries > 1)
    )
    assert row.deliveries == 2 and row.reply == first.content
    db.session.refresh(follow)
    assert follow.last_scanned_at == scanned_at  # the repeat's upsert was rolled back
