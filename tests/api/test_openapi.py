"""The OpenAPI document matches the API: every route, its auth, its error answers."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

OPERATIONS = {
    ("post", "/api/v1/auth/login"): {"auth": False, "errors": {"401", "403", "422", "503"}},
    ("get", "/api/v1/stations"): {"auth": False, "errors": {"422"}},
    ("get", "/api/v1/stations/nearby"): {"auth": False, "errors": {"422"}},
    ("get", "/api/v1/stations/{code}"): {"auth": False, "errors": {"404"}},
    ("get", "/api/v1/stations/{code}/duty"): {"auth": False, "errors": {"404"}},
    ("get", "/api/v1/stations/{code}/receptions"): {"auth": False, "errors": {"404", "422"}},
    ("post", "/api/v1/bookings"): {"auth": True, "errors": {"401", "404", "409", "422", "429"}},
    ("get", "/api/v1/bookings/mine"): {"auth": True, "errors": {"401"}},
    ("delete", "/api/v1/bookings/{code}"): {"auth": True, "errors": {"401", "404", "409"}},
    ("post", "/api/v1/opinions"): {"auth": True, "errors": {"401", "413", "422", "429"}},
    ("get", "/api/v1/opinions/mine"): {"auth": True, "errors": {"401"}},
    ("get", "/api/v1/opinions/{tracking_no}"): {"auth": True, "errors": {"401", "404"}},
    ("post", "/api/v1/opinions/{tracking_no}/rating"): {"auth": True, "errors": {"401", "404", "409", "422"}},
    ("get", "/api/v1/subscriptions"): {"auth": True, "errors": {"401"}},
    ("post", "/api/v1/subscriptions"): {"auth": True, "errors": {"401", "422"}},
    # The staff API: its own token, its own bearer scheme.
    ("post", "/api/v1/staff/token"): {"auth": False, "errors": {"401", "422", "429"}},
    ("get", "/api/v1/staff/me"): {"auth": "staff", "errors": {"401"}},
    ("get", "/api/v1/staff/opinions"): {"auth": "staff", "errors": {"401", "422"}},
    ("get", "/api/v1/staff/opinions/{tracking_no}"): {"auth": "staff", "errors": {"401", "404"}},
    ("post", "/api/v1/staff/opinions/{tracking_no}/actions"): {
        "auth": "staff",
        "errors": {"401", "403", "404", "409", "422"},
    },
    ("get", "/api/v1/staff/categories"): {"auth": "staff", "errors": {"401"}},
    ("get", "/api/v1/staff/units"): {"auth": "staff", "errors": {"401"}},
    ("post", "/api/v1/staff/receptions"): {"auth": "staff", "errors": {"401", "403", "404", "409", "422"}},
    ("get", "/api/v1/staff/outbox"): {"auth": "staff", "errors": {"401", "403", "422"}},
    ("post", "/api/v1/staff/outbox/{row_id}/resend"): {
        "auth": "staff",
        "errors": {"401", "403", "404", "409"},
    },
    # 星级评定 (issue 8): a station's score sheet.
    ("get", "/api/v1/staff/ratings/{year}/{station_code}"): {
        "auth": "staff",
        "errors": {"401", "403", "404", "409"},
    },
}
SECURITY = {True: [{"bearerAuth": []}], "staff": [{"staffBearerAuth": []}]}
ERROR_REF = "#/components/schemas/Error"


def _spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def test_document_is_valid_and_lists_every_operation(client):
    spec = _spec(client)
    validate(spec)
    documented = {
        (method, path) for path, item in spec["paths"].items() for method in item if method != "parameters"
    }
    assert documented == set(OPERATIONS)


def test_document_covers_every_api_route(app, client):
    """Nothing under /api/v1 is served without being documented (the document is generated)."""
    spec = _spec(client)
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        served |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == set(OPERATIONS)
    assert served <= {(m, p) for p, item in spec["paths"].items() for m in item}


def test_bearer_schemes_on_resident_and_staff_operations_only(client):
    spec = _spec(client)
    schemes = spec["components"]["securitySchemes"]
    for name in ("bearerAuth", "staffBearerAuth"):
        assert schemes[name] == {
            "type": "http",
            "scheme": "bearer",
            "description": schemes[name]["description"],
        }
    assert "/api/v1/staff/token" in schemes["staffBearerAuth"]["description"]
    for (method, path), expected in OPERATIONS.items():
        operation = spec["paths"][path][method]
        if expected["auth"]:
            assert operation.get("security") == SECURITY[expected["auth"]], (method, path)
        else:
            assert "security" not in operation, (method, path)


def test_error_answers_are_documented_in_our_shape(client):
    spec = _spec(client)
    shared = spec["components"]["responses"]
    for (method, path), expected in OPERATIONS.items():
        responses = spec["paths"][path][method]["responses"]
        assert expected["errors"] <= set(responses), (method, path, sorted(responses))
        for status in expected["errors"]:
            response = responses[status]
            if "$ref" in response:
                response = shared[response["$ref"].rsplit("/", 1)[-1]]
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (
                method,
                path,
                status,
            )
        success = [status for status in responses if status.startswith("2")]
        assert len(success) == 1, (method, path)
        assert "$ref" in responses[success[0]]["content"]["application/json"]["schema"]


def test_contract_shapes(client):
    schemas = _spec(client)["components"]["schemas"]
    assert {"items", "total"} <= set(schemas["ReceptionList"]["required"])
    assert {"id", "date", "start", "end", "kind", "topic", "deputies", "slots"} <= set(
        schemas["Reception"]["required"]
    )
    assert {"start", "capacity", "booked"} <= set(schemas["Slot"]["required"])
    assert {"now", "next"} <= set(schemas["Duty"]["required"])
    assert {"reception_id", "slot_start", "name", "mobile"} <= set(schemas["BookingArgs"]["required"])
    assert "topic" in schemas["BookingArgs"]["properties"]
    assert "code" in schemas["Booking"]["required"]
    assert {"station_code", "content"} <= set(schemas["OpinionCreate"]["required"])
    assert "tracking_no" in schemas["OpinionDetail"]["required"]
    assert schemas["OpinionUpload"]["properties"]["photos"]["items"] == {"type": "string", "format": "binary"}
    assert schemas["OpinionUpload"]["properties"]["photos"]["maxItems"] == 3
    assert {"token", "token_type", "expires_in"} <= set(schemas["Token"]["required"])
    assert "session_key" not in str(schemas)


def test_staff_contract_shapes(client):
    spec = _spec(client)
    schemas = spec["components"]["schemas"]
    assert {"username", "password"} <= set(schemas["StaffTokenArgs"]["required"])
    assert {"username", "role", "scope"} <= set(schemas["StaffMe"]["required"])
    assert {"region_code", "station_code", "unit_code"} <= set(schemas["StaffScope"]["properties"])
    item = {"tracking_no", "status", "status_label", "station_code", "category", "unit_code", "deadline"}
    item |= {"overdue", "created_at"}
    assert item <= set(schemas["StaffOpinion"]["required"])
    assert {"items", "total"} <= set(schemas["StaffOpinionList"]["required"])
    assert item | {"content", "contact", "events", "actions"} <= set(
        schemas["StaffOpinionDetail"]["required"]
    )
    assert {"action", "from", "to", "actor", "at", "note"} <= set(schemas["StaffOpinionEvent"]["required"])
    assert schemas["StaffOpinion"]["properties"]["status"]["enum"] == [
        "pending",
        "accepted",
        "rejected",
        "classified",
        "assigned",
        "replied",
        "fed_back",
        "closed",
        "guided",
        "converted",
        "escalated",
        "merged",
    ]
    actions = set(schemas["StaffActionArgs"]["properties"]["action"]["enum"])
    assert {"accept", "reject", "classify", "assign", "reply", "feedback", "urge", "guide"} <= actions
    assert {"convert", "escalate", "merge", "return"} <= actions
    for name in ("reason", "category", "legal", "major", "unit_code", "text", "note", "into"):
        assert name in schemas["StaffActionArgs"]["properties"], name
    assert {"code", "name"} <= set(schemas["StaffCategory"]["required"])
    assert {"code", "name"} <= set(schemas["StaffUnit"]["required"])
    params = {p["name"] for p in spec["paths"]["/api/v1/staff/opinions"]["get"]["parameters"]}
    assert {"status", "station", "unit", "overdue", "from", "to", "q", "page", "per_page"} <= params


def test_multipart_opinions_are_documented(client):
    body = _spec(client)["paths"]["/api/v1/opinions"]["post"]["requestBody"]
    assert body["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/OpinionCreate"}},
        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/OpinionUpload"}},
    }
