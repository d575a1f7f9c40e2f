"""台账 (the activity ledger), 年度活动计划 and 固定联系群众.

Times of an activity (``started_at``, ``ended_at``) are local (Beijing) wall-clock times,
naive, like a reception's ``date``/``start``/``end``: a year or a month of the ledger is a plain
range on them. Bookkeeping timestamps (``created_at``, ``finalised_at``, ``announced_at``) are
UTC-aware like everywhere else.

Decisions the rest of the service relies on:

- A reception has at most one activity (``reception_id`` is unique): the end-of-reception
  sweep and staff finishing a reception both land on the same row, never on two drafts.
- Only ``final`` activities count in the 履职档案 and the star rating; drafts are work in
  progress that staff still have to check (pre-filled ones come from receptions).
- 推动解决问题数: ``problems_solved`` is the total the ledger reports. Where the problem is an
  opinion in the system, staff link it (``ActivityOpinion.solved``), which is only allowed once
  the opinion is 已办结; the total can never be lower than the linked ones, and the rest are
  problems solved on the spot without an opinion record.
- 预告: receptions carry their own ``announced_at``; an activity records its 预告 in
  ``announced_at`` + ``announce_channel`` (copied from the reception when it came from one).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.deputies.models import Deputy
from app.extensions import db
from app.models_base import TimestampMixin, utcnow
from app.security.crypto import EncryptedString
from app.stations.models import Station


class ActivityKind(StrEnum):
    """三(二)4 履职登记 and 三(一)2 有台账记录: the kinds of deputy activity at a station."""

    RECEPTION = "reception"  # 接待选民
    STUDY = "study"  # 履职学习 (集中履职学习: 附件3 ≥ 2 a year, participation ≥ 60%)
    RESEARCH = "research"  # 调研视察
    SUGGESTION = "suggestion"  # 督办建议
    REVIEW = "review"  # 述职评议
    VISIT = "visit"  # 联系走访
    PUBLICITY = "publicity"  # 宣传
    MONITORING = "monitoring"  # 监督活动 (附件3 作用发挥 1: ≥ 2 a year)
    OTHER = "other"  # 其他

    @property
    def label(self) -> str:
        return ACTIVITY_KIND_LABELS[self]


ACTIVITY_KIND_LABELS = {
    ActivityKind.RECEPTION: "接待选民",
    ActivityKind.STUDY: "履职学习",
    ActivityKind.RESEARCH: "调研视察",
    ActivityKind.SUGGESTION: "督办建议",
    ActivityKind.REVIEW: "述职评议",
    ActivityKind.VISIT: "联系走访",
    ActivityKind.PUBLICITY: "宣传",
    ActivityKind.MONITORING: "监督活动",
    ActivityKind.OTHER: "其他",
}


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "final": "已登记"}[self.value]


class ActivityMode(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return {"offline": "线下", "online": "线上"}[self.value]


class Attendance(StrEnum):
    ATTENDED = "attended"
    ABSENT = "absent"
    EXCUSED = "excused"

    @property
    def label(self) -> str:
        return {"attended": "出席", "absent": "缺席", "excused": "请假"}[self.value]


class RecordKind(StrEnum):
    """三(一)2 有台账记录: 文字记录、录音记录、影像记录."""

    TEXT = "text"
    AUDIO = "audio"
    IMAGE = "image"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"text": "文字记录", "audio": "录音记录", "image": "图片", "video": "影像记录"}[self.value]


class ContactMode(StrEnum):
    VISIT = "visit"
    PHONE = "phone"
    WECHAT = "wechat"
    MEETING = "meeting"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "visit": "上门走访",
            "phone": "电话联系",
            "wechat": "微信联系",
            "meeting": "座谈见面",
            "other": "其他方式",
        }[self.value]


class Activity(TimestampMixin, db.Model):
    """One deputy activity at a station: a line of the station's 台账."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(8), default=ActivityStatus.DRAFT, server_default="draft")
    # Local wall-clock time (see the module docstring).
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="", server_default="")
    mode: Mapped[str] = mapped_column(String(8), default=ActivityMode.OFFLINE, server_default="offline")
    residents_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    problems_solved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The reception it records; unique: a reception has at most one activity.
    reception_id: Mapped[int | None] = mapped_column(ForeignKey("receptions.id"), unique=True)
    # 预告: when and where it was announced in advance (NULL: not announced).
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    announce_channel: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    finalised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    station: Mapped[Station] = relationship()
    reception = relationship("Reception")
    created_by = relationship("StaffUser", foreign_keys=[created_by_id])
    finalised_by = relationship("StaffUser", foreign_keys=[finalised_by_id])
    deputies: Mapped[list[ActivityDeputy]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityDeputy.id"
    )
    opinions: Mapped[list[ActivityOpinion]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityOpinion.id"
    )
    records: Mapped[list[ActivityRecord]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityRecord.id"
    )

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label

    @property
    def status_label(self) -> str:
        return ActivityStatus(self.status).label

    @property
    def mode_label(self) -> str:
        return ActivityMode(self.mode).label

    @property
    def is_final(self) -> bool:
        return self.status == ActivityStatus.FINAL

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.kind} {self.started_at:%Y-%m-%d}>"


