"""Distances and "near a place": great-circle distance, the nearest N, and what a place is. Pure.

A place is either a division code (GB/T 2260, "330106": its approximate centre from
``common.centroids``) or coordinates written ``latitude,longitude`` in degrees ("30.26,120.14"). A search
near a place first narrows the candidates with a bounding box (an index-friendly range on latitude and
longitude that contains every point within the radius), then ranks the rest by exact distance.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from zerotrip.common.centroids import find_centroid
from zerotrip.common.divisions import find_division

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
_KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
_COORDINATES = re.compile(r"\s*([+-]?\d{1,2}(?:\.\d+)?)\s*[,，]\s*([+-]?\d{1,3}(?:\.\d+)?)\s*")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError("latitude must be within ±90 and longitude within ±180 degrees")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a search is centred: a division's centre or coordinates someone gave."""

    point: Point
    division_code: str | None
    label: str
    """The division's name, or the coordinates as given (rounded)."""
    radius_km: float | None = None
    """For a division: how far its settlements reach from the centre."""


@dataclass(frozen=True, slots=True)
class BoundingBox:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float

    def contains(self, point: Point) -> bool:
        return (
            self.min_latitude <= point.latitude <= self.max_latitude
            and self.min_longitude <= point.longitude <= self.max_longitude
        )


class UnknownPlace(ValueError):
    """Neither a known division code nor coordinates."""


def distance_km(a: Point, b: Point) -> float:
    """The great-circle distance between two points in kilometres (haversine, accurate for any distance)."""
    phi1, phi2 = math.radians(a.latitude), math.radians(b.latitude)
    dphi = phi2 - phi1
    dlambda = math.radians(b.longitude - a.longitude)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(centre: Point, radius_km: float) -> BoundingBox:
    """A latitude/longitude box that contains every point within ``radius_km`` of ``centre``.

    Longitude degrees shrink towards the poles; the box widens by the cosine of the latitude farthest from
    the equator inside it, so it never cuts off a point (near a pole or across the antimeridian it spans
    every longitude)."""
    if radius_km < 0:
        raise ValueError("a radius cannot be negative")
    # A hair of margin, so rounding in the distance never puts a point inside the radius but outside the box.
    dlat = radius_km / _KM_PER_DEGREE + 1e-9
    min_lat, max_lat = max(-90.0, centre.latitude - dlat), min(90.0, centre.latitude + dlat)
    widest = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    dlon = radius_km / (_KM_PER_DEGREE * widest) + 1e-9 if widest > 1e-9 else 360.0
    if centre.longitude - dlon < -180 or centre.longitude + dlon > 180:
        # Near a pole or across the antimeridian: every longitude (never the case in Zhejiang).
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    return BoundingBox(min_lat, max_lat, centre.longitude - dlon, centre.longitude + dlon)


def nearest(
    origin: Point,
    items: Iterable[T],
    *,
    key: Callable[[T], Point],
    n: int,
    within_km: float | None = None,
) -> list[tuple[float, T]]:
    """The ``n`` items closest to ``origin`` with their distances in km, nearest first; ties keep the
    items' order. With ``within_km``, only items at most that far."""
    if n <= 0:
        return []

    def ranked() -> Iterator[tuple[float, int, T]]:
        for index, item in enumerate(items):
            distance = distance_km(origin, key(item))
            if within_km is None or distance <= within_km:
                yield distance, index, item

    return [(distance, item) for distance, _, item in heapq.nsmallest(n, ranked(), key=lambda r: r[:2])]


def resolve_place(text: str) -> Place:
    """A place from what someone typed or a page sent: a division code or ``latitude,longitude``.

    Raises UnknownPlace for anything else (a code outside Zhejiang, coordinates out of range)."""
    value = text.strip()
    if value.isascii() and value.isdigit() and len(value) == 6:
        division, centroid = find_division(value), find_centroid(value)
        if division is None or centroid is None:
            raise UnknownPlace(f"no division with code {value}")
        return Place(
            point=Point(centroid.latitude, centroid.longitude),
            division_code=value,
            label=division.name,
            radius_km=centroid.radius_km,
        )
    match = _COORDINATES.fullmatch(value)
    if match is None:
        raise UnknownPlace("a place is a division code or latitude,longitude")
    try:
        point = Point(float(match[1]), float(match[2]))
    except ValueError as exc:
        raise UnknownPlace(str(exc)) from exc
    return Place(point=point, division_code=None, label=f"{point.latitude:.4f},{point.longitude:.4f}")
