"""Citizen notifications through the outbox to a local SMTP server: messages per second.

Run: .venv/bin/python bench/outbox_throughput.py [--engine sqlite|postgresql|both] [--messages 2000]
     [--workers 1] [--batch-size 100] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

For each engine: a database of its own (a temporary SQLite file, or a uniquely named PostgreSQL database),
migrated; ``--messages`` registered people who each gave an e-mail address; one notification each written
through ``messaging.actions.notify_many`` (its in-app and its e-mail delivery), timed. A local aiosmtpd
server that only counts what arrives (and each message's Message-ID); then ``--workers`` processes of
``zerotrip worker --drain`` against the database, until every delivery is sent. Reports the e-mails per
second between the first and the last arrival at the server, the same from the workers' start (their
start-up included), and checks that every e-mail arrived exactly once and every delivery says sent. The
database is dropped at the end, always. Prints the figures and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, select

from zerotrip.common import clock
from zerotrip.common.checks import make_resident_id
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import system
from zerotrip.messaging.actions import NotificationRequest, notify_many
from zerotrip.messaging.models_notifications import Delivery, Preference
from zerotrip.migrations import upgrade

ROOT = system("bench")
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.M | re.I)


class CountingHandler:
    """Keeps each arrival's Message-ID and time; parses nothing else."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.arrivals.append((time.perf_counter(), found.group(1).decode() if found else "?"))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def populate(url: str, count: int) -> float:
    """``count`` people with an e-mail address and one notification each; returns the seconds
    ``notify_many`` took to write them (their deliveries included)."""
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        with sessions() as db, transaction(db):
            people = []
            for i in range(count):
                person = actions.register_person(
                    db,
                    actor=ROOT,
                    resident_id=make_resident_id(
                        division_code="330106",
                        birth_date=date(1950, 1, 1) + timedelta(days=i // 500),
                        sequence=i % 500 * 2,
                        sex="female",
                    ),
                    name=f"收件人{i}",
                    division_code="330106",
                    audit=False,
                )
                people.append(person)
            db.flush()
            now = clock.now()
            db.execute(
                insert(Preference),
                [
                    {
                        "person_id": p.id,
                        "language": "zh_Hans",
                        "email": f"person{i}@example.cn",
                        "phone": None,
                        "channels": {},
                        "updated_at": now,
                    }
                    for i, p in enumerate(people)
                ],
            )
        requests = [
            NotificationRequest(
                template="services.application.approved",
                params={"number": f"BJ{i:010d}", "item_name": "住房公积金提取（租赁住房）"},
                dedupe_key=f"bench:{i}",
                person_id=p.id,
                link=f"/me/applications/BJ{i:010d}",
            )
            for i, p in enumerate(people)
        ]
        started = time.perf_counter()
        with sessions() as db, transaction(db):
            for start in range(0, len(requests), 1000):
                notify_many(db, requests[start : start + 1000])
        return time.perf_counter() - started
    finally:
        engine.dispose()


def run_workers(url: str, data_dir: Path, smtp_port: int, workers: int, batch_size: int) -> float:
    """``workers`` processes of ``zerotrip worker --drain``; returns when they started (perf_counter)."""
    env = {
        **os.environ,
        "ZEROTRIP_DATABASE_URL": url,
        "ZEROTRIP_DATA_DIR": str(data_dir),
        "ZEROTRIP_MESSAGING__SMTP_HOST": "127.0.0.1",
        "ZEROTRIP_MESSAGING__SMTP_PORT": str(smtp_port),
        "ZEROTRIP_MESSAGING__MAIL_FROM": "浙江政务服务网 <no-reply@zwfw.example.cn>",
        "ZEROTRIP_MESSAGING__BATCH_SIZE": str(batch_size),
        "ZEROTRIP_MESSAGING__POLL_SECONDS": "0.05",
    }
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "zerotrip", "worker", "--drain"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(workers)
    ]
    for process in processes:
        output, _ = process.communicate(timeout=1800)
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed:\n{output.decode()}")
    return started


def measure(engine_kind: str, url: str, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    upgrade_engine = make_engine(url)
    upgrade(upgrade_engine)
    upgrade_engine.dispose()
    write_seconds = populate(url, args.messages)
    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        started = run_workers(url, data_dir, port, args.workers, args.batch_size)
    finally:
        controller.stop()
    times = sorted(t for t, _ in handler.arrivals)
    received = Counter(mid for _, mid in handler.arrivals)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            rows = db.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
            statuses = {status: count for status, count in rows}
    finally:
        engine.dispose()
    if len(received) != args.messages or max(received.values()) != 1:
        raise RuntimeError(
            f"expected {args.messages} distinct messages once each, got {len(handler.arrivals)}"
        )
    if statuses != {"sent": 2 * args.messages}:
        raise RuntimeError(f"deliveries not all sent: {statuses}")
    window = times[-1] - times[0]
    return {
        "engine": engine_kind,
        "messages": args.messages,
        "workers": args.workers,
        "batch_size": args.batch_size,
        "notify_many_per_s": round(args.messages / write_seconds),
        "emails_per_s": round((args.messages - 1) / window, 1),
        "emails_per_s_from_start": round(args.messages / (times[-1] - started), 1),
        "worker_start_to_first_s": round(times[0] - started, 2),
        "exactly_once": True,
    }


def create_pg_database(admin_url: str) -> tuple[str, str]:
    name = f"zerotrip_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_pg_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    results = []
    for kind in engines:
        with tempfile.TemporaryDirectory(prefix="zerotrip-outbox-") as folder:
            data_dir = Path(folder)
            if kind == "sqlite":
                result = measure(kind, f"sqlite:///{data_dir / 'bench.db'}", args, data_dir)
            else:
                name, url = create_pg_database(args.pg_url)
                try:
                    result = measure(kind, url, args, data_dir)
                finally:
                    drop_pg_database(args.pg_url, name)
        results.append(result)
        print(
            f"{kind}: {result['messages']} e-mails with {result['workers']} worker(s), batches of"
            f" {result['batch_size']}: {result['emails_per_s']} e-mails/s at the SMTP server"
            f" ({result['emails_per_s_from_start']}/s from the workers' start, first after"
            f" {result['worker_start_to_first_s']} s); notify_many wrote {result['notify_many_per_s']}"
            " notifications/s; every e-mail exactly once"
        )
    print(json.dumps({"bench": "outbox_throughput", "results": results}))


if __name__ == "__main__":
    main()
