"""Gateway lookups against a raw SQL lookup plus audit insert, on the same PostgreSQL database.

Run: .venv/bin/python bench/gateway_lookup.py [--records 20000] [--connections 8] [--seconds 10] [--rounds 2]
     [--workers 2] [--client wrk|threads] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a uniquely named PostgreSQL database, migrates it, and in one transaction builds a small world: a
province, the land bureau (owner of a real-estate register keyed by resident ID, with graded fields) and the
data bureau (whose department system is the consumer API client), a data steward, N titles held by N/2
residents (two each), and a conditional share request from the consumer approved by the steward (a live
grant on four fields, masked). Starts ``zerotrip serve --workers 2`` on a free 127.0.0.1 port against that
database, obtains a bearer token from the OAuth2 token endpoint, then alternates, for ``--rounds`` rounds of
``--seconds`` each, two paths with the same number of concurrent callers asking for random residents:

* zerotrip: POST /api/datahub/gateway/{code}/lookup with one subject (token, rate limit, grant check, field
  choice, masking, provenance and one audit event: one read and one INSERT) over keep-alive HTTP. The client
  is ``wrk`` (Debian's package, installed here with apt-get when missing) running a Lua script that posts a
  random subject per request over ``--connections`` connections from one thread, and counts every answer
  that is not a 200 holding the subject's two records with masked values. ``--client threads`` uses the
  earlier client instead: ``--connections`` httpx threads in this process, checking each answer in Python.
* raw: ``--connections`` threads in this process, each with its own psycopg connection, running the
  indexed ``SELECT data FROM datahub_record`` for the subject and an ``INSERT INTO audit_event`` of a
  comparable row (same columns, a SHA-256 digest computed in Python), committed per request.

Why wrk: on a 2-core machine that also runs PostgreSQL and the server, eight httpx threads in the same
process as the raw path's clients spent a large share of the CPU on building and parsing HTTP in Python,
which is the consumer's cost, not the gateway's. wrk's C event loop costs a few microseconds a request, so
the HTTP side is measured with a cheaper client than before; the raw side is unchanged (its clients are
the "application" doing SQL itself, so their Python time belongs to that path).

After each zerotrip round the benchmark counts the audit events the gateway wrote (rows with a request id,
which the raw path leaves empty) and checks that every answered lookup has one. Both paths run on the same
machine as their client; the raw path has no HTTP, no authentication and no grant check, which is the
point of the comparison. Stops the server and drops the database at the end, always. Prints the figures
per path and, last, one JSON line. p50 and p99 over several rounds are request-weighted means of each
round's percentiles (wrk reports its percentiles per run), for both paths alike. Also printed: the
server's CPU time per answered lookup (its supervisor and workers, from /proc, over the measured rounds)
and the load average at the start and the end.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from zerotrip.common.checks import make_resident_id
from zerotrip.config import DatahubSettings
from zerotrip.datahub import sharing
from zerotrip.datahub.records import upsert_records
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.demo.datahub_world import REAL_ESTATE, USAGES, build_land_world
from zerotrip.identity.actor import Actor, system
from zerotrip.migrations import upgrade

ROOT = system("bench")
CODE = REAL_ESTATE
PURPOSE = "住房公积金提取审核"
GRANTED = ["holder_id", "holder_name", "address", "area"]
COUNTIES = ["330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113"]
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway database's steward


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def residents(count: int) -> list[str]:
    rng = random.Random(11)
    born = date(1950, 1, 1)
    people: set[str] = set()
    while len(people) < count:
        people.add(
            make_resident_id(
                division_code=rng.choice(COUNTIES),
                birth_date=born + timedelta(days=rng.randrange(365 * 55)),
                sequence=rng.randrange(1000),
                sex=rng.choice(["male", "female"]),
            )
        )
    return sorted(people)


def build_world(url: str, records: int) -> tuple[str, str, list[str], int]:
    """The world, in one transaction. Returns the consumer's client id and secret, the residents and the
    resource id."""
    people = residents(max(1, records // 2))
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            world = build_land_world(db, actor=ROOT, steward_password=PASSWORD)
            steward, client, secret, resource = (
                world.steward,
                world.consumer,
                world.consumer_secret,
                world.real_estate,
            )
            rows = [
                {
                    "certificate_no": f"浙(2024)杭州市不动产权第{i:08d}号",
                    "holder_id": people[i % len(people)],
                    "holder_name": ["张三丰", "李四", "王五", "赵六", "钱七"][i % 5],
                    "address": f"杭州市某区某路{i % 997}号{i % 31}幢{i % 300}室",
                    "area": f"{40 + (i % 2000) / 10:.2f}",
                    "usage": USAGES[i % 4],
                    "registered_on": (date(2000, 1, 1) + timedelta(days=i % 9000)).isoformat(),
                    "district": COUNTIES[i % len(COUNTIES)],
                }
                for i in range(records)
            ]
            for start in range(0, len(rows), 2_000):
                upsert_records(
                    db, resource=resource, rows=rows[start : start + 2_000], changed_by="bench", existing={}
                )
            consumer = Actor(
                kind="client", name=client.name, client_id=client.client_id, client_org_id=client.org_id
            )
            settings = DatahubSettings()
            request = sharing.request_share(
                db,
                actor=consumer,
                resource_code=CODE,
                fields=GRANTED,
                purpose=PURPOSE,
                legal_basis="《住房公积金管理条例》第二十四条",
                settings=settings,
            )
            sharing.approve_share_request(db, actor=steward, number=request.number, settings=settings)
            client_id, resource_id = client.client_id, resource.id
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return client_id, secret, people, resource_id


def wait_until_up(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the server did not come up")


def start_zerotrip(data_dir: Path, url: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "ZEROTRIP_DATA_DIR": str(data_dir),
        "ZEROTRIP_DATABASE_URL": url,
        "ZEROTRIP_DATAHUB__GATEWAY_RATE_PER_MINUTE": "1000000",  # the bench is one client firing on purpose
        "ZEROTRIP_AUDIT__CHECKPOINT_INTERVAL_SECONDS": "0",
    }
    command = [sys.executable, "-m", "zerotrip", "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(port, process)
    except BaseException:
        stop(process)  # uvicorn's supervisor would go on restarting workers that cannot start
        print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def token(port: int, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/identity/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def run_threads(threads: int, seconds: float, work: Any) -> tuple[list[float], float]:
    """``threads`` threads each calling ``work(rng)`` until ``seconds`` have passed (and at most 200,000
    times each). Returns each call's latency and the wall-clock time."""
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine: list[float] = []
        try:
            deadline = time.perf_counter() + seconds
            for _ in range(200_000):
                if time.perf_counter() >= deadline:
                    break
                started = time.perf_counter()
                work(n, rng)
                mine.append(time.perf_counter() - started)
        except BaseException as error:  # reported once the threads are joined
            failures.append(error)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
    return latencies, time.perf_counter() - started


