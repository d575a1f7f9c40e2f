"""The work calendar: days whose status differs from the plain Mon-Fri week."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import TimestampMixin


class CalendarDay(TimestampMixin, db.Model):
    """A public holiday (放假) or a weekend made a working day (调休上班).

    Days not stored follow the ordinary week: Monday to Friday work, weekends off.
    """

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    name: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # "library" rows come from chinese-calendar and are refreshed by sync; "staff" rows
    # were edited by a person and sync never overwrites them.
    source: Mapped[str] = mapped_column(String(16), default="library", server_default="library")
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
