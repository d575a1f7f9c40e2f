"""Export jobs: a background Excel export, its progress and its file, shared by every worker."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import utcnow


class ExportState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "排队中", "running": "导出中", "done": "已完成", "failed": "失败"}[self.value]


class ExportJob(db.Model):
    """One export a staff member asked for; any worker can report its progress and serve its file.

    The row, not a process's memory, is the job's state: the poll and the download may land
    on another gunicorn worker than the one writing the file (which lives under the export
    folder, shared storage when there are several hosts).
    """

    __tablename__ = "export_jobs"

    # Random and long: the id is in URLs, and still only its owner may use it.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default=ExportState.QUEUED, server_default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    message: Mapped[str] = mapped_column(String(200), default="", server_default="")
    filename: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # Written with every batch: a running job whose heartbeat stops was lost with its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def state_label(self) -> str:
        return ExportState(self.state).label

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, self.done * 100 // self.total)
