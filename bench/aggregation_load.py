"""Aggregation throughput: a large CSV validated and loaded through ``load_rows``, against PostgreSQL COPY.

Run: .venv/bin/python bench/aggregation_load.py [--rows N] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Generates a CSV shaped like the real-estate register (valid resident IDs, unique certificate numbers,
decimals, an enumeration, dates, division codes) in a temporary folder, creates a uniquely named PostgreSQL
database, migrates it, loads the file through ``zerotrip.datahub.aggregation.load_rows`` (one transaction,
as the CLI does), COPYs the same file into a plain table with the same columns, typed, and a primary key on
the certificate number just before and just after that first load (the ratio is against their mean), loads
it a second time (every row unchanged), and finally writes the same rows as records entirely inside the
server (INSERT ... SELECT from that table: no Python, no validation), the floor that the record schema sets.
Drops the database at the end. Prints the figures and, last, one JSON line. Peak memory is the process's
peak resident set size.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import psycopg
from sqlalchemy import text

from zerotrip.common.checks import make_resident_id
from zerotrip.datahub import aggregation, catalogue, queries, readers
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import system
from zerotrip.migrations import upgrade

ACTOR = system("bench")
CODE = "330100-land.real-estate"
FLOOR = "330100-land.real-estate-floor"
COUNTIES = ["330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113"]
USAGES = ["住宅", "商业", "办公", "工业"]
PLAIN_TABLE = """CREATE TABLE bench_plain (
    certificate_no text PRIMARY KEY, holder_id text NOT NULL, holder_name text NOT NULL,
    address text NOT NULL, area numeric NOT NULL, usage text, registered_on date, district text)"""


def cpu_seconds() -> float:
    """CPU time this process has used (all threads), whatever else runs on the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(pid: int) -> float:
    """CPU time a PostgreSQL backend (on this machine) has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    born = date(1950, 1, 1)
    people = [
        make_resident_id(
            division_code=rng.choice(COUNTIES),
            birth_date=born + timedelta(days=rng.randrange(365 * 55)),
            sequence=rng.randrange(1000),
            sex=rng.choice(["male", "female"]),
        )
        for _ in range(20_000)
    ]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "certificate_no",
                "holder_id",
                "holder_name",
                "address",
                "area",
                "usage",
                "registered_on",
                "district",
            ]
        )
        for i in range(rows):
            district = COUNTIES[i % len(COUNTIES)]
            writer.writerow(
                [
                    f"浙(2024)杭州市不动产权第{i:08d}号",
                    people[i % len(people)],
                    "张三" if i % 2 else "李四",
                    f"杭州市某区某路{i % 997}号{i % 31}幢{i % 300}室",
                    f"{40 + (i % 2000) / 10:.2f}",
                    USAGES[i % 4],
                    (date(2000, 1, 1) + timedelta(days=i % 9000)).isoformat(),
                    district,
                ]
            )


def spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code=CODE,
        owner_org_id=owner_org_id,
        title="不动产登记信息",
        subject_kind="resident_id",
        subject_field="holder_id",
        key_fields=["certificate_no"],
        share_type="conditional",
        update_frequency="daily",
        legal_basis="《不动产登记暂行条例》",
        contact="bench",
        region_field="district",
        fields=[
            FieldSpec(name="certificate_no", title="不动产权证号", grade=2, is_required=True, is_unique=True),
            FieldSpec(
                name="holder_id", title="权利人身份证号", grade=2, is_required=True, check_kind="resident_id"
            ),
            FieldSpec(name="holder_name", title="权利人姓名", grade=2, is_required=True),
            FieldSpec(name="address", title="坐落", grade=3, is_required=True),
            FieldSpec(name="area", title="建筑面积", type="decimal", is_required=True),
            FieldSpec(name="usage", title="用途", enumeration=USAGES),
            FieldSpec(name="registered_on", title="登记日期", type="date"),
            FieldSpec(name="district", title="所在区县", check_kind="division_code"),
        ],
    )


class Cpu(NamedTuple):
    client: float  # seconds of CPU in this process
    server: float  # seconds of CPU in the PostgreSQL backend that served it

    def per_row(self, rows: int) -> dict[str, float]:
        return {
            "client_us": round(self.client / rows * 1e6, 2),
            "server_us": round(self.server / rows * 1e6, 2),
        }


def load(url: str, path: Path, rows: int) -> tuple[float, dict[str, int], Cpu]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, path.open("rb") as raw:
            backend = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
            db.commit()
            cpu_before, server_before = cpu_seconds(), backend_cpu(backend)
            started = time.perf_counter()
            with transaction(db):
                fields = queries.list_fields(db, queries.get_resource(db, CODE).id)
                stream = readers.read_rows(raw, format="csv", fields=fields)

                def progress(done: int) -> None:
                    if done % 100_000 == 0:
                        elapsed = time.perf_counter() - started
                        print(f"  {done:>9,} rows  {elapsed:6.1f} s  peak RSS {rss_mb():6.0f} MB", flush=True)

                batch = aggregation.load_rows(
                    db,
                    actor=ACTOR,
                    resource_code=CODE,
                    rows=stream,
                    source="cli",
                    format="csv",
                    progress=progress,
                )
            seconds = time.perf_counter() - started
            cpu = Cpu(cpu_seconds() - cpu_before, backend_cpu(backend) - server_before)
            counts = {k: getattr(batch, k) for k in aggregation.COUNTS}
    finally:
        engine.dispose()
    assert counts["rows_total"] == rows, counts
    return seconds, counts, cpu


def copy(admin_url: str, name: str, path: Path) -> tuple[float, Cpu]:
    with psycopg.connect(f"{admin_url.rsplit('/', 1)[0]}/{name}") as conn:
        conn.execute("DROP TABLE IF EXISTS bench_plain")
        conn.execute(PLAIN_TABLE)
        conn.commit()
        backend = conn.info.backend_pid
        cpu_before, server_before = cpu_seconds(), backend_cpu(backend)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_plain FROM STDIN WITH (FORMAT csv, HEADER true)") as sink,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                sink.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        return seconds, Cpu(cpu_seconds() - cpu_before, backend_cpu(backend) - server_before)


def server_floor(admin_url: str, name: str) -> tuple[float, Cpu]:
    """The same rows written as records inside the server from the plain table: no Python, no validation.
    What the record schema itself costs (one row per new record, JSONB, five indexes; ADR 0001)."""
    with psycopg.connect(f"{admin_url.rsplit('/', 1)[0]}/{name}") as conn:
        row = conn.execute("SELECT id FROM datahub_resource WHERE code = %s", (FLOOR,)).fetchone()
        assert row is not None
        backend = conn.info.backend_pid
        cpu_before, server_before = cpu_seconds(), backend_cpu(backend)
        started = time.perf_counter()
        conn.execute(
            "INSERT INTO datahub_record (resource_id, record_key, subject_key, division_code, data, version,"
            " is_deleted, updated_at, changed_by, change_seq) SELECT %s, certificate_no, holder_id, district,"
            " to_jsonb(p), 1, false, now(), 'bench', nextval('datahub_record_change_seq') FROM bench_plain p",
            row,
        )
        conn.commit()
        seconds = time.perf_counter() - started
        return seconds, Cpu(cpu_seconds() - cpu_before, backend_cpu(backend) - server_before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"zerotrip_bench_{uuid.uuid4().hex[:10]}"
    url = f"{args.pg_url.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    with tempfile.TemporaryDirectory(prefix="zerotrip-bench-") as folder:
        path = Path(folder) / "real-estate.csv"
        started = time.perf_counter()
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")
        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            engine = make_engine(url)
            upgrade(engine)
            with make_sessionmaker(engine)() as db, transaction(db):
                org = actions.create_organisation(
                    db, actor=ACTOR, kind="province", code="330000", name="浙江省", division_code="330000"
                )
                catalogue.catalogue_resource(db, actor=ACTOR, spec=spec(org.id))
                floor_spec = spec(org.id).model_copy(update={"code": FLOOR})
                catalogue.catalogue_resource(db, actor=ACTOR, spec=floor_spec)
            engine.dispose()
            rss_before = rss_mb()
            # The machine is shared: COPY runs just before and just after the first load, and the ratio is
            # taken against their mean, so a change in background load during the run shows as a spread.
            copy_before, copy_cpu = copy(args.pg_url, name, path)
            print(
                f"COPY into a plain table, before: {copy_before:.1f} s, {args.rows / copy_before:,.0f} rows/s"
            )
            print("load_rows, first load (every row new):")
            first, counts, load_cpu = load(url, path, args.rows)
            print(f"  {first:.1f} s, {args.rows / first:,.0f} rows/s, {counts}")
            copy_after, _ = copy(args.pg_url, name, path)
            print(f"COPY into a plain table, after: {copy_after:.1f} s, {args.rows / copy_after:,.0f} rows/s")
            print("load_rows, second load (every row unchanged):")
            second, counts_again, reload_cpu = load(url, path, args.rows)
            print(f"  {second:.1f} s, {args.rows / second:,.0f} rows/s, {counts_again}")
            floor_seconds, floor_cpu = server_floor(args.pg_url, name)
            print(
                f"records written inside the server: {floor_seconds:.1f} s,"
                f" {args.rows / floor_seconds:,.0f} rows/s"
            )
        finally:
            with psycopg.connect(args.pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    copy_seconds = (copy_before + copy_after) / 2
    cpu_rows = {
        "load": load_cpu.per_row(args.rows),
        "reload_unchanged": reload_cpu.per_row(args.rows),
        "copy": copy_cpu.per_row(args.rows),
        "server_floor": floor_cpu.per_row(args.rows),
    }
    figures = {
        "rows": args.rows,
        "file_mb": round(size_mb, 1),
        "load_seconds": round(first, 2),
        "load_rows_per_s": round(args.rows / first),
        "reload_unchanged_seconds": round(second, 2),
        "reload_rows_per_s": round(args.rows / second),
        "copy_before_seconds": round(copy_before, 2),
        "copy_after_seconds": round(copy_after, 2),
        "copy_rows_per_s": round(args.rows / copy_seconds),
        "load_vs_copy": round(copy_seconds / first, 3),
        "load_vs_copy_range": [round(copy_before / first, 3), round(copy_after / first, 3)],
        "reload_vs_copy": round(copy_seconds / second, 3),
        "server_floor_seconds": round(floor_seconds, 2),
        "server_floor_rows_per_s": round(args.rows / floor_seconds),
        "server_floor_vs_copy": round(copy_seconds / floor_seconds, 3),
        "load_vs_server_floor": round(floor_seconds / first, 3),
        # CPU per row, which background load does not change: the client (this process, all threads) and
        # the PostgreSQL backend serving it. On an idle two-core machine a load that overlaps the two
        # perfectly takes max(client, server) per row, and COPY about client + server.
        "cpu_per_row": cpu_rows,
        "load_vs_copy_idle_bound": round(
            (copy_cpu.client + copy_cpu.server) / max(load_cpu.client, load_cpu.server), 3
        ),
        "rss_before_load_mb": round(rss_before),
        "peak_rss_mb": round(rss_mb()),
        "python": sys.version.split()[0],
    }
    ratio, peak = figures["load_vs_copy"], figures["peak_rss_mb"]
    print(f"load_rows reached {ratio:.1%} of COPY's speed; peak RSS {peak} MB")
    for what, per_row in cpu_rows.items():
        client, server = per_row["client_us"], per_row["server_us"]
        print(f"  CPU per row, {what}: client {client} us, server {server} us")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
