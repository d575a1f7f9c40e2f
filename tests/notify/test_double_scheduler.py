"""Two schedulers started by mistake, plus two sender workers: every reminder still goes out once.

Two app instances (two processes in production) share one committed PostgreSQL database
and one lock backend (the PostgreSQL advisory lock, or Redis). Each runs the scheduler's
own job function (``_job``: take the lock, run the sweep) for the reminder and outbox
sweeps, at the same moments, through the lead times of a reception a few days ahead,
while two ``drain()`` workers send. One scheduler holds the lock at a time (the other
takes over when the first lets go), and each deputy receives each reminder once.
"""

from __future__ import annotations

import threading
import time as clock
from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.notify import scheduler as scheduler_module
from app.notify.models import OutboxMessage
from app.notify.scheduler import SchedulerLock, _job
from app.notify.sender import client_msg_id, drain
from app.timeutil import local_now
from app.wechat.mock import mock_state
from tests.conftest import make_test_app
from tests.notify.conftest import sends

ROUNDS = 3  # runs of each sweep by both schedulers at each moment
JOBS = ("deputy_reminders", "outbox")


def _seed() -> tuple[int, dict[int, str], int]:
    """A station with three bound deputies and one unbound on duty 5 days ahead, announced."""
    from app.deputies.service import create_deputy
    from app.receptions.service import create_reception
    from app.regions.service import create_region
    from app.stations.service import create_station, place_deputy

    city = create_region(code="C1", name="测试市", parent=None)
    district = create_region(code="D1", name="测试区", parent=city)
    town = create_region(code="T1", name="测试镇", parent=district)
    village = create_region(code="V1", name="测试村", parent=town)
    station = create_station(
        region=village, kind="station", data={"name": "测试联络站", "address": "测试路1号"}
    )
    deputies = []
    for i, name in enumerate(["张代表", "王代表", "赵代表", "李代表"]):
        deputy = create_deputy(
            region=village,
            data={"name": name, "unit": "测试单位", "post": "职员"},
            mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
        )
        if i < 3:
            deputy.openid = f"oDeputy{i:021d}"
        place_deputy(station, deputy)
        deputies.append(deputy)
    day = local_now().date() + timedelta(days=5)
    reception = create_reception(
        station,
        {"kind": "topic", "date": day.isoformat(), "start": "09:00", "end": "11:00", "topic": "专题接待"},
        deputy_ids=[d.id for d in deputies],
        announce=True,
    )
    db.session.commit()
    bound = {d.id: d.openid for d in deputies if d.openid}
    return reception.id, bound, reception.date


@pytest.fixture(params=["advisory", "redis"])
def lock_backend(request) -> str | None:
    """The Redis URL for the Redis lock, None for the PostgreSQL advisory lock."""
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    return None


