"""SQLite's write lock as ``write_transaction`` takes it: a writer waits for another process's transaction
(asking again every millisecond rather than through SQLite's lengthening naps) instead of failing, and the
connection keeps its busy timeout for everything else. SQLite only, whichever engine the suite runs."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import zerotrip.db as kernel_db
from zerotrip.db import BUSY_TIMEOUT_MS, make_engine, make_sessionmaker, write_transaction


def test_a_writer_waits_for_another_connections_write_lock_then_writes(tmp_path: Path) -> None:
    path = tmp_path / "writers.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        other = sqlite3.connect(path, isolation_level=None)  # as another process's connection would
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        written: list[float] = []
        failed: list[BaseException] = []

        def write() -> None:
            try:
                with make_sessionmaker(engine)() as db, write_transaction(db):
                    db.execute(text("INSERT INTO t VALUES (2)"))
                    written.append(time.monotonic())
            except BaseException as error:
                failed.append(error)

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(0.3)
        assert not written and not failed  # waiting for the lock, not refused
        released = time.monotonic()
        other.execute("COMMIT")
        thread.join(timeout=20)
        other.close()
        assert not failed and written
        assert written[0] >= released
        with engine.connect() as connection:
            assert [n for (n,) in connection.exec_driver_sql("SELECT n FROM t ORDER BY n")] == [1, 2]
            # The BEGIN went without SQLite's busy handler; everything else still waits as long as ever.
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == BUSY_TIMEOUT_MS
    finally:
        engine.dispose()


def test_a_write_lock_held_past_the_deadline_fails_with_the_driver_s_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stuck.db"
    engine = make_engine(f"sqlite:///{path}")
    monkeypatch.setattr(kernel_db, "BUSY_TIMEOUT_MS", 300)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        try:
            with (
                pytest.raises(OperationalError, match="locked"),
                make_sessionmaker(engine)() as db,
                write_transaction(db),
            ):
                db.execute(text("INSERT INTO t VALUES (2)"))
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert 0.3 <= time.monotonic() - started < 10
    finally:
        engine.dispose()
