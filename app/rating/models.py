"""星级评定: one score sheet a station a year, the evaluator's scores, and every workflow step."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin, utcnow
from app.stations.models import Station


class SheetState(StrEnum):
    """四 星级评定: the station assesses itself, the 市(县)区 recommends, the city decides."""

    DRAFT = "draft"  # 自评中
    SUBMITTED = "submitted"  # 已自评, waiting for the district
    RECOMMENDED = "recommended"  # 区已推荐, waiting for the city
    DECIDED = "decided"  # 市已评定

    @property
    def label(self) -> str:
        return SHEET_STATE_LABELS[self]


SHEET_STATE_LABELS = {
    SheetState.DRAFT: "自评中",
    SheetState.SUBMITTED: "已提交自评",
    SheetState.RECOMMENDED: "区已推荐",
    SheetState.DECIDED: "市已评定",
}


class RatingSheet(TimestampMixin, db.Model):
    __tablename__ = "rating_sheets"
    __table_args__ = (UniqueConstraint("station_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(16), default=SheetState.DRAFT, server_default="draft")
    # Levels as the contract spells them: none, qualified, 3star, 4star, 5star.
    recommended_level: Mapped[str | None] = mapped_column(String(12))
    decided_level: Mapped[str | None] = mapped_column(String(12))
    # The total when the last step was taken (the live total follows the data until decided).
    total_at_step: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))

    station: Mapped[Station] = relationship()
    scores: Mapped[list[RatingScore]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="RatingScore.id"
    )
    steps: Mapped[list[RatingStep]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="RatingStep.id"
    )

    @property
    def state_label(self) -> str:
        return SheetState(self.state).label


class RatingScore(db.Model):
    """An evaluator-entered score of one 附件3 item, with the note that justifies it."""

    __tablename__ = "rating_scores"
    __table_args__ = (UniqueConstraint("sheet_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("rating_sheets.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(32))
    score: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sheet: Mapped[RatingSheet] = relationship(back_populates="scores")
    entered_by = relationship("StaffUser")


class RatingStep(db.Model):
    """One step of the workflow: who, when, from, to, the level named, the note."""

    __tablename__ = "rating_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("rating_sheets.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(12))
    total: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sheet: Mapped[RatingSheet] = relationship(back_populates="steps")
    user = relationship("StaffUser")
