"""Working days: holidays and 调休 from the work calendar table, the ordinary week otherwise."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.local_cache import app_cache
from app.validation import clean_text
from app.workdays.models import CalendarDay

# chinese-calendar names holidays in English; staff read Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _exception(day: date) -> CalendarDay | None:
    return db.session.get(CalendarDay, day)


def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day in the work calendar.

    Read from the year's exceptions (cached like ``add_workdays``' window): a rating of every
    station asks it for each month's service day, which would otherwise be a query each.
    """
    flags = _workday_flags(date(day.year, 1, 1), date(day.year, 12, 31))
    return flags.get(day, day.weekday() < 5)


def holiday_name(day: date) -> str:
    row = _exception(day)
    return row.name if row is not None and not row.is_workday else ""


def _days_in(start: date, end: date) -> dict[date, CalendarDay]:
    rows = db.session.scalars(select(CalendarDay).where(CalendarDay.day >= start, CalendarDay.day <= end))
    return {row.day: row for row in rows}


# The calendar changes a few times a year; every 留言 asks it for its acceptance deadline.
CALENDAR_CACHE_S = 300
_days = CalendarDay.__table__


def _workday_flags(start: date, end: date) -> dict[date, bool]:
    """The calendar's exceptions between two days: day → is it a working day (cached)."""

    def load() -> dict[date, bool]:
        query = select(_days.c.day, _days.c.is_workday).where(_days.c.day >= start, _days.c.day <= end)
        return {day: is_workday for day, is_workday in db.session.execute(query)}

    return app_cache("workday_flags", CALENDAR_CACHE_S, (CalendarDay,)).get((start, end), load)


def add_workdays(start: date, count: int) -> date:
    """The date ``count`` working days after ``start`` (``start`` itself not counted).

    An opinion assigned on 2026-09-30 with 5 working days is due on 2026-10-13: the
    National Day holiday and its 调休 Saturday (10-10) are taken from the calendar.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    day = start
    # Fetch a generous window once instead of one query a day.
    window = _workday_flags(start, start + timedelta(days=count * 3 + 30))
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if window.get(day, day.weekday() < 5):
            remaining -= 1
    return day


def next_workday(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    window = _workday_flags(start, end)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if window.get(day, day.weekday() < 5):
            count += 1
    return count


def sync_from_library() -> dict[str, int]:
    """Load holidays and 调休 days from chinese-calendar for every year it knows.

    Idempotent; rows staff edited (source "staff") are never overwritten.
    """
    from chinese_calendar import constants

    first = min(constants.holidays).replace(month=1, day=1)
    last = max(constants.holidays).replace(month=12, day=31)
    wanted: dict[date, tuple[bool, str]] = {}
    for day, name in constants.holidays.items():
        wanted[day] = (False, HOLIDAY_NAMES.get(name, name))
    for day, name in constants.workdays.items():
        # Only a weekend made a working day differs from the ordinary week.
        if day.weekday() >= 5:
            wanted[day] = (True, f"{HOLIDAY_NAMES.get(name, name)}调休上班")
    existing = _days_in(first, last)
    added = updated = 0
    for day, (working, label) in sorted(wanted.items()):
        row = existing.get(day)
        if row is None:
            db.session.add(CalendarDay(day=day, is_workday=working, name=label, source="library"))
            added += 1
        elif row.source == "library" and (row.is_workday, row.name) != (working, label):
            row.is_workday, row.name = working, label
            updated += 1
    db.session.flush()
    return {"added": added, "updated": updated, "last_year": last.year}


def set_day(day: date, *, is_workday_: bool, name: str = "", note: str = "") -> CalendarDay:
    """Staff mark a day as holiday or working day; sync will keep their choice."""
    name = clean_text(name, "name", "名称", max_len=32, required=False)
    note = clean_text(note, "note", "备注", max_len=200, required=False)
    row = _exception(day)
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_workday, row.name, row.note, row.source = is_workday_, name, note, "staff"
    db.session.flush()
    return row


def reset_day(day: date) -> None:
    """Forget a staff edit: the day follows the ordinary week until the next sync."""
    row = _exception(day)
    if row is None:
        raise ValidationFailed("该日期没有特殊设置。")
    db.session.delete(row)
    db.session.flush()


def year_exceptions(year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )
