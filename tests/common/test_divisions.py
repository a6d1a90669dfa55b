"""Zhejiang's GB/T 2260 divisions: 11 cities, 90 county-level divisions, codes that nest."""

from __future__ import annotations

from collections import Counter

import pytest

from zerotrip.common.checks import is_division_code
from zerotrip.common.divisions import ZHEJIANG, children_of, cities, counties, find_division, get_division

CITY_NAMES = {
    "330100": "杭州市",
    "330200": "宁波市",
    "330300": "温州市",
    "330400": "嘉兴市",
    "330500": "湖州市",
    "330600": "绍兴市",
    "330700": "金华市",
    "330800": "衢州市",
    "330900": "舟山市",
    "331000": "台州市",
    "331100": "丽水市",
}
COUNTIES_PER_CITY = {
    "330100": 13,
    "330200": 10,
    "330300": 12,
    "330400": 7,
    "330500": 5,
    "330600": 6,
    "330700": 9,
    "330800": 6,
    "330900": 4,
    "331000": 9,
    "331100": 9,
}


def test_shape_of_the_province() -> None:
    province = get_division("330000")
    assert (province.name, province.level, province.parent_code) == ("浙江省", "province", None)
    assert [d for d in ZHEJIANG if d.level == "province"] == [province]
    assert {c.code: c.name for c in cities()} == CITY_NAMES
    assert len(counties()) == 90
    assert len(ZHEJIANG) == 1 + 11 + 90
    kinds = Counter(d.name[-1] for d in counties())
    # 37 districts, 20 county-level cities, 33 counties (景宁畲族自治县 ends in 县 too).
    assert (kinds["区"], kinds["市"], kinds["县"]) == (37, 20, 33)
    assert {code: len(children_of(code)) for code in CITY_NAMES} == COUNTIES_PER_CITY


def test_codes_are_unique_valid_and_nest() -> None:
    codes = [d.code for d in ZHEJIANG]
    assert len(codes) == len(set(codes))
    assert all(is_division_code(code) for code in codes)
    assert all(code.startswith("33") for code in codes)
    for city in cities():
        assert city.parent_code == "330000"
        assert city.code.endswith("00")
    city_codes = {c.code for c in cities()}
    for county in counties():
        assert county.parent_code in city_codes
        assert county.code[:4] == county.parent_code[:4]
        assert not county.code.endswith("00")


def test_names_are_unique_within_a_city() -> None:
    for city in cities():
        names = [d.name for d in children_of(city.code)]
        assert len(names) == len(set(names))


def test_children_of() -> None:
    assert children_of("330000") == cities()
    assert [d.name for d in children_of("330100")] == [
        "上城区",
        "拱墅区",
        "西湖区",
        "滨江区",
        "萧山区",
        "余杭区",
        "富阳区",
        "临安区",
        "临平区",
        "钱塘区",
        "桐庐县",
        "淳安县",
        "建德市",
    ]
    assert children_of("330102") == ()
    assert children_of("999999") == ()


def test_recent_adjustments_are_in() -> None:
    assert get_division("330113").name == "临平区"
    assert get_division("330114").name == "钱塘区"
    assert get_division("330383").name == "龙港市"
    assert get_division("330182").name == "建德市"
    assert get_division("331083").name == "玉环市"
    assert get_division("331127").name == "景宁畲族自治县"
    # 下城区 and 江干区 were merged away in 2021.
    assert find_division("330103") is None
    assert find_division("330104") is None


def test_lookups_outside_zhejiang() -> None:
    assert find_division("110105") is None
    with pytest.raises(KeyError):
        get_division("110105")
