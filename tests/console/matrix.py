"""THE MATRIX: every console route, who may use it, and how to call it on a branch of the world.

A later issue that adds a console route adds a row here; ``test_every_console_rule_is_in_the_matrix``
fails until it does. Each row is run for every role, once on the actor's own branch and once on
a foreign one (see tests/auth/world.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from app.auth.models import Role
from app.console.access import ADMINS, DEPUTY_VIEWERS, EVERYONE, STATION_VIEWERS, UNIT_VIEWERS
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
