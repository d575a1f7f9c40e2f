"""The mock WeChat API's contract: wire format, record, faults, over HTTP."""

import json
import threading
import time

import pytest

from app.wechat.mock import create_mock_app
from tests.wechat.sender import FIXTURES

REAL_ERRORS = json.loads((FIXTURES / "errors.json").read_text(encoding="utf-8"))


@pytest.fixture
def mock():
    return create_mock_app().test_client()


def _token(mock) -> str:
    answer = mock.get("/cgi-bin/token?grant_type=client_credential&appid=wxA&secret=s").get_json()
    assert set(answer) == {"access_token", "expires_in"} and answer["expires_in"] == 7200
    return answer["access_token"]


def test_record_is_oldest_first_with_path_query_json_at(mock):
    token = _token(mock)
    mock.post(
        f"/cgi-bin/message/template/send?access_token={token}", json={"touser": "oA", "template_id": "t"}
    )
    items = mock.get("/_mock/requests").get_json()["items"]
    assert [i["path"] for i in items] == ["/cgi-bin/token", "/cgi-bin/message/template/send"]
    for item in items:
        assert {"path", "query", "json", "at"} <= set(item)
    assert items[0]["at"] <= items[1]["at"]
    assert items[1]["json"] == {"touser": "oA", "template_id": "t"}
    assert items[1]["query"] == {"access_token": token}
    only = mock.get("/_mock/requests?path=/cgi-bin/message/template/send").get_json()["items"]
    assert len(only) == 1
    assert mock.delete("/_mock/requests").status_code == 200
    assert mock.get("/_mock/requests").get_json() == {"items": []}


@pytest.mark.parametrize("errcode", [40001, 42001, 43004, 43101, 45009, -1])
def test_faults_answer_with_real_error_json_for_the_next_times_calls(mock, errcode):
    token = _token(mock)
    path = "/cgi-bin/message/template/send"
    created = mock.post("/_mock/faults", json={"path": path, "errcode": errcode, "times": 2})
    assert created.status_code == 201
    body = {"touser": "oA", "template_id": "t"}
    answers = [mock.post(f"{path}?access_token={token}", json=body).get_json() for _ in range(3)]
    for failed in answers[:2]:
        assert failed["errcode"] == errcode
        assert failed["errmsg"].startswith(REAL_ERRORS[str(errcode)] + " rid: ")
    assert answers[2]["errcode"] == 0 and answers[2]["msgid"]


def test_delay_fault_and_clearing(mock):
    token = _token(mock)
    path = "/cgi-bin/menu/get"
    mock.post("/_mock/faults", json={"path": path, "delay_s": 0.3, "times": 1})
    mock.post("/_mock/faults", json={"path": path, "errcode": 45009, "times": 9})
    started = time.monotonic()
    assert mock.get(f"{path}?access_token={token}").get_json()["errcode"] == 46003  # delayed, then real
    assert time.monotonic() - started >= 0.3
    assert mock.delete("/_mock/faults").status_code == 200
    assert mock.get(f"{path}?access_token={token}").get_json()["errcode"] == 46003


@pytest.mark.parametrize(
    "spec", [{}, {"path": "/x"}, {"path": "/x", "errcode": "abc"}, {"path": "/x", "delay_s": 1, "times": 0}]
)
def test_bad_fault_specs_are_400(mock, spec):
    assert mock.post("/_mock/faults", json=spec).status_code == 400


def test_calls_need_a_token_it_issued(mock):
    assert mock.get("/cgi-bin/menu/get").get_json()["errcode"] == 41001
    assert mock.get("/cgi-bin/menu/get?access_token=forged").get_json()["errcode"] == 40001


def test_menu_create_then_get(mock):
    token = _token(mock)
    menu = {"button": [{"type": "click", "name": "接待预告", "key": "DUTY"}]}
    assert mock.post(f"/cgi-bin/menu/create?access_token={token}", json=menu).get_json() == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert mock.get(f"/cgi-bin/menu/get?access_token={token}").get_json() == {"menu": menu}
    too_many = {"button": [{"type": "click", "name": str(i), "key": str(i)} for i in range(4)]}
    assert mock.post(f"/cgi-bin/menu/create?access_token={token}", json=too_many).get_json()["errcode"] != 0


def test_qrcode_create_permanent_and_temporary(mock):
    token = _token(mock)
    url = f"/cgi-bin/qrcode/create?access_token={token}"
    permanent = mock.post(
        url, json={"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "a"}}}
    )
    assert set(permanent.get_json()) == {"ticket", "url"}
    temporary = mock.post(
        url,
        json={
            "expire_seconds": 600,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "a"}},
        },
    )
    assert temporary.get_json()["expire_seconds"] == 600
    assert mock.post(url, json={"action_name": "NOPE"}).get_json()["errcode"] == 40097


