"""The demo's vaccination sites (接种单位): exactly 1,789 across Zhejiang's 90 county-level divisions.

Deterministic: the same seed gives the same sites, and each county draws from its own generator, so a
change in one county never shifts another's. Every county has at least one site; the rest are shared out
by a weight of population (approximate 2020 census figures, in ten thousands) plus area (mountain counties
need more clinics per person), by largest remainders so the total is exact.

Each county has, depending on its size: its maternal and child health hospital's children's clinic, its
people's hospital's adult clinic, a temporary mass-vaccination point in the sports centre, and for the rest
community health centres in its sub-districts (街道) and health centres in its towns (镇/乡), placed around
the county's approximate centre (``common.centroids``): community centres near it, towns farther out.
Names, addresses and phone numbers are synthetic but shaped like real ones ("西湖区北山街道社区卫生服务中心
接种门诊"). The plans are plain frozen dataclasses with ``as_row()`` dicts, for bulk inserts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from zerotrip.booking.products import COVID_CODES
from zerotrip.common.centroids import get_centroid
from zerotrip.common.divisions import Division, counties, get_division

SITE_COUNT = 1_789
SEED = 20261129

SiteKind = Literal["community", "township", "hospital", "maternal_child", "temporary"]
Hours = tuple[tuple[str, str], ...]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Approximate resident population (10,000s) of each county-level division.
_POPULATION: dict[str, int] = {
    "330102": 132, "330105": 118, "330106": 110, "330108": 50, "330109": 201, "330110": 126, "330111": 83,
    "330112": 64, "330113": 117, "330114": 77, "330122": 45, "330127": 33, "330182": 44,
    "330203": 104, "330205": 49, "330206": 83, "330211": 51, "330212": 160, "330213": 58, "330225": 57,
    "330226": 70, "330281": 126, "330282": 183,
    "330302": 120, "330303": 76, "330304": 96, "330305": 10, "330324": 87, "330326": 86, "330327": 84,
    "330328": 29, "330329": 27, "330381": 152, "330382": 145, "330383": 46,
    "330402": 65, "330411": 73, "330421": 65, "330424": 45, "330481": 108, "330482": 67, "330483": 103,
    "330502": 87, "330503": 54, "330521": 55, "330522": 67, "330523": 59,
    "330602": 103, "330603": 109, "330604": 78, "330624": 43, "330681": 122, "330683": 67,
    "330702": 96, "330703": 51, "330723": 46, "330726": 46, "330727": 18, "330781": 58, "330782": 186,
    "330783": 109, "330784": 96,
    "330802": 53, "330803": 37, "330822": 26, "330824": 25, "330825": 36, "330881": 50,
    "330902": 51, "330903": 38, "330921": 20, "330922": 7,
    "331002": 84, "331003": 70, "331004": 92, "331022": 38, "331023": 48, "331024": 43, "331081": 142,
    "331082": 111, "331083": 64,
    "331102": 60, "331121": 50, "331122": 40, "331123": 20, "331124": 20, "331125": 13, "331126": 14,
    "331127": 11, "331181": 25,
}  # fmt: skip
_AREA_WEIGHT = 0.12  # weight per km² of the county's radius squared, next to one per 10,000 people
_AREA_CODES = {
    "3301": "0571", "3302": "0574", "3303": "0577", "3304": "0573", "3305": "0572", "3306": "0575",
    "3307": "0579", "3308": "0570", "3309": "0580", "3310": "0576", "3311": "0578",
}  # fmt: skip
_STEMS = (
    "北山", "城东", "城西", "城南", "城北", "新城", "东湖", "江滨", "文化", "湖畔", "长安", "南山", "白塔",
    "青山", "石桥", "大桥", "新塘", "临江", "梅林", "桃源", "金山", "龙山", "凤凰", "双溪", "清溪", "横山",
    "溪口", "大溪", "石门", "马山", "东山", "西山", "古城", "新桥", "花园", "柳湖", "月湖", "江南", "江北",
    "东城", "西城", "南门", "北门", "新街", "杨柳", "松林", "竹园", "梅溪", "枫桥", "桥头", "沙溪", "白沙",
    "黄沙", "云峰", "金星", "银湖", "翠屏", "锦绣", "太平", "和平", "永安", "长乐", "安康", "福田", "丰收",
    "高桥", "三江", "五丰", "上塘", "里山", "外岗", "芦浦", "朱家", "陈家", "王家", "潘桥", "雁荡", "九龙",
    "天河", "碧湖", "清港", "泉溪", "赤岩", "岭下", "前仓", "后宅", "湖镇", "塘下", "仙岩", "莘塍", "鳌江",
    "钱库", "金乡", "宜山", "虹桥", "柳市", "北白", "芙蓉", "大荆", "淡溪", "清江", "湖雾", "南塘", "平桥",
)  # fmt: skip
_ROADS = (
    "人民",
    "解放",
    "中山",
    "建设",
    "文化",
    "健康",
    "迎宾",
    "环城",
    "学院",
    "新华",
    "广场",
    "振兴",
    "育才",
)
_ROAD_KINDS = ("路", "路", "街", "大道")


@dataclass(frozen=True)
class SitePlan:
    """One vaccination site as the seed inserts it."""

    code: str
    """Stable: the county's division code and a serial, ``330106-001``."""
    name: str
    kind: SiteKind
    division_code: str
    city_code: str
    address: str
    phone: str
    latitude: float
    longitude: float
    opening_hours: tuple[Hours, ...]
    """Seven entries, Monday first; each the day's opening periods as ("08:00", "11:30") pairs, ()
    when closed."""
    product_codes: tuple[str, ...]
    capacity_per_hour: int

    def as_row(self) -> dict[str, Any]:
        """Plain values for a bulk insert; opening hours as ``{"mon": [["08:00", "11:30"], ...], ...}``."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "division_code": self.division_code,
            "city_code": self.city_code,
            "address": self.address,
            "phone": self.phone,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "opening_hours": {
                day: [list(period) for period in hours]
                for day, hours in zip(WEEKDAYS, self.opening_hours, strict=True)
            },
            "product_codes": list(self.product_codes),
            "capacity_per_hour": self.capacity_per_hour,
        }


_WORKDAY: Hours = (("08:00", "11:30"), ("13:30", "16:30"))
_MORNING: Hours = (("08:00", "11:30"),)
_LONG_DAY: Hours = (("08:00", "12:00"), ("13:30", "17:00"))
_MASS: Hours = (("08:00", "20:00"),)


def allocate(total: int = SITE_COUNT) -> dict[str, int]:
    """How many sites each county gets: one each, the rest by weight and largest remainders."""
    codes = [d.code for d in counties()]
    if total < len(codes):
        raise ValueError(f"need at least one site for each of the {len(codes)} counties")
    weights = {c: _POPULATION[c] + _AREA_WEIGHT * get_centroid(c).radius_km ** 2 for c in codes}
    spare = total - len(codes)
    whole = sum(weights.values())
    shares = {c: spare * w / whole for c, w in weights.items()}
    counts = {c: 1 + math.floor(s) for c, s in shares.items()}
    left = total - sum(counts.values())
    for code in sorted(codes, key=lambda c: (-(shares[c] - math.floor(shares[c])), c))[:left]:
        counts[code] += 1
    return counts


def plan_sites(*, seed: int = SEED, total: int = SITE_COUNT) -> list[SitePlan]:
    """Every site, county by county in code order."""
    sites: list[SitePlan] = []
    for code, count in sorted(allocate(total).items()):
        sites.extend(_county_sites(get_division(code), count, random.Random(f"{seed}:booking-sites:{code}")))
    return sites


def _kinds(division: Division, count: int) -> Iterator[SiteKind]:
    """The county's sites by kind: the big ones first where the county is large enough for them."""
    fixed: list[SiteKind] = []
    if count >= 4:
        fixed.append("maternal_child")
    if count >= 3:
        fixed.append("hospital")
    if count >= 8:
        fixed.append("temporary")
    yield from fixed
    rest = count - len(fixed)
    # Districts are mostly sub-districts; counties and county-level cities mostly towns.
    urban_share = 0.75 if division.name.endswith("区") else 0.3
    urban = max(1, round(rest * urban_share)) if rest else 0
    for index in range(rest):
        yield "community" if index < urban else "township"


