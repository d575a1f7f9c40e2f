"""Residents' phone numbers and names encrypted at rest: Fernet with a key from the environment.

``FIELD_ENCRYPTION_KEY`` holds one or more Fernet keys (comma-separated, the first encrypts,
all decrypt: rotate by putting the new key first). Outside production, when it is unset, a
key is derived from ``SECRET_KEY`` with a warning; production refuses to start without a
proper key (``app.config.check_config``).

``EncryptedString`` is the column type: the database only ever sees a Fernet token (or
``""`` for "none given"). Fernet is randomised, so equal numbers give different tokens;
where a number must be matched (one active booking per resident booked by staff) a keyed
HMAC of it, ``blind_index``, is stored instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app, has_app_context
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - every Fernet token (version byte 0x80 + timestamp) starts so
ENCRYPTED_LENGTH = 255  # a Fernet token of a 32-character value is 140 characters
_DEV_SALT = b"jzd-field-encryption-dev-key"


def derive_dev_key(secret_key: str) -> str:
    """A Fernet key derived from ``SECRET_KEY``: for development and tests only."""
    digest = hashlib.sha256(_DEV_SALT + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def parse_keys(value: str | None) -> list[str]:
    """The keys of a ``FIELD_ENCRYPTION_KEY`` value; ``ValueError`` when one is not a Fernet key."""
    keys = [part.strip() for part in (value or "").split(",") if part.strip()]
    for key in keys:
        Fernet(key.encode())  # raises ValueError on a malformed key
    return keys


def effective_keys(config) -> list[str]:
    """The keys this app encrypts and decrypts with (the dev key when none is configured)."""
    keys = parse_keys(config.get("FIELD_ENCRYPTION_KEY"))
    return keys or [derive_dev_key(config["SECRET_KEY"])]


@lru_cache(maxsize=16)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def cipher(config=None) -> MultiFernet:
    return _cipher(tuple(effective_keys(config if config is not None else current_app.config)))


def encrypt(value: str, config=None) -> str:
    """The Fernet token of ``value``; ``""`` stays ``""`` (nothing was given)."""
    if not value:
        return value
    return cipher(config).encrypt(value.encode()).decode()


def is_token(value: str | None) -> bool:
    return bool(value) and value.startswith(TOKEN_PREFIX)


def decrypt(value: str | None, config=None) -> str:
    """The plain value of a stored token; a legacy plain value passes through unchanged."""
    if not value:
        return value or ""
    if not is_token(value):
        return value  # written before encryption (the migration converts these)
    try:
        return cipher(config).decrypt(value.encode()).decode()
    except InvalidToken:
        # Wrong or rotated-away key: never crash a page over it, never show the token.
        log.error("a stored field could not be decrypted: check FIELD_ENCRYPTION_KEY")
        return ""


def blind_index(value: str, config=None) -> str:
    """A keyed HMAC of a normalised value, for equality lookups without the plain value."""
    config = config if config is not None else current_app.config
    key = hashlib.sha256(b"jzd-blind-index:" + effective_keys(config)[-1].encode()).digest()
    normalised = "".join(ch for ch in (value or "") if ch.isdigit() or ch == "+")
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


class EncryptedString(TypeDecorator):
    """A string column stored as a Fernet token; reads give back the plain value."""

    impl = String(ENCRYPTED_LENGTH)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return value
        if not has_app_context():
            raise RuntimeError("EncryptedString needs an app context for its key")
        if is_token(value):
            return value  # already a token (a migration, a copy): never encrypt twice
        return encrypt(str(value))

    def process_result_value(self, value, dialect):
        if value is None or value == "":
            return value
        if not has_app_context():
            raise RuntimeError("EncryptedString needs an app context for its key")
        return decrypt(value)


def init_app(app: Flask) -> None:
    if app.config.get("FIELD_ENCRYPTION_KEY"):
        parse_keys(app.config["FIELD_ENCRYPTION_KEY"])  # a malformed key fails at start, not at first use
    elif app.config["APP_ENV"] != "testing":
        log.warning(
            "FIELD_ENCRYPTION_KEY 未设置：群众手机号和姓名以由 SECRET_KEY 派生的开发密钥加密，仅供开发使用。"
        )
