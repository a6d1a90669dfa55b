"""The demo's vaccination sites: exactly 1,789, every county has some, codes and names are valid and
unique, places lie in their county's area, and the same seed gives the same sites."""

from __future__ import annotations

import json
import re
from collections import Counter

from zerotrip.booking.geo import Point, distance_km
from zerotrip.booking.products import find_product
from zerotrip.common.centroids import get_centroid
from zerotrip.common.checks import is_division_code
from zerotrip.common.divisions import counties, get_division
from zerotrip.demo.booking_sites import SITE_COUNT, WEEKDAYS, allocate, plan_sites

SITES = plan_sites()
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def test_exactly_1789_sites_in_every_county() -> None:
    assert SITE_COUNT == 1_789
    assert len(SITES) == 1_789
    per_county = Counter(s.division_code for s in SITES)
    assert set(per_county) == {d.code for d in counties()}
    assert min(per_county.values()) >= 1
    assert per_county == Counter(allocate())
    # Bigger places get more: 萧山区 (two million people) has more sites than 嵊泗县 (seventy thousand).
    assert per_county["330109"] > 5 * per_county["330922"]


def test_codes_names_and_places_are_valid() -> None:
    assert len({s.code for s in SITES}) == len(SITES)
    assert len({s.name for s in SITES}) == len(SITES)
    for site in SITES:
        county = get_division(site.division_code)
        assert is_division_code(site.division_code) and county.level == "county"
        assert site.city_code == county.parent_code
        assert re.fullmatch(rf"{site.division_code}-\d{{3}}", site.code)
        assert site.name.startswith(county.name)
        assert site.name.endswith(("接种门诊", "接种点"))
        assert site.address.startswith(f"浙江省{get_division(site.city_code).name}{county.name}")
        assert re.fullmatch(r"(057\d|0580)-[5-8]\d{7}", site.phone)
        centre = get_centroid(site.division_code)
        gap = distance_km(Point(site.latitude, site.longitude), Point(centre.latitude, centre.longitude))
        assert gap <= centre.radius_km + 0.01, site.code
        assert site.product_codes and all(find_product(code) for code in site.product_codes)
        assert any(find_product(code).is_vaccine for code in site.product_codes)  # type: ignore[union-attr]
        assert 20 <= site.capacity_per_hour <= 400


def test_opening_hours_are_ordered_periods() -> None:
    for site in SITES:
        assert len(site.opening_hours) == 7
        assert any(site.opening_hours), site.code
        for day in site.opening_hours:
            times = [t for period in day for t in period]
            assert all(_TIME.fullmatch(t) for t in times)
            assert times == sorted(times) and len(set(times)) == len(times)
    community = next(s for s in SITES if s.kind == "community")
    assert community.opening_hours[6] == ()  # closed on Sundays
    assert next(s for s in SITES if s.kind == "temporary").opening_hours[6] == (("08:00", "20:00"),)


def test_rows_are_plain_values() -> None:
    row = SITES[0].as_row()
    assert json.loads(json.dumps(row, ensure_ascii=False)) == row
    assert list(row["opening_hours"]) == list(WEEKDAYS)
    assert row["code"] == SITES[0].code and row["latitude"] == SITES[0].latitude


def test_deterministic_and_seeded() -> None:
    assert plan_sites() == SITES
    other = plan_sites(seed=1)
    assert len(other) == len(SITES) and other != SITES
    assert [s.code for s in other] == [s.code for s in SITES]  # the allocation depends on data, not the seed
    assert len(plan_sites(total=90)) == 90
