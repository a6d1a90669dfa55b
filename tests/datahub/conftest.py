"""A small datahub world: departments, a steward, a consumer system, a personal and an open resource."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

import pytest
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.demo.datahub_world import LandWorld, build_land_world, county_stats_spec, real_estate_spec
from zerotrip.identity.actor import system

__all__ = ["PASSWORD", "ROOT", "DatahubWorld", "county_stats_spec", "real_estate_spec"]

PASSWORD = "correct horse battery"
ROOT = system("test")


@dataclass
class DatahubWorld(LandWorld):
    residents: list[str] = field(default_factory=list)  # resident ID numbers used in the fixtures


@pytest.fixture
def hub(db: Session) -> DatahubWorld:
    world = build_land_world(db, actor=ROOT, steward_password=PASSWORD)
    residents = [
        make_resident_id(division_code="330106", birth_date=date(1988, 3, 14), sequence=i * 2 + 1, sex="male")
        for i in range(5)
    ]
    return DatahubWorld(**{f.name: getattr(world, f.name) for f in fields(world)}, residents=residents)
