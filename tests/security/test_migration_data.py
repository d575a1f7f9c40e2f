"""The revisions that encrypt phones and names convert existing rows; their downgrades restore them."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from app.security.crypto import TOKEN_PREFIX
from tests.conftest import PgDatabases, make_test_app
from tests.factories import build_reception

BEFORE = "01edcd9f8478"  # the revision before the phones' (17b78eb13121)
BEFORE_NAMES = "b4d2e8f1a6c3"  # the revision before the names' (c7e2f4a9d1b3)
MOBILE, STAFF_MOBILE, CONTACT_PHONE = "13912345678", "13700001111", "13655556666"
CONTACT_NAME, BOOKED_NAME = "李女士", "王"


def _world():
    from app.opinions.service import submit_opinion
    from app.receptions.service import book_for_resident
    from app.regions.service import create_region
    from app.stations.service import create_station

    city = create_region(code="M000001", name="迁移市", parent=None)
    district = create_region(code="M000002", name="迁移区", parent=city)
    town = create_region(code="M000003", name="迁移镇", parent=district)
    village = create_region(code="M000004", name="迁移村", parent=town)
    station = create_station(region=village, kind="station", data={"name": "迁移站", "address": "路1号"})
    opinion = submit_opinion(
        station=station, content="路灯坏了很久了，请维修。", channel="h5", contact_mobile=MOBILE,
        contact_name=CONTACT_NAME,
    )  # fmt: skip
    reception = build_reception(station, day=date(2030, 12, 17))
    booking = book_for_resident(
        reception,
        slot="09:00",
        name=BOOKED_NAME,
        mobile=STAFF_MOBILE,
        staff_user_id=None,
        now=datetime(2030, 12, 1, 9),
    )
    from app.deputies.service import create_deputy
    from app.ledger.models import FixedContact

    deputy = create_deputy(
        region=town, data={"name": "迁移代表", "unit": "单位", "post": "职员"},
        mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
    )  # fmt: skip
    contact = FixedContact(deputy=deputy, name="固定联系人", phone=CONTACT_PHONE)
    db.session.add(contact)
    db.session.commit()
    return opinion.id, booking.id, contact.id


def _raw(opinion_id: int, booking_id: int, contact_id: int):
    mobile = db.session.execute(
        text("SELECT contact_mobile FROM opinions WHERE id = :id"), {"id": opinion_id}
    ).scalar()
    row = db.session.execute(
        text("SELECT mobile, resident_id FROM bookings WHERE id = :id"), {"id": booking_id}
    ).one()
    phone = db.session.execute(
        text("SELECT phone FROM fixed_contacts WHERE id = :id"), {"id": contact_id}
    ).scalar()
    db.session.rollback()
    return mobile, row.mobile, row.resident_id, phone


def _names(opinion_id: int, booking_id: int, _contact_id: int) -> tuple[str, str]:
    opinion = db.session.execute(text("SELECT contact_name FROM opinions WHERE id = :id"), {"id": opinion_id})
    booking = db.session.execute(text("SELECT name FROM bookings WHERE id = :id"), {"id": booking_id})
    names = (opinion.scalar(), booking.scalar())
    db.session.rollback()
    return names


@pytest.mark.real_commits
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_encrypts_and_downgrade_restores(backend, tmp_path, request):
    dbs = None
    if backend == "postgresql":
        request.getfixturevalue("pg_databases")  # skips when PostgreSQL is unreachable
        dbs = PgDatabases()
        url = dbs.create("mig")
    else:
        url = "sqlite:///" + str(tmp_path / "mig.db")
    app = make_test_app(url, UPLOAD_FOLDER=str(tmp_path))
    try:
        with app.app_context():
            upgrade()
            ids = _world()
            encrypted = _raw(*ids)
            assert all(number not in v for v in encrypted for number in (MOBILE, STAFF_MOBILE, CONTACT_PHONE))
            assert all(encrypted[i].startswith(TOKEN_PREFIX) for i in (0, 1, 3))
            assert all(name.startswith(TOKEN_PREFIX) for name in _names(*ids))

            downgrade(revision=BEFORE_NAMES)  # the names in clear again, the phones still not
            assert _names(*ids) == (CONTACT_NAME, BOOKED_NAME)
            assert _raw(*ids)[0].startswith(TOKEN_PREFIX)
            downgrade(revision=BEFORE)
            assert _raw(*ids) == (MOBILE, STAFF_MOBILE, f"staff:{STAFF_MOBILE}", CONTACT_PHONE)
            assert _names(*ids) == (CONTACT_NAME, BOOKED_NAME)

            upgrade()
            again = _raw(*ids)
            assert all(again[i].startswith(TOKEN_PREFIX) for i in (0, 1, 3))
            assert again[2] == encrypted[2]  # the same blind index as written by the app
            assert all(name.startswith(TOKEN_PREFIX) for name in _names(*ids))
            from app.opinions.models import Opinion
            from app.receptions.models import Booking

            opinion, booking = db.session.get(Opinion, ids[0]), db.session.get(Booking, ids[1])
            assert (opinion.contact_mobile, opinion.contact_name) == (MOBILE, CONTACT_NAME)
            assert (booking.mobile, booking.name) == (STAFF_MOBILE, BOOKED_NAME)
            from app.ledger.models import FixedContact

            assert db.session.get(FixedContact, ids[2]).phone == CONTACT_PHONE
            db.session.remove()
            db.engine.dispose()
    finally:
        if dbs is not None:
            dbs.drop_all()
