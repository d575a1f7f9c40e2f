"""Exactly once on PostgreSQL: concurrent duplicate deliveries make one opinion, one reply.

WeChat retries a push it got no answer to within 5 s and sometimes delivers twice. These
tests fire the same push four times at once at a real server on a committed database.
"""

from __future__ import annotations

import threading

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.extensions import db
from app.opinions.models import Opinion
from app.wechat.models import InboundMessage, StationFollow, Subscriber
from tests.conftest import make_test_app
from tests.wechat.sender import documented, sign

pytestmark = pytest.mark.real_commits

DELIVERIES = 4
ROUNDS = 8


@pytest.fixture(params=["database", "redis"])
def served(request, pg_databases):
    """A server on a fresh PostgreSQL database (optionally with Redis, as in production), one station."""
    redis = request.getfixturevalue("redis_url") if request.param == "redis" else None
    app = make_test_app(pg_databases.create("wxdedup"), redis)
    with app.app_context():
        upgrade()
        from app.regions.service import create_region
        from app.stations.service import create_station

        city = create_region(code="C01", name="无锡市", parent=None)
        district = create_region(code="D01", name="梁溪区", parent=city)
        town = create_region(code="T01", name="崇安寺街道", parent=district)
        village = create_region(code="V01", name="健康里社区", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "健康里社区联络站", "address": "健康里1号"}
        )
        db.session.commit()
        code = station.code
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}/wechat", code
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _deliver_at_once(url: str, token: str, xml: str) -> list[requests.Response]:
    barrier = threading.Barrier(DELIVERIES)
    answers: list[requests.Response] = [None] * DELIVERIES  # type: ignore[list-item]

    def deliver(i: int) -> None:
        query = {"timestamp": "1700000000", "nonce": f"n{i}"}
        query["signature"] = sign(token, query["timestamp"], query["nonce"])
        barrier.wait()
        answers[i] = requests.post(url, params=query, data=xml.encode(), timeout=10)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(DELIVERIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _content(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    text = response.content.decode("utf-8")
    return text.split("<Content><![CDATA[", 1)[1].split("]]></Content>", 1)[0]


def test_concurrent_duplicates_of_one_opinion_make_one_opinion_and_one_tracking_number(served):
    app, url, code = served
    token = app.config["WECHAT_TOKEN"]
    openid = "oDedupResident000000000000001"
    scan = documented("event_subscribe_qrscene", FromUserName=openid, EventKey=f"qrscene_{code}")
    scan_replies = {_content(r) for r in _deliver_at_once(url, token, scan)}
    assert len(scan_replies) == 1 and "健康里社区联络站" in scan_replies.pop()

    for round_no in range(ROUNDS):
        xml = documented("text", FromUserName=openid, Content=f"留言 第{round_no}次：小区门口路灯坏了两周")
        replies = [_content(r) for r in _deliver_at_once(url, token, xml)]
        assert len(set(replies)) == 1, replies
        assert "查询编号" in replies[0]

    with app.app_context():
        opinions = db.session.scalars(select(Opinion).where(Opinion.resident_id == openid)).all()
        assert len(opinions) == ROUNDS
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 1
        assert db.session.scalar(select(func.count()).select_from(StationFollow)) == 1
        rows = db.session.scalars(select(InboundMessage).where(InboundMessage.msg_type == "text")).all()
        assert len(rows) == ROUNDS
        assert all(row.action == "opinion_created" for row in rows)
        for row in rows:
            opinion = next(o for o in opinions if o.tracking_no == row.ref)
            assert opinion.tracking_no in row.reply
        # Every delivery is accounted for on the first one's row.
        assert sum(row.deliveries for row in rows) == ROUNDS * DELIVERIES


def test_concurrent_duplicates_of_scans_and_queries_are_logged_once_and_answered_alike(served):
    """值班 and 进度 run in autocommit (they only read), a SCAN in its transaction: both exactly once."""
    app, url, code = served
    token = app.config["WECHAT_TOKEN"]
    openid = "oDedupResident000000000000002"
    _deliver_at_once(
        url, token, documented("event_subscribe_qrscene", FromUserName=openid, EventKey=f"qrscene_{code}")
    )
    pushes = [
        documented("event_scan", FromUserName=openid, EventKey=code),
        documented("text", FromUserName=openid, Content="值班"),
        documented("text", FromUserName=openid, Content="进度"),
    ]
    for xml in pushes:
        replies = {_content(r) for r in _deliver_at_once(url, token, xml)}
        assert len(replies) == 1, replies

    with app.app_context():
        rows = db.session.scalars(
            select(InboundMessage).where(
                InboundMessage.openid == openid, InboundMessage.action != "subscribed_station"
            )
        ).all()
        assert sorted(row.action for row in rows) == ["duty", "followed_station", "progress_none"]
        assert all(row.deliveries == DELIVERIES for row in rows)
        assert db.session.scalar(select(func.count()).select_from(StationFollow)) == 1


def test_autocommit_of_a_repeatable_push_ends_with_its_connection(served):
    """The pool's next user of that connection gets an ordinary transaction again."""
    from app.wechat.service import statements_commit_alone

    app, _url, _code = served
    with app.app_context():
        statements_commit_alone()
        driver = db.session.connection().connection.driver_connection
        assert driver.autocommit is True
        db.session.commit()  # the connection goes back to the pool
        assert driver.autocommit is False


def test_a_late_retry_of_a_scan_does_not_undo_an_unsubscribe(served):
    """Committed for real: a scan's retry arriving after the follower unsubscribed is a repeat,
    and what its handler did (re-subscribing them) is rolled back, not committed by itself."""
    app, url, code = served
    token = app.config["WECHAT_TOKEN"]
    openid = "oDedupResident000000000000003"
    query = {"timestamp": "1700000000", "nonce": "late"}
    query["signature"] = sign(token, query["timestamp"], query["nonce"])

    def post(xml: str) -> requests.Response:
        return requests.post(url, params=query, data=xml.encode(), timeout=10)

    post(documented("event_subscribe_qrscene", FromUserName=openid, EventKey=f"qrscene_{code}"))
    scan = documented("event_scan", FromUserName=openid, EventKey=code)
    first = post(scan)
    post(documented("event_unsubscribe", FromUserName=openid))
    again = post(scan)
    assert _content(again) == _content(first)
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber).where(Subscriber.openid == openid))
        assert subscriber.subscribed is False
