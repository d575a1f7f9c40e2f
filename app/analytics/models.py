"""Pre-aggregated opinion figures, per local month and station, refreshed by the scheduler.

Opinions are counted in the month they were received (their cohort), so a month's row only
changes when one of its opinions changes; the refresh recomputes exactly those months
(``app.analytics.refresh``). Figures that depend on today's date (overdue now, acceptance
late now) are never stored: they are counted live.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.opinions.models import Opinion

# The dashboards select opinions by when they came in, and the refresh finds changed ones by
# updated_at; the live "overdue now / late now" counts start from the status.
Index("ix_opinions_created_at", Opinion.created_at)
Index("ix_opinions_updated_at", Opinion.updated_at)
Index("ix_opinions_status_created_at", Opinion.status, Opinion.created_at)
# A region's opinions of a period (drill-down, clusters, live words and counters) are found
# by station, then date: by station alone PostgreSQL reads every opinion the station ever had.
Index("ix_opinions_station_created", Opinion.station_id, Opinion.created_at)
# The opinions still open (overdue now, late now, the overdue drill-down) are few: a partial
# index lets a district's live count visit only its stations' open opinions, not every row.
# Mirrored by hand in migrations/versions/*_b4d2e8f1a6c3_*.py (the category was added there, for
# the counts grouped by category).
OPEN_STATUSES = "status IN ('pending', 'assigned', 'guided')"
Index(
    "ix_opinions_open_station_created",
    Opinion.station_id,
    Opinion.created_at,
    postgresql_include=["status", "accept_due", "deadline", "category"],  # the count reads only the index
    postgresql_where=text(OPEN_STATUSES),
    sqlite_where=text(OPEN_STATUSES),
)


class OpinionMonth(db.Model):
    """The KPI counters of the opinions one station received in one local month, per category."""

    __tablename__ = "analytics_opinion_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the local month
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" when not classified
    received: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    accepted_on_time: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    replied_due: Mapped[int] = mapped_column(Integer, default=0)
    replied_on_time: Mapped[int] = mapped_column(Integer, default=0)
    fed_back: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)


class CloseDaysMonth(db.Model):
    """How many of a station's opinions of one month closed after N days: the histogram p90 needs."""

    __tablename__ = "analytics_close_days"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class WordMonth(db.Model):
    """In how many of a station's opinions of one month a word occurs (hot words)."""

    __tablename__ = "analytics_word_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    word: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class RefreshState(db.Model):
    """Up to when the aggregates are known to be complete: opinions changed later are counted live."""

    __tablename__ = "analytics_refresh_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Every opinion whose updated_at is before this moment is reflected in the tables.
    watermark: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    months: Mapped[int] = mapped_column(Integer, default=0)
