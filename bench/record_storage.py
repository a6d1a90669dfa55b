"""Record storage designs for aggregation, measured with SQL-only prototypes against COPY in one run.

Run: .venv/bin/python bench/record_storage.py [--rows N] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

The evidence behind docs/adr/0001-record-versioning.md. It creates a uniquely named PostgreSQL database,
generates the real-estate CSV that ``bench/aggregation_load.py`` loads, COPYs it into a plain typed table
(the yardstick), prepares each record's final values once (key, subject, region and the JSON document, as
text, in an unindexed table), then writes those 1,000,000 records in each candidate design and times it:

* ``two_rows``: the schema before ADR 0001, a current record and a version row per record, each with the
  JSONB document, seven indexes and five foreign-key checks in all (``INSERT ... SELECT``, no Python).
* ``one_row``: system-versioned storage (ADR 0001): the current record alone, with who/which batch and a
  ``change_seq`` from a sequence; the history table gets a row only when a record changes, so a first load
  writes none. Five indexes, the two foreign keys of the old record table.
* ``one_row_no_fk``: the same without per-row foreign-key triggers on the record table.
* ``one_row_no_fk_4ix``: and without the region index, to show what one index costs.
* ``copy_text_direct`` / ``copy_binary_direct``: the client COPYs the prepared rows straight into the
  ``one_row_no_fk`` table (text or binary protocol).
* ``copy_staging_merge``: the client COPYs into a temporary staging table, then one ``INSERT ... SELECT``
  moves the rows into the record table.
* ``update_with_history``: a second load in which every record changed: the old states are copied into
  the history table and the records updated, set-based (``INSERT ... SELECT`` then ``UPDATE ... FROM``).

Drops the database at the end. Prints the figures and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aggregation_load as bench_load
import orjson
import psycopg

PLAIN = """CREATE TABLE bench_plain (
    certificate_no text PRIMARY KEY, holder_id text NOT NULL, holder_name text NOT NULL,
    address text NOT NULL, area numeric NOT NULL, usage text, registered_on date, district text)"""
PREPARED = """CREATE UNLOGGED TABLE bench_prepared (
    record_key text, subject_key text, division_code text, doc text)"""
PARENTS = """
CREATE TABLE p_resource (id integer PRIMARY KEY);
CREATE TABLE p_batch (id uuid PRIMARY KEY);
INSERT INTO p_resource VALUES (1);
CREATE SEQUENCE p_change_seq;
"""
TWO_ROWS = """
CREATE TABLE r2 (
    id bigserial PRIMARY KEY, resource_id integer NOT NULL REFERENCES p_resource,
    record_key varchar(300) NOT NULL, subject_key varchar(40), division_code varchar(6),
    data jsonb NOT NULL, version integer NOT NULL, is_deleted boolean NOT NULL,
    updated_at timestamptz NOT NULL, batch_id uuid REFERENCES p_batch,
    UNIQUE (resource_id, record_key));
CREATE INDEX ON r2 (resource_id, subject_key);
CREATE INDEX ON r2 (resource_id, division_code, is_deleted);
CREATE TABLE v2 (
    id bigserial PRIMARY KEY, record_id bigint NOT NULL REFERENCES r2,
    resource_id integer NOT NULL REFERENCES p_resource, version integer NOT NULL,
    operation varchar(8) NOT NULL, record_key varchar(300) NOT NULL, division_code varchar(6),
    data jsonb NOT NULL, batch_id uuid REFERENCES p_batch, changed_by varchar(120) NOT NULL,
    changed_at timestamptz NOT NULL);
CREATE INDEX ON v2 (record_id);
CREATE INDEX ON v2 (resource_id, id);
"""


def one_row(name: str, *, fk: bool, region_index: bool = True) -> str:
    refs = ("REFERENCES p_resource", "REFERENCES p_batch") if fk else ("", "")
    region = f"CREATE INDEX ON {name} (resource_id, division_code, is_deleted);" if region_index else ""
    return f"""
