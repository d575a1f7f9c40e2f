"""The resident rates the answer on ``/t/<no>``: only their own, only once it is fed back."""

from __future__ import annotations

from app.extensions import db
from app.opinions.models import OpinionStatus
from app.opinions.pipeline import perform
from app.opinions.service import submit_opinion
from tests.public.conftest import resident_id


def fed_back(journey, owner_id: str, make_unit, make_user):
    """An opinion of ``owner_id`` walked through the pipeline to 已反馈."""
    tree = journey["tree"]
    station_staff = make_user("station_staff", journey["station"])
    town = make_user("town_admin", tree["town_a"])
    unit = make_unit(tree["district_a"], name="A区住建局")
    unit_staff = make_user("unit_staff", unit)
    opinion = submit_opinion(
        station=journey["station"], content="小区门口的路灯坏了两周", channel="h5", resident_id=owner_id
    )
    perform(opinion, "accept", station_staff)
    perform(opinion, "classify", station_staff, {"category": "urban"})
    perform(opinion, "assign", town, {"unit_code": unit.code})
    perform(opinion, "reply", unit_staff, {"text": "已更换灯具。"})
    perform(opinion, "feedback", station_staff, {})
    db.session.commit()
    return opinion


def test_the_owner_rates_and_it_closes(journey, resident, make_unit, make_user):
    owner = resident()
    owner.get(f"/s/{journey['station'].code}")
    opinion = fed_back(journey, resident_id(owner), make_unit, make_user)
    page = owner.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert "评价办理结果" in page and 'value="basically_satisfied"' in page
    assert "类别</dt><dd>城乡建设" in page  # the category's name, not its code
    response = owner.post(
        f"/t/{opinion.tracking_no}/rating", data={"satisfaction": "satisfied", "comment": "修好了，谢谢"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/t/{opinion.tracking_no}?rated=1"
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "当前状态：<strong>已办结</strong>" in page and "感谢您的评价" in page and "提交评价" not in page
    db.session.expire_all()
    assert opinion.status == OpinionStatus.CLOSED and opinion.satisfaction_comment == "修好了，谢谢"


def test_unsatisfied_sends_it_back_once(journey, resident, make_unit, make_user):
    owner = resident()
    owner.get(f"/s/{journey['station'].code}")
    opinion = fed_back(journey, resident_id(owner), make_unit, make_user)
    owner.post(f"/t/{opinion.tracking_no}/rating", data={"satisfaction": "unsatisfied"})
    page = owner.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert "当前状态：<strong>已交办</strong>" in page and "提交评价" not in page


def test_nobody_else_rates_and_bad_input_is_explained(journey, resident, make_unit, make_user):
    owner, stranger = resident(), resident()
    owner.get(f"/s/{journey['station'].code}")
    stranger.get(f"/s/{journey['station'].code}")
    opinion = fed_back(journey, resident_id(owner), make_unit, make_user)
    assert "提交评价" not in stranger.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    response = stranger.post(f"/t/{opinion.tracking_no}/rating", data={"satisfaction": "satisfied"})
    assert response.status_code == 404 and "未找到该留言" in response.get_data(as_text=True)
    response = owner.post(f"/t/{opinion.tracking_no}/rating", data={"satisfaction": "great", "comment": "好"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请选择满意、基本满意或不满意" in page and ">好</textarea>" in page
    assert owner.post("/t/NOSUCHNUMBER/rating", data={"satisfaction": "satisfied"}).status_code == 404
    db.session.expire_all()
    assert opinion.status == OpinionStatus.FED_BACK


def test_an_opinion_not_yet_fed_back_cannot_be_rated(journey, resident):
    owner = resident()
    owner.get(f"/s/{journey['station'].code}")
    opinion = submit_opinion(
        station=journey["station"], content="路灯坏了两周", channel="h5", resident_id=resident_id(owner)
    )
    db.session.commit()
    assert "提交评价" not in owner.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    response = owner.post(f"/t/{opinion.tracking_no}/rating", data={"satisfaction": "satisfied"})
    assert response.status_code == 409 and "该留言当前不能评价" in response.get_data(as_text=True)
