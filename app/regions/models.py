"""The region tree: 市 → 市(县)区 → 镇/街道/园区 → 村/社区."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin


class RegionLevel(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"
    VILLAGE = "village"

    @property
    def label(self) -> str:
        return REGION_LEVEL_LABELS[self]

    @property
    def depth(self) -> int:
        return list(RegionLevel).index(self)

    def child(self) -> RegionLevel | None:
        order = list(RegionLevel)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


REGION_LEVEL_LABELS = {
    RegionLevel.CITY: "市",
    RegionLevel.DISTRICT: "市(县)区",
    RegionLevel.TOWN: "镇/街道/园区",
    RegionLevel.VILLAGE: "村/社区",
}


class Region(TimestampMixin, db.Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # Materialised path of codes, "/320200/320213/320213001/": a subtree is a prefix match,
    # which is how every scope filter reaches all stations and statistics under a region.
    path: Mapped[str] = mapped_column(String(255), index=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.code")

    @property
    def level_enum(self) -> RegionLevel:
        return RegionLevel(self.level)

    @property
    def level_label(self) -> str:
        return self.level_enum.label

    def is_within(self, other: Region) -> bool:
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"
