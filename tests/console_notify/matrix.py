"""Matrix rows for 微信绑定 and 代表提醒 (app/notify/console.py), added to tests/console/matrix.py.

Admins of a region and station staff see the deputies of their scope and make their binding
codes; admins also bind station and unit staff accounts. Each side gets one open code.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.notify.binding import create_binding
from app.notify.models import WeChatBinding
from tests.auth.world import Side
from tests.console.matrix import Row

ADMINS = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_ADMIN})
BINDERS = ADMINS | {Role.STATION_STAFF}


def code_of(s: Side) -> WeChatBinding:
    found = db.session.scalar(
        select(WeChatBinding).where(WeChatBinding.deputy_id == s.deputy.id).order_by(WeChatBinding.id.desc())
    )
    return found if found is not None else create_binding(s.deputy, None)


SETUP = [code_of]

ROWS = [
    Row(
        "console_notify.bindings",
        "GET",
        lambda s: "/console/notify/bindings",
        BINDERS,
        scoped=False,
        shows=lambda s: s.deputy.name,
    ),
    Row(
        "console_notify.create_code",
        "POST",
        lambda s: f"/console/notify/bindings/deputy/{s.deputy.id}/code",
        BINDERS,
    ),
    Row(
        "console_notify.create_code",
        "POST",
        lambda s: f"/console/notify/bindings/staff/{s.staff.id}/code",
        ADMINS,
    ),
    Row(
        "console_notify.unbind",
        "POST",
        lambda s: f"/console/notify/bindings/deputy/{s.deputy.id}/unbind",
        BINDERS,
    ),
    Row(
        "console_notify.code",
        "GET",
        lambda s: f"/console/notify/codes/{code_of(s).id}",
        BINDERS,
        shows=lambda s: s.deputy.name,
    ),
    Row(
        "console_notify.code_qr",
        "GET",
        lambda s: f"/console/notify/codes/{code_of(s).id}/qr.svg",
        BINDERS,
    ),
    Row("console_notify.reminders", "GET", lambda s: "/console/notify/reminders", BINDERS, scoped=False),
]