@pytest.mark.real_commits
def test_two_schedulers_and_two_workers_remind_each_deputy_once(pg_databases, lock_backend, monkeypatch):
    from flask_migrate import upgrade

    url = pg_databases.create("sched")
    apps = [make_test_app(url, lock_backend), make_test_app(url, lock_backend)]
    # Both instances talk to one WeChat: the first app's in-process mock.
    mock = apps[0].extensions["wechat_mock_app"]
    apps[1].extensions["wechat_mock_app"] = mock
    state = mock_state(mock)
    state.clear_requests()
    state.clear_faults()
    if lock_backend:
        import redis

        # A lock left by a killed run would idle both schedulers for its TTL.
        redis.Redis.from_url(lock_backend).delete(scheduler_module.LOCK_NAME)
    with apps[0].app_context():
        upgrade()
        reception_id, bound, day = _seed()
        db.session.remove()

    # Both schedulers read the same (virtual) wall clock, stepped through the lead times.
    virtual = {"now": datetime.combine(day - timedelta(days=4), time(12, 0))}
    monkeypatch.setattr(scheduler_module, "local_now", lambda: virtual["now"])

    # Which scheduler ran a sweep, and whether two ever ran at once.
    guard = threading.Lock()
    running: set[int] = set()
    ran: list[tuple[str, int]] = []
    overlaps: list[set[int]] = []
    real_run_sweep = scheduler_module.run_sweep

    def recording_run_sweep(name, now=None):
        me = apps.index(current_app._get_current_object())
        with guard:
            running.add(me)
            if len(running) > 1:
                overlaps.append(set(running))
            ran.append((name, me))
        try:
            clock.sleep(0.01)  # widen the window a second holder would show up in
            return real_run_sweep(name, now)
        finally:
            with guard:
                running.discard(me)

    monkeypatch.setattr(scheduler_module, "run_sweep", recording_run_sweep)

    locks = [SchedulerLock(apps[0]), SchedulerLock(apps[1])]
    stop = threading.Event()
    errors: list[BaseException] = []

    def worker(app) -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    if drain(limit=50).handled == 0:
                        clock.sleep(0.02)
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    def run_schedulers_at_once(which: tuple[int, ...] = (0, 1)) -> list[int]:
        """The schedulers fire every job ROUNDS times, released together; who ran sweeps."""
        barrier = threading.Barrier(len(which))
        before = len(ran)

        def scheduler(n: int) -> None:
            try:
                for _ in range(ROUNDS):
                    barrier.wait(timeout=20)
                    for name in JOBS:
                        _job(apps[n], locks[n], name)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=scheduler, args=(n,)) for n in which]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return sorted({who for _, who in ran[before:]})

    workers = [threading.Thread(target=worker, args=(app,)) for app in apps]
    for thread in workers:
        thread.start()
    holders = []
    try:
        moments = [
            datetime.combine(day - timedelta(days=4), time(12, 0)),  # nothing due yet
            datetime.combine(day - timedelta(days=3), time(10, 0)),  # 3d
            datetime.combine(day - timedelta(days=2), time(10, 0)),  # 3d again: nothing new
            datetime.combine(day - timedelta(days=1), time(20, 0)),  # eve
        ]
        for moment in moments:
            virtual["now"] = moment
            holders.append(run_schedulers_at_once())
        # The active scheduler stops: the other one takes over for the morning reminder,
        # and keeps the lock when the first is started again.
        active = holders[0][0]
        with apps[active].app_context():
            locks[active].release()
        virtual["now"] = datetime.combine(day, time(8, 0))  # morning
        holders.append(run_schedulers_at_once((1 - active,)))
        locks[active] = SchedulerLock(apps[active])
        holders.append(run_schedulers_at_once())
        holders.append(run_schedulers_at_once())
        deadline = clock.monotonic() + 15
        with apps[0].app_context():
            while clock.monotonic() < deadline:
                left = db.session.scalar(
                    select(db.func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "pending")
                )
                db.session.commit()
                if left == 0:
                    break
                clock.sleep(0.05)
            db.session.remove()
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=30)
        for n, lock in enumerate(locks):
            with apps[n].app_context():
                lock.release()
    assert not errors, errors

    # One scheduler at a time: never two sweeps at once, one holder per moment, then the other.
    assert not overlaps, overlaps
    assert all(len(h) == 1 for h in holders), holders
    assert {h[0] for h in holders[:4]} == {active}
    assert {h[0] for h in holders[4:]} == {1 - active}

    with apps[0].app_context():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key.like(f"reminder:{reception_id}:%"))
        ).all()
        expected = {
            f"reminder:{reception_id}:{deputy_id}:{lead}"
            for deputy_id in bound
            for lead in ("3d", "eve", "morning")
        }
        keys = Counter(row.dedup_key for row in rows)
        assert set(keys) == expected and max(keys.values()) == 1
        assert {row.status for row in rows} == {"sent"}
        by_cmid = {client_msg_id(row.dedup_key): row for row in rows}
        db.session.remove()
    for app in apps:
        with app.app_context():
            db.engine.dispose()

    # What the deputies received: each reminder once, nothing else, nothing twice.
    delivered = Counter(call["json"]["client_msg_id"] for call in sends(state))
    assert set(delivered) == set(by_cmid) and max(delivered.values()) == 1
    per_deputy = Counter(call["json"]["touser"] for call in sends(state))
    assert per_deputy == {openid: 3 for openid in bound.values()}
