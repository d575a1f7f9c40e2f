"""台账 rules: create, attendance, opinions and 推动解决问题数, finalise, plans, contacts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.errors import Conflict, ValidationFailed
from app.ledger.models import ActivityKind, ActivityStatus, Attendance
from app.ledger.service import (
    create_activity,
    create_fixed_contact,
    delete_activity,
    finalise_activity,
    link_opinion,
    log_contact,
    plan_progress,
    reopen_activity,
    save_plan,
    set_attendance,
    update_activity,
)
from tests.ledger.conftest import make_opinion

NOW = datetime(2026, 11, 26, 10, 0)


def form(**kw):
    data = {"kind": "study", "title": "学习代表法", "date": "2026-03-10", "start": "14:00", "end": "16:00"}
    data.update(kw)
    return data


def test_create_finalise_and_reopen(lw):
    d1, d2, _ = lw.deputies
    activity = create_activity(lw.station, form(), user=lw.staff, deputy_ids=[d1.id, d2.id], now=NOW)
    assert activity.status == ActivityStatus.DRAFT
    assert activity.started_at == datetime(2026, 3, 10, 14, 0)
    assert activity.ended_at == datetime(2026, 3, 10, 16, 0)
    set_attendance(activity, {d1.id: "attended", d2.id: "excused"})
    assert {d.deputy_id: d.attendance for d in activity.deputies} == {d1.id: "attended", d2.id: "excused"}
    finalise_activity(activity, lw.staff, now=NOW)
    assert activity.status == ActivityStatus.FINAL and activity.finalised_at is not None
    with pytest.raises(Conflict):
        update_activity(activity, form(title="改"), now=NOW)
    reopen_activity(activity)
    update_activity(activity, form(title="改过的主题"), now=NOW)
    assert activity.title == "改过的主题" and activity.status == ActivityStatus.DRAFT


def test_validation_messages(lw):
    with pytest.raises(ValidationFailed) as exc:
        create_activity(lw.station, form(kind="party"), user=lw.staff, now=NOW)
    assert exc.value.field == "kind"
    with pytest.raises(ValidationFailed) as exc:
        create_activity(lw.station, form(title=""), user=lw.staff, now=NOW)
    assert "活动主题" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        create_activity(lw.station, form(end="13:00"), user=lw.staff, now=NOW)
    assert exc.value.field == "end"
    with pytest.raises(ValidationFailed) as exc:
        create_activity(lw.station, form(date="2027-05-01"), user=lw.staff, now=NOW)
    assert exc.value.field == "date"
    with pytest.raises(ValidationFailed) as exc:
        create_activity(lw.station, form(residents_received="-3"), user=lw.staff, now=NOW)
    assert exc.value.field == "residents_received"


def test_only_placed_deputies(lw):
    from app.deputies.models import Deputy
    from app.extensions import db

    stranger = db.session.query(Deputy).filter_by(name="外区代表").one()
    with pytest.raises(ValidationFailed, match="编入本家站点"):
        create_activity(lw.station, form(), user=lw.staff, deputy_ids=[stranger.id], now=NOW)
    activity = create_activity(lw.station, form(), user=lw.staff, now=NOW)
    with pytest.raises(ValidationFailed):
        set_attendance(activity, {stranger.id: "attended"})
    with pytest.raises(ValidationFailed):
        set_attendance(activity, {lw.deputies[0].id: "sleeping"})


def test_finalise_needs_an_attending_deputy(lw):
    activity = create_activity(lw.station, form(), user=lw.staff, deputy_ids=[lw.deputies[0].id], now=NOW)
    set_attendance(activity, {lw.deputies[0].id: Attendance.ABSENT})
    with pytest.raises(ValidationFailed, match="出席的代表"):
        finalise_activity(activity, lw.staff, now=NOW)


def test_solved_links_need_closed_opinions_and_bound_the_count(lw):
    activity = create_activity(
        lw.station,
        form(kind="suggestion", title="督办路灯"),
        user=lw.staff,
        deputy_ids=[lw.deputies[0].id],
        now=NOW,
    )
    open_one = make_opinion(lw.station, status="assigned")
    closed = make_opinion(lw.station, status="closed")
    foreign = make_opinion(lw.other_station, status="closed")
    link_opinion(activity, open_one)  # collected: fine
    with pytest.raises(ValidationFailed, match="已办结"):
        link_opinion(activity, open_one, solved=True)
    with pytest.raises(ValidationFailed, match="本家站点"):
        link_opinion(activity, foreign)
    link_opinion(activity, closed, solved=True)
    assert activity.problems_solved == 1  # raised to the solved links
    with pytest.raises(ValidationFailed, match="不能少于"):
        update_activity(activity, form(kind="suggestion", title="督办路灯", problems_solved="0"), now=NOW)
    update_activity(activity, form(kind="suggestion", title="督办路灯", problems_solved="3"), now=NOW)
    assert activity.problems_solved == 3  # two more solved on the spot, without an opinion record


def test_delete_draft_only(lw):
    activity = create_activity(lw.station, form(), user=lw.staff, deputy_ids=[lw.deputies[0].id], now=NOW)
    finalise_activity(activity, lw.staff, now=NOW)
    with pytest.raises(Conflict):
        delete_activity(activity)
    reopen_activity(activity)
    delete_activity(activity)


def test_plan_planned_vs_done(lw):
    plan = save_plan(
        lw.station,
        2026,
        [
            {"kind": "study", "month": "", "planned_count": "2", "title": "集中学习"},
            {"kind": "monitoring", "month": "6", "planned_count": "1"},
            {"kind": "", "month": "", "planned_count": "", "title": ""},  # blank line skipped
        ],
        user=lw.staff,
    )
    assert len(plan.items) == 2
    d = lw.deputies[0]
    for day in ("2026-03-10", "2026-09-10"):
        a = create_activity(lw.station, form(date=day), user=lw.staff, deputy_ids=[d.id], now=NOW)
        finalise_activity(a, lw.staff, now=NOW)
    create_activity(lw.station, form(date="2026-10-10"), user=lw.staff, deputy_ids=[d.id], now=NOW)  # draft
    m = create_activity(
        lw.station, form(kind="monitoring", date="2026-07-01"), user=lw.staff, deputy_ids=[d.id], now=NOW
    )
    finalise_activity(m, lw.staff, now=NOW)
    lines = {(line.kind, line.month): line for line in plan_progress(plan)}
    assert (lines[("study", None)].done, lines[("study", None)].met) == (2, True)
    assert (lines[("monitoring", 6)].done, lines[("monitoring", 6)].gap) == (0, 1)  # July is not June
    again = save_plan(lw.station, 2026, [{"kind": "visit", "planned_count": "4"}], user=lw.staff)
    assert again.id == plan.id and [i.kind for i in again.items] == ["visit"]
    with pytest.raises(ValidationFailed):
        save_plan(lw.station, 2026, [{"kind": "visit", "planned_count": "0"}])
    with pytest.raises(ValidationFailed):
        save_plan(lw.station, 2026, [{"kind": "visit", "month": "13", "planned_count": "1"}])


def test_contacts_and_logs(lw):
    contact = create_fixed_contact(
        lw.deputies[0], {"name": "张阿姨", "phone": "13800001111", "address": "A村3组"}
    )
    log = log_contact(
        contact,
        {"contacted_on": "2026-04-01", "mode": "phone", "content": "了解加装电梯"},
        today=date(2026, 11, 26),
    )
    assert log.deputy_id == lw.deputies[0].id
    with pytest.raises(ValidationFailed):
        log_contact(contact, {"contacted_on": "2026-12-30"}, today=date(2026, 11, 26))
    with pytest.raises(ValidationFailed):
        create_fixed_contact(lw.deputies[0], {"name": "", "phone": "1"})
    assert ActivityKind.STUDY.label == "履职学习"