def _county_sites(division: Division, count: int, rng: random.Random) -> list[SitePlan]:
    assert division.parent_code is not None
    city = get_division(division.parent_code)
    centre = get_centroid(division.code)
    stems = iter(rng.sample(_STEMS, len(_STEMS)))
    sites = []
    for serial, kind in enumerate(_kinds(division, count), start=1):
        place, unit = _unit(division, kind, stems, rng)
        spread = {"community": 0.45, "township": 1.0, "temporary": 0.3}.get(kind, 0.15)
        latitude, longitude = _scatter(centre.latitude, centre.longitude, centre.radius_km * spread, rng)
        road = f"{rng.choice(_STEMS if kind == 'township' else _ROADS)}{rng.choice(_ROAD_KINDS)}"
        sites.append(
            SitePlan(
                code=f"{division.code}-{serial:03d}",
                name=unit,
                kind=kind,
                division_code=division.code,
                city_code=city.code,
                address=f"浙江省{city.name}{division.name}{place}{road}{rng.randint(1, 399)}号",
                phone=f"{_AREA_CODES[division.code[:4]]}-{rng.randint(5, 8)}{rng.randrange(10**7):07d}",
                latitude=round(latitude, 6),
                longitude=round(longitude, 6),
                opening_hours=_hours(kind, rng),
                product_codes=_products(kind, rng),
                capacity_per_hour=_capacity(kind, rng),
            )
        )
    return sites


