"""推送记录 (/console/outbox): list, filters, counts, delivery reports, resend with CSRF and audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.notify.models import AuditEntry, OutboxMessage, OutboxStatus
from app.wechat.models import TemplateDelivery
from tests.auth.world import World


def push(openid: str, status: str = "pending", *, kind: str = "reception_announced", **extra):
    row = OutboxMessage(
        kind=kind,
        channel="template",
        openid=openid,
        template="TPL",
        data={"fields": {}, "url": ""},
        dedup_key=f"test:{openid}",
        status=status,
        **extra,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def city(world: World, login_as):
    return login_as(world.actors[Role.CITY_ADMIN])


@pytest.fixture
def rows(world: World):
    made = {
        "sent": push("oSentOne", "sent", msgid="1000001"),
        "failed": push("oBlockedOne", "sent", msgid="1000002"),
        "waiting": push("oWaitingOne", "sent", msgid="1000003"),
        "dead": push("oDeadOne", "dead", attempts=8, last_error="errcode 99999"),
        "gone": push("oGoneOne", "undeliverable", attempts=1, last_error="errcode 43004"),
        "pending": push("oPendingOne", kind="opinion_update"),
    }
    db.session.add_all(
        [
            TemplateDelivery(msgid=1000001, openid="oSentOne", status="success"),
            TemplateDelivery(msgid=1000002, openid="oBlockedOne", status="failed:user block"),
        ]
    )
    db.session.commit()
    return made


def test_lists_every_push_with_counts_and_delivery(city, rows):
    body = city.get("/console/outbox/").get_data(as_text=True)
    for row in rows.values():
        assert row.openid in body
    assert "已送达" in body and "用户拒收" in body and "等待回执" in body
    assert "errcode 99999" in body
    # Counts per status: 3 sent, 1 each of the others.
    stats = re.findall(r'<div class="stat-num">(\d+)</div>', body)
    assert stats == ["1", "3", "1", "1", "0"]
    # Resend only for dead and undeliverable rows.
    assert body.count("重新发送</button>") == 2


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=dead", ["oDeadOne"], ["oSentOne", "oGoneOne"]),
        ("kind=opinion_update", ["oPendingOne"], ["oDeadOne"]),
        ("openid=Blocked", ["oBlockedOne"], ["oSentOne"]),
        ("openid=%25", [], ["oSentOne"]),  # a wildcard typed in is literal
        ("status=nonsense", ["oSentOne", "oDeadOne"], []),  # an unknown status is ignored
    ],
)
def test_filters(city, rows, query, shown, hidden):
    response = city.get(f"/console/outbox/?{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for openid in shown:
        assert openid in body
    for openid in hidden:
        assert openid not in body


def test_resend_queues_again_and_audits(world: World, city, rows):
    dead = rows["dead"]
    response = city.post(f"/console/outbox/{dead.id}/resend", data={"next": "/console/outbox/?status=dead"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/outbox/?status=dead")
    assert "已重新排队发送" in city.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(OutboxMessage, dead.id)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 0, "")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.resend"))
    assert entry.actor_user_id == world.actors[Role.CITY_ADMIN].id
    assert entry.object_id == str(dead.id)


def test_resend_of_a_sent_row_is_refused_politely(city, rows):
    sent = rows["sent"]
    response = city.post(f"/console/outbox/{sent.id}/resend", data={"next": "//evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/outbox/")
    assert "只能重发" in city.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, sent.id).status == "sent"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.resend")) is None


def test_resend_of_an_unknown_row_is_404(city, rows):
    assert city.post("/console/outbox/99999999/resend").status_code == 404


def test_resend_needs_the_csrf_token(world: World, login_as, rows, app, monkeypatch):
    client = login_as(world.actors[Role.CITY_ADMIN])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    dead = rows["dead"]
    assert client.post(f"/console/outbox/{dead.id}/resend").status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxMessage, dead.id).status == "dead"
    page = client.get("/console/outbox/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/console/outbox/{dead.id}/resend", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, dead.id).status == "pending"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.CITY_ADMIN], ids=str)
def test_only_city_admins_see_the_room(world: World, login_as, rows, role):
    client = login_as(world.actors[role])
    response = client.get("/console/outbox/")
    assert response.status_code == 403
    assert "oDeadOne" not in response.get_data(as_text=True)
    assert "推送记录" not in client.get("/console/").get_data(as_text=True)
    assert client.post(f"/console/outbox/{rows['dead'].id}/resend").status_code == 403


def test_city_admin_finds_it_in_the_sidebar(city):
    body = city.get("/console/").get_data(as_text=True)
    assert "推送记录" in body and "/console/outbox/" in body


def test_signed_out_goes_to_login(client):
    response = client.get("/console/outbox/")
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]
