"""Fixtures of the resident's journey: a station with deputies and an announced reception."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, time, timedelta

import pytest

from app.extensions import db
from app.receptions.models import Reception
from app.timeutil import local_now
from app.wechat.oauth import COOKIE, _cookie_signer
from tests.factories import build_reception

_addresses = itertools.count(1)
# A random second octet per run: under Redis the rate-limit counters outlive a test session.
_NET = random.randint(0, 255)


def add_reception(station, deputies, *, day: date | None = None, **fields) -> Reception:
    """An announced reception, a week ahead by default, committed (see ``build_reception``)."""
    reception = build_reception(
        station, deputies, day=day or (local_now().date() + timedelta(days=7)), **fields
    )
    db.session.commit()
    return reception


@pytest.fixture
def journey(region_tree, make_station, make_deputy):
    """A village station, two deputies placed there, and an announced reception next week."""
    tree = region_tree()
    station = make_station(
        tree["village_a"], "station", name="清扬社区人大代表联络站", address="清扬路 100 号"
    )
    city = make_deputy(tree["city"], name="陈立", level="city", station=station)
    town = make_deputy(tree["town_a"], name="周敏", level="town", station=station)
    reception = add_reception(station, [city, town])
    # Committed (a savepoint the test's rollback still undoes): a view's rollback keeps it.
    db.session.commit()
    return {"tree": tree, "station": station, "deputies": [city, town], "reception": reception}


@pytest.fixture
def resident(app, db_session):
    """A fresh phone: its own test client, cookie jar and client address (rate limits are per address)."""

    def make(*, wechat_openid: str | None = None):
        browser = app.test_client()
        n = next(_addresses)
        browser.environ_base["REMOTE_ADDR"] = f"10.{_NET}.{n // 250}.{n % 250 + 1}"
        if wechat_openid:
            # As if snsapi_base OAuth had run (tests/wechat/test_oauth.py covers the round trip).
            browser.set_cookie(COOKIE, _cookie_signer().dumps({"id": wechat_openid, "k": "wechat"}))
        return browser

    return make


def resident_id(browser) -> str:
    """The identity the signed cookie gives this browser (set on its first resident page)."""
    cookie = browser.get_cookie(COOKIE)
    assert cookie is not None, "visit a resident page first"
    return _cookie_signer().loads(cookie.value)["id"]


def at(reception: Reception, clock: time) -> datetime:
    return datetime.combine(reception.date, clock)
