"""Inserting a batch of rows into one table in one go, on both engines, inside the caller's transaction.

SQLAlchemy's executemany passes every value of every row through its column type in Python and, on
PostgreSQL, either sends one statement per row (psycopg's pipeline, which reports no row count) or, with
RETURNING, renders one long statement per thousand rows that psycopg then parses again on every call. For
the batches actions write (a department's 500 certificates with their audit events and notifications),
that cost more than the signing. Here:

* on PostgreSQL the rows go as one JSON document, serialised by orjson in C, into ``INSERT … SELECT …
  FROM jsonb_array_elements(…) … jsonb_populate_record(NULL::table, …)``: one short statement, the values
  typed by the table's own column types, in the order given, with an exact row count and RETURNING at no
  extra cost (psycopg's array parameters would be escaped element by element in Python);
* on SQLite the rows go to the driver's ``executemany`` (whose row count is exact); with RETURNING,
  SQLAlchemy's own multi-row insert is used (SQLite's driver cannot return rows from an executemany).

Values are converted by each column's own type (``bind_processor``, not again for a value repeated from the
row before, such as the batch's timestamp), so what is stored is what SQLAlchemy would store; on
PostgreSQL only the application's own types and enums (stored by name) need it, and JSON columns are
nested as they are. One difference: ``None`` in a JSON column is SQL NULL here, not the
JSON ``null`` SQLAlchemy's executemany would write.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import orjson
from sqlalchemy import JSON, CursorResult, Enum, Table
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from zerotrip.db import Driver

_SENTINEL = object()


def insert_many(
    db: Session | Driver,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts: bool = False,
    returning: str | None = None,
) -> Any:
    """Insert ``rows`` (mappings with the same keys, the table's column names) into ``table``.

    With ``skip_conflicts`` a row that breaks a unique constraint is skipped (``ON CONFLICT DO NOTHING``;
    NOT NULL and CHECK constraints still raise). Returns the list of the ``returning`` column's values of
    the rows inserted when it is given (in no promised order), else how many rows were inserted. What the
    session holds is flushed first (the rows go to the driver directly and may refer to it). ``db`` may
    be a ``Driver`` (a pooled connection without a Session, see ``db.autocommit_driver``), without
    ``returning``.
    """
    if not rows:
        return [] if returning is not None else 0
    if isinstance(db, Driver):
        return _insert_with_driver(db, table, rows, skip_conflicts=skip_conflicts, returning=returning)
    db.flush()
    connection = db.connection()
    dialect = connection.dialect
    names = tuple(rows[0])
    if dialect.name == "postgresql":
        columns = [_column_values(table, name, dialect, rows) for name in names]
        document = orjson.dumps(
            [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)], default=_json_default
        )
        result = connection.exec_driver_sql(
            _postgresql_statement(table, names, skip_conflicts, returning, dialect),
            {"rows": document.decode()},
        )
        return list(result.scalars()) if returning is not None else result.rowcount
    if returning is not None:
        insert = sqlite_insert(table)
        if skip_conflicts:
            insert = insert.on_conflict_do_nothing()
        return list(db.execute(insert.returning(table.c[returning]), list(rows)).scalars())
    columns = [_column_values(table, name, dialect, rows) for name in names]
    result = cast(
        CursorResult[Any],
        connection.exec_driver_sql(
            _sqlite_statement(table, names, skip_conflicts, dialect), list(zip(*columns, strict=True))
        ),
    )
    return result.rowcount


def _insert_with_driver(
    driver: Driver,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts: bool,
    returning: str | None,
) -> int:
    if returning is not None:
        raise ValueError("insert_many with a Driver returns no rows")
    dialect = driver.sa_dialect
    names = tuple(rows[0])
    columns = [_column_values(table, name, dialect, rows) for name in names]
    if dialect.name == "postgresql":
        document = orjson.dumps(
            [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)], default=_json_default
        )
        sql = _postgresql_statement(table, names, skip_conflicts, None, dialect)
        return driver.execute(sql, {"rows": document.decode()})
    sql = _sqlite_statement(table, names, skip_conflicts, dialect)
    return driver.execute(sql, list(zip(*columns, strict=True)), many=True)


@functools.lru_cache(maxsize=64)
def _postgresql_statement(
    table: Table, names: tuple[str, ...], skip_conflicts: bool, returning: str | None, dialect: Dialect
) -> str:
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    # In the order of the rows (serial ids follow it, and callers order rows to take locks in one order).
    statement = (
        f"INSERT INTO {name} ({', '.join(map(quote, names))})"  # noqa: S608 (the table's own names)
        f" SELECT {', '.join(f'record.{quote(column)}' for column in names)}"
        " FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS batch (doc, position)"
        f" CROSS JOIN LATERAL jsonb_populate_record(NULL::{name}, batch.doc) AS record"
        " ORDER BY batch.position"
    )
    if skip_conflicts:
        statement += " ON CONFLICT DO NOTHING"
    if returning is not None:
        statement += f" RETURNING {quote(table.c[returning].name)}"
    return statement


@functools.lru_cache(maxsize=64)
def _sqlite_statement(table: Table, names: tuple[str, ...], skip_conflicts: bool, dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    marks = ", ".join("?" for _ in names)
    statement = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)}"  # noqa: S608 (the table's own names)
        f" ({', '.join(map(quote, names))}) VALUES ({marks})"
    )
    # Only a broken unique constraint is skipped (INSERT OR IGNORE would skip NOT NULL and CHECK too).
    return statement + " ON CONFLICT DO NOTHING" if skip_conflicts else statement


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()  # bytea's text input
    raise TypeError(f"{type(value).__name__} cannot be written by insert_many")


def _column_values(table: Table, name: str, dialect: Dialect, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The column's values as the driver (or, on PostgreSQL, the JSON document) takes them."""
    values = [row[name] for row in rows]
    process = _processor(table, name, dialect)
    if process is None:
        return values
    out: list[Any] = []
    last: Any = _SENTINEL
    converted: Any = None
    for value in values:
        if value is not last:
            last, converted = value, process(value)
        out.append(converted)
    return out


@functools.lru_cache(maxsize=1024)
def _processor(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
    if dialect.name == "postgresql":
        # Only the application's own conversions (UTC instants); the JSON document and PostgreSQL's
        # input functions do what the driver's adapters would.
        if isinstance(column_type, TypeDecorator):
            decorator = column_type
            return lambda value: decorator.process_bind_param(value, dialect)
        if isinstance(column_type, Enum):
            return cast("Callable[[Any], Any] | None", column_type.bind_processor(dialect))  # type: ignore[no-untyped-call]
        return None
    if isinstance(column_type.dialect_impl(dialect), JSON):
        serialise = column_type.bind_processor(dialect)
        return None if serialise is None else (lambda value: None if value is None else serialise(value))
    return cast("Callable[[Any], Any] | None", column_type.bind_processor(dialect))
