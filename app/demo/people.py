"""Invented deputies: names, units and posts that read like a real roll, drawn from a seeded RNG.

Nobody here is a real person: names are common surnames and given-name characters combined
at random, and firms are made-up brands. Posts avoid one-of-a-kind offices (区委书记, 市长)
so no generated name is pinned on a real office holder.
"""

from __future__ import annotations

import random
from typing import NamedTuple

# Common in southern Jiangsu, repeated by rough frequency.
SURNAMES = (
    "王王王张张张陈陈陈李李周周吴吴徐徐朱朱钱钱顾顾华杨杨沈沈孙蒋秦薛邹陆陆许黄刘刘赵高范任浦尤缪邵胡蔡过强"
)
MALE_CHARS = "建国伟强军明华平志勇斌俊杰涛磊鹏飞宇峰刚海文雄兵晓东新亮荣锋波清云龙超毅振洪春林忠良"
FEMALE_CHARS = "芳娟敏静丽艳霞琴燕萍红玲洁婷雪梅英兰月芬慧颖倩琳秀凤佳云晨丹瑜玉薇"
# Names of well-known people the generator could otherwise produce.
AVOID_NAMES = frozenset({"李强", "李鹏", "张杰", "周杰", "王菲", "李娜", "刘涛", "王伟", "赵丽"})

BRAND_CHARS = "恒瑞华丰盛源达润通宏泰嘉永信联茂鑫远诚隆和兴益昌晟宇德"
INDUSTRIES = (
    "机械",
    "精密机械",
    "纺织",
    "电子科技",
    "新材料",
    "环保科技",
    "服装",
    "化纤",
    "特钢",
    "物流",
    "建设工程",
    "食品",
    "电缆",
    "汽车部件",
)
# Local industries some towns are known for.
TOWN_INDUSTRIES = {"丁蜀镇": "紫砂陶瓷", "官林镇": "电缆", "高塍镇": "环保科技", "周铁镇": "水产养殖"}


class Job(NamedTuple):
    unit: str
    post: str
    is_leader: bool = False
    is_workplace: bool = False  # a firm that could host a 联系点


class Place(NamedTuple):
    """Where a deputy lives and works: their district, town and (for town deputies) village."""

    district: str  # 梁溪区
    company_prefix: str  # 无锡 / 江阴 / 宜兴
    town: str  # 崇安寺街道
    town_short: str  # 崇安寺
    is_street: bool
    village: str | None = None  # 新生路社区