def _unit(division: Division, kind: SiteKind, stems: Iterator[str], rng: random.Random) -> tuple[str, str]:
    """Where in the county the site is (a sub-district or town, for the address) and its name."""
    county = division.name
    if kind == "maternal_child":
        return "", f"{county}妇幼保健院儿童预防接种门诊"
    if kind == "hospital":
        return "", f"{county}人民医院成人预防接种门诊"
    if kind == "temporary":
        return "", f"{county}体育中心临时接种点"
    stem = next(stems, None)
    if stem is None:  # more sites than names: a second clinic in a town already named
        stem = f"{rng.choice(_STEMS)}第二"
    if kind == "community":
        return f"{stem}街道", f"{county}{stem}街道社区卫生服务中心接种门诊"
    town = f"{stem}{'乡' if rng.random() < 0.2 else '镇'}"
    return town, f"{county}{town}卫生院预防接种门诊"


def _scatter(latitude: float, longitude: float, radius_km: float, rng: random.Random) -> tuple[float, float]:
    """A point uniformly at random within ``radius_km`` of the centre."""
    distance = radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111.195
    dlon = distance * math.sin(bearing) / (111.195 * math.cos(math.radians(latitude)))
    return latitude + dlat, longitude + dlon


def _hours(kind: SiteKind, rng: random.Random) -> tuple[Hours, ...]:
    if kind == "temporary":
        return (_MASS,) * 7
    if kind == "hospital":
        return (_LONG_DAY,) * 7
    saturday = _MORNING if kind == "maternal_child" or rng.random() < 0.5 else ()
    return (_WORKDAY,) * 5 + (saturday, ())


def _products(kind: SiteKind, rng: random.Random) -> tuple[str, ...]:
    inactivated = ("covid-inactivated-hk",) if rng.random() < 0.5 else ("covid-inactivated-zy",)
    if kind == "hospital":
        return (*COVID_CODES, "hepb-adult", "nat", "hospital-registration")
    if kind == "temporary":
        return ("covid-inactivated-hk", "covid-inactivated-zy", "covid-recombinant")
    if kind == "maternal_child":
        return (*inactivated, "mmr")
    if kind == "township":
        return (*inactivated, "hepb-adult", "mmr")
    recombinant = ("covid-recombinant",) if rng.random() < 0.5 else ()
    testing = ("nat",) if rng.random() < 0.3 else ()
    return (*inactivated, *recombinant, "hepb-adult", "mmr", *testing)


def _capacity(kind: SiteKind, rng: random.Random) -> int:
    low, high = {
        "community": (40, 80),
        "township": (20, 40),
        "hospital": (60, 100),
        "maternal_child": (30, 50),
        "temporary": (200, 400),
    }[kind]
    return rng.randrange(low, high + 1, 5)