WRK_SCRIPT = r"""
-- Written by bench/gateway_lookup.py: one gateway lookup of a random subject per request.
local subjects = {}
bad = 0  -- global: done() reads it from each thread with thread:get
local threads = {}
local path = os.getenv("ZT_PATH")
local purpose = os.getenv("ZT_PURPOSE")

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("ZT_SUBJECTS")) do
    subjects[#subjects + 1] = line
  end
  math.randomseed(id * 7919)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("ZT_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local subject = subjects[math.random(#subjects)]
  local body = '{"subjects":["' .. subject .. '"],"purpose":"' .. purpose .. '","on_behalf_of":"bench"}'
  return wrk.format(nil, path, nil, body)
end

-- An answer counts only if it holds the subject's two records with masked values.
function response(status, headers, body)
  local _, sources = string.gsub(body, '"source":', "")
  if status ~= 200 or sources ~= 2 or not string.find(body, '"masked":true', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'ZTWRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"bad":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), failed,
    e.connect + e.read + e.write + e.timeout))
end
"""


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages when it is missing and this runs as root."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise SystemExit("wrk is not installed: apt-get install wrk (or run with --client threads)")
    print("installing wrk with apt-get")
    if subprocess.run([apt, "install", "-y", "wrk"], capture_output=True).returncode != 0:
        subprocess.run([apt, "update"], capture_output=True, check=True)
        subprocess.run([apt, "install", "-y", "wrk"], capture_output=True, check=True)
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("apt-get did not install wrk")
    return found


