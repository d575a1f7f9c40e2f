"""The resident identity of H5 pages: snsapi_base OAuth inside WeChat, signed anonymous outside."""

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Blueprint, jsonify

from app.wechat.mock import openid_for
from app.wechat.oauth import COOKIE, current_resident, with_resident
from tests.conftest import make_test_app

WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
    "MicroMessenger/8.0.47.2560(0x28002F30) NetType/WIFI Language/zh_CN"
)
BASE = "http://jzd.test"  # PUBLIC_BASE_URL of test apps: cookies and redirects stay on one host
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


@pytest.fixture(scope="module")
def oauth_app(tmp_path_factory):
    app = make_test_app("sqlite:///" + str(tmp_path_factory.mktemp("oauth") / "o.db"))
    # A page of its own: the real /s/ and /t/ views belong to app/public and call the same decorator.
    pages = Blueprint("oauth_test_pages", __name__)

    @pages.route("/h5/<code>", methods=["GET", "POST"])
    @with_resident
    def station_page(code):
        resident = current_resident()
        return jsonify({"id": resident.id, "kind": resident.kind, "code": code})

    app.register_blueprint(pages)
    return app


@pytest.fixture
def browser(oauth_app):
    return oauth_app.test_client()


def _follow(browser, response, limit=5):
    """Follow redirects by hand (the mock lives under the same app), returning the final response."""
    for _ in range(limit):
        if response.status_code not in (301, 302, 303):
            return response
        response = browser.get(response.headers["Location"], headers={"User-Agent": WECHAT_UA})
    raise AssertionError("redirect loop")


def test_outside_wechat_a_signed_anonymous_identity_is_remembered(browser):
    first = browser.get(BASE + "/h5/abcdef", headers={"User-Agent": PHONE_UA})
    assert first.status_code == 200
    identity = first.get_json()
    assert identity["kind"] == "anonymous" and identity["id"].startswith("anon-")
    assert COOKIE in first.headers["Set-Cookie"] and "HttpOnly" in first.headers["Set-Cookie"]
    again = browser.get(BASE + "/h5/other", headers={"User-Agent": PHONE_UA})
    assert again.get_json()["id"] == identity["id"]
    assert "Set-Cookie" not in again.headers


def test_a_tampered_cookie_is_not_trusted(browser, oauth_app):
    browser.set_cookie(COOKIE, "eyJpZCI6Im9GQUtFIiwiayI6IndlY2hhdCJ9.forged", domain="jzd.test")
    identity = browser.get(BASE + "/h5/abcdef", headers={"User-Agent": PHONE_UA}).get_json()
    assert identity["kind"] == "anonymous" and identity["id"] != "oFAKE"


def test_inside_wechat_snsapi_base_gives_the_openid(browser, oauth_app):
    first = browser.get(BASE + "/h5/abcdef?from=plaque", headers={"User-Agent": WECHAT_UA})
    assert first.status_code == 302
    authorize = urlsplit(first.headers["Location"])
    assert authorize.path == "/_wechat_mock/connect/oauth2/authorize"
    query = parse_qs(authorize.query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == [oauth_app.config["WECHAT_APPID"]]
    assert query["redirect_uri"] == ["http://jzd.test/h5/abcdef?from=plaque"]

    back = browser.get(first.headers["Location"], headers={"User-Agent": WECHAT_UA})  # the mock "WeChat"
    assert "code=" in back.headers["Location"]
    landed = browser.get(back.headers["Location"], headers={"User-Agent": WECHAT_UA})
    # Back on the page without the code in the address, with the openid remembered.
    assert landed.status_code == 302 and landed.headers["Location"] == "http://jzd.test/h5/abcdef?from=plaque"
    page = _follow(browser, landed)
    identity = page.get_json()
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    assert identity == {
        "id": openid_for(oauth_app.config["WECHAT_APPID"], code),
        "kind": "wechat",
        "code": "abcdef",
    }
    # Next visit: no more round trip to WeChat.
    assert (
        browser.get("http://jzd.test/h5/zzz", headers={"User-Agent": WECHAT_UA}).get_json()["id"]
        == identity["id"]
    )


def test_a_forged_state_falls_back_to_anonymous_without_looping(browser):
    landed = browser.get(BASE + "/h5/abcdef?code=c1&state=forged", headers={"User-Agent": WECHAT_UA})
    assert landed.status_code == 302 and "code=" not in landed.headers["Location"]
    identity = _follow(browser, landed).get_json()
    assert identity["kind"] == "anonymous"


def test_a_failed_code_exchange_falls_back_to_anonymous(browser, oauth_app):
    from app.wechat.mock import mock_state

    state = mock_state(oauth_app.extensions["wechat_mock_app"])
    state.clear_faults()
    first = browser.get(BASE + "/h5/abcdef", headers={"User-Agent": WECHAT_UA})
    back = browser.get(first.headers["Location"], headers={"User-Agent": WECHAT_UA})
    from app.wechat.mock import Fault

    state.add_fault(Fault("/sns/oauth2/access_token", 1, 40029))
    identity = _follow(
        browser, browser.get(back.headers["Location"], headers={"User-Agent": WECHAT_UA})
    ).get_json()
    assert identity["kind"] == "anonymous"


def test_a_post_inside_wechat_without_cookie_is_not_redirected(browser):
    response = browser.post(BASE + "/h5/abcdef", headers={"User-Agent": WECHAT_UA})
    assert response.status_code == 200 and response.get_json()["kind"] == "anonymous"


def test_identity_is_worked_out_once_per_request(oauth_app):
    from app.wechat.oauth import identify

    with oauth_app.test_request_context("/h5/abc", headers={"User-Agent": PHONE_UA}):
        first = identify()
        assert identify() is first  # the same anonymous id, not a second fresh one
