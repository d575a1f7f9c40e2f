"""Opinions (意见建议) from residents, and the event row of every change."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.deputies.models import Deputy
from app.extensions import db
from app.models_base import TimestampMixin, utcnow
from app.security.crypto import EncryptedString
from app.stations.models import Station


class OpinionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CLASSIFIED = "classified"
    ASSIGNED = "assigned"
    REPLIED = "replied"
    FED_BACK = "fed_back"
    CLOSED = "closed"
    GUIDED = "guided"
    CONVERTED = "converted"
    ESCALATED = "escalated"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return OPINION_STATUS_LABELS[self]


OPINION_STATUS_LABELS = {
    OpinionStatus.PENDING: "待受理",
    OpinionStatus.ACCEPTED: "已受理",
    OpinionStatus.REJECTED: "不予受理",
    OpinionStatus.CLASSIFIED: "已分类",
    OpinionStatus.ASSIGNED: "已交办",
    OpinionStatus.REPLIED: "已答复",
    OpinionStatus.FED_BACK: "已反馈",
    OpinionStatus.CLOSED: "已办结",
    OpinionStatus.GUIDED: "已引导依法反映",
    OpinionStatus.CONVERTED: "已转为代表建议",
    OpinionStatus.ESCALATED: "已上报",
    OpinionStatus.MERGED: "已合并",
}


class Channel(StrEnum):
    WECHAT = "wechat"  # official-account text message
    H5 = "h5"  # the page a plaque QR opens
    MINIAPP = "miniapp"
    STAFF = "staff"  # collected at a reception or a visit, entered by staff

    @property
    def label(self) -> str:
        return {"wechat": "公众号留言", "h5": "扫码留言", "miniapp": "小程序", "staff": "现场收集"}[
            self.value
        ]


class Opinion(TimestampMixin, db.Model):
    __tablename__ = "opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, random and long enough that it cannot be guessed or enumerated.
    tracking_no: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    reception_id: Mapped[int | None] = mapped_column(ForeignKey("receptions.id"), index=True)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputies.id"), index=True)
    # Who submitted it, as the channel knows them: an official-account or mini-program
    # openid, or the signed anonymous id of an H5 visitor. "我的留言" lists by it.
    resident_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # Where progress pushes go: the resident's official-account openid (official account, or an
    # H5 visitor identified through WeChat OAuth) or mini-program openid; NULL: tracking page only.
    push_openid: Mapped[str | None] = mapped_column(String(64))
    # The contact the resident left, both encrypted at rest (app/security/crypto.py); "" when
    # none was given.
    contact_name: Mapped[str] = mapped_column(EncryptedString, default="", server_default="")
    contact_mobile: Mapped[str] = mapped_column(EncryptedString, default="", server_default="")
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=OpinionStatus.PENDING, index=True)
    # WeChat msg_sec_check verdict: "pass", "review" (stored, flagged for staff), or "unchecked"
    # (no WeChat identity to check with, or the check was unreachable: never lose the opinion).
    content_check: Mapped[str] = mapped_column(String(16), default="unchecked", server_default="unchecked")
    # Set when the same submission may arrive twice (WeChat retries): unique, so a
    # duplicate delivery finds the first opinion instead of creating a second.
    dedup_key: Mapped[str | None] = mapped_column(String(96), unique=True)

    # --- the closed loop (闭环处理) ---------------------------------------------------------
    is_legal: Mapped[bool] = mapped_column(default=False, server_default="0")  # 涉法涉诉
    is_major: Mapped[bool] = mapped_column(default=False, server_default="0")  # 重大/普遍
    # 受理 is due within a few working days of submission; late ones show to station and town.
    accept_due: Mapped[date | None] = mapped_column(Date)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    # Set once by the overdue sweep, so the 督办 reminder for one deadline goes out once.
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    urge_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reply_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the resident reads as the answer: the fed-back reply, the 引导 text, or why it
    # was not accepted.
    answer_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    fed_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    satisfaction_comment: Mapped[str] = mapped_column(String(500), default="", server_default="")
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 不满意 reopens once for 再办理; after that a supervisor decides.
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    needs_decision: Mapped[bool] = mapped_column(default=False, server_default="0")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("opinions.id"))
    # 上报: the region whose 人大 now owns it (NULL: the station's own chain handles it).
    owner_region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    # Set when the retention sweep stripped the resident's personal data (app/security/retention.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    station: Mapped[Station] = relationship()
    deputy: Mapped[Deputy | None] = relationship()
    reception = relationship("Reception")
    events: Mapped[list[OpinionEvent]] = relationship(
        back_populates="opinion", cascade="all, delete-orphan", order_by="OpinionEvent.id"
    )
    photos: Mapped[list[OpinionPhoto]] = relationship(
        back_populates="opinion", cascade="all, delete-orphan", order_by="OpinionPhoto.position"
    )
    unit = relationship("HandlingUnit")
    owner_region = relationship("Region")
    merged_into: Mapped[Opinion | None] = relationship(remote_side=[id])
    sponsors: Mapped[list[OpinionSponsor]] = relationship(cascade="all, delete-orphan")
    # Every deputy it came through; ``deputy`` is the first of them (or the only one).
    via_deputies: Mapped[list[OpinionDeputy]] = relationship(
        cascade="all, delete-orphan", order_by="OpinionDeputy.id"
    )

    @property
    def status_label(self) -> str:
        return OpinionStatus(self.status).label

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label


SATISFACTION_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


class Category(TimestampMixin, db.Model):
    """A managed opinion category, with the working days a unit gets to answer."""

    __tablename__ = "opinion_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    deadline_workdays: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    sort: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")


class OpinionDeputy(db.Model):
    """A deputy an opinion came through: at a reception or on a visit several may be present."""

    __tablename__ = "opinion_deputies"
    __table_args__ = (UniqueConstraint("opinion_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)

    deputy = relationship("Deputy")


class OpinionSponsor(TimestampMixin, db.Model):
    """A deputy who takes up a 重大/普遍 opinion as a 代表建议/议案."""

    __tablename__ = "opinion_sponsors"
    __table_args__ = (UniqueConstraint("opinion_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)

    deputy = relationship("Deputy")


class ReplyTemplate(TimestampMixin, db.Model):
    """常用答复: a reply text a handling unit reuses."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class OpinionPhoto(TimestampMixin, db.Model):
    """A photo attached to an opinion: re-encoded JPEG under the upload folder."""

    __tablename__ = "opinion_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    opinion: Mapped[Opinion] = relationship(back_populates="photos")


class OpinionEvent(db.Model):
    """One change of an opinion: who, when, from, to, note. Written with the change."""

    __tablename__ = "opinion_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    # "resident", "system" or "staff:<username>"; actor_user_id links staff for audit.
    actor: Mapped[str] = mapped_column(String(80))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    opinion: Mapped[Opinion] = relationship(back_populates="events")
