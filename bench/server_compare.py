"""granian against uvicorn behind ``zerotrip serve``: the booking rush's burst and the /healthz floor, in
alternating rounds on one world, with the CPU each request cost the server's workers.

Run: .venv/bin/python bench/server_compare.py [--engine sqlite|postgresql] [--rounds 3] [--attempts 3000]
     [--servers granian,uvicorn] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Builds the rush world of ``bench/booking_rush.py`` once (``--attempts`` attempts from 95 % as many residents
for a fifth as many seats in 5 slots), then for each round starts ``zerotrip serve --workers 2`` with each
server in turn (the order alternates between rounds, so neither always runs first): the burst (every
attempt on its own connection, all at once; the invariants checked against the database), then as many
GET /healthz sent the same way, then the database is reset and the server stopped. Besides throughput and
latency, each run reports the CPU milliseconds per request that the server's worker processes spent
(``server_cpu_ms``, from /proc) and that this client spent (``client_cpu_ms``): on a shared machine those
move far less than the rates do. Prints one JSON line per run and, last, the means per server as one line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
from booking_rush import (
    build,
    check,
    cpu_spent,
    health_burst,
    http_figures,
    plan_attempts,
    raise_file_limit,
    reset,
    rush,
    start_server,
    stop,
)

from zerotrip.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--attempts", type=int, default=3000)
    parser.add_argument("--servers", default="granian,uvicorn")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    raise_file_limit(args.attempts + 1024)
    servers = args.servers.split(",")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="zerotrip-servers-") as tmp:
        folder = Path(tmp)
        name = f"zerotrip_servers_{uuid.uuid4().hex[:10]}"
        base = args.pg_url.rsplit("/", 1)[0]
        if args.engine == "postgresql":
            with psycopg.connect(args.pg_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            url = f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
        else:
            url = f"sqlite:///{folder / 'servers.db'}"
        try:
            settings = Settings(data_dir=folder, database_url=url)
            people = args.attempts - args.attempts // 20
            world, sessions = build(url, settings, people=people, slots=5, seats=args.attempts // 5)
            attempts = plan_attempts(world, args.attempts)
            for round_ in range(args.rounds):
                for server in servers if round_ % 2 == 0 else servers[::-1]:
                    process, port = start_server(url, folder, 2, folder / f"{server}.log", server=server)
                    try:
                        with cpu_spent(process, len(attempts)) as burst_cpu:
                            answers = asyncio.run(rush(port, attempts, sessions, ramp=0.0, on_share=None))
                        burst = http_figures(answers, world.seats) | burst_cpu
                        check(url, world, answers)
                        with cpu_spent(process, len(attempts)) as floor_cpu:
                            floor = asyncio.run(health_burst(port, len(attempts)))
                        floor |= floor_cpu  # filled as the block ends
                    finally:
                        stop(process)
                    reset(url)
                    run = {
                        "round": round_,
                        "server": server,
                        "burst_per_s": burst["attempts_per_s"],
                        "burst_p50_ms": burst["p50_ms"],
                        "burst_p99_ms": burst["p99_ms"],
                        "burst_server_cpu_ms": burst["server_cpu_ms"],
                        "burst_client_cpu_ms": burst["client_cpu_ms"],
                        "floor_per_s": floor["requests_per_s"],
                        "floor_server_cpu_ms": floor["server_cpu_ms"],
                    }
                    runs.append(run)
                    print(json.dumps(run), flush=True)
        finally:
            if args.engine == "postgresql":
                with psycopg.connect(args.pg_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    means = {
        server: {
            key: round(statistics.mean(r[key] for r in runs if r["server"] == server), 3)
            for key in runs[0]
            if key not in ("round", "server")
        }
        for server in servers
    }
    print(json.dumps({"engine": args.engine, "attempts": args.attempts, "means": means}))


if __name__ == "__main__":
    main()
