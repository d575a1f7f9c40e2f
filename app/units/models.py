"""Handling units (承办单位) that opinions are assigned to."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin
from app.regions.models import Region


class UnitKind(StrEnum):
    GOVERNMENT = "government"  # 政府部门
    JUDICIAL = "judicial"  # 司法机关 (涉法涉诉 feedback)
    PETITION = "petition"  # 信访部门
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "government": "政府部门",
            "judicial": "司法机关",
            "petition": "信访部门",
            "other": "其他单位",
        }[self.value]


class HandlingUnit(TimestampMixin, db.Model):
    __tablename__ = "handling_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default=UnitKind.GOVERNMENT, server_default="government")
    # The 人大 that assigns to this unit (a district's units serve its towns too).
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(32), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")

    region: Mapped[Region] = relationship()

    @property
    def kind_label(self) -> str:
        return UnitKind(self.kind).label
