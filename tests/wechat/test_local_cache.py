"""Per-process caches on the WeChat path forget what this process changes, at once."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest

from app.extensions import db
from app.local_cache import LocalCache
from app.receptions.models import Reception, ReceptionDuty
from app.stations.lookup import station_ref
from app.stations.models import Station
from app.stations.service import update_station
from app.timeutil import local_now


def test_a_value_loaded_while_a_write_cleared_the_cache_is_not_kept():
    cache = LocalCache("t", ttl=60, depends_on=(Station,))
    loading, cleared = threading.Event(), threading.Event()

    def slow_load():
        loading.set()
        cleared.wait(5)
        return "old row"

    reader = threading.Thread(target=lambda: cache.get("k", slow_load))
    reader.start()
    loading.wait(5)
    cache.clear()  # a writer changed the row while the reader was reading the old one
    cleared.set()
    reader.join(5)
    assert cache.get("k", lambda: "new row") == "new row"


def test_entries_expire_and_the_cache_stays_bounded(monkeypatch):
    cache = LocalCache("t", ttl=60, depends_on=(Station,), max_entries=3)
    for key in range(5):
        cache.get(key, lambda key=key: key)
    assert len(cache) <= 3
    clock = [1000.0]
    monkeypatch.setattr("app.local_cache.time.monotonic", lambda: clock[0])
    assert cache.get("x", lambda: 1) == 1
    clock[0] += 61
    assert cache.get("x", lambda: 2) == 2


@pytest.fixture
def station(region_tree, make_station, make_deputy):
    village = region_tree()["village_a"]
    station = make_station(village, name="清扬社区人大代表联络站", address="清扬路1号")
    make_deputy(village, name="王建国", station=station)
    db.session.commit()  # as the console would: the caches start from committed rows
    return station


def test_a_station_edit_shows_on_the_next_scan(wx, openid, station):
    assert "清扬路1号" in wx.scan(openid, station.code).content
    update_station(station, {"address": "清扬路88号"}, public_info_only=True)
    db.session.commit()
    assert "清扬路88号" in wx.scan(openid, station.code).content


def test_a_suspended_station_is_not_found_on_the_next_scan(wx, openid, station):
    assert station.name in wx.scan(openid, station.code).content
    station.status = "suspended"
    db.session.commit()
    assert "未找到该家站点" in wx.scan(openid, station.code).content


def test_a_new_reception_and_its_deputies_show_on_the_next_scan(wx, openid, station):
    assert "暂无接待安排" in wx.scan(openid, station.code).content
    reception = Reception(
        station=station,
        date=local_now().date() + timedelta(days=3),
        start=time(9),
        end=time(11, 30),
        kind="service_day",
        status="announced",
    )
    reception.duties = [ReceptionDuty(deputy=station.placements[0].deputy)]
    db.session.add(reception)
    db.session.commit()
    answer = wx.scan(openid, station.code).content
    assert "下次接待" in answer and "王建国" in answer


def test_a_change_rolled_back_does_not_linger(station):
    station.name = "改了又撤回的名字"
    db.session.flush()
    # Read inside the transaction that changed it (a cache filled with the uncommitted name)…
    assert station_ref(station.code).name == "改了又撤回的名字"
    db.session.rollback()
    # …and forgotten when that transaction rolls back.
    assert station_ref(station.code).name == "清扬社区人大代表联络站"
