"""The console's WeChat simulator: staff only, signed pushes through the real endpoint."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.opinions.models import Opinion
from app.wechat.models import InboundMessage

SEND = "/console/wechat/simulator/send"


@pytest.fixture
def setup(region_tree, make_station, make_user):
    tree = region_tree()
    own = make_station(tree["village_a"], name="本站联络站", lat="31.57", lng="120.30")
    foreign = make_station(tree["village_b"], name="别处联络站", lat="31.60", lng="120.40")
    staff = make_user("station_staff", own)
    return {"own": own, "foreign": foreign, "staff": staff, "tree": tree}


def _send(client, **payload):
    payload.setdefault("openid", "sim-test-resident")
    return client.post(SEND, json=payload, headers={"Accept": "application/json"})


def test_login_is_required(client):
    response = client.get("/console/wechat/simulator")
    assert response.status_code in (302, 303) and "/console/login" in response.headers["Location"]
    assert _send(client, kind="text", content="帮助").status_code in (302, 303)


@pytest.mark.parametrize("role", ["deputy", "unit_staff"])
def test_roles_without_use_for_it_get_403(setup, make_user, make_deputy, make_unit, login, client, role):
    target = (
        make_deputy(setup["tree"]["village_a"])
        if role == "deputy"
        else make_unit(setup["tree"]["district_a"])
    )
    login(make_user(role, target))
    assert client.get("/console/wechat/simulator").status_code == 403
    assert _send(client, kind="text", content="帮助").status_code == 403


def test_page_lists_only_stations_in_scope(setup, login, client):
    login(setup["staff"])
    page = client.get("/console/wechat/simulator").get_data(as_text=True)
    assert "本站联络站" in page and "别处联络站" not in page
    assert "接待预告" in page  # the configured menu
    assert "csrf" in page.lower()


def test_scan_then_leave_an_opinion_and_get_its_tracking_number(setup, login, client):
    login(setup["staff"])
    scanned = _send(client, kind="scan", station_code=setup["own"].code).get_json()
    assert "本站联络站" in scanned["reply"] and "qrscene_" in scanned["sent_xml"]
    again = _send(client, kind="scan", station_code=setup["own"].code).get_json()
    assert "<Event><![CDATA[SCAN]]></Event>" in again["sent_xml"]  # already following now
    answer = _send(client, kind="text", content="留言 小区门口路灯坏了两周").get_json()
    opinion = db.session.scalar(select(Opinion).where(Opinion.resident_id == "sim-test-resident"))
    assert opinion.tracking_no in answer["reply"]
    assert answer["log"][0]["action"] == "opinion_created"
    assert (answer["log"][0]["type_label"], answer["log"][0]["action_label"]) == ("文字", "留言已登记")
    page = client.get("/console/wechat/simulator?openid=sim-test-resident").get_data(as_text=True)
    assert f"留言已登记 {opinion.tracking_no}" in page and "关注站点" in page
    assert "opinion_created" not in page


def test_every_action_the_handlers_record_has_words():
    """A new handler outcome without a label would show its code to staff."""
    import ast
    from pathlib import Path

    from app.wechat.console import action_label

    def recorded(node: ast.AST) -> str | None:
        # Outcome(reply, "action", …) / Outcome(…, action="…"); f"bound_{kind}" counts by its prefix.
        arg = node.args[1] if len(node.args) > 1 else None
        arg = next((k.value for k in node.keywords if k.arg == "action"), arg)
        if isinstance(arg, ast.Subscript):  # f"media_{kind}"[:48]
            arg = arg.value
        if isinstance(arg, ast.Constant):
            return arg.value
        if isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
            return arg.values[0].value + "x"
        return None

    root = Path(__file__).resolve().parents[2]
    codes = set()
    for source in [*root.joinpath("handlers").glob("*.py"), *root.joinpath("app", "wechat").glob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Outcome":
                codes.add(recorded(node))
    codes.discard(None)
    assert {"opinion_created", "help", "followed_station", "ignored", "bound_x", "media_x"} <= codes
    assert {code for code in codes if action_label(code) == code} == set()
    assert action_label("failed") == "处理出错"  # recorded by the endpoint itself, not an Outcome


def test_location_and_menu(setup, login, client):
    login(setup["staff"])
    located = _send(client, kind="location", lat="31.5701", lng="120.3001").get_json()
    assert "本站联络站" in located["reply"]
    clicked = _send(client, kind="click", key="MY_PROGRESS").get_json()
    assert "还没有留言" in clicked["reply"]


def test_unsubscribe_gets_success(setup, login, client):
    login(setup["staff"])
    answer = _send(client, kind="unsubscribe").get_json()
    assert answer["reply"] is None and answer["raw_reply"] == "success"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "scan", "station_code": ""}, "家站点"),
        ({"kind": "text", "content": "  "}, "文字"),
        ({"kind": "location", "lat": "abc", "lng": "1"}, "纬度"),
        ({"kind": "teleport"}, "不支持"),
        ({"kind": "text", "content": "hi", "openid": "bad id!"}, "openid"),
        ({"kind": "text", "content": "进度", "openid": "oRealResident0000000000000001"}, "sim-"),
    ],
)
def test_bad_input_gets_a_chinese_message_not_a_500(setup, login, client, payload, field):
    login(setup["staff"])
    response = _send(client, **payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["message"]


def test_foreign_or_unknown_station_is_404(setup, login, client):
    login(setup["staff"])
    assert _send(client, kind="scan", station_code=setup["foreign"].code).status_code == 404
    assert _send(client, kind="scan", station_code="zzzzzz").status_code == 404


def test_works_without_javascript(setup, login, client):
    login(setup["staff"])
    sent = client.post(SEND, data={"kind": "text", "content": "帮助", "openid": "sim-form"})
    assert sent.status_code == 302 and "openid=sim-form" in sent.headers["Location"]
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "发送“留言+内容”" in html  # the reply, shown in the chat from the log
    assert db.session.scalar(select(InboundMessage).where(InboundMessage.openid == "sim-form")) is not None
    refused = client.post(SEND, data={"kind": "text", "content": " ", "openid": "sim-form"})
    assert refused.status_code == 302
    assert "请输入要发送的文字" in client.get(refused.headers["Location"]).get_data(as_text=True)


def test_aes_mode_when_configured(setup, login, client, app, monkeypatch):
    from tests.wechat.conftest import AES_KEY

    monkeypatch.setitem(app.config, "WECHAT_AES_KEY", AES_KEY)
    app.extensions.pop("wechat_crypto", None)
    try:
        login(setup["staff"])
        answer = _send(client, kind="text", content="帮助", aes=True).get_json()
        assert answer["encrypted"] and "<Encrypt>" in answer["raw_reply"] and "留言" in answer["reply"]
    finally:
        app.extensions.pop("wechat_crypto", None)
