"""Role × own/foreign object for every console route: foreign is 403/404 and shows nothing of it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, or_, select

from app.auth.models import Role, StaffUser
from app.deputies.models import Deputy
from app.extensions import db
from app.opinions.models import Opinion
from app.receptions.models import Booking, Reception
from app.regions.models import Region
from app.stations.models import Placement, Station
from app.units.models import HandlingUnit
from tests.auth.world import Side, World
from tests.console.matrix import PUBLIC, ROWS, SETUP, Row

REFUSED = (403, 404)


def text_of(response) -> str:
    """The body as text; binary answers (plaque PNG and PDF) are searched too, never fail to decode."""
    return response.get_data().decode("utf-8", "replace")


def call(client, row: Row, side: Side):
    url = row.url(side)
    if row.method == "GET":
        return client.get(url)
    data = row.data(side) if row.data else {}
    data = {k: v if isinstance(v, tuple) else str(v) for k, v in data.items()}
    return client.post(url, data=data)


def hidden_secrets(world: World, role: Role) -> list[str]:
    """Identifying data of every branch outside the role's scope."""
    keys = ["x"] if role is Role.CITY_ADMIN else ["b", "x"]
    return [secret for key in keys for secret in world.sides[key].secrets]


def assert_nothing_of(body: str, secrets: list[str], where: str) -> None:
    leaked = [secret for secret in secrets if secret in body]
    assert not leaked, f"{where} shows foreign data {leaked}"


def fingerprint(side: Side) -> tuple:
    """Everything a foreign request could have changed in a branch."""
    db.session.expire_all()
    regions = select(Region.id).where(Region.path.startswith(side.district.path))
    stations = select(Station.id).where(Station.region_id.in_(regions))
    station = db.session.get(Station, side.station.id)
    deputy = db.session.get(Deputy, side.deputy.id)
    unit = db.session.get(HandlingUnit, side.unit.id)
    staff = db.session.get(StaffUser, side.staff.id)
    count = lambda stmt: db.session.scalar(select(func.count()).select_from(stmt.subquery()))  # noqa: E731
    return (
        db.session.get(Region, side.village.id).name,
        count(regions),
        count(stations),
        (station.name, station.address, station.phone, station.status),
        sorted(db.session.scalars(select(Placement.deputy_id).where(Placement.station_id == station.id))),
        (deputy.name, deputy.photo, deputy.active, [(m.level, m.term) for m in deputy.mandates]),
        count(select(Deputy.id).where(Deputy.region_id.in_(regions))),
        (unit.name, unit.active),
        count(select(HandlingUnit.id).where(HandlingUnit.region_id.in_(regions))),
        (staff.display_name, staff.phone, staff.active),
        sorted(
            (r.id, r.date, r.start, r.end, r.status, r.slot_capacity, r.topic, len(r.duties))
            for r in db.session.scalars(select(Reception).where(Reception.station_id.in_(stations)))
        ),
        sorted(
            db.session.execute(
                select(Booking.id, Booking.status, Booking.seat).where(
                    Booking.reception_id.in_(select(Reception.id).where(Reception.station_id.in_(stations)))
                )
            ).all()
        ),
        count(select(Opinion.id).where(Opinion.station_id.in_(stations))),
        count(
            select(StaffUser.id).where(
                or_(
                    StaffUser.region_id.in_(regions),
                    StaffUser.station_id.in_(stations),
                    StaffUser.unit_id.in_(select(HandlingUnit.id).where(HandlingUnit.region_id.in_(regions))),
                )
            )
        ),
    )


def prepare(world: World) -> None:
    """Build what the rows need beyond the world (tests/console/matrix.py SETUP) on every branch."""
    for side in world.sides.values():
        for build in SETUP:
            build(side)
    db.session.commit()


def dormant(app, row: Row) -> bool:
    """A row for a blueprint this app does not register (work not merged yet) waits quietly."""
    return row.endpoint.split(".")[0] not in app.blueprints


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_matrix(row: Row, role: Role, world: World, login_as, app):
    if dormant(app, row):
        pytest.skip(f"{row.endpoint} is not registered in this app")
    prepare(world)
    actor = world.actors[role]
    secrets = hidden_secrets(world, role)
    own_client, foreign_client = login_as(actor), login_as(actor)
    own, foreign = world.own, world.foreign(role)

    response = call(own_client, row, own)
    body = text_of(response)
    where = f"{role} {row.method} {row.url(own)} (own)"
    assert_nothing_of(body, secrets, where)
    if role not in row.allowed:
        assert response.status_code in REFUSED, where
    elif row.method == "GET" or row.ok is not None:
        assert response.status_code == (row.ok or 200), f"{where}: {response.status_code} {body[:400]}"
        if row.shows is not None:
            assert row.shows(own) in body, f"{where} does not show {row.shows(own)!r}"
    else:
        assert response.status_code == 302, f"{where}: {response.status_code} {body[:400]}"
        location = response.headers["Location"]
        assert row.endpoint == "console.logout" or "/console/login" not in location, where
        landing = text_of(own_client.get(location))
        assert "flash-error" not in landing, f"{where} reported an error"
        assert_nothing_of(landing, secrets, f"{where} → {location}")

    before = fingerprint(foreign)
    response = call(foreign_client, row, foreign)
    where = f"{role} {row.method} {row.url(foreign)} (foreign)"
    assert_nothing_of(text_of(response), secrets, where)
    if row.scoped:
        assert response.status_code in REFUSED, f"{where}: {response.status_code}"
    assert fingerprint(foreign) == before, f"{where} changed the foreign branch"


def _console_rules(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        # By URL, not blueprint: a later blueprint mounted under /console needs rows too.
        if rule.rule.startswith("/console") or rule.endpoint.startswith("console.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_console_rule_is_in_the_matrix(app):
    covered = {(row.endpoint, row.method) for row in ROWS if not dormant(app, row)} | PUBLIC
    rules = _console_rules(app)
    assert not rules - covered, (
        f"console routes missing from tests/console/matrix.py: {sorted(rules - covered)}"
    )
    assert not covered - rules, f"matrix rows for routes that no longer exist: {sorted(covered - rules)}"


def test_matrix_urls_reach_their_endpoints(app, world: World):
    prepare(world)
    adapter = app.url_map.bind("localhost")
    for row in ROWS:
        if dormant(app, row):
            continue
        path = row.url(world.own).split("?")[0]
        endpoint, _args = adapter.match(path, method=row.method)
        assert endpoint == row.endpoint, f"{row.id}: {path} routes to {endpoint}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_signed_out_is_sent_to_login(row: Row, world: World, app):
    if dormant(app, row):
        pytest.skip(f"{row.endpoint} is not registered in this app")
    prepare(world)
    response = call(app.test_client(), row, world.own)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")
    assert_nothing_of(text_of(response), world.own.secrets, row.id)
