"""``seed_demo``: write the Wuxi demo through the domain services, idempotently.

Every row is found again by its natural key (region and unit code, the station code seeded
from a stable key, deputy name within the keeping region, username), so a rerun writes
nothing; the only change a rerun may make is the demo accounts' password, when
``DEMO_PASSWORD`` changed. Nothing is committed here: the caller commits once, so a failure
leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select

from app.auth.models import Role, StaffUser
from app.auth.service import MIN_PASSWORD, create_user
from app.demo.ledger import seed_ledger
from app.demo.plan import DEMO_TOWN, DemoPlan, build_plan
from app.demo.rating import demo_stations, seed_ratings
from app.deputies.models import Deputy
from app.deputies.service import create_deputy
from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.receptions.service import ServiceDayDefaults, generate_service_days
from app.regions.models import Region
from app.regions.service import create_region
from app.stations.models import Placement, Station
from app.stations.service import create_station, new_station_code, place_deputy
from app.timeutil import local_now
from app.units.models import HandlingUnit
from app.units.service import create_unit
from app.workdays.service import sync_from_library

# When the demo's deputies joined their stations' rolls (after the 2022 opinion took effect).
PLACED_SINCE = date(2023, 3, 1)

TALLY_LABELS = {
    "regions": "区域",
    "units": "承办单位",
    "deputies": "人大代表",
    "stations": "家站点",
    "placements": "代表编入",
    "users": "演示账号",
}


@dataclass
class Tally:
    created: int = 0
    existing: int = 0


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope: str
    password: str


@dataclass
class SeedReport:
    """What ``seed_demo`` found and wrote, and how to log in."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {key: Tally() for key in TALLY_LABELS})
    calendar_days_added: int = 0
    passwords_updated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)
    demo_station_code: str = ""
    demo_station_name: str = ""
    # 联系服务群众日 generated for this month and the next, so the pages show who is on duty.
    receptions_created: int = 0
    # 台账: a year of activities, plans and fixed contacts for the demo town (issue 8).
    ledger_activities_created: int = 0
    # 星级评定: this year's score sheets of the demo town's stations, one per workflow state.
    rating_sheets_created: int = 0
    # Followers of the demo station and WeChat bindings (app/notify/demo.py).
    push_demo_created: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            any(t.created for t in self.tallies.values())
            or self.calendar_days_added
            or self.passwords_updated
            or self.receptions_created
            or self.ledger_activities_created
            or self.rating_sheets_created
            or self.push_demo_created
        )


def seed_demo(password: str) -> SeedReport:
    """Write the Wuxi demo data and accounts; a rerun finds everything and writes nothing.

    Refused when the app is configured for production. Flushes, never commits.
    """
    if current_app.config.get("APP_ENV") == "production":
        raise Forbidden("当前为生产环境（APP_ENV=production），不能写入演示数据。", code="production")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(f"演示账号密码（DEMO_PASSWORD）至少 {MIN_PASSWORD} 位。", field="password")
    return _Seeder(build_plan(), password).run()


