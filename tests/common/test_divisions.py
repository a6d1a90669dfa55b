"""Zhejiang's GB/T 2260 divisions: 11 cities, 90 county-level divisions, codes that nest."""

from __future__ import annotations

from collections import Counter

from zerotrip.common.checks import is_division_code
from zerotrip.common.divisions import ZHEJIANG, children_of, cities, counties, get_division


def test_shape_of_the_province() -> None:
    assert get_division("330000").name == "浙江省"
    assert len(cities()) == 11
    assert len(counties()) == 90
    kinds = Counter(d.name[-1] for d in counties())
    # 37 districts, 20 county-level cities, 33 counties (景宁畲族自治县 ends in 县 too).
    assert (kinds["区"], kinds["市"], kinds["县"]) == (37, 20, 33)


def test_codes_are_unique_valid_and_nest() -> None:
    codes = [d.code for d in ZHEJIANG]
    assert len(codes) == len(set(codes))
    assert all(is_division_code(code) for code in codes)
    for city in cities():
        assert city.parent_code == "330000" and city.code.endswith("00")
        for county in children_of(city.code):
            assert county.level == "county"
            assert county.code[:4] == city.code[:4]


def test_recent_adjustments_are_in() -> None:
    assert get_division("330113").name == "临平区"
    assert get_division("330114").name == "钱塘区"
    assert get_division("330383").name == "龙港市"
    assert get_division("330182").name == "建德市"
