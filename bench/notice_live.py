"""Live delivery of a staff notice to many open pages: 2,000 server-sent event streams, one notice, how
long until every stream has seen it.

Run: .venv/bin/python bench/notice_live.py [--connections 2000] [--staff 100] [--workers 2]
     [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a uniquely named PostgreSQL database, migrates it, and builds a province with one county bureau
holding ``--staff`` staff members and a publisher; signs each staff member in once (a session each) and
starts ``zerotrip serve --workers N`` on a free 127.0.0.1 port. One asyncio client process opens
``--connections`` streams (``GET /staff/notices/stream``, spread evenly over the sessions, so several
pages of one person are open, as with a phone and a desk) on raw sockets and waits until every stream has
said ``ready``. Then the publisher's notice to the bureau is published in a transaction of this process,
and each stream's arrival of the ``notice`` event is timed from the commit. Prints the time until every
stream had it, p50 and p99 of the arrivals, and the polls the workers made; last, one JSON line. Stops the
server and drops the database at the end, always. Raises the soft limit on open files for the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg

from zerotrip.config import IdentitySettings, NoticesSettings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import system
from zerotrip.identity.secrets import hash_password
from zerotrip.messaging import notices
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec
from zerotrip.migrations import upgrade

ROOT = system("bench")
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway database's staff


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(url: str, staff: int) -> tuple[list[str], int]:
    """The world; returns the staff's session tokens and the bureau's id."""
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    hashed = hash_password(PASSWORD)
    with factory() as db, transaction(db):
        province = actions.create_organisation(
            db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
        )
        city = actions.create_organisation(
            db,
            actor=ROOT,
            kind="city",
            code="330100",
            name="杭州市",
            division_code="330100",
            parent_id=province.id,
        )
        county = actions.create_organisation(
            db,
            actor=ROOT,
            kind="county",
            code="330106",
            name="西湖区",
            division_code="330106",
            parent_id=city.id,
        )
        bureau = actions.create_organisation(
            db,
            actor=ROOT,
            kind="department",
            code="330106-emergency",
            name="杭州市西湖区应急管理局",
            division_code="330106",
            parent_id=county.id,
        )
        actions.add_staff_member(
            db,
            actor=ROOT,
            org_id=city.id,
            login_name="hz-pub",
            display_name="吴发布",
            role="notice_publisher",
            password_hash=hashed,
        )
        for i in range(staff):
            actions.add_staff_member(
                db,
                actor=ROOT,
                org_id=bureau.id,
                login_name=f"xh-em-{i:04d}",
                display_name=f"值班{i:04d}",
                role=None,
                password_hash=hashed,
            )
        bureau_id = bureau.id
    tokens = []
    settings = IdentitySettings()
    with factory() as db, transaction(db):
        for i in range(staff):
            outcome = auth.attempt_login(
                db,
                login_name=f"xh-em-{i:04d}",
                password=PASSWORD,
                client_address=f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}",
                portal="staff",
                settings=settings,
            )
            assert outcome.token, outcome
            tokens.append(outcome.token)
    engine.dispose()
    return tokens, bureau_id


def publish(url: str, bureau_id: int) -> float:
    """Publish the notice; returns the monotonic time of the commit."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        with transaction(db):
            publisher = auth.find_staff_actor(db, "hz-pub")
            assert publisher is not None
            spec = NoticeCreate(
                title="防御台风紧急通知",
                body="各单位立即进入防台风应急状态。",
                priority="emergency",
                targets=[TargetSpec(org_id=bureau_id)],
                publish=True,
            )
            notices.create_notice(db, actor=publisher, spec=spec, settings=NoticesSettings())
        committed = time.monotonic()
    engine.dispose()
    return committed


async def stream(
    port: int, token: str, ready: asyncio.Event, counter: list[int], total: int, arrivals: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "GET /staff/notices/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            f"Cookie: zt_session={token}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    is_ready = False
    try:
        while True:
            line = await reader.readline()
            if not line:
                raise RuntimeError("the stream ended early")
            if line.startswith(b"event: ready") and not is_ready:
                is_ready = True
                counter[0] += 1
                if counter[0] == total:
                    ready.set()
            elif line.startswith(b"event: notice"):
                arrivals.append(time.monotonic())
                return
    finally:
        writer.close()


async def run(port: int, tokens: list[str], connections: int, url: str, bureau_id: int) -> dict[str, object]:
    ready = asyncio.Event()
    counter = [0]
    arrivals: list[float] = []
    tasks = []
    opened = time.monotonic()
    for i in range(connections):
        tasks.append(
            asyncio.create_task(stream(port, tokens[i % len(tokens)], ready, counter, connections, arrivals))
        )
        if i % 100 == 99:
            await asyncio.sleep(0.05)  # a burst of connects, not one SYN flood
    await asyncio.wait_for(ready.wait(), timeout=120)
    open_seconds = time.monotonic() - opened
    await asyncio.sleep(1.0)
    committed = await asyncio.to_thread(publish, url, bureau_id)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    delays = sorted(a - committed for a in arrivals)
    return {
        "connections": connections,
        "open_seconds": round(open_seconds, 2),
        "all_seen_seconds": round(delays[-1], 3),
        "p50_seconds": round(statistics.median(delays), 3),
        "p99_seconds": round(delays[int(len(delays) * 0.99) - 1], 3),
        "received": len(delays),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.connections * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    name = f"zerotrip_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    server = None
    try:
        started = time.monotonic()
        tokens, bureau_id = build(url, args.staff)
        print(f"world: {args.staff} staff signed in in {time.monotonic() - started:.1f} s", flush=True)
        port = free_port()
        env = {
            **os.environ,
            "ZEROTRIP_DATABASE_URL": url,
            "ZEROTRIP_DATA_DIR": tempfile.mkdtemp(prefix="zerotrip-bench-"),
            "ZEROTRIP_AUDIT__CHECKPOINT_INTERVAL_SECONDS": "0",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zerotrip",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        time.sleep(2)  # every worker is up
        result = asyncio.run(run(port, tokens, args.connections, url, bureau_id))
        result.update(workers=args.workers, staff=args.staff, target_seconds=2.0)
        result["met"] = result["received"] == args.connections and float(result["all_seen_seconds"]) < 2.0  # type: ignore[arg-type]
        print(f"opened {result['connections']} streams in {result['open_seconds']} s")
        print(
            f"every stream saw the notice {result['all_seen_seconds']} s after the commit "
            f"(p50 {result['p50_seconds']} s, p99 {result['p99_seconds']} s); target 2 s: "
            f"{'met' if result['met'] else 'missed'}"
        )
        print(json.dumps({"bench": "notice_live", **result}))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        with psycopg.connect(args.pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
