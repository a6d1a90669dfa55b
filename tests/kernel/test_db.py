"""The engine's pool pings a connection before use only when it has been idle long enough to go stale."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from zerotrip.db import make_engine, make_sessionmaker, one_statement, ping_when_idle, transaction

from ..conftest import PG_ADMIN_URL


def pooled_engine(url: str, idle_seconds: float) -> Engine:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds)
    return engine


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def terminate(pid: int) -> None:
    """What a server restart or an idle timeout does to a pooled connection."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits until it is gone


@pytest.mark.postgres_only
def test_a_connection_idle_long_enough_is_pinged_and_replaced(new_database: Callable[..., str]) -> None:
    engine = pooled_engine(new_database(migrate=False), idle_seconds=0)
    try:
        first = backend_pid(engine)
        terminate(first)
        assert backend_pid(engine) != first  # the ping failed, and the pool opened a new connection
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_a_connection_just_returned_is_not_pinged(new_database: Callable[..., str]) -> None:
    engine = pooled_engine(new_database(migrate=False), idle_seconds=3600)
    try:
        terminate(backend_pid(engine))
        # No ping: the dead connection is handed out, and its first statement is what fails.
        with pytest.raises(OperationalError):
            backend_pid(engine)
        assert backend_pid(engine) > 0  # that failure invalidated it; the next checkout connects afresh
    finally:
        engine.dispose()


def test_one_statement_commits_by_itself_or_joins_a_transaction(new_database: Callable[..., str]) -> None:
    engine = make_engine(new_database(migrate=False))
    factory = make_sessionmaker(engine)
    is_postgres = engine.dialect.name == "postgresql"
    try:
        with factory() as db, transaction(db):
            db.execute(text("CREATE TABLE counter (n integer)"))
        with factory() as db, one_statement(db):
            db.execute(text("INSERT INTO counter VALUES (1)"))
            raw = db.connection().connection.dbapi_connection
            # PostgreSQL: autocommit, no BEGIN or COMMIT around the statement; SQLite: a transaction.
            assert getattr(raw, "autocommit", False) is is_postgres
        with factory() as db, transaction(db):
            # Inside a transaction the block joins it, and it is rolled back with it.
            with one_statement(db):
                db.execute(text("INSERT INTO counter VALUES (2)"))
            db.rollback()
            raw = db.connection().connection.dbapi_connection
            assert getattr(raw, "autocommit", False) is False  # the pool's connection is back to normal
            assert db.scalars(text("SELECT n FROM counter")).all() == [1]
        with factory() as db, pytest.raises(ZeroDivisionError), one_statement(db):
            db.execute(text("INSERT INTO counter VALUES (3)"))
            raise ZeroDivisionError
        with factory() as db:
            # In autocommit the statement had committed before the error; in a transaction it is undone.
            expected = [1, 3] if is_postgres else [1]
            assert db.scalars(text("SELECT n FROM counter ORDER BY n")).all() == expected
    finally:
        engine.dispose()
