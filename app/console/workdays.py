"""工作日历: holidays and 调休 working days; the city admin edits, other admins look."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from app.console.access import ADMINS, CALENDAR_EDITORS, invalid, me, roles
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.workdays.models import CalendarDay
from app.workdays.service import reset_day, set_day, year_exceptions

EDITORS = CALENDAR_EDITORS
WEEKDAYS = "一二三四五六日"
YEARS = (2000, 2100)


def _parse_day(raw: object) -> date:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD。", field="day") from None


@roles(ADMINS)
def year():
    raw = request.args.get("year", "")
    shown = int(raw) if raw.isdigit() and YEARS[0] <= int(raw) <= YEARS[1] else date.today().year
    months: dict[int, list[CalendarDay]] = {}
    for row in year_exceptions(shown):
        months.setdefault(row.day.month, []).append(row)
    return render_template(
        "console/calendar/year.html",
        year=shown,
        months=months,
        weekdays=WEEKDAYS,
        can_edit=me().role_enum in EDITORS,
        years=YEARS,
    )


@roles(EDITORS)
def edit_day():
    template = "console/calendar/form.html"
    if request.method == "GET":
        form = {"day": request.args.get("day", ""), "kind": "holiday", "name": "", "note": ""}
        try:
            row = db.session.get(CalendarDay, _parse_day(form["day"])) if form["day"] else None
        except ValidationFailed:
            row = None
        if row is not None:
            form.update(kind="workday" if row.is_workday else "holiday", name=row.name, note=row.note)
        return render_template(template, form=form)
    data = request.form.to_dict()
    try:
        day = _parse_day(data.get("day"))
        if data.get("kind") not in ("holiday", "workday"):
            raise ValidationFailed("请选择放假或上班。", field="kind")
        set_day(
            day, is_workday_=data["kind"] == "workday", name=data.get("name", ""), note=data.get("note", "")
        )
    except DomainError as exc:
        return invalid(exc, template, form=data)
    db.session.commit()
    flash(f"{day.isoformat()} 已设为{'上班' if data['kind'] == 'workday' else '放假'}。", "success")
    return redirect(url_for("console.calendar", year=day.year))


@roles(EDITORS)
def reset():
    try:
        day = _parse_day(request.form.get("day"))
        reset_day(day)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.calendar"))
    db.session.commit()
    flash(f"{day.isoformat()} 已恢复为普通安排。", "success")
    return redirect(url_for("console.calendar", year=day.year))
