"""A small world for scope tests: own branch "a", a sibling branch "b", another city "x".

Every role has one actor scoped to branch "a". Each branch carries one object of every
scoped kind, with names and phone numbers unique to it, so a page can be searched for
any sign of a branch it must not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.auth.models import Role, StaffUser
from app.deputies.models import Deputy
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Station
from app.units.models import HandlingUnit

SIDE_NAMES = {"a": ("艾", "A"), "b": ("柏", "B"), "x": ("谢", "X")}
SIDE_DIGITS = {"a": "1", "b": "2", "x": "3"}


@dataclass
class Side:
    key: str
    district: Region
    town: Region
    village: Region
    spare_region: Region  # an empty village, for delete
    station: Station  # 联络站 in the village
    deputy: Deputy  # kept by the town, placed at the station
    spare_deputy: Deputy  # kept by the town, placed nowhere
    unit: HandlingUnit  # kept by the town
    staff: StaffUser  # a station staff account at the station
    secrets: list[str] = field(default_factory=list)


@dataclass
class World:
    city: Region
    other_city: Region
    sides: dict[str, Side]
    actors: dict[Role, StaffUser]

    @property
    def own(self) -> Side:
        return self.sides["a"]

    def foreign(self, role: Role) -> Side:
        """A branch outside the role's scope: the sibling district, or another city for the city."""
        return self.sides["x" if role is Role.CITY_ADMIN else "b"]


def build_world(region_tree, make_region, make_station, make_deputy, make_unit, make_user) -> World:
    tree = region_tree()
    other_city = make_region(None, "外市")
    x_district = make_region(other_city, "X区")
    x_town = make_region(x_district, "X镇")
    regions = {
        "a": (tree["district_a"], tree["town_a"], tree["village_a"]),
        "b": (tree["district_b"], tree["town_b"], tree["village_b"]),
        "x": (x_district, x_town, make_region(x_town, "X村")),
    }
    sides = {}
    for key, (district, town, village) in regions.items():
        surname, letter = SIDE_NAMES[key]
        d = SIDE_DIGITS[key] * 4
        spare_region = make_region(town, f"{letter}空村")
        station = make_station(village, name=f"{letter}村人大代表联络站", phone=f"0510-8{d}{d[:3]}")
        deputy = make_deputy(town, name=f"{surname}文明", station=station, public_contact=f"138{d}{d}")
        spare_deputy = make_deputy(town, name=f"{surname}备用")
        unit = make_unit(town, name=f"{letter}镇住建局", contact_phone=f"0510-6{d}{d[:3]}")
        staff = make_user(Role.STATION_STAFF, station, username=f"staff_{key}")
        staff.display_name = f"{surname}站务员"
        staff.phone = f"139{d}{d}"
        side = Side(key, district, town, village, spare_region, station, deputy, spare_deputy, unit, staff)
        side.secrets = [
            district.name,
            town.name,
            village.name,
            spare_region.name,
            station.name,
            station.phone,
            deputy.name,
            deputy.public_contact,
            spare_deputy.name,
            unit.name,
            unit.contact_phone,
            staff.username,
            staff.display_name,
            staff.phone,
        ]
        if key != "a":
            admin = make_user(Role.TOWN_ADMIN, town, username=f"townadmin_{key}")
            admin.display_name = f"{surname}镇管理员"
            side.secrets += [admin.username, admin.display_name]
        sides[key] = side
    sides["x"].secrets.append(other_city.name)
    own = sides["a"]
    actors = {
        Role.CITY_ADMIN: make_user(Role.CITY_ADMIN, tree["city"], username="act_city"),
        Role.DISTRICT_ADMIN: make_user(Role.DISTRICT_ADMIN, own.district, username="act_district"),
        Role.TOWN_ADMIN: make_user(Role.TOWN_ADMIN, own.town, username="act_town"),
        Role.STATION_STAFF: make_user(Role.STATION_STAFF, own.station, username="act_station"),
        Role.UNIT_STAFF: make_user(Role.UNIT_STAFF, own.unit, username="act_unit"),
        Role.DEPUTY: make_user(Role.DEPUTY, own.deputy, username="act_deputy"),
    }
    db.session.commit()
    return World(tree["city"], other_city, sides, actors)
