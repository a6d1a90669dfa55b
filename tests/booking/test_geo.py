"""Great-circle distances against known figures and properties, nearest N against a full sort, bounding boxes
that never cut off a point within the radius, and places from division codes or coordinates."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerotrip.booking.geo import (
    Point,
    UnknownPlace,
    bounding_box,
    distance_km,
    nearest,
    resolve_place,
)
from zerotrip.common.centroids import CENTROIDS
from zerotrip.common.divisions import ZHEJIANG

WEST_LAKE = Point(30.2590, 120.1300)
NINGBO = Point(29.8683, 121.5440)

lat = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lon = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.builds(Point, lat, lon)
zhejiang_points = st.builds(
    Point, st.floats(min_value=27.0, max_value=31.2), st.floats(min_value=118.0, max_value=123.0)
)


def test_known_distances() -> None:
    # Hangzhou to Ningbo is about 145 km as the crow flies; a degree of latitude about 111.2 km.
    assert 140 < distance_km(WEST_LAKE, NINGBO) < 150
    assert distance_km(Point(0, 0), Point(1, 0)) == pytest.approx(111.195, abs=0.01)
    assert distance_km(Point(0, 0), Point(0, 180)) == pytest.approx(math.pi * 6371.0088, rel=1e-9)
    assert distance_km(WEST_LAKE, WEST_LAKE) == 0


@given(points, points, points)
def test_distance_is_a_metric(a: Point, b: Point, c: Point) -> None:
    assert distance_km(a, b) == pytest.approx(distance_km(b, a), abs=1e-6)
    assert 0 <= distance_km(a, b) <= math.pi * 6371.0088 + 1e-6
    assert distance_km(a, c) <= distance_km(a, b) + distance_km(b, c) + 1e-6


@given(points, st.floats(min_value=0, max_value=3000), points)
@settings(max_examples=500)
def test_bounding_box_holds_every_point_within_the_radius(centre: Point, radius: float, other: Point) -> None:
    box = bounding_box(centre, radius)
    if distance_km(centre, other) <= radius:
        assert box.contains(other)
    assert box.contains(centre)


@given(
    zhejiang_points, st.lists(zhejiang_points, max_size=40), st.integers(0, 12), st.none() | st.floats(1, 200)
)
def test_nearest_matches_a_full_sort(origin: Point, items: list[Point], n: int, within: float | None) -> None:
    found = nearest(origin, items, key=lambda p: p, n=n, within_km=within)
    everything = sorted(
        ((distance_km(origin, p), i) for i, p in enumerate(items)),
    )
    expected = [(d, items[i]) for d, i in everything if within is None or d <= within][:n]
    assert found == expected


def test_places_from_codes_and_coordinates() -> None:
    west_lake = resolve_place(" 330106 ")
    assert west_lake.division_code == "330106" and west_lake.label == "西湖区"
    assert distance_km(west_lake.point, WEST_LAKE) < 10
    assert west_lake.radius_km is not None
    typed = resolve_place("30.26，120.14")
    assert typed.division_code is None and typed.point == Point(30.26, 120.14)
    for bad in ("110101", "33010", "abc", "95,120", "30.2,200", "", "３３０１０６"):
        with pytest.raises(UnknownPlace):
            resolve_place(bad)


def test_every_division_has_a_centre_inside_zhejiang() -> None:
    assert set(CENTROIDS) == {d.code for d in ZHEJIANG}
    for c in CENTROIDS.values():
        assert 27.0 < c.latitude < 31.2 and 118.0 < c.longitude < 123.0, c.code
        assert c.radius_km > 0
    # A county lies within its city's reach.
    for d in ZHEJIANG:
        if d.level == "county":
            assert d.parent_code is not None
            city = CENTROIDS[d.parent_code]
            here = CENTROIDS[d.code]
            gap = distance_km(Point(here.latitude, here.longitude), Point(city.latitude, city.longitude))
            assert gap + here.radius_km <= city.radius_km, d.code
