"""Binding a deputy's or staff user's WeChat by a one-time code: QR scene, H5 link, console."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.auth.models import Role
from app.errors import Conflict
from app.extensions import db
from app.models_base import utcnow
from app.notify.binding import create_binding, redeem_binding
from app.notify.models import WeChatBinding
from tests.wechat.sender import WeChatSender


@pytest.fixture
def wx(app, client) -> WeChatSender:
    return WeChatSender(client, app.config["WECHAT_TOKEN"], app.config["WECHAT_APPID"])


@pytest.fixture
def world(region_tree, make_station, make_deputy, make_user):
    tree = region_tree()
    station = make_station(tree["village_a"])
    deputy = make_deputy(tree["village_a"], name="钱代表", station=station)
    admin = make_user(Role.TOWN_ADMIN, tree["town_a"])
    staff = make_user(Role.STATION_STAFF, station)
    db.session.commit()
    return {"tree": tree, "station": station, "deputy": deputy, "admin": admin, "staff": staff}


def _openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def test_scanning_the_code_binds_once_and_asks_wechat_for_a_temporary_qr(world, wx, mock_api):
    binding = create_binding(world["deputy"], world["admin"])
    db.session.commit()
    qr_call = mock_api.requests("/cgi-bin/qrcode/create")[-1]["json"]
    assert qr_call["action_name"] == "QR_STR_SCENE"
    assert qr_call["action_info"]["scene"]["scene_str"] == f"bind_{binding.token}"
    assert binding.qr_url and binding.expires_at
    openid = _openid()
    answer = wx.subscribe(openid, f"bind_{binding.token}")  # a new follower scanning it
    assert "绑定成功" in answer.content and "钱代表" in answer.content
    db.session.refresh(world["deputy"])
    assert world["deputy"].openid == openid
    # Single use: a second scan (even by the same person) is refused.
    again = wx.scan(_openid(), f"bind_{binding.token}")
    assert "只能使用一次" in again.content


def test_expired_or_replaced_codes_do_not_bind(world, wx):
    old = create_binding(world["deputy"], world["admin"])
    new = create_binding(world["deputy"], world["admin"])  # cancels the first
    db.session.commit()
    assert "无效" in wx.scan(_openid(), f"bind_{old.token}").content
    db.session.execute(
        update(WeChatBinding)
        .where(WeChatBinding.id == new.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    assert "过期" in wx.scan(_openid(), f"bind_{new.token}").content
    db.session.refresh(world["deputy"])
    assert world["deputy"].openid is None


def test_one_wechat_cannot_be_two_deputies(world, make_deputy):
    other = make_deputy(world["tree"]["village_a"], name="孙代表")
    openid = _openid()
    redeem_binding(create_binding(world["deputy"], None).token, openid)
    with pytest.raises(Conflict, match="已绑定代表"):
        redeem_binding(create_binding(other, None).token, openid)


def test_staff_users_bind_the_same_way_and_get_pushes(world, wx):
    binding = create_binding(world["staff"], world["admin"])
    db.session.commit()
    openid = _openid()
    assert "每日工作提醒" in wx.scan(openid, f"bind_{binding.token}").content
    db.session.refresh(world["staff"])
    assert world["staff"].openid == openid


def test_the_h5_link_binds_only_after_confirming_inside_wechat(app, world, client, monkeypatch):
    binding = create_binding(world["deputy"], world["admin"])
    db.session.commit()
    outside = client.get(f"/bind/{binding.token}")
    assert "请用微信扫码" in outside.get_data(as_text=True)
    openid = _openid()
    from app.wechat import oauth

    monkeypatch.setattr(oauth, "identify", lambda: (oauth.Resident(openid, "wechat"), None, False))
    page = client.get(f"/bind/{binding.token}")
    assert "确认绑定" in page.get_data(as_text=True)
    db.session.refresh(world["deputy"])
    assert world["deputy"].openid is None  # opening the link (or a preview of it) spends nothing
    done = client.post(f"/bind/{binding.token}")
    assert "绑定成功" in done.get_data(as_text=True)
    db.session.refresh(world["deputy"])
    assert world["deputy"].openid == openid
    assert client.get(f"/bind/{binding.token}").status_code == 410


def test_console_lists_who_is_bound_makes_codes_and_unbinds(world, client, login):
    world["deputy"].openid = None
    db.session.commit()
    login(world["admin"])
    page = client.get("/console/notify/bindings?unbound=1").get_data(as_text=True)
    assert "钱代表" in page and "未绑定" in page
    made = client.post(f"/console/notify/bindings/deputy/{world['deputy'].id}/code")
    assert made.status_code == 302
    code_page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "/bind/" in code_page and "qr.svg" in code_page
    binding = db.session.query(WeChatBinding).filter_by(deputy_id=world["deputy"].id).one()
    svg = client.get(f"/console/notify/codes/{binding.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml"
    redeem_binding(binding.token, _openid())
    db.session.commit()
    assert client.post(f"/console/notify/bindings/deputy/{world['deputy'].id}/unbind").status_code == 302
    db.session.refresh(world["deputy"])
    assert world["deputy"].openid is None


def test_an_admin_binds_their_own_wechat_and_those_of_admins_below(world, client, login, make_user):
    """Admins get the daily 督办 digest: they find their own account (and the town admins of
    their district) in the list and make its binding code like a station staff member's."""
    district = make_user(Role.DISTRICT_ADMIN, world["tree"]["district_a"])
    other = make_user(Role.DISTRICT_ADMIN, world["tree"]["district_b"])
    district.display_name, world["admin"].display_name, other.display_name = (
        "区管理员甲",
        "镇管理员乙",
        "外区管理员丙",
    )
    db.session.commit()
    login(district)
    page = client.get("/console/notify/bindings").get_data(as_text=True)
    assert "区管理员甲" in page and "镇管理员乙" in page and "外区管理员丙" not in page
    for target in (district, world["admin"]):
        assert client.post(f"/console/notify/bindings/staff/{target.id}/code").status_code == 302
        binding = db.session.query(WeChatBinding).filter_by(staff_user_id=target.id).one()
        openid = _openid()
        redeem_binding(binding.token, openid)
        db.session.commit()
        db.session.refresh(target)
        assert target.openid == openid
    assert client.post(f"/console/notify/bindings/staff/{other.id}/code").status_code == 404


def test_console_cannot_reach_deputies_outside_the_scope(world, client, login, make_user, make_deputy):
    outsider = make_deputy(world["tree"]["village_b"])
    db.session.commit()
    login(world["admin"])
    assert client.post(f"/console/notify/bindings/deputy/{outsider.id}/code").status_code == 404
