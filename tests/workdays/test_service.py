from datetime import date

from app.workdays.service import (
    add_workdays,
    holiday_name,
    is_workday,
    next_workday,
    reset_day,
    set_day,
    sync_from_library,
    workdays_between,
)


def test_national_day_holiday_pushes_deadline(app, db_session):
    # Five working days from 2026-09-30: 10-08, 10-09, 10-10 (调休 Saturday), 10-12, 10-13.
    assert add_workdays(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_third_tuesday_of_february_2026_is_spring_festival(app, db_session):
    assert not is_workday(date(2026, 2, 17))
    assert holiday_name(date(2026, 2, 17)) == "春节"
    assert next_workday(date(2026, 2, 17)) == date(2026, 2, 24)


def test_adjusted_saturday_is_a_workday(app, db_session):
    assert is_workday(date(2026, 10, 10))
    assert not is_workday(date(2026, 10, 11))


def test_plain_week_outside_the_table(app, db_session):
    assert is_workday(date(2030, 3, 5))  # a Tuesday the library does not know yet
    assert not is_workday(date(2030, 3, 9))  # Saturday


def test_workdays_between_counts_only_working_days(app, db_session):
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert workdays_between(date(2026, 10, 13), date(2026, 9, 30)) == 0


def test_staff_edit_survives_sync(app, db_session):
    set_day(date(2026, 12, 1), is_workday_=False, name="防汛停工", note="区政府通知")
    assert not is_workday(date(2026, 12, 1))
    result = sync_from_library()
    assert result["added"] == 0  # already synced at session start: idempotent
    assert not is_workday(date(2026, 12, 1))
    reset_day(date(2026, 12, 1))
    assert is_workday(date(2026, 12, 1))


def test_a_year_of_questions_is_one_query(app, db_session):
    """is_workday reads the year's exceptions once (a city's rating asks it thousands of times)."""
    from datetime import timedelta

    from sqlalchemy import event

    from app.extensions import db

    is_workday(date(2025, 6, 1))  # another year: its own window
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answers = [is_workday(date(2026, 1, 1) + timedelta(days=n)) for n in range(365)]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "calendar_days" in s]) <= 1
    import chinese_calendar

    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    assert answers == [chinese_calendar.is_workday(day) for day in days]  # the library it was seeded from
