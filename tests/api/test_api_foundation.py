"""The API's foundation: its OpenAPI document, its error shape, CSRF exemption."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tests.conftest import make_test_app


def test_openapi_document_is_valid_and_lists_the_stations_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "家站点 API"
    assert spec["info"]["version"] == "v1"
    assert {"/api/v1/stations", "/api/v1/stations/{code}"} <= set(spec["paths"])
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


def test_no_swagger_ui_from_a_cdn(client):
    for path in ("/api/v1/swagger-ui", "/api/v1/redoc", "/api/v1/rapidoc"):
        assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing", 404, "not_found"),
        ("post", "/api/v1/stations", 405, "method_not_allowed"),
        ("delete", "/api/v1/stations/abcdef", 405, "method_not_allowed"),
    ],
)
def test_api_errors_have_our_shape(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_non_api_errors_stay_html(client):
    """flask-smorest must not take over the Chinese error pages of the rest of the site."""
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "页面不存在" in response.get_data(as_text=True)


@pytest.fixture
def csrf_app(tmp_path):
    """A second app with CSRF on, as in production."""
    return make_test_app("sqlite:///" + str(tmp_path / "csrf.db"), WTF_CSRF_ENABLED=True)


def test_api_is_exempt_from_csrf(csrf_app):
    client = csrf_app.test_client()
    # A console-style CSRF failure would be 400 csrf_failed; the API answers on its own terms.
    response = client.post("/api/v1/stations", json={})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_json_keeps_chinese_readable(client):
    assert "家站点 API".encode() in client.get("/api/v1/openapi.json").data
