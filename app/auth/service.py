"""Staff accounts: login, creation within the creator's scope, and what each role may manage."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import ADMIN_ROLE_LEVEL, ADMIN_ROLES, Role, StaffUser
from app.auth.scope import is_visible, scope_of
from app.deputies.models import Deputy
from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models_base import utcnow
from app.regions.models import Region
from app.security.passwords import MIN_LENGTH, check_password_policy
from app.stations.models import Station
from app.units.models import HandlingUnit
from app.validation import clean_phone, clean_text

_DUMMY_HASH = generate_password_hash("not-a-real-password")
USERNAME_RE = re.compile(r"^[a-zA-Z0-9_.-]{3,64}$")
MIN_PASSWORD = MIN_LENGTH  # the staff password policy: app/security/passwords.py
# 三(二)1: each station has 1-2 staff.
MAX_STATION_STAFF = 2

# Lower rank = wider scope; an admin may create and manage accounts of their rank or below.
ROLE_RANK = {
    Role.CITY_ADMIN: 0,
    Role.DISTRICT_ADMIN: 1,
    Role.TOWN_ADMIN: 2,
    Role.STATION_STAFF: 3,
    Role.UNIT_STAFF: 3,
    Role.DEPUTY: 3,
}


def authenticate(username: str, password: str) -> StaffUser | None:
    """The active user with these credentials, or ``None``; records the login time."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == (username or "").strip()))
    if user is None:
        # Spend the time a real check takes, so timing does not tell which usernames exist.
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    user.last_login_at = utcnow()
    db.session.flush()
    return user


# --- what each role may manage -------------------------------------------------------------


def is_admin(user: StaffUser) -> bool:
    return user.role_enum in ADMIN_ROLES


def can_manage_region(user: StaffUser, region: Region) -> bool:
    """Admins edit regions strictly below their own root."""
    return is_admin(user) and region.id != user.region_id and region.is_within(user.region)


def can_add_region_under(user: StaffUser, parent: Region) -> bool:
    return is_admin(user) and parent.is_within(user.region)


def can_manage_station(user: StaffUser, station: Station) -> bool:
    return is_admin(user) and station.region.is_within(user.region)


def can_edit_station_info(user: StaffUser, station: Station) -> bool:
    """Station staff keep their own station's public information current."""
    return can_manage_station(user, station) or (
        user.role_enum is Role.STATION_STAFF and user.station_id == station.id
    )


def can_manage_deputy(user: StaffUser, deputy: Deputy) -> bool:
    return is_admin(user) and deputy.region.is_within(user.region)


def can_manage_unit(user: StaffUser, unit: HandlingUnit) -> bool:
    return is_admin(user) and unit.region.is_within(user.region)


def can_manage_user(user: StaffUser, target: StaffUser) -> bool:
    return (
        is_admin(user)
        and target.id != user.id
        and ROLE_RANK[target.role_enum] >= ROLE_RANK[user.role_enum]
        and is_visible(target, user)
    )


def require(allowed: bool, message: str = "您没有权限执行此操作。") -> None:
    if not allowed:
        raise Forbidden(message)


# --- accounts ------------------------------------------------------------------------------


def _check_station_staff_room(station: Station, exclude_user_id: int | None = None) -> None:
    query = select(func.count()).where(
        StaffUser.station_id == station.id,
        StaffUser.role == Role.STATION_STAFF,
        StaffUser.active.is_(True),
    )
    if exclude_user_id is not None:
        query = query.where(StaffUser.id != exclude_user_id)
    if db.session.scalar(query) >= MAX_STATION_STAFF:
        raise Conflict(f"{station.name}已有 {MAX_STATION_STAFF} 名工作人员，每个家站点配备 1-2 名。")


def _resolve_target(role: Role, data: Mapping[str, object]) -> dict:
    """Find the one object a role is scoped to, from the id given for it."""

    def fetch(model: type, key: str, label: str):
        raw = data.get(key)
        obj = db.session.get(model, int(raw)) if str(raw or "").isdigit() else None
        if obj is None:
            raise ValidationFailed(f"请选择{label}。", field=key)
        return obj

    if role in ADMIN_ROLES:
        region = fetch(Region, "region_id", "所属区域")
        if region.level != ADMIN_ROLE_LEVEL[role]:
            from app.regions.models import RegionLevel

            wanted = RegionLevel(ADMIN_ROLE_LEVEL[role]).label
            raise ValidationFailed(f"{role.label}的所属区域应为{wanted}一级。", field="region_id")
        return {"region": region}
    if role is Role.STATION_STAFF:
        return {"station": fetch(Station, "station_id", "所在家站点")}
    if role is Role.UNIT_STAFF:
        return {"unit": fetch(HandlingUnit, "unit_id", "承办单位")}
    return {"deputy": fetch(Deputy, "deputy_id", "代表")}


def _target_visible(actor: StaffUser, target: dict) -> bool:
    (obj,) = target.values()
    return is_visible(obj, scope_of(actor))


def create_user(actor: StaffUser | None, data: Mapping[str, object]) -> StaffUser:
    """Create a staff account; ``actor`` None is the system (CLI, demo seed)."""
    username = clean_text(data.get("username"), "username", "用户名", max_len=64)
    if not USERNAME_RE.match(username):
        raise ValidationFailed("用户名只能由字母、数字和 _ . - 组成（3-64 位）。", field="username")
    try:
        role = Role(str(data.get("role") or ""))
    except ValueError:
        raise ValidationFailed("请选择角色。", field="role") from None
    password = str(data.get("password") or "")
    check_password_policy(password, username)
    target = _resolve_target(role, data)
    if actor is not None:
        require(is_admin(actor) and ROLE_RANK[role] >= ROLE_RANK[actor.role_enum], "您不能创建该角色的账号。")
        require(_target_visible(actor, target), "只能在您的管辖范围内创建账号。")
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已被使用。", field="username")
    if role is Role.STATION_STAFF:
        _check_station_staff_room(target["station"])
    user = StaffUser(
        username=username,
        display_name=clean_text(data.get("display_name"), "display_name", "姓名", max_len=64),
        phone=clean_phone(data.get("phone")),
        role=role,
        **target,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(actor: StaffUser, user: StaffUser, data: Mapping[str, object]) -> StaffUser:
    """Change a staff account's name, phone, active flag or password."""
    require(can_manage_user(actor, user))
    user.display_name = clean_text(data.get("display_name"), "display_name", "姓名", max_len=64)
    user.phone = clean_phone(data.get("phone"))
    active = bool(data.get("active"))
    if active and not user.active and user.role_enum is Role.STATION_STAFF:
        _check_station_staff_room(user.station, exclude_user_id=user.id)
    user.active = active
    password = str(data.get("password") or "")
    if password:
        check_password_policy(password, user.username)
        user.set_password(password)
    db.session.flush()
    return user


def change_own_password(user: StaffUser, old: str, new: str) -> None:
    if not user.check_password(old or ""):
        raise ValidationFailed("原密码不正确。", field="old_password")
    check_password_policy(new or "", user.username, field="new_password")
    user.set_password(new)
    db.session.flush()