def test_oauth_and_jscode2session_give_each_code_its_own_stable_openid(mock):
    def oauth(code):
        return mock.get(
            f"/sns/oauth2/access_token?appid=wxA&secret=s&code={code}&grant_type=authorization_code"
        ).get_json()

    def session(code):
        return mock.get(
            f"/sns/jscode2session?appid=wxM&secret=s&js_code={code}&grant_type=authorization_code"
        ).get_json()

    assert {"access_token", "expires_in", "refresh_token", "openid", "scope"} <= set(oauth("c1"))
    assert oauth("c1")["openid"] == oauth("c1")["openid"] != oauth("c2")["openid"]
    assert {"openid", "session_key"} <= set(session("c1"))
    openids = {session(f"code-{i}")["openid"] for i in range(50)}
    assert len(openids) == 50 and all(len(o) == 28 and o.startswith("o") for o in openids)
    assert session("")["errcode"] == 40029


def test_oauth_authorize_redirects_back_with_code_and_state(mock):
    response = mock.get(
        "/connect/oauth2/authorize?appid=wxA&redirect_uri=http%3A%2F%2Fjzd.test%2Fs%2Fabc%3Fx%3D1"
        "&response_type=code&scope=snsapi_base&state=S1"
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("http://jzd.test/s/abc?x=1&code=") and location.endswith("&state=S1")
    again = mock.get(
        "/connect/oauth2/authorize?appid=wxA&redirect_uri=http%3A%2F%2Fjzd.test%2Fs%2Fabc&state=S2"
    ).headers["Location"]
    assert again.split("code=")[1].split("&")[0] == location.split("code=")[1].split("&")[0]  # same browser


def test_msg_sec_check_v2_shape_and_v1_refused(mock):
    token = _token(mock)
    url = f"/wxa/msg_sec_check?access_token={token}"
    risky = mock.post(url, json={"content": "有人赌博", "version": 2, "openid": "oA", "scene": 2}).get_json()
    expected = json.loads((FIXTURES / "msg_sec_check_v2_risky.json").read_text(encoding="utf-8"))
    assert set(risky) == set(expected)
    assert risky["result"] == expected["result"]
    assert risky["detail"][0]["suggest"] == "risky" and risky["detail"][0]["keyword"] == "赌博"
    passed = mock.post(url, json={"content": "路灯坏了", "version": 2, "openid": "oA", "scene": 2}).get_json()
    assert passed["result"] == {"suggest": "pass", "label": 100}
    review = mock.post(url, json={"content": "请加微信", "version": 2, "openid": "oA", "scene": 1}).get_json()
    assert review["result"]["suggest"] == "review"
    assert mock.post(url, json={"content": "路灯坏了"}).get_json()["errcode"] != 0  # v1 is retired


def test_subscribe_send_endpoints(mock):
    token = _token(mock)
    body = {"touser": "oA", "template_id": "t", "data": {}}
    for path in ("/cgi-bin/message/subscribe/send", "/cgi-bin/message/subscribe/bizsend"):
        assert mock.post(f"{path}?access_token={token}", json=body).get_json()["errcode"] == 0
        assert mock.post(f"{path}?access_token={token}", json={}).get_json()["errcode"] == 40003


def test_record_and_faults_are_thread_safe(mock):
    app = create_mock_app()
    app.test_client().post(
        "/_mock/faults", json={"path": "/cgi-bin/message/custom/send", "errcode": -1, "times": 25}
    )
    token = _token(app.test_client())
    results = []

    def worker():
        client = app.test_client()
        for _ in range(10):
            body = {"touser": "oA", "msgtype": "text", "text": {"content": "x"}}
            results.append(
                client.post(f"/cgi-bin/message/custom/send?access_token={token}", json=body).get_json()
            )

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 100
    assert sum(1 for r in results if r["errcode"] == -1) == 25
    items = app.test_client().get("/_mock/requests?path=/cgi-bin/message/custom/send").get_json()["items"]
    assert len(items) == 100


def test_in_app_mount_exposes_the_control_endpoints(client, mock_api):
    assert client.get("/_wechat_mock/_mock/requests").get_json() == {"items": []}
    created = client.post(
        "/_wechat_mock/_mock/faults", json={"path": "/cgi-bin/token", "errcode": -1, "times": 1}
    )
    assert created.status_code == 201
    assert (
        client.get("/_wechat_mock/cgi-bin/token?grant_type=client_credential&appid=a&secret=b").get_json()[
            "errcode"
        ]
        == -1
    )
    assert client.delete("/_wechat_mock/_mock/faults").status_code == 200


def test_mock_is_not_mounted_in_production():
    from tests.conftest import make_test_app

    # Never connected: the engine is created lazily and this request touches no database.
    app = make_test_app("postgresql://nobody@127.0.0.1:1/none", APP_ENV="production", SECRET_KEY="x" * 32)
    assert "wechat_mock_app" not in app.extensions
    assert app.test_client().get("/_wechat_mock/_mock/requests").status_code == 404


def test_unknown_api_is_json_404(mock):
    response = mock.get("/cgi-bin/nope")
    assert response.status_code == 404 and response.get_json()["errcode"] == -1
