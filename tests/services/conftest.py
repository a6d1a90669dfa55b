"""Fixtures of the services tests: the small worlds of ``world.py`` and ``apply_world.py`` in the test's
transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from zerotrip.config import Settings

from .apply_world import ApplyWorld, build_apply_world
from .workflow_world import WorkflowWorld, build_workflow_world
from .world import ServicesWorld, build_world


@pytest.fixture
def world(db: Session) -> ServicesWorld:
    return build_world(db)


@pytest.fixture
def apply_world(db: Session, settings: Settings) -> ApplyWorld:
    return build_apply_world(db, settings)


@pytest.fixture
def workflow_world(db: Session, settings: Settings) -> WorkflowWorld:
    return build_workflow_world(db, settings)
