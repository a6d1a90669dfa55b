"""The open data API against Datasette on the same data: a filter-and-page query fired N times at each.

Builds one dataset (200,000 rows, six fields) twice: as an open resource in a zerotrip SQLite database
(records in the JSON column, written with the datahub's own key and region rules) and as a plain SQLite table
for Datasette (typed columns, no indexes, as `sqlite-utils insert` or `csvs-to-sqlite` would leave it).
Datasette is installed into a throwaway virtual environment in a temporary directory, never into zerotrip's.
Both servers (one process, one worker each) listen on free ports on 127.0.0.1, and a client with a few
threads asks each for the same page in alternating bursts, so both see the same background load: one
district, sorted by price descending, page 5 of 50 rows, with the total count. Both answers are first
checked to hold the same 50 rows.

Run: .venv/bin/python bench/opendata_vs_datasette.py [--rows 200000] [--requests 600] [--threads 4]
Prints the figures per server and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from zerotrip.datahub import catalogue
from zerotrip.datahub.models import Record
from zerotrip.datahub.records import record_key_of, region_of
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.db import make_engine, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import system
from zerotrip.migrations import upgrade

CODE = "330100-land.parcel-transactions"
DISTRICTS = ["330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113"]
DISTRICTS += ["330114", "330122", "330127", "330182"]
USAGES = ["住宅", "商业", "办公", "工业"]
COLUMNS = ["parcel_no", "district", "month", "usage", "area", "price"]
PAGE, PER_PAGE, DISTRICT = 5, 50, "330106"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dataset(rows: int) -> list[dict[str, Any]]:
    rng = random.Random(2350)
    return [
        {
            "parcel_no": f"P{n:08d}",
            "district": rng.choice(DISTRICTS),
            "month": f"{rng.randint(2019, 2024)}-{rng.randint(1, 12):02d}",
            "usage": rng.choice(USAGES),
            "area": round(rng.uniform(20, 400), 2),
            "price": rng.randint(300_000, 30_000_000),
        }
        for n in range(rows)
    ]


def build_zerotrip(data_dir: Path, rows: list[dict[str, Any]]) -> None:
    """A migrated zerotrip database holding the rows as an open resource."""
    engine = make_engine(f"sqlite:///{data_dir / 'zerotrip.db'}")
    upgrade(engine)
    root = system("bench")
    with Session(engine) as db, transaction(db):
        province = actions.create_organisation(
            db, actor=root, kind="province", code="330000", name="浙江省", division_code="330000"
        )
        city = actions.create_organisation(
            db,
            actor=root,
            kind="city",
            code="330100",
            name="杭州市",
            division_code="330100",
            parent_id=province.id,
        )
        land = actions.create_organisation(
            db,
            actor=root,
            kind="department",
            code="330100-land",
            name="杭州市自然资源和规划局",
            division_code="330100",
            parent_id=city.id,
        )
        spec = ResourceSpec(
            code=CODE,
            owner_org_id=land.id,
            title="土地房屋交易",
            title_en="Parcel transactions",
            subject_kind="none",
            key_fields=["parcel_no"],
            region_field="district",
            share_type="unconditional",
            open_type="open",
            update_frequency="daily",
            legal_basis="《浙江省公共数据条例》",
            contact="杭州市自然资源和规划局",
            fields=[
                FieldSpec(name="parcel_no", title="宗地编号", is_required=True),
                FieldSpec(name="district", title="区县", check_kind="division_code"),
                FieldSpec(name="month", title="月份"),
                FieldSpec(name="usage", title="用途"),
                FieldSpec(name="area", title="面积", type="decimal"),
                FieldSpec(name="price", title="成交价", type="integer"),
            ],
        )
        resource = catalogue.catalogue_resource(db, actor=root, spec=spec)
        db.flush()
        now = datetime.now(UTC)
        # Core inserts for speed, with exactly the key and region `upsert_record` would compute.
        for start in range(0, len(rows), 10_000):
            chunk = rows[start : start + 10_000]
            db.execute(
                insert(Record),
                [
                    {
                        "id": start + i + 1,
                        "resource_id": resource.id,
                        "record_key": record_key_of(resource, row),
                        "division_code": region_of(resource, row),
                        "data": row,
                        "version": 1,
                        "is_deleted": False,
                        "updated_at": now,
                        "changed_by": "bench",
                        "change_seq": start + i + 1,
                    }
                    for i, row in enumerate(chunk)
                ],
            )
        resource.data_updated_at = now
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def build_plain(path: Path, rows: list[dict[str, Any]]) -> None:
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE parcels"
        " (parcel_no TEXT, district TEXT, month TEXT, usage TEXT, area REAL, price INTEGER)"
    )
    connection.executemany(
        "INSERT INTO parcels VALUES (?, ?, ?, ?, ?, ?)", [tuple(r[c] for c in COLUMNS) for r in rows]
    )
    connection.commit()
    connection.close()


def wait_until_up(port: int, path: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("the server did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def get_json(port: int, path: str) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
    return json.loads(body)


def fire(port: int, path: str, requests: int, threads: int) -> tuple[list[float], float]:
    """``requests`` GETs of ``path`` from ``threads`` keep-alive connections, bounded in count and time.
    Returns each request's latency and the wall-clock time of the whole burst."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = requests // threads
    deadline = time.perf_counter() + 300

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        for _ in range(per_thread):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, time.perf_counter() - started