def _months_from(day: date, count: int) -> list[str]:
    year, month = day.year, day.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class _Seeder:
    def __init__(self, plan: DemoPlan, password: str) -> None:
        self.plan = plan
        self.password = password
        self.report = SeedReport()
        self.regions: dict[str, Region] = {}
        self.units: dict[str, HandlingUnit] = {}
        self.deputies: dict[tuple[str, str], Deputy] = {}
        self.stations: dict[str, Station] = {}

    def count(self, what: str, created: bool) -> None:
        tally = self.report.tallies[what]
        if created:
            tally.created += 1
        else:
            tally.existing += 1

    def run(self) -> SeedReport:
        self.report.calendar_days_added = sync_from_library()["added"]
        # Each step loads what exists in one query, then creates only what is missing.
        self.seed_regions()
        self.seed_units()
        self.seed_deputies()
        self.seed_stations()
        self.seed_placements()
        self.seed_accounts()
        db.session.flush()
        self.seed_service_days()
        station = self.stations[self.plan.demo_station]
        self.report.ledger_activities_created = seed_ledger(DEMO_TOWN, station)
        self.report.rating_sheets_created = seed_ratings(demo_stations(station))
        from app.notify.demo import seed_push_demo

        self.report.push_demo_created = seed_push_demo(station)
        self.report.demo_station_code = station.code
        self.report.demo_station_name = station.name
        return self.report

    def seed_service_days(self) -> None:
        """This month's and next month's 联系服务群众日 at every station (idempotent)."""
        defaults = ServiceDayDefaults.from_config(current_app.config)
        for month in _months_from(local_now().date(), 2):
            self.report.receptions_created += len(generate_service_days(month, defaults).created)

    def seed_regions(self) -> None:
        codes = [r.code for r in self.plan.regions]
        found = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))}
        for planned in self.plan.regions:  # parents are planned before their children
            region = found.get(planned.code)
            if region is None:
                parent = self.regions[planned.parent] if planned.parent else None
                region = create_region(code=planned.code, name=planned.name, parent=parent)
            self.count("regions", planned.code not in found)
            self.regions[planned.code] = region

    def seed_units(self) -> None:
        codes = [u.code for u in self.plan.units]
        found = {
            u.code: u for u in db.session.scalars(select(HandlingUnit).where(HandlingUnit.code.in_(codes)))
        }
        for planned in self.plan.units:
            unit = found.get(planned.code)
            if unit is None:
                unit = create_unit(region=self.regions[planned.region], code=planned.code, data=planned.data)
            self.count("units", planned.code not in found)
            self.units[planned.code] = unit

    def seed_deputies(self) -> None:
        by_id = {r.id: code for code, r in self.regions.items()}
        rows = db.session.scalars(select(Deputy).where(Deputy.region_id.in_(list(by_id))))
        found = {(d.name, by_id[d.region_id]): d for d in rows}
        for planned in self.plan.deputies:
            deputy = found.get(planned.key)
            if deputy is None:
                deputy = create_deputy(
                    region=self.regions[planned.region], data=planned.data, mandates=planned.mandates
                )
            self.count("deputies", planned.key not in found)
            self.deputies[planned.key] = deputy

    def seed_stations(self) -> None:
        rows = list(
            db.session.scalars(
                select(Station).where(Station.region_id.in_([r.id for r in self.regions.values()]))
            )
        )
        by_code = {s.code: s for s in rows}
        by_identity = {(s.region_id, s.kind, s.name): s for s in rows}
        for planned in self.plan.stations:
            region = self.regions[planned.region]
            station = by_code.get(new_station_code(planned.seed))
            if station is None or station.region_id != region.id:
                # The seeded code was taken when it was first written: known by region, kind, name.
                station = by_identity.get((region.id, planned.kind, planned.name))
            created = station is None
            if created:
                data = dict(planned.data)
                if planned.host is not None:
                    data["host_deputy_id"] = str(self.deputies[planned.host].id)
                station = create_station(region=region, kind=planned.kind, data=data, code_seed=planned.seed)
            self.count("stations", created)
            self.stations[planned.seed] = station

    def seed_placements(self) -> None:
        ids = [d.id for d in self.deputies.values()]
        found = set(
            db.session.execute(
                select(Placement.deputy_id, Placement.station_id).where(Placement.deputy_id.in_(ids))
            ).tuples()
        )
        for planned in self.plan.deputies:
            deputy = self.deputies[planned.key]
            for seed in planned.stations:
                station = self.stations[seed]
                present = (deputy.id, station.id) in found
                if not present:
                    place_deputy(station, deputy, since=PLACED_SINCE)
                self.count("placements", not present)

    def seed_accounts(self) -> None:
        usernames = [a.username for a in self.plan.accounts]
        found = {
            u.username: u
            for u in db.session.scalars(select(StaffUser).where(StaffUser.username.in_(usernames)))
        }
        for planned in self.plan.accounts:
            user = found.get(planned.username)
            if user is None:
                user = create_user(None, self._account_data(planned))
            else:
                if user.role != planned.role:
                    self.report.warnings.append(
                        f"账号 {user.username} 已存在，但角色为“{user.role_label}”，未作修改。"
                    )
                # Hash only when the password really changed: a rerun leaves the rows alone.
                if not user.check_password(self.password):
                    user.set_password(self.password)
                    self.report.passwords_updated.append(user.username)
            self.count("users", planned.username not in found)
            self.report.logins.append(
                DemoLogin(user.username, user.role_label, _scope_text(user), self.password)
            )

    def _account_data(self, planned) -> dict:
        role = Role(planned.role)
        data = {
            "username": planned.username,
            "display_name": planned.display_name,
            "role": role.value,
            "password": self.password,
        }
        if role is Role.STATION_STAFF:
            data["station_id"] = str(self.stations[planned.target].id)
        elif role is Role.UNIT_STAFF:
            data["unit_id"] = str(self.units[planned.target].id)
        elif role is Role.DEPUTY:
            data["deputy_id"] = str(self.deputies[planned.target].id)
        else:
            data["region_id"] = str(self.regions[planned.target].id)
        return data


def _region_chain(region: Region | None) -> list[str]:
    names = []
    while region is not None:
        names.append(region.name)
        region = region.parent
    # The city is everyone's root; name it only when it is the whole scope.
    return list(reversed(names))[1:] or names


def _scope_text(user: StaffUser) -> str:
    """Where a demo account works, in words: the region path, the station, unit or deputy."""
    if user.station is not None:
        chain = _region_chain(user.station.region)
        if user.station.name.startswith(chain[-1]):  # 新生路社区 › 新生路社区人大代表联络站
            chain = chain[:-1]
        return " › ".join([*chain, user.station.name])
    if user.unit is not None:
        return f"{user.unit.name}（{' › '.join(_region_chain(user.unit.region))}）"
    if user.deputy is not None:
        stations = "、".join(p.station.name for p in user.deputy.placements)
        return f"代表{user.deputy.name}，编入{stations}"
    return " › ".join(_region_chain(user.region))
