"""Test fixtures: a real database built by the real migrations; a rolled-back transaction per test.

``ZEROTRIP_TEST_DATABASE`` chooses the engine: ``sqlite`` (default) or ``postgresql``. For PostgreSQL a
database with a unique name is created on ``ZEROTRIP_TEST_PG_URL`` (default: the local server as user
postgres), migrated, and dropped when the run ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.app import create_app
from zerotrip.config import AuditSettings, DatahubSettings, NoticesSettings, ServicesSettings, Settings
from zerotrip.db import make_engine
from zerotrip.keys import KeyStore
from zerotrip.migrations import upgrade

# Property tests assert what holds, not how fast: on a shared 2-core machine a loaded minute must not fail
# them through Hypothesis's timing checks (deadline, "too slow" data generation).
hypothesis_settings.register_profile("zerotrip", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("zerotrip")

PG_ADMIN_URL = os.environ.get("ZEROTRIP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def engine_kind() -> str:
    kind = os.environ.get("ZEROTRIP_TEST_DATABASE", "sqlite")
    if kind not in ("sqlite", "postgresql"):
        raise RuntimeError(f"ZEROTRIP_TEST_DATABASE must be sqlite or postgresql, not {kind!r}")
    return kind


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres_only`` exercise what only PostgreSQL can do (real concurrent writers); the
    SQLite run deselects them openly rather than skipping them, and the PostgreSQL run executes them."""
    if engine_kind() == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


class ScratchDatabase:
    """A database of its own for one test run (or one test that needs real commits)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.name = f"zerotrip_test_{uuid.uuid4().hex[:12]}"
        if kind == "sqlite":
            self.url = f"sqlite:///{folder / (self.name + '.db')}"
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        if self.kind == "postgresql":
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def scratch_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ScratchDatabase]]:
    made: list[ScratchDatabase] = []
    yield made
    for database in made:
        database.drop()


@pytest.fixture(scope="session")
def new_database(
    scratch_databases: list[ScratchDatabase], tmp_path_factory: pytest.TempPathFactory
) -> object:
    """Factory: ``new_database(migrate=True)`` gives the URL of an empty (or migrated) database of its own."""

    def make(*, migrate: bool = True) -> str:
        database = ScratchDatabase(engine_kind(), tmp_path_factory.mktemp("db"))
        scratch_databases.append(database)
        if migrate:
            engine = make_engine(database.url)
            upgrade(engine)
            engine.dispose()
        return database.url

    return make


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, new_database: object) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    url = new_database(migrate=True)  # type: ignore[operator]
    # No background jobs: test sessions join a transaction that is rolled back.
    return Settings(
        data_dir=data_dir,
        database_url=url,
        key_passphrase=None,
        audit=AuditSettings(checkpoint_interval_seconds=0),
        datahub=DatahubSettings(escalation_interval_seconds=0),
        services=ServicesSettings(escalation_interval_seconds=0),
        notices=NoticesSettings(reminder_interval_seconds=0, headcount_check_seconds=0),
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.resolved_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def keys(settings: Settings) -> KeyStore:
    return KeyStore(settings.secrets_dir)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that join the test's outer transaction: their commits only release savepoints."""
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint", autoflush=True
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session], keys: KeyStore):  # type: ignore[no-untyped-def]
    return create_app(settings, session_factory=session_factory, keys=keys)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as client:
        yield client
