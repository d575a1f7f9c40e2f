"""SQL statements per push on ``/wechat``: the hot path stays cheap (issue 4, Speed).

Every SCAN and every 留言 is counted statement by statement; a change that adds a query
to the path WeChat waits on shows up here. Savepoints of the test harness (each view
commit releases one) are not counted; those of the code under test are.
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
from app.wechat.models import InboundMessage
from tests.wechat.sender import documented

HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def counting():
    """Collect the SQL the code under test sends, harness savepoints aside."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(" ".join(statement.split()))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _ours(statements: list[str]) -> list[str]:
    # The harness wraps each view commit in a savepoint of its own: the first SAVEPOINT and
    # the last RELEASE belong to it.
    inner = list(statements)
    if inner and inner[0].startswith("SAVEPOINT"):
        inner.pop(0)
    if inner and inner[-1].startswith("RELEASE SAVEPOINT"):
        inner.pop()
    return inner


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


def test_a_repeated_scan_costs_at_most_four_statements(wx, openid, station_on_duty):
    code = station_on_duty.code
    wx.scan(openid, code)  # the follower and the follow are new
    # The fixture's station and reception are committed with that first push, which empties
    # this worker's caches (as a console edit would); the second scan fills them again.
    wx.scan(openid, code)
    with counting() as statements:
        answer = wx.scan(openid, code)
    assert "王建国" in answer.content and code in answer.content
    ours = _ours(statements)
    # inbound row (dedup + audit), follower + follow upsert, receptions on duty with deputies,
    # audit update; the station comes from the cache.
    assert len(ours) <= 4, "\n".join(ours)


def test_a_follower_never_seen_costs_three_more(wx, openid, station_on_duty):
    with counting() as statements:
        answer = wx.scan(openid, station_on_duty.code)
    assert "王建国" in answer.content
    ours = _ours(statements)
    # Once per follower: the follow finds no subscriber, who is inserted, then the follow; and
    # this worker has not read the (new) station and its receptions yet.
    assert len(ours) <= 7, "\n".join(ours)


def test_a_leave_opinion_costs_a_bounded_number_of_statements(wx, openid, station_on_duty, mock_api):
    wx.scan(openid, station_on_duty.code)
    with counting() as statements:
        answer = wx.text(openid, "留言 小区门口路灯坏了两周，晚上出行不便")
    opinion = db.session.scalar(select(Opinion).where(Opinion.resident_id == openid))
    assert opinion is not None and opinion.tracking_no in answer.content
    ours = _ours(statements)
    # inbound row, followed stations, opinion dedup check, work calendar, opinion (savepoint,
    # insert, event insert, release), audit update.
    assert len(ours) <= 10, "\n".join(ours)


def test_a_repeated_delivery_costs_two_statements_or_none(app, wx, openid, station_on_duty):
    xml = documented("event_scan", FromUserName=openid, EventKey=station_on_duty.code)
    first = wx.post(xml)
    with counting() as statements:
        again = wx.post(xml)
    assert again.content == first.content
    ours = _ours(statements)
    if app.extensions.get("redis") is not None:
        assert ours == []  # answered from Redis
        return
    # The claim that finds the first delivery, and its reply read while counting this one.
    assert len(ours) <= 2, "\n".join(ours)
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.openid == openid))
    assert row.deliveries == 2
