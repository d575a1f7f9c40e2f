"""Matrix rows for 推送记录 (app/console_outbox), added to tests/console/matrix.py's ROWS and SETUP.

Only tests/console/matrix.py imports this module (after its ``Row`` exists). The outbox has
no region, so the rows are unscoped and city admins alone may use them; each side gets one
dead push (to resend) and one sent push.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.notify.models import OutboxMessage, OutboxStatus
from tests.auth.world import Side
from tests.console.matrix import Row

CITY = frozenset({Role.CITY_ADMIN})


def _push(s: Side, status: str) -> OutboxMessage:
    key = f"matrix-outbox:{s.key}:{status}"
    found = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == key))
    if found is not None:
        return found
    row = OutboxMessage(
        kind="reception_announced",
        channel="template",
        openid=f"oMatrixOutbox{s.key}{status}",
        template="TPL",
        data={"fields": {}, "url": ""},
        dedup_key=key,
        status=status,
        attempts=8 if status == OutboxStatus.DEAD else 1,
        last_error="errcode 99999" if status == OutboxStatus.DEAD else "",
    )
    db.session.add(row)
    db.session.flush()
    return row


def dead_of(s: Side) -> OutboxMessage:
    return _push(s, OutboxStatus.DEAD.value)


def sent_of(s: Side) -> OutboxMessage:
    return _push(s, OutboxStatus.SENT.value)


SETUP = [dead_of, sent_of]

ROWS = [
    Row(
        "console_outbox.index",
        "GET",
        lambda s: "/console/outbox/?status=dead",
        CITY,
        scoped=False,
        shows=lambda s: dead_of(s).openid,
    ),
    Row(
        "console_outbox.resend",
        "POST",
        lambda s: f"/console/outbox/{dead_of(s).id}/resend",
        CITY,
        data=lambda s: {"next": "/console/outbox/"},
        scoped=False,  # the outbox has no region: a city admin's rows are every row
    ),
]