CREATE TABLE {name} (
    id bigserial PRIMARY KEY, resource_id integer NOT NULL {refs[0]},
    record_key varchar(300) NOT NULL, subject_key varchar(40), division_code varchar(6),
    data jsonb NOT NULL, version integer NOT NULL, is_deleted boolean NOT NULL,
    updated_at timestamptz NOT NULL, batch_id uuid {refs[1]}, changed_by varchar(120) NOT NULL,
    change_seq bigint NOT NULL DEFAULT nextval('p_change_seq'),
    UNIQUE (resource_id, record_key));
CREATE INDEX ON {name} (resource_id, subject_key);
{region}
CREATE INDEX ON {name} (resource_id, change_seq);
"""


HISTORY = """
CREATE TABLE h1 (
    id bigserial PRIMARY KEY, record_id bigint NOT NULL, resource_id integer NOT NULL,
    version integer NOT NULL, record_key varchar(300) NOT NULL, subject_key varchar(40),
    division_code varchar(6), data jsonb NOT NULL, is_deleted boolean NOT NULL, batch_id uuid,
    changed_by varchar(120) NOT NULL, changed_at timestamptz NOT NULL, superseded_at timestamptz NOT NULL,
    change_seq bigint NOT NULL);
CREATE INDEX ON h1 (record_id, version);
"""
BATCH = "00000000-0000-0000-0000-000000000001"
BINARY_TYPES = ("int4", "text", "text", "text", "bytea", "int4", "bool", "timestamptz", "uuid", "text")
ONE_ROW_COLUMNS = (
    "resource_id, record_key, subject_key, division_code, data, version, is_deleted, updated_at, batch_id,"
    " changed_by"
)


def timed(conn: psycopg.Connection, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    conn.commit()
    return time.perf_counter() - started


def prepared_rows(path: Path) -> Iterator[tuple[str, str, str, str]]:
    """The CSV's rows as (key, subject, region, JSON document): what a loader sends once rows are valid."""
    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        names = next(reader)
        for cells in reader:
            data = dict(zip(names, cells, strict=True))
            yield data["certificate_no"], data["holder_id"], data["district"], orjson.dumps(data).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"zerotrip_proto_{uuid.uuid4().hex[:10]}"
    url = f"{args.pg_url.rsplit('/', 1)[0]}/{name}"
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="zerotrip-proto-") as folder:
        path = Path(folder) / "real-estate.csv"
        bench_load.write_csv(path, args.rows)
        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            with psycopg.connect(url) as conn:
                conn.execute(PLAIN)
                conn.execute(PREPARED)
                conn.execute(PARENTS)
                conn.execute("INSERT INTO p_batch VALUES (%s)", (BATCH,))
                conn.commit()

                def copy_plain() -> None:
                    with (
                        conn.cursor() as cursor,
                        cursor.copy("COPY bench_plain FROM STDIN WITH (FORMAT csv, HEADER true)") as sink,
                        path.open("rb") as source,
                    ):
                        while block := source.read(1 << 20):
                            sink.write(block)

                seconds["copy_plain"] = timed(conn, copy_plain)

                def prepare() -> None:
                    with conn.cursor() as cursor, cursor.copy("COPY bench_prepared FROM STDIN") as sink:
                        for row in prepared_rows(path):
                            sink.write_row(row)

                timed(conn, prepare)

                conn.execute(TWO_ROWS)
                conn.commit()

                def two_rows() -> None:
                    conn.execute(
                        "INSERT INTO r2 (resource_id, record_key, subject_key, division_code, data, version,"
                        " is_deleted, updated_at, batch_id) SELECT 1, record_key, subject_key,"
                        " division_code, doc::jsonb, 1, false, now(), %s FROM bench_prepared",
                        (BATCH,),
                    )
                    conn.execute(
                        "INSERT INTO v2 (record_id, resource_id, version, operation, record_key,"
                        " division_code, data, batch_id, changed_by, changed_at) SELECT id, resource_id, 1,"
                        " 'upsert', record_key, division_code, data, batch_id, 'bench', now() FROM r2"
                        " ORDER BY id"
                    )

                seconds["two_rows"] = timed(conn, two_rows)
                conn.execute("DROP TABLE v2, r2")
                conn.commit()

                variants = {
                    "one_row": one_row("r1", fk=True),
                    "one_row_no_fk": one_row("r1", fk=False),
                    "one_row_no_fk_4ix": one_row("r1", fk=False, region_index=False),
                }
                for label, ddl in variants.items():
                    conn.execute(ddl)
                    conn.commit()
                    seconds[label] = timed(
                        conn,
                        lambda: conn.execute(
                            f"INSERT INTO r1 ({ONE_ROW_COLUMNS}) SELECT 1, record_key, subject_key,"  # noqa: S608
                            " division_code, doc::jsonb, 1, false, now(), %s, 'bench' FROM bench_prepared",
                            (BATCH,),
                        ),
                    )
                    conn.execute("DROP TABLE r1")
                    conn.commit()

                for label, binary in (("copy_text_direct", False), ("copy_binary_direct", True)):
                    conn.execute(one_row("r1", fk=False))
                    conn.commit()

                    def copy_direct(binary: bool = binary) -> None:
                        options = " WITH (FORMAT binary)" if binary else ""
                        statement = f"COPY r1 ({ONE_ROW_COLUMNS}) FROM STDIN{options}"
                        stamp = datetime.now(UTC)
                        batch = uuid.UUID(BATCH)
                        with conn.cursor() as cursor, cursor.copy(statement) as sink:
                            if binary:  # JSONB's binary form is a version byte and the text: bytes as is
                                sink.set_types([*BINARY_TYPES])
                            for key, subject, region, doc in prepared_rows(path):
                                data = b"\x01" + doc.encode() if binary else doc
                                sink.write_row(
                                    (1, key, subject, region, data, 1, False, stamp, batch, "bench")
                                )

                    seconds[label] = timed(conn, copy_direct)
                    if binary:
                        break
                    conn.execute("DROP TABLE r1")
                    conn.commit()
                conn.execute("DROP TABLE r1")
                conn.commit()

                conn.execute(one_row("r1", fk=False))
                conn.commit()

                def staging_merge() -> None:
                    conn.execute(
                        "CREATE TEMP TABLE stage (record_key text, subject_key text, division_code text,"
                        " doc text) ON COMMIT DROP"
                    )
                    with conn.cursor() as cursor, cursor.copy("COPY stage FROM STDIN") as sink:
                        for row in prepared_rows(path):
                            sink.write_row(row)
                    conn.execute(
                        f"INSERT INTO r1 ({ONE_ROW_COLUMNS}) SELECT 1, record_key, subject_key,"  # noqa: S608
                        " division_code, doc::jsonb, 1, false, now(), %s, 'bench' FROM stage",
                        (BATCH,),
                    )

                seconds["copy_staging_merge"] = timed(conn, staging_merge)

                conn.execute(HISTORY)
                conn.commit()

                def update_with_history() -> None:
                    conn.execute(
                        "INSERT INTO h1 (record_id, resource_id, version, record_key, subject_key,"
                        " division_code, data, is_deleted, batch_id, changed_by, changed_at, superseded_at,"
                        " change_seq) SELECT id, resource_id, version, record_key, subject_key,"
                        " division_code,"
                        " data, is_deleted, batch_id, changed_by, updated_at, now(), change_seq FROM r1"
                    )
                    conn.execute(
                        "UPDATE r1 SET data = jsonb_set(r1.data, '{area}', '\"1\"'), version = version + 1,"
                        " updated_at = now(), change_seq = nextval('p_change_seq'), changed_by = 'bench2'"
                    )

                seconds["update_with_history"] = timed(conn, update_with_history)
        finally:
            with psycopg.connect(args.pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    copy_seconds = seconds["copy_plain"]
    print(f"{'design':<22} {'seconds':>8} {'rows/s':>10} {'of COPY':>8}")
    for label, value in seconds.items():
        print(f"{label:<22} {value:8.1f} {args.rows / value:10,.0f} {copy_seconds / value:8.1%}")
    figures = {"rows": args.rows} | {
        label: {"seconds": round(value, 2), "vs_copy": round(copy_seconds / value, 3)}
        for label, value in seconds.items()
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
