"""Residents' phone numbers: encrypted at rest, readable through the models, masked everywhere."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app import create_app
from app.config import ConfigError
from app.extensions import db
from app.receptions.service import book_for_resident
from app.security import crypto
from app.security.masking import PhoneMaskingFilter, mask_phone, mask_phones_in_text
from tests.conftest import TEST_FIELD_KEY
from tests.security.conftest import RESIDENT_MOBILE

PG = "postgresql://postgres@127.0.0.1:5432/test"


def _raw(sql: str, **params) -> str:
    db.session.flush()
    return db.session.execute(text(sql), params).scalar_one()


def test_opinion_contact_is_a_token_in_the_database(world):
    opinion = world["opinion"]
    raw = _raw("SELECT contact_mobile FROM opinions WHERE id = :id", id=opinion.id)
    assert RESIDENT_MOBILE not in raw and raw.startswith(crypto.TOKEN_PREFIX)
    name = _raw("SELECT contact_name FROM opinions WHERE id = :id", id=opinion.id)
    assert "王" not in name and name.startswith(crypto.TOKEN_PREFIX)
    db.session.expire(opinion)
    assert opinion.contact_mobile == RESIDENT_MOBILE  # the model reads it back in clear
    assert opinion.contact_name == "王先生"


def test_booking_mobile_and_staff_key_hold_no_number(world, make_user):
    from app.auth.models import Role

    staff = make_user(Role.STATION_STAFF, world["station"])
    booking = book_for_resident(
        world["reception"], slot="09:00", name="王大爷", mobile=RESIDENT_MOBILE, staff_user_id=staff.id
    )
    row = db.session.execute(
        text("SELECT mobile, resident_id, active_resident, name FROM bookings WHERE id = :id"),
        {"id": booking.id},
    ).one()
    assert all(RESIDENT_MOBILE not in value for value in row)
    assert "王大爷" not in row.name and row.name.startswith(crypto.TOKEN_PREFIX)
    db.session.expire(booking)
    assert (booking.mobile, booking.name) == (RESIDENT_MOBILE, "王大爷")


def test_empty_stays_empty_and_tokens_differ(app):
    with app.app_context():
        assert crypto.encrypt("") == ""
        first, second = crypto.encrypt(RESIDENT_MOBILE), crypto.encrypt(RESIDENT_MOBILE)
        assert first != second and crypto.decrypt(first) == crypto.decrypt(second) == RESIDENT_MOBILE
        assert crypto.blind_index(RESIDENT_MOBILE) == crypto.blind_index(" 139-1234-5678 ")


def test_a_foreign_key_reads_as_empty_not_a_crash(app, caplog):
    foreign = Fernet(Fernet.generate_key()).encrypt(RESIDENT_MOBILE.encode()).decode()
    with app.app_context():
        assert crypto.decrypt(foreign) == ""
    assert "FIELD_ENCRYPTION_KEY" in caplog.text


def test_key_rotation_reads_old_tokens(app, monkeypatch):
    with app.app_context():
        old = crypto.encrypt(RESIDENT_MOBILE)
        new_key = Fernet.generate_key().decode()
        monkeypatch.setitem(app.config, "FIELD_ENCRYPTION_KEY", f"{new_key},{TEST_FIELD_KEY}")
        assert crypto.decrypt(old) == RESIDENT_MOBILE
        assert Fernet(new_key.encode()).decrypt(crypto.encrypt("x").encode()) == b"x"


def test_production_refuses_to_start_without_a_proper_key(monkeypatch):
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    base = {"APP_ENV": "production", "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": PG}
    with pytest.raises(ConfigError, match="FIELD_ENCRYPTION_KEY"):
        create_app(base)
    with pytest.raises(ConfigError, match="FIELD_ENCRYPTION_KEY"):
        create_app({**base, "FIELD_ENCRYPTION_KEY": "not-a-fernet-key"})
    with pytest.raises(ConfigError, match="COOKIE_SECURE"):
        create_app({**base, "FIELD_ENCRYPTION_KEY": TEST_FIELD_KEY, "COOKIE_SECURE": False})


def test_development_derives_a_key_with_a_warning(monkeypatch, caplog):
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    with caplog.at_level(logging.WARNING):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "some-dev-secret"})
    assert "FIELD_ENCRYPTION_KEY" in caplog.text
    assert crypto.effective_keys(app.config) == [crypto.derive_dev_key("some-dev-secret")]


# --- masking -------------------------------------------------------------------------------


def test_one_masking_function():
    from app import template_helpers

    assert template_helpers.mask_phone is mask_phone
    assert mask_phone(RESIDENT_MOBILE) == "139****5678"
    text_ = "电话13912345678，编号 2026113912345678"
    assert mask_phones_in_text(text_) == "电话139****5678，编号 2026113912345678"


def test_log_records_are_masked(app, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("app.anything").info("resident %s called about %s", RESIDENT_MOBILE, "路灯")
        app.logger.warning(f"raw text 13812345678 in a message")  # noqa: F541
    assert RESIDENT_MOBILE not in caplog.text and "13812345678" not in caplog.text
    assert "139****5678" in caplog.text and "138****5678" in caplog.text


def test_the_filter_masks_records_made_elsewhere():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s", (RESIDENT_MOBILE,), None)
    record._phones_masked = False
    PhoneMaskingFilter().filter(record)
    assert record.getMessage() == "call 139****5678"


def test_console_lists_and_api_mask_the_number(client, world, login):
    from app.receptions.bookings import book_slot

    booking = book_slot(
        reception=world["reception"],
        slot_start=world["reception"].start,
        resident_id="anon-x",
        name="李阿姨",
        mobile=RESIDENT_MOBILE,
    )
    db.session.commit()
    login(world["city"])
    pages = [
        f"/console/receptions/{world['reception'].id}",
        f"/console/opinions/{world['opinion'].tracking_no}",
        "/console/opinions/",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert RESIDENT_MOBILE not in response.get_data(as_text=True), page
    assert "139****5678" in client.get(pages[0]).get_data(as_text=True)
    assert booking.code