class NameBook:
    """Hands out deterministic, never repeated names."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def person(self) -> tuple[str, str]:
        """A fresh (name, gender)."""
        while True:
            gender = "女" if self.rng.random() < 0.4 else "男"
            chars = FEMALE_CHARS if gender == "女" else MALE_CHARS
            given = self.rng.choice(chars)
            if self.rng.random() < 0.7:
                given += self.rng.choice(chars)
            surname = self.rng.choice(SURNAMES)
            name = surname + given
            if surname not in given and name not in self.used and name not in AVOID_NAMES:
                self.used.add(name)
                return name, gender


def company(rng: random.Random, place: Place) -> str:
    brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
    while brand[0] == brand[1]:
        brand = brand[0] + rng.choice(BRAND_CHARS)
    industry = TOWN_INDUSTRIES.get(place.town) if rng.random() < 0.5 else None
    return f"{place.company_prefix}{brand}{industry or rng.choice(INDUSTRIES)}有限公司"


def _village_cadre(rng: random.Random, place: Place) -> Job:
    village = place.village or ""
    if village.endswith("社区"):
        post = rng.choice(("党委书记、居委会主任", "居委会主任", "党委副书记", "网格员"))
    else:
        post = rng.choice(("党总支书记、村委会主任", "村委会主任", "村委会委员", "党总支副书记"))
    return Job(f"{place.town}{village}", post)


def _grassroots(rng: random.Random, place: Place) -> Job:
    """Workers, farmers, teachers, doctors and shopkeepers of a town."""
    roll = rng.random()
    if roll < 0.30:
        post = rng.choice(("一线工人", "车间主任", "技术员", "质检员", "班组长", "高级技师"))
        return Job(company(rng, place), post)
    if roll < 0.45 and not place.is_street:
        village = place.village or place.town
        return Job(f"{place.town}{village}", rng.choice(("种植大户", "家庭农场主", "村民", "养殖户")))
    if roll < 0.60:
        school = rng.choice(("中心小学", "实验小学", "中学", "幼儿园"))
        return Job(f"{place.district}{place.town_short}{school}", rng.choice(("教师", "教师", "副校长")))
    if roll < 0.72:
        clinic = "社区卫生服务中心" if place.is_street else "卫生院"
        return Job(f"{place.district}{place.town_short}{clinic}", rng.choice(("医生", "护士长", "副主任")))
    if roll < 0.82:
        return Job(f"{place.town_short}{rng.choice(('综合市场', '商业街', '农贸市场'))}", "个体工商户")
    if place.village:
        return _village_cadre(rng, place)
    return Job(company(rng, place), rng.choice(("总经理", "董事长", "副总经理")), is_workplace=True)


def town_deputy_job(rng: random.Random, place: Place) -> Job:
    """A 镇人大代表: village cadres, farmers, workers, teachers."""
    if rng.random() < 0.3:
        return _village_cadre(rng, place)
    return _grassroots(rng, place)


def district_deputy_job(rng: random.Random, place: Place) -> Job:
    """A 市(县)区人大代表: town leaders, community secretaries, entrepreneurs, professionals."""
    roll = rng.random()
    if roll < 0.12:
        town = place.town
        if place.is_street:
            options = ((f"{town}办事处", "副主任"), (town, "人大工委副主任"), (town, "党工委副书记"))
        else:
            options = ((f"{town}人民政府", "副镇长"), (f"{town}人大", "副主席"), (town, "党委副书记"))
        unit, post = rng.choice(options)
        return Job(unit, post, is_leader=True)
    if roll < 0.18:
        bureau = rng.choice(("住房和城乡建设局", "教育局", "民政局", "农业农村局", "城市管理局"))
        return Job(f"{place.district}{bureau}", "副局长", is_leader=True)
    if roll < 0.40:
        return Job(company(rng, place), rng.choice(("董事长", "总经理", "副总经理")), is_workplace=True)
    if roll < 0.50:
        return Job(
            f"江苏{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)}律师事务所", rng.choice(("律师", "主任"))
        )
    if roll < 0.58:
        return Job(f"{place.district}人民医院", rng.choice(("主任医师", "护士长", "副院长")))
    if roll < 0.70 and place.village:
        return _village_cadre(rng, place)
    return _grassroots(rng, place)


def city_deputy_job(rng: random.Random, place: Place) -> Job:
    """A 市人大代表: district officials, firms, the university and the big hospitals."""
    roll = rng.random()
    if roll < 0.15:
        return Job(f"{place.district}人民政府", "副区长" if place.district.endswith("区") else "副市长", True)
    if roll < 0.50:
        return Job(company(rng, place), rng.choice(("董事长", "总经理")), is_workplace=True)
    if roll < 0.62:
        return Job("江南大学", rng.choice(("教授", "副教授")))
    if roll < 0.74:
        return Job(rng.choice(("无锡市人民医院", "无锡市第二人民医院", "无锡市中医医院")), "主任医师")
    if roll < 0.84:
        return Job(
            f"无锡市{rng.choice(('第一', '第三', '第六', '第十'))}中学", rng.choice(("教师", "副校长"))
        )
    return _grassroots(rng, place)


def high_deputy_job(rng: random.Random, place: Place) -> Job:
    """A 全国 or 省人大代表: model workers, entrepreneurs, scientists, doctors."""
    roll = rng.random()
    if roll < 0.40:
        return Job(company(rng, place), "董事长", is_workplace=True)
    if roll < 0.60:
        return Job(company(rng, place), rng.choice(("高级技师", "首席技师", "车间主任")))
    if roll < 0.75:
        return Job("江南大学", "教授")
    if roll < 0.88:
        return Job("无锡市人民医院", "主任医师")
    return Job(
        f"无锡市{rng.choice(('财政局', '发展和改革委员会', '工业和信息化局'))}", "副局长", is_leader=True
    )


def landline(rng: random.Random) -> str:
    """A Wuxi landline (0510 and eight digits starting 8)."""
    return f"0510-8{rng.randrange(10**7):07d}"
