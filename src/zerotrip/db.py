"""Storage kernel: the declarative base, engines, sessions and the one transaction boundary.

A transaction belongs to the edge (one HTTP request, one CLI command, one task run) and is opened with
``with transaction(db):``. Actions below it add, change and flush, but never commit.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every engine (SQLite keeps no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


# How long a connection waits for a lock another connection holds, and how often a writer asks again for
# the write lock while another process holds it (``_begin_immediate``).
BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_POLL_SECONDS = 0.001


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so SAVEPOINTs work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Read pages through a memory map rather than a read() call each: queries that visit many scattered
    # rows (open data filtered by district and sorted by a JSON field) spend most of their time there.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


# The execution option that has a SQLite transaction take the write lock as it begins (``write_transaction``).
IMMEDIATE = "zerotrip_sqlite_immediate"


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(IMMEDIATE):
        _begin_immediate(connection)
    else:
        connection.exec_driver_sql("BEGIN")


def _begin_immediate(connection: Any) -> None:
    """BEGIN IMMEDIATE, asking again every millisecond while another process holds the write lock.

    SQLite's own busy handler waits by sleeping longer the more often it has tried (1, 2, 5, 10 … up to
    100 ms a nap), so a writer of another process that has waited a while sleeps on while the lock has long
    been free: under a rush the lock sat idle between the processes' writers. Here the busy timeout is off
    for the BEGIN, which is tried again after a millisecond's sleep, up to the same 30 s; within a process
    only one writer at a time gets here (``write_transaction``), so the polling costs little."""
    raw = connection.connection.driver_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
            time.sleep(WRITE_LOCK_POLL_SECONDS)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # the last try, with SQLite's wait and SQLAlchemy's error


# A pooled connection is pinged before use only when it has sat idle this long (see ``ping_when_idle``).
PING_AFTER_IDLE_SECONDS = 5.0


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout on every connection; a
    server's pooled connections are checked before use when they may have gone stale."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
    ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection as the pool hands it out only if it has been idle ``idle_seconds`` or more.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout, which cost every request a round trip to the
    database (a quarter of a short request's statements). A connection that came back to the pool a moment
    ago is as good as a ping would show; one idle for longer may have been closed by the server, a restart
    or a firewall, and is pinged: when the ping fails, the pool throws it away and opens a fresh one, as
    with ``pool_pre_ping``. A connection that dies between a ping and its use fails either way.
    """

    def stamp(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info["zerotrip_idle_since"] = time.monotonic()

    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("zerotrip_idle_since")
        if since is not None and time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError() from error  # the pool retries with a new connection

    event.listen(engine, "connect", stamp)
    event.listen(engine, "checkin", stamp)
    event.listen(engine, "checkout", check)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(db: Session) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back if the block raises. The block is the session's
    transaction from its start (begun here, though no SQL is sent before its first statement), so a
    ``one_statement`` inside it joins it."""
    if not db.in_transaction():
        db.begin()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise


@contextmanager
def one_statement(db: Session) -> Iterator[Session]:
    """``transaction`` for a use case that is a single statement (a read, or a write that is atomic on its
    own, such as marking a notice read). On PostgreSQL, when the session has not begun a transaction yet,
    the statement runs in autocommit: one round trip to the database instead of three (BEGIN, the
    statement, COMMIT), which is what a short request waits for most on a busy machine. Inside a
    transaction (a ``transaction`` block, or a session that has run a statement) the block simply joins
    it and the caller commits; elsewhere it is ``transaction``.

    Only for a block whose writes are one statement: in autocommit each statement commits by itself. A
    session bound to a connection rather than an engine (one that joins an outer transaction, as the
    tests' do) gets ``transaction``."""
    if db.in_transaction():
        yield db
        return
    bind = db.get_bind()
    if bind.dialect.name != "postgresql" or not isinstance(bind, Engine):
        with transaction(db):
            yield db
        return
    db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    with transaction(db):  # commits nothing more; ends the session's use of the connection
        yield db


# One writer at a time per SQLite database in this process (see ``write_transaction``).
_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_LOCK = threading.Lock()


def _sqlite_writer(bind: Engine | Connection) -> threading.Lock:
    key = str(bind.engine.url)
    with _SQLITE_WRITERS_LOCK:
        return _SQLITE_WRITERS.setdefault(key, threading.Lock())


@contextmanager
def write_transaction(db: Session) -> Iterator[Session]:
    """``transaction`` for a use case that reads and then writes, and that many requests run at once (a
    booking rush).

    On SQLite a transaction begun with a plain BEGIN reads from a snapshot, and when it comes to write after
    another connection has committed meanwhile it fails at once ("database is locked"), without waiting.
    This one begins with BEGIN IMMEDIATE, taking the write lock first, so concurrent writers queue for the
    busy timeout instead. Within one process the writers queue on a lock of their own first: SQLite's busy
    handler waits by sleeping, longer the more often it has tried, so forty threads polling the file's lock
    would leave it idle between their naps; the one writer per process that then asks for the file's lock
    asks every millisecond rather than through that handler (``_begin_immediate``). What the session did
    before (resolving the caller, which only reads) is committed first, so the transaction begins here. On
    PostgreSQL it is ``transaction``.
    """
    if db.in_transaction():
        db.commit()
    bind = db.get_bind()
    if bind.dialect.name != "sqlite":
        with transaction(db):
            yield db
        return
    with _sqlite_writer(bind):
        db.connection(execution_options={IMMEDIATE: True})
        with transaction(db):
            yield db


# -- statements at the driver level -------------------------------------------------------------------

_NAMED_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Statement:
    """SQL text run on the session's DBAPI connection (psycopg or sqlite3) rather than through
    SQLAlchemy's execution machinery: for the hottest paths only, where building, compiling and
    processing a Core statement's parameters and rows costs more Python time than the round trip.

    Written once with ``:name`` parameters, or once per dialect (``postgresql=``, ``sqlite=``) where they
    differ; the text for each driver's parameter style is made here, once. No type processing happens on
    either side: pass parameters through ``Driver.time`` and ``Driver.json`` and read columns through
    ``from_db_time`` and ``from_db_json``, which make both engines agree.
    """

    def __init__(self, sql: str | None = None, *, postgresql: str | None = None, sqlite: str | None = None):
        pg, lite = postgresql or sql, sqlite or sql
        if pg is None or lite is None:
            raise ValueError("give the SQL, or the SQL for each engine")
        self.postgresql = _NAMED_PARAMETER.sub(r"%(\1)s", pg.replace("%", "%%"))
        self.sqlite = lite

    def text(self, dialect: str) -> str:
        return self.postgresql if dialect == "postgresql" else self.sqlite


class Driver:
    """A DBAPI connection (psycopg or sqlite3) for ``Statement``s: a session's, in the session's
    transaction (begun here if need be), or one taken from the pool by ``autocommit_driver``. On
    PostgreSQL inside ``one_statement``, or from ``autocommit_driver``, that is autocommit: each statement
    commits by itself, so a block of reads and one INSERT is one round trip each and no BEGIN or COMMIT.

    What the session has pending is flushed first, as a query would autoflush: a grant just revoked in
    the same session counts. ``session()`` gives what a cold path (a cache miss) needs a Session for: the
    driver's own session, or a new one of ``autocommit_driver``'s factory."""

    __slots__ = ("_connection", "_db", "_sessions", "dialect", "sa_dialect")

    def __init__(self, db: Session) -> None:
        db.flush()
        connection = db.connection()
        self.sa_dialect: Dialect = connection.dialect
        self.dialect: str = connection.dialect.name
        self._connection: Any = connection.connection.driver_connection
        self._db: Session | None = db
        self._sessions: Callable[[], Session] | None = None

    @classmethod
    def _pooled(cls, connection: Any, dialect: Dialect, sessions: Callable[[], Session]) -> Driver:
        driver = cls.__new__(cls)
        driver.sa_dialect, driver.dialect, driver._connection = dialect, dialect.name, connection
        driver._db, driver._sessions = None, sessions
        return driver

    @property
    def own_session(self) -> Session | None:
        """The session whose connection this is, None for a pooled driver."""
        return self._db

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A Session for a cold path: the driver's own, or (from the pool) a new one, read and closed."""
        if self._db is not None:
            yield self._db
            return
        assert self._sessions is not None
        with self._sessions() as db, transaction(db):
            yield db

    def execute(self, sql: str, params: Any, *, many: bool = False) -> int:
        """SQL in the driver's own parameter style (``%(name)s`` for psycopg, ``?`` for sqlite3) that
        returns no rows; how many rows it changed."""
        cursor = self._connection.cursor()
        try:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def rows(self, statement: Statement, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self._connection.cursor()
        try:
            cursor.execute(statement.text(self.dialect), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def time(self, value: datetime) -> Any:
        """A timezone-aware timestamp as a parameter, stored as ``UTCDateTime`` stores it."""
        if self.dialect == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def json(self, value: Any) -> str:
        """A value for a JSON column, as text: write ``CAST(:name AS jsonb)`` in PostgreSQL's SQL."""
        try:
            return orjson.dumps(value).decode()
        except TypeError:  # an integer past 64 bits, which only the json module writes
            return json.dumps(value)


@contextmanager
def autocommit_driver(sessions: sessionmaker[Session]) -> Iterator[Driver | None]:
    """A ``Driver`` on a connection taken from the pool of the engine ``sessions`` is bound to, in
    autocommit, for a block of reads and one atomic write (a gateway call): no Session to make, bind,
    commit and close. Only on PostgreSQL with an engine-bound factory; elsewhere (SQLite, whose
    transaction semantics the block keeps through a Session, or a factory bound to a connection, as the
    tests' are) it gives None, and the caller uses a Session in ``one_statement``."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        yield None
        return
    pooled = bind.raw_connection()
    try:
        raw: Any = pooled.driver_connection
        raw.autocommit = True
        yield Driver._pooled(raw, bind.dialect, sessions)
        raw.autocommit = False
    except BaseException:
        if _broken(pooled):
            pooled.invalidate()
        else:
            _leave_autocommit(pooled)
        raise
    finally:
        pooled.close()  # back to the pool (which rolls back: nothing is open)


def _broken(pooled: Any) -> bool:
    raw = pooled.driver_connection
    return raw is None or bool(getattr(raw, "closed", False)) or bool(getattr(raw, "broken", False))


def _leave_autocommit(pooled: Any) -> None:
    try:
        pooled.driver_connection.autocommit = False
    except Exception:  # a connection that cannot be reset is not given out again
        pooled.invalidate()


def from_db_time(value: Any) -> datetime:
    """A ``UTCDateTime`` column read through a ``Driver``, timezone-aware in UTC on both engines."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def from_db_json(value: Any) -> Any:
    """A JSON column read through a ``Driver``: psycopg gives it parsed, sqlite3 as text."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value
