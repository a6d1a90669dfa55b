"""Migrations: one head recorded in HEAD, upgrade from empty, and models that match the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from zerotrip.db import make_engine
from zerotrip.migrations import recorded_head, script_heads, upgrade
from zerotrip.models import metadata


def test_single_head_matches_head_file() -> None:
    heads = script_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    assert heads == [recorded_head()]


def test_upgrade_from_empty_and_models_match(new_database) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(new_database(migrate=False))
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        upgrade(engine)  # a second run is a no-op
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        tables = set(inspect(engine).get_table_names())
        assert {"identity_person", "audit_event", "alembic_version"} <= tables
    finally:
        engine.dispose()
