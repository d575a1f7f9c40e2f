import pytest

from app import create_app
from app.config import REAL_WECHAT_API, ConfigError
from tests.conftest import TEST_FIELD_KEY

PG = "postgresql://postgres@127.0.0.1:5432/test"


def test_production_refuses_default_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": PG})


def test_production_refuses_short_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SECRET_KEY": "short", "SQLALCHEMY_DATABASE_URI": PG})


def test_production_refuses_sqlite():
    with pytest.raises(ConfigError, match="PostgreSQL"):
        create_app({"APP_ENV": "production", "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_defaults(monkeypatch):
    monkeypatch.delenv("WECHAT_API_BASE", raising=False)
    monkeypatch.delenv("COOKIE_SECURE", raising=False)
    app = create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": PG,
            "FIELD_ENCRYPTION_KEY": TEST_FIELD_KEY,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["HSTS_ENABLED"] is True
    assert app.config["WECHAT_API_BASE"] == REAL_WECHAT_API
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_embedded_defaults(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "WECHAT_API_BASE", "APP_ENV", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/jiazhandian.db")
    assert app.config["REDIS_URL"] is None
    # Offline by default: the WeChat API is the built-in mock, never the real one.
    assert app.config["WECHAT_API_BASE"] == "http://127.0.0.1:5000/_wechat_mock"


def test_rate_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("PUBLIC_LIMIT_OPINION_RESIDENT", "2/minute")
    monkeypatch.setenv("API_TOKEN_MAX_AGE", "3600")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PUBLIC_LIMIT_OPINION_RESIDENT"] == "2/minute"
    assert app.config["API_TOKEN_MAX_AGE"] == 3600
    assert "API_LIMIT_OPINION_RESIDENT" not in app.config  # unset: the module's default applies
