"""Local (Beijing) calendar arithmetic in SQL, for PostgreSQL and the embedded SQLite.

Timestamps are stored in UTC; months, days and deadlines are local. Asia/Shanghai keeps no
daylight saving, so SQLite can shift by a fixed eight hours where PostgreSQL uses the zone.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

TZ = "Asia/Shanghai"
SQLITE_SHIFT = "+8 hours"


class local_month(FunctionElement):
    """First day of the local month of a stored timestamp (a date; SQLite: 'YYYY-MM-01')."""

    type = Date()
    inherit_cache = True


@compiles(local_month, "postgresql")
def _pg_month(element, compiler, **kw):
    (arg,) = element.clauses
    return f"CAST(date_trunc('month', {compiler.process(arg, **kw)} AT TIME ZONE '{TZ}') AS DATE)"


@compiles(local_month, "sqlite")
def _sqlite_month(element, compiler, **kw):
    (arg,) = element.clauses
    return f"strftime('%Y-%m-01', {compiler.process(arg, **kw)}, '{SQLITE_SHIFT}')"


class days_between(FunctionElement):
    """Whole local calendar days from one stored timestamp to another (same day: 0)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _pg_days(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({end} AT TIME ZONE '{TZ}' AS DATE) - CAST({start} AT TIME ZONE '{TZ}' AS DATE))"


@compiles(days_between, "sqlite")
def _sqlite_days(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    shift = SQLITE_SHIFT
    return f"CAST(julianday(date({end}, '{shift}')) - julianday(date({start}, '{shift}')) AS INTEGER)"


class local_day_end(FunctionElement):
    """The stored (UTC) moment at which a local calendar day ends: local midnight after it."""

    type = String()
    inherit_cache = True


@compiles(local_day_end, "postgresql")
def _pg_day_end(element, compiler, **kw):
    (arg,) = element.clauses
    return f"(CAST({compiler.process(arg, **kw)} + 1 AS TIMESTAMP) AT TIME ZONE '{TZ}')"


@compiles(local_day_end, "sqlite")
def _sqlite_day_end(element, compiler, **kw):
    (arg,) = element.clauses
    return f"datetime({compiler.process(arg, **kw)}, '+1 day', '-8 hours')"


def as_date(value: object) -> date:
    """A month or day as the database returned it (date, or ISO text on SQLite)."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def month_key(value: ColumnElement) -> ColumnElement:
    return local_month(value)
