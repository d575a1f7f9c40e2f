"""The demo data as a plan: pure Python, no database, the same on every run.

``build_plan()`` draws everything from one seeded RNG, so a rerun of ``flask demo seed``
asks for exactly the rows the first run wrote and finds them by their natural keys.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from app.demo import wuxi
from app.demo.people import (
    Job,
    NameBook,
    Place,
    city_deputy_job,
    district_deputy_job,
    high_deputy_job,
    landline,
    town_deputy_job,
)
from app.demo.wuxi import DistrictData, TownData

RNG_SEED = 20221122  # fixed: the demo must come out the same every time
STATION_SEED_PREFIX = "wuxi-demo"

# The accounts fit together inside one branch of the tree: 梁溪区 › 崇安寺街道 › its first community.
DEMO_DISTRICT = "320213"
DEMO_TOWN = "320213001"
DEMO_UNIT = "320213-housing"

NATIONAL = {"level": "national", "term": "第十四届", "start_year": 2023, "end_year": 2028}
PROVINCIAL = {"level": "provincial", "term": "第十四届", "start_year": 2023, "end_year": 2028}
CITY = {"level": "city", "term": "第十七届", "start_year": 2022, "end_year": 2027}
TOWN_TERM = {"level": "town", "term": "第十八届", "start_year": 2021, "end_year": 2026}

SERVICE_DAY = "每月第三个周二为代表联系服务群众日"
HOME_HOURS = f"工作日 8:30-11:30、13:30-17:00；{SERVICE_DAY}"
STATION_HOURS = f"工作日 9:00-11:30、14:00-17:00；{SERVICE_DAY}"
POINT_HOURS = "工作日 9:00-17:00，代表轮流值守"


@dataclass(frozen=True)
class RegionPlan:
    code: str
    name: str
    parent: str | None


@dataclass
class StationPlan:
    seed: str  # seeds the public code and identifies the station on a rerun
    region: str
    kind: str
    data: dict
    host: tuple[str, str] | None = None  # deputy key of a workplace 联系点's host

    @property
    def name(self) -> str:
        return self.data["name"]


@dataclass
class DeputyPlan:
    name: str
    region: str
    data: dict
    mandates: list[dict]
    stations: list[str] = field(default_factory=list)  # station seeds
    job: Job | None = None
    town: str = ""  # region code of the town the deputy was elected in, if any

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.region)

    def place(self, station: StationPlan) -> None:
        if station.seed not in self.stations:
            self.stations.append(station.seed)


@dataclass(frozen=True)
class UnitPlan:
    code: str
    region: str
    data: dict


@dataclass(frozen=True)
class AccountPlan:
    username: str
    role: str
    display_name: str
    # By role: a region code, a station seed, a unit code or a deputy key.
    target: str | tuple[str, str]


@dataclass
class DemoPlan:
    regions: list[RegionPlan] = field(default_factory=list)
    units: list[UnitPlan] = field(default_factory=list)
    deputies: list[DeputyPlan] = field(default_factory=list)
    stations: list[StationPlan] = field(default_factory=list)
    accounts: list[AccountPlan] = field(default_factory=list)
    demo_station: str = ""


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random(RNG_SEED)
        self.names = NameBook(self.rng)
        self.plan = DemoPlan()

    # --- helpers ----------------------------------------------------------------------------

    def coords(self, lat: float, lng: float, spread: float) -> dict:
        lat = min(max(lat + self.rng.uniform(-spread, spread), wuxi.LAT_BOUNDS[0]), wuxi.LAT_BOUNDS[1])
        lng = min(max(lng + self.rng.uniform(-spread, spread), wuxi.LNG_BOUNDS[0]), wuxi.LNG_BOUNDS[1])
        return {"lat": f"{lat:.6f}", "lng": f"{lng:.6f}"}

    def station(self, seed: str, region: str, kind: str, **data) -> StationPlan:
        data.setdefault("phone", landline(self.rng))
        data.setdefault("status", "active")
        station = StationPlan(seed=f"{STATION_SEED_PREFIX}/{seed}", region=region, kind=kind, data=data)
        self.plan.stations.append(station)
        return station

    def deputy(
        self, region: str, job: Job, mandates: list[dict], *stations: StationPlan, town: str = ""
    ) -> DeputyPlan:
        name, gender = self.names.person()
        deputy = DeputyPlan(
            name=name,
            region=region,
            town=town,
            data={
                "name": name,
                "gender": gender,
                "unit": job.unit,
                "post": job.post,
                "public_contact": landline(self.rng),
                "is_leader": job.is_leader,
            },
            mandates=mandates,
            job=job,
        )
        for station in stations:
            deputy.place(station)
        self.plan.deputies.append(deputy)
        return deputy

    @staticmethod
    def address_prefix(district: DistrictData) -> str:
        # 区 addresses carry the city; 江阴市 and 宜兴市 are cities of their own.
        return f"无锡市{district.name}" if district.name.endswith("区") else district.name

    # --- the tree ---------------------------------------------------------------------------

    def build(self) -> DemoPlan:
        self.plan.regions.append(RegionPlan(wuxi.CITY_CODE, wuxi.CITY_NAME, None))
        city_home = self.station(
            wuxi.CITY_CODE,
            wuxi.CITY_CODE,
            "home",
            name="无锡市人大代表之家",
            address=wuxi.CITY_HOME_ADDRESS,
            area_m2=220,
            opening_hours=HOME_HOURS,
            intro=(
                "无锡市人大代表之家是市人大常委会联系各级人大代表、代表联系人民群众的综合平台，"
                "承担代表学习培训、集中活动、联系群众和履职登记等功能，统筹指导全市家站点建设。"
            ),
            **self.coords(*wuxi.CITY_CENTRE, 0.0),
        )
        self.city_units()
        district_homes = []
        for district in wuxi.DISTRICTS:
            district_homes.append(self.district(district))
        # 全国人大代表 elected in Jiangsu, placed at the city 之家 and one district 之家 each.
        for i in range(4):
            district = wuxi.DISTRICTS[i]
            job = high_deputy_job(self.rng, self.place_in(district, district.towns[0]))
            mandates = [dict(NATIONAL, constituency="江苏省")]
            self.deputy(wuxi.CITY_CODE, job, mandates, city_home, district_homes[i])
        self.accounts()
        return self.plan

    def place_in(self, district: DistrictData, town: TownData, village: str | None = None) -> Place:
        return Place(district.name, district.company_prefix, town.name, town.short, town.is_street, village)

    def city_units(self) -> None:
        for name, slug, kind in wuxi.CITY_UNITS:
            self.unit(f"{wuxi.CITY_CODE}-{slug}", wuxi.CITY_CODE, name, kind)

    def unit(self, code: str, region: str, name: str, kind: str) -> None:
        contact, _ = self.names.person()
        data = {"name": name, "kind": kind, "contact_name": contact, "contact_phone": landline(self.rng)}
        self.plan.units.append(UnitPlan(code, region, data))

    def district(self, district: DistrictData) -> StationPlan:
        code = district.code
        self.plan.regions.append(RegionPlan(code, district.name, wuxi.CITY_CODE))
        for name, slug, kind in wuxi.DISTRICT_UNITS:
            self.unit(f"{code}-{slug}", code, f"{district.name}{name}", kind)
        prefix = self.address_prefix(district)
        home = self.station(
            code,
            code,
            "home",
            name=f"{district.name}人大代表之家",
            address=f"{prefix}{district.home_address.removeprefix(district.name)}",
            area_m2=self.rng.choice((120, 150, 160)),
            opening_hours=HOME_HOURS,
            intro=(
                f"{district.name}人大代表之家由{district.name}人大常委会设立，是全区各级人大代表集中学习、"
                "联系群众、议事协商和履职登记的平台，指导各镇（街道）代表之家和村（社区）联络站开展工作。"
            ),
            **self.coords(district.lat, district.lng, 0.004),
        )
        district_term = {
            "level": "district",
            "term": district.congress_term,
            "start_year": 2021,
            "end_year": 2026,
        }
        district_deputies: list[DeputyPlan] = []
        town_homes: dict[str, StationPlan] = {}
        for town in district.towns:
            town_homes[town.suffix] = self.town(district, town, district_term, district_deputies)

        service_point = self.station(
            f"{code}/point/service-centre",
            code,
            "point",
            name=f"{district.name}政务服务中心人大代表联系点",
            address=f"{prefix}{district.service_centre.removeprefix(district.name)}（政务服务中心一楼）",
            area_m2=30,
            opening_hours=POINT_HOURS,
            intro=(
                f"设在{district.name}政务服务中心，由人大代表轮流值守，"
                "听取企业和群众对营商环境、政务服务的意见建议。"
            ),
            **self.coords(district.lat, district.lng, 0.01),
        )
        for deputy in self.rng.sample(district_deputies, 3):
            deputy.place(service_point)
        self.park_point(district, town_homes, district_deputies)
        self.workplace_point(district, district_deputies)

        # 市人大代表 and 省人大代表 from this district: at the district 之家 and a town 之家.
        towns = list(district.towns)
        city_count = 9 if code in ("320281", "320282") else 6
        for i in range(city_count + 2):
            town = self.rng.choice(towns)
            place = self.place_in(district, town)
            if i < city_count:
                job, mandates = city_deputy_job(self.rng, place), [dict(CITY, constituency=district.name)]
            else:
                job, mandates = high_deputy_job(self.rng, place), [dict(PROVINCIAL, constituency="无锡市")]
            self.deputy(wuxi.CITY_CODE, job, mandates, home, town_homes[town.suffix])
        return home

    def town(
        self, district: DistrictData, town: TownData, district_term: dict, district_deputies: list[DeputyPlan]
    ) -> StationPlan:
        code = f"{district.code}{town.suffix}"
        self.plan.regions.append(RegionPlan(code, town.name, district.code))
        prefix = self.address_prefix(district)
        number = self.rng.randint(1, 300)
        if town.is_street:
            address = f"{prefix}{town.road}{number}号（{town.name}党群服务中心二楼）"
        else:
            address = f"{prefix}{town.name}{town.road}{number}号（镇为民服务中心三楼）"
        body = "街道人大工委" if town.is_street else "镇人大"
        home = self.station(
            code,
            code,
            "home",
            name=f"{town.name}人大代表之家",
            address=address,
            area_m2=self.rng.choice((60, 70, 80, 100)),
            opening_hours=HOME_HOURS,
            intro=(
                f"{town.name}人大代表之家由{body}负责日常运行，组织辖区内各级人大代表"
                "开展接待选民、走访调研、议事协商等活动，及时收集和办理群众的意见建议。"
            ),
            **self.coords(town.lat, town.lng, 0.004),
        )

        def district_deputy(place: Place, constituency: str, *stations: StationPlan) -> DeputyPlan:
            mandates = [dict(district_term, constituency=constituency)]
            job = district_deputy_job(self.rng, place)
            deputy = self.deputy(district.code, job, mandates, *stations, town=code)
            district_deputies.append(deputy)
            return deputy

        communities = iter(range(1, 100))
        villages = iter(range(201, 300))
        for k, village in enumerate(town.villages, start=1):
            number = next(communities) if village.endswith("社区") else next(villages)
            vcode = f"{code}{number:03d}"
            self.plan.regions.append(RegionPlan(vcode, village, code))
            near = "本社区" if village.endswith("社区") else "本村"
            if village.endswith("社区"):
                vaddress = f"{prefix}{town.road}{self.rng.randint(1, 400)}号（{village}党群服务中心一楼）"
            else:
                vaddress = f"{prefix}{town.name}{village}（村党群服务中心二楼）"
            station = self.station(
                vcode,
                vcode,
                "station",
                name=f"{village}人大代表联络站",
                address=vaddress,
                area_m2=self.rng.choice((30, 30, 35, 40, 45)),
                opening_hours=STATION_HOURS,
                intro=(
                    f"{village}人大代表联络站设在{village}党群服务中心，就近联系{near}及周边群众。"
                    "编入本站的人大代表定期进站接待选民，倾听社情民意，帮助解决群众急难愁盼问题。"
                ),
                **self.coords(town.lat, town.lng, 0.02),
            )
            place = self.place_in(district, town, village)
            if town.is_street:
                # A 街道 has no town-level deputies: district deputies carry its 联络站.
                for _ in range(self.rng.choice((1, 1, 2))):
                    also = (home,) if self.rng.random() < 0.3 else ()
                    district_deputy(place, f"{town.name}第{k}选区", station, *also)
            else:
                for _ in range(self.rng.choice((2, 2, 3))):
                    mandates = [dict(TOWN_TERM, constituency=f"{village}选区")]
                    if self.rng.random() < 0.2:
                        # Many town deputies also sit in the district 人大; its record is kept there.
                        mandates.insert(0, dict(district_term, constituency=f"{town.name}第{k}选区"))
                        job = district_deputy_job(self.rng, place)
                        deputy = self.deputy(district.code, job, mandates, station, town=code)
                        district_deputies.append(deputy)
                    else:
                        self.deputy(code, town_deputy_job(self.rng, place), mandates, station, town=code)
        for _ in range(1 if town.is_street else 2):
            district_deputy(self.place_in(district, town), f"{town.name}第{len(town.villages) + 1}选区", home)
        return home

    def park_point(
        self, district: DistrictData, town_homes: dict[str, StationPlan], deputies: list[DeputyPlan]
    ) -> None:
        suffix, name, tail = wuxi.PARK_POINTS[district.code]
        town = next(t for t in district.towns if t.suffix == suffix)
        point = self.station(
            f"{district.code}{suffix}/point/park",
            f"{district.code}{suffix}",
            "point",
            name=name,
            address=f"{self.address_prefix(district)}{tail}",
            area_m2=self.rng.choice((25, 30, 40)),
            opening_hours=POINT_HOURS,
            intro=f"设在{name.removesuffix('人大代表联系点')}，面向企业和从业人员，听取发展中的困难和诉求。",
            **self.coords(town.lat, town.lng, 0.008),
        )
        for deputy in self.rng.sample(deputies, 2):
            deputy.place(point)

    def workplace_point(self, district: DistrictData, deputies: list[DeputyPlan]) -> None:
        """A 联系点 at a firm where a deputy works: approved, and not named after the deputy."""
        host = next(d for d in deputies if d.job and d.job.is_workplace and d.name not in d.job.unit)
        town_code = host.town
        town = next(t for t in district.towns if f"{district.code}{t.suffix}" == town_code)
        approved = date(2023, self.rng.randint(2, 11), self.rng.randint(1, 28))
        name = f"{host.job.unit}人大代表联系点"
        number = self.rng.randint(1, 300)
        point = self.station(
            f"{town_code}/point/workplace",
            town_code,
            "point",
            name=name,
            address=f"{self.address_prefix(district)}{town.name if not town.is_street else ''}"
            f"{town.road}{number}号（{host.job.unit}行政楼一楼）",
            area_m2=self.rng.choice((20, 25, 30)),
            opening_hours="每周三 14:00-17:00",
            intro=(
                f"经{district.name}人大常委会批准设在代表工作单位，面向企业职工和周边群众，"
                "收集产业发展、劳动保障等方面的意见建议。"
            ),
            at_workplace=True,
            approval_authority=f"{district.name}人大常委会",
            approval_no=f"{district.approval_prefix}〔{approved.year}〕{self.rng.randint(3, 40)}号",
            approval_date=approved.isoformat(),
            **self.coords(town.lat, town.lng, 0.01),
        )
        point.host = host.key
        host.place(point)
        colleagues = [d for d in deputies if d is not host and d.name not in name]
        for deputy in self.rng.sample(colleagues, 2):
            deputy.place(point)

    # --- accounts ---------------------------------------------------------------------------

    def accounts(self) -> None:
        station = next(
            s for s in self.plan.stations if s.kind == "station" and s.region.startswith(DEMO_TOWN)
        )
        deputy = next(d for d in self.plan.deputies if station.seed in d.stations)
        town_name = next(r.name for r in self.plan.regions if r.code == DEMO_TOWN)
        district_name = next(r.name for r in self.plan.regions if r.code == DEMO_DISTRICT)
        unit_name = next(u.data["name"] for u in self.plan.units if u.code == DEMO_UNIT)
        staff_name, _ = self.names.person()
        self.plan.demo_station = station.seed
        self.plan.accounts = [
            AccountPlan("city", "city_admin", "市人大常委会代表工委（演示）", wuxi.CITY_CODE),
            AccountPlan("district", "district_admin", f"{district_name}人大常委会（演示）", DEMO_DISTRICT),
            AccountPlan("town", "town_admin", f"{town_name}人大工委（演示）", DEMO_TOWN),
            AccountPlan("station", "station_staff", f"{staff_name}（演示）", station.seed),
            AccountPlan("unit", "unit_staff", f"{unit_name}（演示）", DEMO_UNIT),
            AccountPlan("deputy", "deputy", f"{deputy.name}（演示）", deputy.key),
        ]


def build_plan() -> DemoPlan:
    """The whole demo, deterministic: the same call gives the same plan."""
    return _Builder().build()
