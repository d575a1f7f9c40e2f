"""Console tests use the same world and request hygiene as the auth tests."""

import pytest

from tests.auth.conftest import world  # noqa: F401
from tests.factories import PASSWORD


@pytest.fixture
def login_as(app):
    """A fresh test client signed in as ``user`` through the real login form."""

    def do(user, password: str = PASSWORD):
        client = app.test_client()
        response = client.post("/console/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return do
