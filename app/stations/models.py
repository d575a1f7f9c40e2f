"""Stations: 人大代表之家 / 联络站 / 联系点, and the deputies placed at them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin
from app.regions.models import Region


class StationKind(StrEnum):
    HOME = "home"  # 人大代表之家
    STATION = "station"  # 人大代表联络站
    POINT = "point"  # 人大代表联系点

    @property
    def label(self) -> str:
        return STATION_KIND_LABELS[self]


STATION_KIND_LABELS = {
    StationKind.HOME: "人大代表之家",
    StationKind.STATION: "人大代表联络站",
    StationKind.POINT: "人大代表联系点",
}


class StationStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"active": "运行中", "suspended": "暂停", "closed": "已撤销"}[self.value]


class Station(TimestampMixin, db.Model):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed in the plaque's QR, so it never changes once issued.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    # The level of the 人大 that runs it: city/district/town 之家, village 联络站 (a RegionLevel).
    level: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lng: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    # 有活动阵地: 之家 about 60 m², 联络站 about 30 m².
    area_m2: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    intro: Mapped[str] = mapped_column(Text, default="", server_default="")
    opening_hours: Mapped[str] = mapped_column(String(100), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default=StationStatus.ACTIVE, server_default="active")

    # A 联系点 set up at a deputy's workplace: approved by the 人大常委会 of the right level,
    # and never named after the deputy (三(一)1).
    at_workplace: Mapped[bool] = mapped_column(default=False, server_default="0")
    host_deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputies.id"))
    approval_authority: Mapped[str] = mapped_column(String(100), default="", server_default="")
    approval_no: Mapped[str] = mapped_column(String(64), default="", server_default="")
    approval_date: Mapped[date | None] = mapped_column(Date)

    region: Mapped[Region] = relationship()
    host_deputy = relationship("Deputy", foreign_keys=[host_deputy_id])
    placements: Mapped[list[Placement]] = relationship(back_populates="station", cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return StationKind(self.kind).label

    @property
    def status_label(self) -> str:
        return StationStatus(self.status).label

    @property
    def is_active(self) -> bool:
        return self.status == StationStatus.ACTIVE

    @property
    def deputies(self) -> list:
        return sorted((p.deputy for p in self.placements), key=lambda d: (d.sort_key, d.id))

    def __repr__(self) -> str:
        return f"<Station {self.code} {self.name}>"


class Placement(TimestampMixin, db.Model):
    """A deputy 编入 a station; a deputy may be placed at several."""

    __tablename__ = "placements"
    __table_args__ = (UniqueConstraint("deputy_id", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    since: Mapped[date | None] = mapped_column(Date)

    station: Mapped[Station] = relationship(back_populates="placements")
    deputy = relationship("Deputy", back_populates="placements")
