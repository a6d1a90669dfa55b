"""Fixtures of the services tests: the small world of ``world.py`` in the test's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from .world import ServicesWorld, build_world


@pytest.fixture
def world(db: Session) -> ServicesWorld:
    return build_world(db)
