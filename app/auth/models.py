"""Staff users, their roles and what each is scoped to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models_base import TimestampMixin


class Role(StrEnum):
    CITY_ADMIN = "city_admin"
    DISTRICT_ADMIN = "district_admin"
    TOWN_ADMIN = "town_admin"
    STATION_STAFF = "station_staff"
    UNIT_STAFF = "unit_staff"
    DEPUTY = "deputy"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_ROLES


ROLE_LABELS = {
    Role.CITY_ADMIN: "市人大管理员",
    Role.DISTRICT_ADMIN: "市(县)区人大管理员",
    Role.TOWN_ADMIN: "镇人大/街道工委管理员",
    Role.STATION_STAFF: "家站点工作人员",
    Role.UNIT_STAFF: "承办单位工作人员",
    Role.DEPUTY: "人大代表",
}

ADMIN_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_ADMIN)
# Staff accounts that bind a WeChat and receive pushes (the daily digest, 督办 notices).
PUSHED_STAFF_ROLES = (Role.STATION_STAFF, Role.UNIT_STAFF, *ADMIN_ROLES)
# The region level an admin role is scoped to.
ADMIN_ROLE_LEVEL = {Role.CITY_ADMIN: "city", Role.DISTRICT_ADMIN: "district", Role.TOWN_ADMIN: "town"}


class StaffUser(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Exactly one of these is set, by role: admins a region, station staff a station,
    # unit staff a unit, deputies their deputy record.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"), index=True)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputies.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    # The staff member's WeChat (official-account openid), bound by a one-time code from the
    # console (app/notify/binding.py): digests and 督办 pushes reach them through it.
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    region = relationship("Region")
    station = relationship("Station")
    unit = relationship("HandlingUnit")
    deputy = relationship("Deputy")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def role_label(self) -> str:
        return self.role_enum.label

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def scope_label(self) -> str:
        target = self.region or self.station or self.unit or self.deputy
        return target.name if target is not None else "—"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
