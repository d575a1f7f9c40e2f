"""``/api/v1/subscriptions``: consents to subscribe messages, one message each."""

from __future__ import annotations

import pytest
from openapi_schema_validator import OAS30Validator

from app.notify.consents import spend_consent

PROGRESS, RECEPTION = "TPL_OPINION_UPDATE", "TPL_RECEPTION"  # the demo's WECHAT_TEMPLATES


def _validator(client, name: str) -> OAS30Validator:
    spec = client.get("/api/v1/openapi.json").get_json()
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


def _remaining(client, headers) -> dict[str, int]:
    body = client.get("/api/v1/subscriptions", headers=headers).get_json()
    _validator(client, "SubscriptionList").validate(body)
    return {item["purpose"]: item["remaining"] for item in body["items"]}


def _openid(app, headers) -> str:
    from app.api.residents import openid_of_token

    with app.test_request_context():
        return openid_of_token(headers["Authorization"].removeprefix("Bearer "))


def test_record_and_count_consents(app, client, sign_in):
    me, neighbour = sign_in("me"), sign_in("neighbour")
    assert _remaining(client, me) == {"opinion_update": 0, "reception_announced": 0}
    response = client.post("/api/v1/subscriptions", json={"template_ids": [PROGRESS, RECEPTION]}, headers=me)
    assert response.status_code == 201
    assert response.get_json() == {"recorded": 2}
    client.post("/api/v1/subscriptions", json={"template_ids": [PROGRESS]}, headers=me)
    assert _remaining(client, me) == {"opinion_update": 2, "reception_announced": 1}
    assert _remaining(client, neighbour) == {"opinion_update": 0, "reception_announced": 0}
    # A push spends one: the count the mini-program sees goes down.
    assert spend_consent(_openid(app, me), PROGRESS, "opinion:1:accepted:0")
    assert _remaining(client, me)["opinion_update"] == 1


def test_listing_names_each_resident_template(client, sign_in):
    body = client.get("/api/v1/subscriptions", headers=sign_in()).get_json()
    assert body["items"] == [
        {"purpose": "opinion_update", "title": "留言办理进度提醒", "template_id": PROGRESS, "remaining": 0},
        {
            "purpose": "reception_announced",
            "title": "代表接待活动公告",
            "template_id": RECEPTION,
            "remaining": 0,
        },
    ]


def test_template_ids_come_from_the_push_configuration(app, client, sign_in, monkeypatch):
    monkeypatch.setitem(
        app.config, "WECHAT_TEMPLATES", {"opinion_update": "wxTplReal001", "overdue": "wxTplStaff"}
    )
    me = sign_in()
    ok = client.post("/api/v1/subscriptions", json={"template_ids": ["wxTplReal001"]}, headers=me)
    assert ok.status_code == 201
    for template in (PROGRESS, "wxTplStaff"):  # the old id, and a template for staff
        refused = client.post("/api/v1/subscriptions", json={"template_ids": [template]}, headers=me)
        assert refused.status_code == 422
    assert client.get("/api/v1/subscriptions", headers=me).get_json()["items"] == [
        {
            "purpose": "opinion_update",
            "title": "留言办理进度提醒",
            "template_id": "wxTplReal001",
            "remaining": 1,
        }
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"template_ids": []},
        {"template_ids": [PROGRESS] * 4},
        {"template_ids": ["NOT_OURS"]},
        {"template_ids": [""]},
        {"template_ids": ["x" * 65]},
        {"template_ids": PROGRESS},
        {"template_ids": [1]},
    ],
)
def test_bad_consents_are_422_and_nothing_is_recorded(client, sign_in, body):
    me = sign_in()
    response = client.post("/api/v1/subscriptions", json=body, headers=me)
    assert response.status_code == 422
    assert "template_ids" in response.get_json()["error"]["fields"]
    assert set(_remaining(client, me).values()) == {0}