def figures(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": round(len(ordered) / wall, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
    }


def datasette_page_path(port: int) -> tuple[str, list[str]]:
    """Datasette pages by keyset (``_next``), not by number: walk to page 5 once and keep its address."""
    query = {"district": DISTRICT, "_sort_desc": "price", "_size": str(PER_PAGE), "_shape": "objects"}
    path = "/data/parcels.json?" + urllib.parse.urlencode(query)
    for _ in range(PAGE - 1):
        page = get_json(port, path)
        path = "/data/parcels.json?" + urllib.parse.urlencode({**query, "_next": page["next"]})
    rows = get_json(port, path)["rows"]
    return path, [r["parcel_no"] for r in rows]


def start_datasette(work: Path, plain: Path) -> tuple[subprocess.Popen[bytes], int]:
    venv = work / "datasette-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "datasette"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    command = [
        str(venv / "bin" / "datasette"),
        "serve",
        str(plain),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    # No facet suggestions (zerotrip computes none); a generous time limit so the count is always exact.
    command += ["--setting", "suggest_facets", "off", "--setting", "sql_time_limit_ms", "10000"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(port, "/data.json", process)
    return process, port


def start_zerotrip(data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``zerotrip serve`` with one worker, as an operator would start it."""
    port = free_port()
    env = {
        **os.environ,
        "ZEROTRIP_DATA_DIR": str(data_dir),
        "ZEROTRIP_AUDIT__CHECKPOINT_INTERVAL_SECONDS": "0",
    }
    env["ZEROTRIP_DATAHUB__OPEN_RATE_PER_MINUTE"] = "0"  # the bench is one address firing on purpose
    env.pop("ZEROTRIP_DATABASE_URL", None)
    command = [sys.executable, "-m", "zerotrip", "serve", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(port, "/healthz", process)
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=600, help="per server, over all rounds")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating bursts, so both see the same load")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zerotrip-opendata-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        rows = dataset(args.rows)
        started = time.perf_counter()
        (work / "zerotrip").mkdir()
        build_zerotrip(work / "zerotrip", rows)
        build_plain(work / "data.db", rows)
        print(f"built {args.rows:,} rows twice in {time.perf_counter() - started:.1f} s")
        datasette_process, datasette_port = start_datasette(work, work / "data.db")
        processes.append(datasette_process)
        zerotrip_process, zerotrip_port = start_zerotrip(work / "zerotrip")
        processes.append(zerotrip_process)
        datasette_path, datasette_rows = datasette_page_path(datasette_port)
        query = {"district": DISTRICT, "sort": "-price", "page": PAGE, "per_page": PER_PAGE}
        zerotrip_path = f"/api/datahub/open/resources/{CODE}/records?" + urllib.parse.urlencode(query)
        zerotrip_rows = [r["parcel_no"] for r in get_json(zerotrip_port, zerotrip_path)["items"]]
        if datasette_rows != zerotrip_rows or len(zerotrip_rows) != PER_PAGE:
            raise RuntimeError("the two servers answered with different rows")
        targets = {"datasette": (datasette_port, datasette_path), "zerotrip": (zerotrip_port, zerotrip_path)}
        results: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in targets}
        for port, path in targets.values():
            fire(port, path, 20, 2)  # warm up
        for _ in range(args.rounds):
            for name, (port, path) in targets.items():
                latencies, wall = fire(port, path, args.requests // args.rounds, args.threads)
                results[name] = (results[name][0] + latencies, results[name][1] + wall)
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
    report = {name: figures(*result) for name, result in results.items()}
    for name, figure in report.items():
        print(
            f"{name:>10}: {figure['rps']:7.1f} req/s  p50 {figure['p50_ms']:6.1f} ms"
            f"  p99 {figure['p99_ms']:6.1f} ms  ({figure['requests']:.0f} requests)"
        )
    ratio = round(report["zerotrip"]["rps"] / report["datasette"]["rps"], 2)
    print(f"zerotrip/datasette throughput ratio: {ratio}")
    print(
        json.dumps(
            {
                "bench": "opendata_vs_datasette",
                "rows": args.rows,
                "query": f"district={DISTRICT}, sort -price, page {PAGE} of {PER_PAGE}, with the total",
                "threads": args.threads,
                "datasette": report["datasette"],
                "zerotrip": report["zerotrip"],
                "ratio_rps_zerotrip_to_datasette": ratio,
            }
        )
    )


if __name__ == "__main__":
    main()
