"""Writing many rows of one booking table fast: a province's slot templates and a week of slots are tens of
thousands of rows, and the demo must start in seconds.

SQLAlchemy's executemany converts every value through its type in Python, which for 70,000 slots cost
more than the inserting. Here the values are converted once, the way each engine stores them, and handed
to the driver: on SQLite one ``executemany`` of plain strings and numbers in the format SQLAlchemy reads
back, on PostgreSQL one ``COPY`` (the driver adapts the values in C). Runs inside the caller's
transaction; types the tables here use only: integers, text, booleans, dates, times, timezone-aware
instants, JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.orm import Session


def _sqlite_value(value: Any) -> Any:
    # The formats of SQLAlchemy's SQLite DATETIME, DATE and TIME, which is how it reads them back.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _postgresql_value(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict | list) else value


def insert_rows(db: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``; returns how many."""
    if not rows:
        return 0
    db.flush()  # the driver is handed the rows directly: what the session holds must be there first
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        driver: Any = connection.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([_postgresql_value(v) for v in row])
        return len(rows)
    marks = ", ".join("?" for _ in columns)
    converters = [_column_converter(rows, i) for i in range(len(columns))]
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - our own names
        [tuple(c(v) if c else v for c, v in zip(converters, row, strict=True)) for row in rows],
    )
    return len(rows)


def _column_converter(rows: Sequence[Sequence[Any]], index: int) -> Callable[[Any], Any] | None:
    """How one column's values are stored on SQLite: None when the driver takes them as they are; the
    converted values of dates and times (few distinct ones in tens of thousands of rows) are remembered."""
    sample = next((row[index] for row in rows if row[index] is not None), None)
    if sample is None or (isinstance(sample, int | float | str) and not isinstance(sample, bool)):
        return None
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        found = seen.get(value) if not isinstance(value, dict | list) else None
        if found is None:
            found = _sqlite_value(value)
            if not isinstance(value, dict | list):
                seen[value] = found
        return found

    return convert
