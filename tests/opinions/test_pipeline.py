"""The closed loop: every transition, every illegal one, deadlines, 督办, 再办理, side paths, roles."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.errors import Forbidden, ValidationFailed
from app.notify.models import OutboxMessage
from app.opinions import pipeline
from app.opinions.models import OpinionStatus as S
from app.opinions.pipeline import IllegalTransition, allowed_actions, perform, rate, sweep_overdue
from app.opinions.service import submit_opinion


@pytest.fixture
def loop(region_tree, make_station, make_deputy, make_unit, make_user):
    """A village station under town A and district A, its staff, supervisors and units."""
    tree = region_tree()
    station = make_station(tree["village_a"])
    deputy = make_deputy(tree["town_a"], station=station)
    unit = make_unit(tree["district_a"], name="A区住建局")
    court = make_unit(tree["district_a"], name="A区人民法院", kind="judicial")
    foreign_unit = make_unit(tree["district_b"], name="B区住建局")
    people = {
        "station": make_user("station_staff", station),
        "town": make_user("town_admin", tree["town_a"]),
        "district": make_user("district_admin", tree["district_a"]),
        "city": make_user("city_admin", tree["city"]),
        "unit": make_user("unit_staff", unit),
        "other_unit": make_user("unit_staff", foreign_unit),
        "deputy": make_user("deputy", deputy),
    }

    def new(resident="oRes1", **kw):
        return submit_opinion(
            station=station,
            content="小区门口的路灯坏了两个星期",
            channel="wechat",
            resident_id=resident,
            **kw,
        )

    return {
        "tree": tree,
        "the_station": station,
        "the_deputy": deputy,
        "the_unit": unit,
        "court": court,
        "new": new,
        **people,
    }


def _to_assigned(loop, opinion, category="urban"):
    perform(opinion, "accept", loop["station"])
    perform(opinion, "classify", loop["station"], {"category": category})
    perform(opinion, "assign", loop["town"], {"unit_code": loop["the_unit"].code})
    return opinion


def _steps(opinion):
    return [(e.action, e.from_status, e.to_status) for e in opinion.events]


def _pushes(opinion):
    from app.extensions import db

    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like(f"opinion:{opinion.id}:%"))
    )
    return sorted(row.dedup_key.split(":")[2] for row in rows)


def test_the_whole_loop_to_closed(loop):
    opinion = _to_assigned(loop, loop["new"]())
    assert opinion.unit is loop["the_unit"] and opinion.deadline is not None
    perform(opinion, "reply", loop["unit"], {"text": "已安排维修，三日内修复。"})
    perform(opinion, "feedback", loop["station"], {})
    assert opinion.answer_text == "已安排维修，三日内修复。"
    rate(opinion, "oRes1", "satisfied", "修好了")
    assert opinion.status == S.CLOSED and opinion.closed_at is not None
    assert _steps(opinion) == [
        ("submit", None, S.PENDING),
        ("accept", S.PENDING, S.ACCEPTED),
        ("classify", S.ACCEPTED, S.CLASSIFIED),
        ("assign", S.CLASSIFIED, S.ASSIGNED),
        ("reply", S.ASSIGNED, S.REPLIED),
        ("feedback", S.REPLIED, S.FED_BACK),
        ("rate", S.FED_BACK, S.CLOSED),
    ]
    assert opinion.events[-1].actor == "resident"
    assert opinion.events[1].actor == f"staff:{loop['station'].username}"
    # Each step that matters to the resident queued exactly one push.
    assert _pushes(opinion) == ["accepted", "assigned", "closed", "fed_back"]


def test_reject_with_reason_the_resident_sees(loop):
    opinion = loop["new"]()
    with pytest.raises(ValidationFailed, match="理由"):
        perform(opinion, "reject", loop["station"], {})
    perform(opinion, "reject", loop["station"], {"reason": "不属于人大代表联系群众的受理范围"})
    assert opinion.status == S.REJECTED and "受理范围" in opinion.answer_text
    assert _pushes(opinion) == ["rejected"]


@pytest.mark.parametrize(
    ("status_path", "action"),
    [
        ([], "assign"),
        ([], "feedback"),
        (["accept"], "accept"),
        (["accept", "classify"], "feedback"),
        (["accept", "classify", "assign"], "accept"),
        (["accept", "classify", "assign"], "classify"),
    ],
)
def test_illegal_transitions_are_refused(loop, status_path, action):
    opinion = loop["new"]()
    actor_for = {"accept": "station", "classify": "station", "assign": "town"}
    params = {"classify": {"category": "urban"}, "assign": {"unit_code": loop["the_unit"].code}}
    for step in status_path:
        perform(opinion, step, loop[actor_for[step]], params.get(step))
    before = opinion.status
    who = {"reply": "unit", "assign": "town"}.get(action, "station")
    with pytest.raises(IllegalTransition):
        perform(
            opinion, action, loop[who], {"text": "x", "category": "urban", "unit_code": loop["the_unit"].code}
        )
    assert opinion.status == before


def test_a_unit_cannot_touch_what_was_not_assigned_to_it(loop):
    opinion = loop["new"]()
    with pytest.raises(Forbidden):
        perform(opinion, "reply", loop["unit"], {"text": "答复"})
    perform(opinion, "accept", loop["station"])
    with pytest.raises(Forbidden):
        perform(opinion, "reply", loop["unit"], {"text": "答复"})


def test_unknown_action(loop):
    with pytest.raises(ValidationFailed, match="未知的操作"):
        perform(loop["new"](), "approve", loop["station"])


def test_roles(loop):
    opinion = loop["new"]()
    with pytest.raises(Forbidden):
        perform(opinion, "accept", loop["unit"])
    with pytest.raises(Forbidden):
        perform(opinion, "accept", loop["deputy"])
    perform(opinion, "accept", loop["station"])
    perform(opinion, "classify", loop["station"], {"category": "urban"})
    with pytest.raises(Forbidden):  # station staff do not assign
        perform(opinion, "assign", loop["station"], {"unit_code": loop["the_unit"].code})
    assert allowed_actions(opinion, loop["town"]) == ["classify", "assign", "escalate", "merge"]
    perform(opinion, "assign", loop["town"], {"unit_code": loop["the_unit"].code})
    with pytest.raises(Forbidden):  # only the unit it was assigned to replies
        perform(opinion, "reply", loop["other_unit"], {"text": "答复"})
    assert allowed_actions(opinion, loop["unit"]) == ["return", "reply"]
    assert allowed_actions(opinion, loop["station"]) == []


def test_units_a_town_may_assign_to(loop):
    opinion = loop["new"]()
    perform(opinion, "accept", loop["station"])
    perform(opinion, "classify", loop["station"], {"category": "urban"})
    codes = {u.code for u in pipeline.assignable_units(loop["town"])}
    assert loop["the_unit"].code in codes  # its district's units
    with pytest.raises(ValidationFailed, match="承办单位"):
        perform(opinion, "assign", loop["town"], {"unit_code": "U-nope"})


def test_deadline_counts_working_days_across_national_day(loop, monkeypatch):
    monkeypatch.setattr(pipeline, "local_now", lambda: datetime(2026, 9, 30, 10, 0))
    opinion = loop["new"]()
    perform(opinion, "accept", loop["station"])
    perform(opinion, "classify", loop["station"], {"category": "community"})  # 10 working days
    from app.extensions import db
    from app.opinions.models import Category

    db.session.scalar(select(Category).where(Category.code == "community")).deadline_workdays = 5
    perform(opinion, "assign", loop["town"], {"unit_code": loop["the_unit"].code})
    assert opinion.deadline == date(2026, 10, 13)  # 10-01..07 off, 10-10 调休 worked


def test_overdue_sweep_marks_once_and_supervisors_urge(loop, monkeypatch):
    opinion = _to_assigned(loop, loop["new"]())
    due = opinion.deadline
    assert not pipeline.is_overdue(opinion, due)
    assert sweep_overdue(due) == []
    assert sweep_overdue(date.fromordinal(due.toordinal() + 1)) == [opinion]
    assert pipeline.is_overdue(opinion, date.fromordinal(due.toordinal() + 1))
    assert sweep_overdue(date.fromordinal(due.toordinal() + 5)) == []  # once per deadline
    assert [e.action for e in opinion.events].count("overdue") == 1
    perform(opinion, "urge", loop["district"], {"note": "请本周内答复"})
    assert opinion.urge_count == 1 and opinion.status == S.ASSIGNED
    with pytest.raises(Forbidden):
        perform(opinion, "urge", loop["station"], {"note": "x"})


def test_late_acceptance(loop):
    opinion = loop["new"]()
    assert opinion.accept_due is not None
    assert not pipeline.is_accept_late(opinion, opinion.accept_due)
    assert pipeline.is_accept_late(opinion, date.fromordinal(opinion.accept_due.toordinal() + 1))


def test_unsatisfied_reopens_once_then_a_supervisor_decides(loop):
    opinion = _to_assigned(loop, loop["new"]())
    perform(opinion, "reply", loop["unit"], {"text": "已处理"})
    perform(opinion, "feedback", loop["station"], {})
    rate(opinion, "oRes1", "unsatisfied", "还是不亮")
    assert opinion.status == S.ASSIGNED and opinion.reopen_count == 1  # 再办理, same unit
    perform(opinion, "reply", loop["unit"], {"text": "已更换灯具"})
    perform(opinion, "feedback", loop["station"], {})
    rate(opinion, "oRes1", "unsatisfied", "晚上还是黑")
    assert opinion.status == S.FED_BACK and opinion.needs_decision
    with pytest.raises(IllegalTransition):
        rate(opinion, "oRes1", "satisfied")  # the decision is the supervisor's now
    assert "reassign" in allowed_actions(opinion, loop["town"])
    with pytest.raises(ValidationFailed, match="办结说明"):
        perform(opinion, "close", loop["town"], {})
    perform(opinion, "close", loop["town"], {"note": "经实地核查已修复，按办结处理"})
    assert opinion.status == S.CLOSED
    assert _pushes(opinion).count("assigned") == 1 and "reopened" in _pushes(opinion)


def test_only_the_owner_rates(loop):
    opinion = _to_assigned(loop, loop["new"]())
    perform(opinion, "reply", loop["unit"], {"text": "已处理"})
    perform(opinion, "feedback", loop["station"], {})
    with pytest.raises(Exception, match="未找到"):
        rate(opinion, "oSomeoneElse", "satisfied")
    with pytest.raises(ValidationFailed):
        rate(opinion, "oRes1", "great")
    rate(opinion, "oRes1", "basically_satisfied")
    assert opinion.status == S.CLOSED and opinion.satisfaction == "basically_satisfied"


def test_unit_may_return_it(loop):
    opinion = _to_assigned(loop, loop["new"]())
    perform(opinion, "return", loop["unit"], {"reason": "不属于本单位职责"})
    assert opinion.status == S.CLASSIFIED and opinion.unit is None and opinion.deadline is None
    assert "不属于本单位职责" in opinion.events[-1].note


def test_legal_opinions_are_guided(loop):
    opinion = loop["new"]()
    perform(opinion, "accept", loop["station"])
    perform(opinion, "classify", loop["station"], {"category": "legal", "legal": True})
    with pytest.raises(IllegalTransition, match="引导依法反映"):
        perform(opinion, "assign", loop["town"], {"unit_code": loop["the_unit"].code})
    with pytest.raises(ValidationFailed, match="司法或信访"):
        perform(
            opinion, "guide", loop["town"], {"text": "请向法院申请执行", "unit_code": loop["the_unit"].code}
        )
    perform(
        opinion,
        "guide",
        loop["town"],
        {"text": "请向A区人民法院申请强制执行", "unit_code": loop["court"].code},
    )
    assert opinion.status == S.GUIDED and opinion.unit is loop["court"]
    assert "guided" in _pushes(opinion)


def test_major_opinions_convert_to_deputy_suggestions(loop):
    opinion = loop["new"]()
    perform(opinion, "accept", loop["station"])
    perform(opinion, "classify", loop["station"], {"category": "traffic"})
    with pytest.raises(IllegalTransition, match="重大"):
        perform(opinion, "convert", loop["town"], {"deputy_ids": [loop["the_deputy"].id]})
    perform(opinion, "classify", loop["station"], {"category": "traffic", "major": "1"})
    perform(opinion, "convert", loop["town"], {"deputy_ids": [loop["the_deputy"].id]})
    assert opinion.status == S.CONVERTED
    assert [s.deputy for s in opinion.sponsors] == [loop["the_deputy"]]


def test_escalation_hands_it_up_level_by_level(loop):
    opinion = loop["new"]()
    perform(opinion, "accept", loop["station"])
    perform(opinion, "escalate", loop["town"], {"note": "涉及全区"})
    assert opinion.status == S.ESCALATED and opinion.owner_region == loop["tree"]["district_a"]
    with pytest.raises(Forbidden):  # the town no longer owns it
        perform(opinion, "classify", loop["town"], {"category": "urban"})
    with pytest.raises(Forbidden):
        perform(opinion, "classify", loop["station"], {"category": "urban"})
    perform(opinion, "classify", loop["district"], {"category": "urban"})
    assert opinion.status == S.ESCALATED
    perform(opinion, "escalate", loop["district"], {})
    assert opinion.owner_region == loop["tree"]["city"]
    assert "escalate" not in allowed_actions(opinion, loop["city"])  # nothing above the city
    perform(opinion, "assign", loop["city"], {"unit_code": loop["the_unit"].code})
    assert opinion.status == S.ASSIGNED


def test_merge_tells_both_residents(loop):
    first = loop["new"]("oRes1")
    duplicate = loop["new"]("oRes2")
    with pytest.raises(ValidationFailed):
        perform(duplicate, "merge", loop["town"], {"into": duplicate.tracking_no})
    perform(duplicate, "merge", loop["town"], {"into": first.tracking_no.lower()})
    assert duplicate.status == S.MERGED and duplicate.merged_into is first
    assert first.tracking_no in duplicate.answer_text
    assert first.events[-1].note.endswith(duplicate.tracking_no)
    assert _pushes(duplicate) == ["merged"]


def test_anonymous_residents_get_no_push(loop):
    from app.opinions.service import submit_opinion

    opinion = submit_opinion(
        station=loop["the_station"], content="路灯坏了很久了", channel="h5", resident_id="anon-1"
    )
    perform(opinion, "accept", loop["station"])
    assert _pushes(opinion) == []  # the tracking page shows it; nobody to push to