def run_wrk(
    wrk: str, *, port: int, folder: Path, token: str, path: str, connections: int, seconds: float
) -> dict[str, float]:
    """One wrk run; its figures, with the count of wrong answers and socket errors."""
    script = folder / "lookup.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    env = {
        **os.environ,
        "ZT_PATH": path,
        "ZT_PURPOSE": PURPOSE,
        "ZT_TOKEN": token,
        "ZT_SUBJECTS": str(folder / "subjects.txt"),
    }
    command = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}"]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("ZTWRK "))
    result = json.loads(line.removeprefix("ZTWRK "))
    wall = result["duration_us"] / 1e6
    return {
        "requests": result["requests"],
        "wall": wall,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "bad": result["bad"],
        "errors": result["errors"],
    }


def thread_figures(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "wall": wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "bad": 0,
        "errors": 0,
    }


def combine(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Rounds together: throughput over their summed time; percentiles weighted by requests."""
    requests = sum(r["requests"] for r in rounds)
    wall = sum(r["wall"] for r in rounds)
    return {
        "requests": requests,
        "rps": round(requests / wall, 1),
        "p50_ms": round(sum(r["p50_ms"] * r["requests"] for r in rounds) / requests, 2),
        "p99_ms": round(sum(r["p99_ms"] * r["requests"] for r in rounds) / requests, 2),
    }


def tree_cpu_seconds(root: int) -> float:
    """User plus system CPU time of a process and every live process below it (the server's workers),
    read from /proc (0.0 where there is no /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid, cpu in times.items():
        ancestor = pid
        while ancestor > 1 and ancestor != root:
            ancestor = parents.get(ancestor, 0)
        if ancestor == root:
            total += cpu
    return total


def gateway_events(admin: psycopg.Connection[Any]) -> int:
    """Read events the gateway wrote: the raw path writes the same action, but no request id."""
    row = admin.execute(
        "SELECT count(*) FROM audit_event WHERE action = 'datahub.record.read' AND request_id IS NOT NULL"
    ).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--connections", "--threads", type=int, default=8, help="concurrent callers per path")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client", choices=["wrk", "threads"], default="wrk", help="the HTTP side's client")
    parser.add_argument("--seconds", type=float, default=10.0, help="per path and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating, so both see the same load")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    wrk = ensure_wrk() if args.client == "wrk" else None
    name = f"zerotrip_bench_{uuid.uuid4().hex[:10]}"
    base = args.pg_url.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    raw_url = f"{base}/{name}"
    process: subprocess.Popen[bytes] | None = None
    with psycopg.connect(args.pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="zerotrip-gateway-bench-") as tmp:
            folder = Path(tmp)
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            started = time.perf_counter()
            client_id, secret, people, resource_id = build_world(url, args.records)
            took = time.perf_counter() - started
            print(f"built {args.records:,} records for {len(people):,} residents in {took:.1f} s")
            (folder / "subjects.txt").write_text("\n".join(people) + "\n", encoding="utf-8")
            process, port = start_zerotrip(folder, url, args.workers, folder / "server.log")
            bearer = token(port, client_id, secret)
            path = f"/api/datahub/gateway/{CODE}/lookup"
            clients = [
                httpx.Client(
                    base_url=f"http://127.0.0.1:{port}",
                    headers={"Authorization": f"Bearer {bearer}"},
                    timeout=30,
                )
                for _ in range(args.connections if wrk is None else 0)
            ]
            connections = [psycopg.connect(raw_url) for _ in range(args.connections)]
            counter = psycopg.connect(raw_url, autocommit=True)

            def zerotrip_lookup(n: int, rng: random.Random) -> None:
                body = {"subjects": [rng.choice(people)], "purpose": PURPOSE, "on_behalf_of": "bench"}
                response = clients[n].post(path, json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"lookup: {response.status_code} {response.text[:300]}")
                (result,) = response.json()["results"]
                if len(result["records"]) != 2 or not result["records"][0]["fields"]["holder_name"]["masked"]:
                    raise RuntimeError(f"unexpected answer {result!r}")

            def raw_lookup(n: int, rng: random.Random) -> None:
                subject = rng.choice(people)
                conn = connections[n]
                rows = conn.execute(
                    "SELECT data FROM datahub_record WHERE resource_id = %s AND subject_key = %s"
                    " AND NOT is_deleted ORDER BY id",
                    (resource_id, subject),
                ).fetchall()
                if len(rows) != 2:
                    raise RuntimeError(f"raw: {len(rows)} rows for {subject}")
                now = datetime.now(UTC)
                data = {
                    "consumer": client_id,
                    "consumer_name": "一网通办平台",
                    "resource": CODE,
                    "fields": GRANTED,
                    "purpose": PURPOSE,
                    "on_behalf_of": "bench",
                    "records": len(rows),
                }
                payload = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                digest = hashlib.sha256(f"{now.isoformat()}|{subject}|{payload}".encode()).digest()
                conn.execute(
                    "INSERT INTO audit_event (occurred_at, actor, action, subject_type, subject_id, data,"
                    " request_id, digest) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s)",
                    (
                        now,
                        f"client:{client_id}",
                        "datahub.record.read",
                        "person",
                        subject,
                        payload,
                        None,
                        digest,
                    ),
                )
                conn.commit()

            def zerotrip_round(seconds: float) -> dict[str, float]:
                before = gateway_events(counter)
                cpu_before = tree_cpu_seconds(process.pid)
                if wrk is None:
                    figures = thread_figures(*run_threads(args.connections, seconds, zerotrip_lookup))
                else:
                    figures = run_wrk(
                        wrk,
                        port=port,
                        folder=folder,
                        token=bearer,
                        path=path,
                        connections=args.connections,
                        seconds=seconds,
                    )
                    if figures["bad"] or figures["errors"]:
                        raise RuntimeError(f"wrk: {figures['bad']} wrong answers, {figures['errors']} errors")
                server_cpu.append((tree_cpu_seconds(process.pid) - cpu_before, figures["requests"]))
                time.sleep(0.5)  # the calls wrk left in flight finish
                written = gateway_events(counter) - before
                # Every answered lookup wrote its event; calls cut off at the end may have written one too.
                if not figures["requests"] <= written <= figures["requests"] + args.connections:
                    raise RuntimeError(f"{written} audit events for {figures['requests']} answered lookups")
                return figures

            def raw_round(seconds: float) -> dict[str, float]:
                return thread_figures(*run_threads(args.connections, seconds, raw_lookup))

            server_cpu: list[tuple[float, float]] = []  # (seconds, lookups) per zerotrip round
            paths = {"zerotrip": zerotrip_round, "raw": raw_round}
            results: dict[str, list[dict[str, float]]] = {label: [] for label in paths}
            try:
                for work in paths.values():  # warm up every connection and both workers
                    work(1.0)
                server_cpu.clear()
                for round_ in range(args.rounds):
                    for label, work in paths.items():
                        figures = work(args.seconds)
                        results[label].append(figures)
                        rps = figures["requests"] / figures["wall"]
                        print(
                            f"round {round_ + 1} {label:>8}: {rps:8.1f} req/s"
                            f"  p50 {figures['p50_ms']:7.2f} ms  p99 {figures['p99_ms']:7.2f} ms"
                        )
            finally:
                for client in clients:
                    client.close()
                for conn in connections:
                    conn.close()
                counter.close()
                stop(process)
    finally:
        if process is not None:
            stop(process)
        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report = {label: combine(rounds) for label, rounds in results.items()}
    for label, figure in report.items():
        print(
            f"{label:>10}: {figure['rps']:8.1f} req/s  p50 {figure['p50_ms']:7.2f} ms"
            f"  p99 {figure['p99_ms']:7.2f} ms  ({figure['requests']:.0f} requests)"
        )
    cpu_ms = 1000 * sum(cpu for cpu, _ in server_cpu) / max(1.0, sum(n for _, n in server_cpu))
    print(f"server CPU per lookup (all its processes): {cpu_ms:.2f} ms")
    load = [round(x, 2) for x in os.getloadavg()]
    print(f"load average at the end: {load[0]} {load[1]} {load[2]} (at the start: {load_at_start})")
    ratio = round(report["zerotrip"]["rps"] / report["raw"]["rps"], 3)
    verdict = "meets" if ratio >= 1 / 3 else "misses"
    print(f"zerotrip/raw throughput ratio: {ratio} ({verdict} the one-third target)")
    print(
        json.dumps(
            {
                "bench": "gateway_lookup",
                "records": args.records,
                "residents": len(people),
                "workers": args.workers,
                "client": args.client,
                "connections": args.connections,
                "seconds": args.seconds * args.rounds,
                "cpus": os.cpu_count(),
                "zerotrip": report["zerotrip"],
                "raw": report["raw"],
                "ratio_rps_zerotrip_to_raw": ratio,
                "server_cpu_ms_per_lookup": round(cpu_ms, 2),
                "load_average": {"start": load_at_start, "end": load},
                "target_ratio": round(1 / 3, 3),
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