class ActivityDeputy(db.Model):
    """A deputy expected at an activity, and whether they came (参加代表)."""

    __tablename__ = "activity_deputies"
    __table_args__ = (UniqueConstraint("activity_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)
    attendance: Mapped[str] = mapped_column(
        String(12), default=Attendance.ATTENDED, server_default="attended"
    )

    activity: Mapped[Activity] = relationship(back_populates="deputies")
    deputy: Mapped[Deputy] = relationship()

    @property
    def attendance_label(self) -> str:
        return Attendance(self.attendance).label


class ActivityOpinion(db.Model):
    """An opinion collected at an activity, or (``solved``) a closed one it pushed to a solution."""

    __tablename__ = "activity_opinions"
    __table_args__ = (UniqueConstraint("activity_id", "opinion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id"), index=True)
    # Counts toward 推动解决问题数; only set while the opinion is 已办结 (see the module docstring).
    solved: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    activity: Mapped[Activity] = relationship(back_populates="opinions")
    opinion = relationship("Opinion")


class ActivityRecord(db.Model):
    """An attached 文字/录音/影像 record: a file under the upload folder, checked by content."""

    __tablename__ = "activity_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    original_name: Mapped[str] = mapped_column(String(200))
    # Relative to UPLOAD_FOLDER, a random name we chose: never the uploader's.
    stored_name: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )

    activity: Mapped[Activity] = relationship(back_populates="records")

    @property
    def kind_label(self) -> str:
        return RecordKind(self.kind).label


class ActivityPlan(TimestampMixin, db.Model):
    """年度活动计划 of a station (三(一)2 有工作计划)."""

    __tablename__ = "activity_plans"
    __table_args__ = (UniqueConstraint("station_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    station: Mapped[Station] = relationship()
    items: Mapped[list[ActivityPlanItem]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        order_by=lambda: [ActivityPlanItem.month, ActivityPlanItem.id],
    )


class ActivityPlanItem(db.Model):
    """One line of a plan: so many activities of a kind, in a month or over the year (NULL month)."""

    __tablename__ = "activity_plan_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("activity_plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    month: Mapped[int | None] = mapped_column(Integer)
    planned_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")

    plan: Mapped[ActivityPlan] = relationship(back_populates="items")

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label


class FixedContact(TimestampMixin, db.Model):
    """固定联系群众: a resident a deputy keeps in touch with (附件3 联系群众 1: ≥ 2 contacts a year)."""

    __tablename__ = "fixed_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    # A resident's number: encrypted at rest (app/security/crypto.py); "" when none was given.
    phone: Mapped[str] = mapped_column(EncryptedString, default="", server_default="")
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    deputy: Mapped[Deputy] = relationship()
    logs: Mapped[list[ContactLog]] = relationship(
        back_populates="fixed_contact",
        cascade="all, delete-orphan",
        order_by=lambda: [ContactLog.contacted_on.desc(), ContactLog.id.desc()],
    )


class ContactLog(TimestampMixin, db.Model):
    """One contact of a deputy with a fixed contact."""

    __tablename__ = "contact_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    fixed_contact_id: Mapped[int] = mapped_column(
        ForeignKey("fixed_contacts.id", ondelete="CASCADE"), index=True
    )
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)
    contacted_on: Mapped[date] = mapped_column(Date, index=True)
    mode: Mapped[str] = mapped_column(String(12), default=ContactMode.VISIT, server_default="visit")
    content: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    fixed_contact: Mapped[FixedContact] = relationship(back_populates="logs")
    deputy: Mapped[Deputy] = relationship()

    @property
    def mode_label(self) -> str:
        return ContactMode(self.mode).label
