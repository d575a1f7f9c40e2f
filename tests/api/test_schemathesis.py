"""Schemathesis over every operation of the OpenAPI document: no 5xx, every answer as documented.

The document is read from the app (WSGI, in process), and each operation's cases come from
schemathesis' Hypothesis strategy, positive and negative, a bounded number of each. (Its
pytest loader for fixtures reads a ``Node`` attribute pytest 9 no longer has, so the
strategies are driven with ``@given`` here.) Cases are sent through the test client of the
test's transaction with a resident's bearer token (a district admin's staff token for the
staff operations), so the protected endpoints are exercised past the sign-in check; every
other case names the demo station, its reception, the resident's own booking and opinion,
or the staff member's own account, unit and category instead of a random value, so the
success paths are reached as well as the 404s.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.test_openapi import OPERATIONS
from tests.factories import PASSWORD

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def real(app, client, clock, site, sign_in, make_user, make_unit, monkeypatch):
    """Headers of a signed-in resident and staff member, and real values to put into every other case."""
    # Rate limits have tests of their own; here they would turn most writes into 429s.
    for name in ("BOOKING", "OPINION"):
        for per in ("RESIDENT", "ADDRESS"):
            monkeypatch.setitem(app.config, f"API_LIMIT_{name}_{per}", "10000/minute")
    for name in ("API_LIMIT_STAFF_TOKEN", "API_LIMIT_STAFF_TOKEN_ADDRESS"):
        monkeypatch.setitem(app.config, name, "10000/minute")
    headers = sign_in("schemathesis")
    staff = make_user("district_admin", site["tree"]["district_a"], username="schemathesis-admin")
    unit = make_unit(site["tree"]["district_a"], name="测试住建局")
    booking = client.post(
        "/api/v1/bookings",
        json={
            "reception_id": site["receptions"]["later"].id,
            "slot_start": "10:00",
            "name": "测试",
            "mobile": "13812345678",
        },
        headers=headers,
    ).get_json()
    opinion = client.post(
        "/api/v1/opinions",
        json={"station_code": site["station"].code, "content": "路灯坏了很久了"},
        headers=headers,
    ).get_json()
    token = client.post("/api/v1/staff/token", json={"username": staff.username, "password": PASSWORD})
    return {
        "headers": headers,
        "staff_headers": {"Authorization": f"Bearer {token.get_json()['token']}"},
        "username": staff.username,
        "password": PASSWORD,
        "unit_code": unit.code,
        "category": "urban",
        "into": opinion["tracking_no"],
        "station_code": site["station"].code,
        "reception_id": site["receptions"]["service_day"].id,
        "slot_start": "09:30",
        "template_ids": ["TPL_OPINION_UPDATE"],
        "booking_code": booking["code"],
        "tracking_no": opinion["tracking_no"],
        "turn": itertools.count(),
    }


def _use_real_values(case, real) -> None:
    if next(real["turn"]) % 2:
        return
    params = case.path_parameters or {}
    if "code" in params:
        bookings = case.operation.path.startswith("/api/v1/bookings")
        params["code"] = real["booking_code"] if bookings else real["station_code"]
    if "tracking_no" in params:
        params["tracking_no"] = real["tracking_no"]
    if isinstance(case.body, dict):
        names = ("station_code", "reception_id", "slot_start", "template_ids")
        if case.operation.path.startswith("/api/v1/staff"):
            names = ("username", "password", "unit_code", "category", "into", "station_code")
        for name in names:
            if name in case.body:
                case.body[name] = real[name]


def _headers(path: str, real) -> dict[str, str]:
    staff = path.startswith("/api/v1/staff")
    return real["staff_headers"] if staff else real["headers"]


@pytest.mark.parametrize("mode", list(MAX_EXAMPLES), ids=lambda mode: mode.value)
@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS), ids=lambda value: value)
def test_operation_conforms_to_the_document(api_schema, client, real, method, path, mode):
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        _use_real_values(case, real)
        case.call_and_validate(session=client, headers=_headers(path, real), checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # A lone string path parameter: every string is valid, there is nothing to negate.
        assert mode is GenerationMode.NEGATIVE
        pytest.skip("no input of this operation can be made invalid")
