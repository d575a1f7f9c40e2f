"""Batch claims under a lease, the send pool, crashes mid-batch, and WeChat's client_msg_id window."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models_base import utcnow
from app.notify import messages, sender
from app.notify.models import OutboxMessage
from app.notify.outbox import resend
from app.notify.sender import _claim_batch, client_msg_id, drain
from app.notify.service import queue_message
from app.wechat.mock import Fault, mock_state
from tests.conftest import make_test_app
from tests.notify.conftest import sends

TEMPLATE_PATH = "/cgi-bin/message/template/send"


def _queue(n: int = 1) -> list[OutboxMessage]:
    rows = []
    for _ in range(n):
        message = messages.Message(
            kind="test", template_key="deputy_reminder", data={"thing1": "批量"}, url="http://jzd.test/x"
        )
        key = f"batch:{uuid.uuid4().hex}"
        rows.append(queue_message("o" + uuid.uuid4().hex[:27], "template", message, key))
    db.session.commit()
    return rows


def _aware(moment):
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_batch_is_claimed_at_once_sent_through_the_pool_and_recorded(app, mock_api, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_BATCH_SIZE", 10)
    rows = _queue(25)
    claims = []
    real_claim = sender._claim_batch
    monkeypatch.setattr(sender, "_claim_batch", lambda *a: claims.append(a) or real_claim(*a))
    report = drain()
    assert report.sent == 25
    # 10 + 10 + 5, then one empty claim that ends the drain.
    assert [a[1] for a in claims] == [10, 10, 10, 10]
    for row in rows:
        db.session.refresh(row)
        assert row.status == "sent" and row.attempts == 1 and row.msgid
        assert row.claimed_until is None and row.claim_token is None
    assert Counter(c["json"]["client_msg_id"] for c in sends(mock_api)) == Counter(
        {client_msg_id(r.dedup_key): 1 for r in rows}
    )


def test_rows_under_a_running_lease_are_not_claimed_again(app, mock_api):
    rows = _queue(3)
    claimed, _ = _claim_batch(utcnow(), 2, "crashedworker01")
    assert [r.id for r in claimed] == [rows[0].id, rows[1].id]
    # The worker that claimed them is gone; another drains only the third.
    assert drain().sent == 1
    assert [c["json"]["touser"] for c in sends(mock_api)] == [rows[2].openid]


def test_a_crash_mid_batch_leaves_rows_claimable_after_the_lease_and_no_second_delivery(app, mock_api):
    rows = _queue(2)
    claimed, _ = _claim_batch(utcnow(), 2, "crashedworker01")
    # The crashed worker had sent the first row (WeChat delivered it) before dying.
    api = sender.wechat.official_account()
    api.send_template(rows[0].openid, rows[0].template, {}, client_msg_id=client_msg_id(rows[0].dedup_key))
    # Its lease runs out.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in claimed]))
        .values(claimed_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert drain().sent == 2
    for row in rows:
        db.session.refresh(row)
        assert row.status == "sent" and row.claim_token is None
        # The lost try counts as ambiguous, dated from the crashed claim.
        assert row.first_ambiguous_at is not None
    delivered = Counter(c["json"]["client_msg_id"] for c in sends(mock_api))
    assert delivered == Counter({client_msg_id(r.dedup_key): 1 for r in rows})
    assert sum(1 for c in mock_api.requests(TEMPLATE_PATH) if c.get("duplicate")) == 1


def test_a_crashed_claim_found_after_the_window_goes_to_review_not_to_wechat(app, mock_api):
    (row,) = _queue(1)
    _claim_batch(utcnow(), 1, "crashedworker01")
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(claimed_until=utcnow() - timedelta(minutes=20))
    )
    db.session.commit()
    report = drain()
    assert report.review == 1 and report.sent == 0
    db.session.refresh(row)
    assert row.status == "review" and "可能已送达" in row.last_error
    assert mock_api.requests(TEMPLATE_PATH) == []


def test_ambiguous_back_off_is_capped_inside_the_window_then_review(app, mock_api, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_HTTP_TIMEOUT", (0.5, 0.2))
    app.extensions.pop("wechat_clients", None)
    try:
        (row,) = _queue(1)
        mock_api.add_fault(Fault(TEMPLATE_PATH, 100, None, 0.35))
        start = utcnow()
        moment = start
        tries = []
        while True:
            report = drain(now=moment)
            db.session.refresh(row)
            tries.append(moment)
            if row.status != "pending":
                break
            next_at = _aware(row.next_attempt_at)
            # Never scheduled past the window (8 minutes from the first unanswered try).
            assert next_at <= start + timedelta(seconds=480)
            moment = next_at
        assert row.status == "review" and report.review == 1
        assert _aware(row.first_ambiguous_at) - start < timedelta(seconds=1)
        # Every try fell inside WeChat's 10-minute window from the first.
        assert tries[-1] - start < timedelta(minutes=10)
        assert len(tries) >= 5  # 30, 60, 120, 240 s, then capped at the window
        time.sleep(0.4)
        mock_api.clear_faults()
        # Staff resend: back to pending from scratch, and it goes out.
        resend(row, None)
        db.session.commit()
        assert row.first_ambiguous_at is None
        assert drain().sent == 1
    finally:
        app.extensions.pop("wechat_clients", None)


def test_a_definite_error_after_an_unanswered_try_still_respects_the_window(app, mock_api):
    (row,) = _queue(1)
    start = utcnow()
    row.first_ambiguous_at = start
    db.session.commit()
    mock_api.add_fault(Fault(TEMPLATE_PATH, 10, 45009))
    assert drain(clock=lambda: start + timedelta(seconds=400)).retrying == 1
    db.session.refresh(row)
    # Plain back-off would be 30 s; inside the window it waits at most half of what is left.
    assert _aware(row.next_attempt_at) == start + timedelta(seconds=430)
    assert drain(clock=lambda: start + timedelta(seconds=430)).retrying == 1
    db.session.refresh(row)
    assert _aware(row.next_attempt_at) == start + timedelta(seconds=455)
    # 25 s left: too little for another try and a margin.
    assert drain(clock=lambda: start + timedelta(seconds=455)).review == 1
    db.session.refresh(row)
    assert row.status == "review" and row.attempts == 3 and "可能已送达" in row.last_error


@pytest.mark.real_commits
def test_two_workers_with_batch_claims_never_send_a_row_twice_on_postgresql(pg_databases):
    from flask_migrate import upgrade

    app = make_test_app(
        pg_databases.create("batches"),
        OUTBOX_RATE_PER_SECOND=0,
        OUTBOX_BATCH_SIZE=15,
        OUTBOX_SEND_THREADS=4,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 4, "max_overflow": 2},
    )
    state = mock_state(app.extensions["wechat_mock_app"])
    state.clear_requests()
    state.clear_faults()
    total = 300
    with app.app_context():
        upgrade()
        for i in range(total):
            message = messages.Message(kind="t", template_key="reception_announced", data={"thing1": str(i)})
            queue_message(f"oTwo{i:024d}", "template", message, f"two:{i}")
        db.session.commit()
        db.session.remove()
    results: list = []

    def worker() -> None:
        with app.app_context():
            try:
                while True:
                    report = drain(limit=60)
                    results.append(report.sent)
                    if report.handled == 0:
                        break
            except BaseException as exc:
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == total
    calls = state.requests(TEMPLATE_PATH)
    # Not one repeat reached WeChat at all: each row was claimed by exactly one worker.
    assert len(calls) == total and not any(c.get("duplicate") for c in calls)
    assert len({c["json"]["client_msg_id"] for c in calls}) == total
    with app.app_context():
        statuses = Counter(db.session.scalars(select(OutboxMessage.status)))
        db.session.remove()
        db.engine.dispose()
    assert statuses == {"sent": total}
