"""THE MATRIX: every console route, who may use it, and how to call it on a branch of the world.

A later issue that adds a console route adds a row here; ``test_every_console_rule_is_in_the_matrix``
fails until it does. Each row is run for every role, once on the actor's own branch and once on
a foreign one (see tests/auth/world.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta

from PIL import Image
from sqlalchemy import select

from app.auth.models import Role
from app.console.access import (
    ADMINS,
    DEPUTY_VIEWERS,
    EVERYONE,
    RECEPTION_VIEWERS,
    STATION_VIEWERS,
    STATION_WORKERS,
    UNIT_VIEWERS,
)
from app.extensions import db
from app.receptions.models import Booking, Reception, ReceptionDuty
from app.timeutil import local_now
from tests.auth.world import Side
from tests.factories import PASSWORD

CITY = frozenset({Role.CITY_ADMIN})
STATION_EDITORS = ADMINS | {Role.STATION_STAFF}


def png_bytes(size: tuple[int, int] = (40, 60), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Row:
    """One console route as the matrix calls it."""

    endpoint: str
    method: str
    url: Callable[[Side], str]
    allowed: frozenset[Role]
    data: Callable[[Side], dict] | None = None
    # The URL or form names an object of the branch, so on a foreign branch it must be refused.
    # Unscoped rows (lists, blank forms, one's own password) are only searched for foreign data.
    scoped: bool = True
    # Text the page shows when the actor uses it on the own branch.
    shows: Callable[[Side], str] | None = None
    # Status of a successful own call when it is not the usual (GET 200, POST 302 redirect).
    ok: int | None = None

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.method}"


MANDATE = {"m_level": "town", "m_term": "第十八届", "m_start_year": "2022"}

ROWS: list[Row] = [
    # the front door
    Row("console.dashboard", "GET", lambda s: "/console/", EVERYONE, scoped=False),
    Row("console.password", "GET", lambda s: "/console/password", EVERYONE, scoped=False),
    Row(
        "console.password",
        "POST",
        lambda s: "/console/password",
        EVERYONE,
        data=lambda s: {
            "old_password": PASSWORD,
            "new_password": "changed-pass-9",
            "confirm_password": "changed-pass-9",
        },
        scoped=False,
    ),
    Row("console.logout", "POST", lambda s: "/console/logout", EVERYONE, scoped=False),
    # 区域
    Row(
        "console.regions",
        "GET",
        lambda s: "/console/regions/?page=1",
        ADMINS,
        scoped=False,
        shows=lambda s: s.village.name,
    ),
    Row("console.region_new_child", "GET", lambda s: f"/console/regions/{s.town.id}/children/new", ADMINS),
    Row(
        "console.region_new_child",
        "POST",
        lambda s: f"/console/regions/{s.town.id}/children/new",
        ADMINS,
        data=lambda s: {"code": f"NEW{s.key}01", "name": "新设社区"},
    ),
    Row(
        "console.region_edit",
        "GET",
        lambda s: f"/console/regions/{s.village.id}/edit",
        ADMINS,
        shows=lambda s: s.village.name,
    ),
    Row(
        "console.region_edit",
        "POST",
        lambda s: f"/console/regions/{s.village.id}/edit",
        ADMINS,
        data=lambda s: {"name": "改名后的村"},
    ),
    Row("console.region_delete", "POST", lambda s: f"/console/regions/{s.spare_region.id}/delete", ADMINS),
    # 家站点
    Row(
        "console.stations",
        "GET",
        lambda s: f"/console/stations/?region={s.district.id}",
        STATION_VIEWERS,
        scoped=False,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console.station_new",
        "GET",
        lambda s: f"/console/stations/new?region={s.village.id}",
        ADMINS,
        scoped=False,
    ),
    Row(
        "console.station_new",
        "POST",
        lambda s: "/console/stations/new",
        ADMINS,
        data=lambda s: {
            "region_id": s.village.id,
            "kind": "station",
            "name": "新设联络站",
            "address": "新路 1 号",
        },
    ),
    Row(
        "console.station_detail",
        "GET",
        lambda s: f"/console/stations/{s.station.id}",
        STATION_VIEWERS,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console.station_edit",
        "GET",
        lambda s: f"/console/stations/{s.station.id}/edit",
        STATION_EDITORS,
        shows=lambda s: s.station.phone,
    ),
    Row(
        "console.station_edit",
        "POST",
        lambda s: f"/console/stations/{s.station.id}/edit",
        STATION_EDITORS,
        data=lambda s: {
            "name": "改名联络站",
            "address": "新址路 9 号",
            "phone": "0510-12345678",
            "status": "active",
        },
    ),
    Row(
        "console.station_place",
        "POST",
        lambda s: f"/console/stations/{s.station.id}/placements",
        ADMINS,
        data=lambda s: {"deputy_id": s.spare_deputy.id},
    ),
    Row(
        "console.station_unplace",
        "POST",
        lambda s: f"/console/stations/{s.station.id}/placements/{s.deputy.id}/delete",
        ADMINS,
    ),
    # 代表
    Row(
        "console.deputies",
        "GET",
        lambda s: f"/console/deputies/?region={s.town.id}&level=town",
        DEPUTY_VIEWERS,
        scoped=False,
        shows=lambda s: s.deputy.name,
    ),
    Row("console.deputy_new", "GET", lambda s: "/console/deputies/new", ADMINS, scoped=False),
    Row(
        "console.deputy_new",
        "POST",
        lambda s: "/console/deputies/new",
        ADMINS,
        data=lambda s: {"region_id": s.town.id, "name": "新代表", "active": "on", **MANDATE},
    ),
    Row(
        "console.deputy_detail",
        "GET",
        lambda s: f"/console/deputies/{s.deputy.id}",
        DEPUTY_VIEWERS,
        shows=lambda s: s.deputy.public_contact,
    ),
    Row(
        "console.deputy_edit",
        "GET",
        lambda s: f"/console/deputies/{s.deputy.id}/edit",
        ADMINS,
        shows=lambda s: s.deputy.name,
    ),
    Row(
        "console.deputy_edit",
        "POST",
        lambda s: f"/console/deputies/{s.deputy.id}/edit",
        ADMINS,
        data=lambda s: {"name": "改名代表", "active": "on", **MANDATE},
    ),
    Row(
        "console.deputy_photo",
        "POST",
        lambda s: f"/console/deputies/{s.deputy.id}/photo",
        ADMINS,
        data=lambda s: {"photo": (io.BytesIO(png_bytes()), "photo.png")},
    ),
    Row(
        "console.deputy_photo_delete",
        "POST",
        lambda s: f"/console/deputies/{s.deputy.id}/photo/delete",
        ADMINS,
    ),
    # 承办单位
    Row(
        "console.units",
        "GET",
        lambda s: "/console/units/?kind=government",
        UNIT_VIEWERS,
        scoped=False,
        shows=lambda s: s.unit.name,
    ),
    Row("console.unit_new", "GET", lambda s: "/console/units/new", ADMINS, scoped=False),
    Row(
        "console.unit_new",
        "POST",
        lambda s: "/console/units/new",
        ADMINS,
        data=lambda s: {
            "region_id": s.town.id,
            "code": f"NEWU{s.key}",
            "name": "新承办单位",
            "kind": "government",
        },
    ),
    Row(
        "console.unit_detail",
        "GET",
        lambda s: f"/console/units/{s.unit.id}",
        UNIT_VIEWERS,
        shows=lambda s: s.unit.contact_phone,
    ),
    Row(
        "console.unit_edit",
        "GET",
        lambda s: f"/console/units/{s.unit.id}/edit",
        ADMINS,
        shows=lambda s: s.unit.name,
    ),
    Row(
        "console.unit_edit",
        "POST",
        lambda s: f"/console/units/{s.unit.id}/edit",
        ADMINS,
        data=lambda s: {"name": "改名承办单位", "kind": "government", "active": "on"},
    ),
    # 工作人员
    Row(
        "console.users",
        "GET",
        lambda s: "/console/users/?role=station_staff",
        ADMINS,
        scoped=False,
        shows=lambda s: s.staff.username,
    ),
    Row(
        "console.user_new",
        "GET",
        lambda s: f"/console/users/new?role=unit_staff&unit_id={s.unit.id}",
        ADMINS,
        scoped=False,
    ),
    Row(
        "console.user_new",
        "POST",
        lambda s: "/console/users/new",
        ADMINS,
        data=lambda s: {
            "username": f"new_unit_{s.key}",
            "display_name": "新同事",
            "role": "unit_staff",
            "unit_id": s.unit.id,
            "password": "new-pass-123",
        },
    ),
    Row(
        "console.user_edit",
        "GET",
        lambda s: f"/console/users/{s.staff.id}/edit",
        ADMINS,
        shows=lambda s: s.staff.username,
    ),
    Row(
        "console.user_edit",
        "POST",
        lambda s: f"/console/users/{s.staff.id}/edit",
        ADMINS,
        data=lambda s: {"display_name": "改名同事", "phone": "13700000000", "active": "on"},
    ),
    Row("console.user_unlock", "POST", lambda s: f"/console/users/{s.staff.id}/unlock", ADMINS),
    # 工作日历: not scoped by region; the city edits, the other admins look.
    Row(
        "console.calendar",
        "GET",
        lambda s: "/console/calendar/?year=2026",
        ADMINS,
        scoped=False,
        shows=lambda s: "春节",
    ),
    Row("console.calendar_day", "GET", lambda s: "/console/calendar/day?day=2026-10-01", CITY, scoped=False),
    Row(
        "console.calendar_day",
        "POST",
        lambda s: "/console/calendar/day",
        CITY,
        data=lambda s: {"day": "2031-05-06", "kind": "holiday", "name": "测试假日"},
        scoped=False,
    ),
    Row(
        "console.calendar_reset",
        "POST",
        lambda s: "/console/calendar/day/reset",
        CITY,
        data=lambda s: {"day": "2026-10-01"},
        scoped=False,
    ),
]

# 公众号模拟器 (app/wechat/console.py): no object in the URL; scanning offers only visible stations.
SIMULATOR_ROLES = ADMINS | {Role.STATION_STAFF}
ROWS += [
    Row(
        "wechat_console.simulator",
        "GET",
        lambda s: "/console/wechat/simulator",
        SIMULATOR_ROLES,
        scoped=False,
        shows=lambda s: s.station.name,
    ),
    Row(
        "wechat_console.simulator_send",
        "POST",
        lambda s: "/console/wechat/simulator/send",
        SIMULATOR_ROLES,
        data=lambda s: {"kind": "scan", "station_code": s.station.code, "openid": "sim-matrix"},
        scoped=False,  # a foreign station code is refused like an unknown one; checked for leaks only
    ),
    Row(
        "wechat_console.simulator_log",
        "GET",
        lambda s: "/console/wechat/simulator/log?openid=sim-matrix",
        SIMULATOR_ROLES,
        scoped=False,
    ),
]

# Reachable without signing in; tested on their own in test_auth_views.py.
PUBLIC = {("console.login", "GET"), ("console.login", "POST")}


# --- 接待活动, 标识牌, 现场收集意见 -------------------------------------------------------------
# The world has no receptions: SETUP (below) gives each side's station the ones the rows
# need before a row runs; they are found again by topic (built on first use otherwise).


def _reception(s: Side, label: str, *, days: int = 10, status: str = "draft", booked: bool = False, **extra):
    topic = f"矩阵接待{label}"
    found = db.session.scalar(
        select(Reception).where(Reception.station_id == s.station.id, Reception.topic == topic)
    )
    if found is not None:
        return found
    fields = {
        "kind": "topic",
        "date": local_now().date() + timedelta(days=days),
        "start": time(9),
        "end": time(11),
        "slot_minutes": 30,
        "slot_capacity": 3,
        **extra,
    }
    reception = Reception(station=s.station, topic=topic, status=status, **fields)
    reception.duties = [ReceptionDuty(deputy=s.deputy)]
    db.session.add(reception)
    if booked:
        db.session.add(
            Booking(
                code=f"MX{s.key.upper()}{days + 50:02d}00",
                reception=reception,
                slot_start=time(9),
                seat=1,
                resident_id=f"matrix-{s.key}",
                active_resident=f"matrix-{s.key}",
                name="矩阵群众",
                mobile="13600000000",
            )
        )
    db.session.flush()
    return reception


def draft_of(s: Side) -> Reception:
    return _reception(s, "草稿")


def open_of(s: Side) -> Reception:
    """Announced, in ten days, one seat of its first slot taken."""
    return _reception(s, "公告", status="announced", booked=True)


def moved_of(s: Side) -> Reception:
    """A service day moved off a holiday, waiting for staff to confirm it."""
    day = local_now().date() + timedelta(days=10)
    return _reception(
        s,
        "顺延",
        kind="service_day",
        needs_confirmation=True,
        schedule_note="本月第三个星期二为节假日，已顺延。",
        service_month=f"{day:%Y-%m}",
    )


def past_of(s: Side) -> Reception:
    """Announced yesterday, one booking whose attendance can be recorded."""
    return _reception(s, "昨日", days=-1, status="announced", booked=True)


def booking_of(reception: Reception) -> Booking:
    return db.session.scalar(select(Booking).where(Booking.reception_id == reception.id))


def _next_month() -> str:
    today = local_now().date()
    return f"{today.year + today.month // 12:04d}-{today.month % 12 + 1:02d}"


RECEPTION_FORM = {
    "kind": "topic",
    "topic": "加装电梯专题接待",
    "start": "09:00",
    "end": "10:30",
    "slot_minutes": "30",
    "slot_capacity": "2",
}

# Objects some rows need that the world lacks, built on every branch before a row runs
# (so the foreign branch's fingerprint already includes them).
SETUP: list[Callable[[Side], object]] = [draft_of, open_of, moved_of, past_of]

ROWS += [
    Row(
        "console.receptions",
        "GET",
        lambda s: f"/console/receptions/?station={draft_of(s).station_id}",
        RECEPTION_VIEWERS,
        scoped=False,
        shows=lambda s: draft_of(s).topic,
    ),
    Row(
        "console.reception_new",
        "GET",
        lambda s: f"/console/receptions/new?station={s.station.id}",
        STATION_WORKERS,
        shows=lambda s: s.deputy.name,
    ),
    Row(
        "console.reception_new",
        "POST",
        lambda s: "/console/receptions/new",
        STATION_WORKERS,
        data=lambda s: {
            **RECEPTION_FORM,
            "station_id": s.station.id,
            "date": (local_now().date() + timedelta(days=5)).isoformat(),
            "deputy_ids": s.deputy.id,
            "action": "announce",
        },
    ),
    Row(
        "console.receptions_generate",
        "POST",
        lambda s: "/console/receptions/generate",
        CITY,
        data=lambda s: {"month": _next_month()},
        scoped=False,  # no object in the request: generates within the caller's scope only
    ),
    Row(
        "console.reception_detail",
        "GET",
        lambda s: f"/console/receptions/{open_of(s).id}",
        RECEPTION_VIEWERS,
        shows=lambda s: open_of(s).topic,
    ),
    Row(
        "console.reception_edit",
        "GET",
        lambda s: f"/console/receptions/{draft_of(s).id}/edit",
        STATION_WORKERS,
        shows=lambda s: draft_of(s).topic,
    ),
    Row(
        "console.reception_edit",
        "POST",
        lambda s: f"/console/receptions/{draft_of(s).id}/edit",
        STATION_WORKERS,
        data=lambda s: {
            **RECEPTION_FORM,
            "date": draft_of(s).date.isoformat(),
            "deputy_ids": s.deputy.id,
        },
    ),
    Row(
        "console.reception_announce",
        "POST",
        lambda s: f"/console/receptions/{draft_of(s).id}/announce",
        STATION_WORKERS,
    ),
    Row(
        "console.reception_cancel",
        "POST",
        lambda s: f"/console/receptions/{open_of(s).id}/cancel",
        STATION_WORKERS,
        data=lambda s: {"reason": "场地维修"},
    ),
    Row(
        "console.reception_confirm",
        "POST",
        lambda s: f"/console/receptions/{moved_of(s).id}/confirm",
        STATION_WORKERS,
        data=lambda s: {"date": ""},
    ),
    Row(
        "console.booking_new",
        "POST",
        lambda s: f"/console/receptions/{open_of(s).id}/bookings",
        STATION_WORKERS,
        data=lambda s: {"slot_start": "09:30", "name": "代约群众", "mobile": "13512345678", "topic": "路灯"},
    ),
    Row(
        "console.booking_attendance",
        "POST",
        lambda s: f"/console/receptions/{past_of(s).id}/bookings/{booking_of(past_of(s)).id}/attendance",
        STATION_WORKERS,
        data=lambda s: {"attended": "1"},
    ),
    Row(
        "console.booking_cancel",
        "POST",
        lambda s: f"/console/receptions/{open_of(s).id}/bookings/{booking_of(open_of(s)).id}/cancel",
        STATION_WORKERS,
    ),
    # 标识牌: a station's plaque is scoped like the station; a low dpi keeps the matrix fast.
    Row(
        "console.station_plaque_preview",
        "GET",
        lambda s: f"/console/stations/{s.station.id}/plaque/preview.png",
        STATION_VIEWERS,
    ),
    Row(
        "console.station_plaque",
        "GET",
        lambda s: f"/console/stations/{s.station.id}/plaque.png?dpi=30",
        STATION_VIEWERS,
    ),
    Row("console.plaques", "GET", lambda s: "/console/plaques/", STATION_WORKERS, scoped=False),
    Row(
        "console.plaque_batch_start",
        "POST",
        lambda s: "/console/plaques/batch",
        STATION_WORKERS,
        data=lambda s: {"dpi": "30"},
        scoped=False,  # renders the stations of the caller's scope; nothing names a branch
    ),
    # A job belongs to the user who started it: nobody else, whatever the role, learns it
    # exists (404). Owners polling and downloading their own job: tests/console/test_plaques.py.
    Row(
        "console.plaque_batch_progress",
        "GET",
        lambda s: f"/console/plaques/batch/nojob{s.key}",
        STATION_WORKERS,
        ok=404,
    ),
    Row(
        "console.plaque_batch_download",
        "GET",
        lambda s: f"/console/plaques/batch/nojob{s.key}/download",
        STATION_WORKERS,
        ok=404,
    ),
    # 现场收集意见
    Row("console.collected", "GET", lambda s: "/console/collected/", STATION_WORKERS, scoped=False),
    Row(
        "console.collected_new",
        "GET",
        lambda s: f"/console/collected/new?station={s.station.id}",
        STATION_WORKERS,
        shows=lambda s: s.deputy.name,
    ),
    Row(
        "console.collected_new",
        "POST",
        lambda s: "/console/collected/new",
        STATION_WORKERS,
        data=lambda s: {
            "station_id": s.station.id,
            "reception_id": past_of(s).id,
            "deputy_ids": s.deputy.id,
            "content": "小区门口的路灯坏了两周，晚上出行不便。",
            "consent": "on",
            "contact_name": "王先生",
            "contact_mobile": "13912345678",
        },
    ),
]

# --- 意见办理 (app/console_opinions): its rows live beside its tests -------------------------
from tests.console_opinions.matrix import ROWS as _OPINION_ROWS  # noqa: E402
from tests.console_opinions.matrix import SETUP as _OPINION_SETUP  # noqa: E402

ROWS += _OPINION_ROWS
SETUP += _OPINION_SETUP

# --- 推送记录 (app/console_outbox): its rows live beside its tests ---------------------------
from tests.console_outbox.matrix import ROWS as _OUTBOX_ROWS  # noqa: E402
from tests.console_outbox.matrix import SETUP as _OUTBOX_SETUP  # noqa: E402

ROWS += _OUTBOX_ROWS
SETUP += _OUTBOX_SETUP

# --- 台账 and 履职档案 (app/console_ledger): its rows live beside its tests ------------------
from tests.console_ledger.matrix import ROWS as _LEDGER_ROWS  # noqa: E402
from tests.console_ledger.matrix import SETUP as _LEDGER_SETUP  # noqa: E402

ROWS += _LEDGER_ROWS
SETUP += _LEDGER_SETUP

# --- 星级评定 (app/rating) and 导出 (app/exports): their rows live beside their tests ---------
from tests.exports.matrix import ROWS as _EXPORT_ROWS  # noqa: E402
from tests.exports.matrix import SETUP as _EXPORT_SETUP  # noqa: E402
from tests.rating.matrix import ROWS as _RATING_ROWS  # noqa: E402
from tests.rating.matrix import SETUP as _RATING_SETUP  # noqa: E402

ROWS += _RATING_ROWS + _EXPORT_ROWS
SETUP += _RATING_SETUP + _EXPORT_SETUP

# --- 微信绑定 / 代表提醒 (app/notify/console.py): its rows live beside its tests -------------
from tests.console_notify.matrix import ROWS as _NOTIFY_ROWS  # noqa: E402
from tests.console_notify.matrix import SETUP as _NOTIFY_SETUP  # noqa: E402

ROWS += _NOTIFY_ROWS
SETUP += _NOTIFY_SETUP

# --- 民意研判 (app/analytics): its rows live beside its tests --------------------------------
from tests.analytics.matrix import ROWS as _ANALYTICS_ROWS  # noqa: E402
from tests.analytics.matrix import SETUP as _ANALYTICS_SETUP  # noqa: E402

ROWS += _ANALYTICS_ROWS
SETUP += _ANALYTICS_SETUP
