"""Deputies of the five levels and their mandates."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin
from app.regions.models import Region


class MandateLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"

    @property
    def label(self) -> str:
        return MANDATE_LEVEL_LABELS[self]


MANDATE_LEVEL_LABELS = {
    MandateLevel.NATIONAL: "全国人大代表",
    MandateLevel.PROVINCIAL: "省人大代表",
    MandateLevel.CITY: "市人大代表",
    MandateLevel.DISTRICT: "市(县)区人大代表",
    MandateLevel.TOWN: "镇人大代表",
}


class Deputy(TimestampMixin, db.Model):
    __tablename__ = "deputies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), index=True)
    gender: Mapped[str] = mapped_column(String(4), default="", server_default="")
    # Relative path under the upload folder; re-encoded JPEG.
    photo: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(100), default="", server_default="")
    post: Mapped[str] = mapped_column(String(100), default="", server_default="")
    public_contact: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # 领导干部代表: 附件3 联系群众 1 asks them to lead by attending.
    is_leader: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The 人大 that keeps this deputy's record; scopes who may edit it.
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True, server_default="1")

    region: Mapped[Region] = relationship()
    mandates: Mapped[list[Mandate]] = relationship(
        back_populates="deputy", cascade="all, delete-orphan", order_by="Mandate.id"
    )
    placements = relationship("Placement", back_populates="deputy", cascade="all, delete-orphan")

    @property
    def unit_and_post(self) -> str:
        return " ".join(x for x in (self.unit, self.post) if x)

    @property
    def levels(self) -> list[str]:
        return [m.level for m in self.mandates]

    @property
    def levels_label(self) -> str:
        return "、".join(MandateLevel(m.level).label for m in self.mandates)

    @property
    def stations(self) -> list:
        return [p.station for p in self.placements]

    @property
    def sort_key(self) -> int:
        # Higher levels first on the station wall, as 上墙 lists are ordered.
        order = list(MandateLevel)
        return min((order.index(MandateLevel(m.level)) for m in self.mandates), default=len(order))

    def __repr__(self) -> str:
        return f"<Deputy {self.id} {self.name}>"


class Mandate(TimestampMixin, db.Model):
    """One deputy seat: level and term (届次, years)."""

    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    term: Mapped[str] = mapped_column(String(32))  # e.g. 第十七届
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int | None] = mapped_column(Integer)
    constituency: Mapped[str] = mapped_column(String(100), default="", server_default="")

    deputy: Mapped[Deputy] = relationship(back_populates="mandates")

    @property
    def level_label(self) -> str:
        return MandateLevel(self.level).label
