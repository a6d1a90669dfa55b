"""A vaccination booking rush over HTTP, against the same booking transaction issued with the raw driver.

Run: .venv/bin/python bench/booking_rush.py [--attempts 5000] [--seats 1000] [--slots 5] [--workers 2]
     [--ramp 5] [--kill-at 0.4] [--engines postgresql,sqlite] [--servers granian,uvicorn]
     [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--floor]

For each engine, a fresh database (a uniquely named PostgreSQL database, or a SQLite file) gets the rush
world through the demo builder (``zerotrip.demo.booking.build_rush_world``): one district, a vaccination
site whose ``--slots`` slots tomorrow hold ``--seats`` seats in all, and residents registered in household
registration with profiles (a fifth have had a first COVID-19 dose, so they book the second), each signed
in with a web session of their own. 5 % of the residents send their request twice at once with the same
idempotency key (a double press), so ``--attempts`` attempts come from 95 % as many people. Then:

1. raw: the booking transaction issued directly with the driver (psycopg or sqlite3) from 16 threads with a
   connection each, every attempt queued at once: the slot's seats left, the profile, the person's active
   bookings, the vaccination records and the grant (as the gateway reads them) with the read's audit row,
   the appointment (ON CONFLICT DO NOTHING on the partial unique index), its idempotency key, the booked
   audit row, the notification and its delivery, and last the conditional seat UPDATE, committed
   (BEGIN IMMEDIATE on SQLite). No HTTP, no sessions, no Python objects between the statements.
2. burst: ``zerotrip serve --workers N`` on a free port with the HTTP server ``--servers`` names (each in
   turn when it names several, default granian); every attempt on a connection of its own, all started at
   once (POST /api/booking/appointments with the session cookie, CSRF and idempotency key).
3. ramp: the same, the attempts' start spread evenly over ``--ramp`` seconds (a batch opening with people
   arriving over a few seconds); one API worker process is killed with SIGKILL when 40 % (``--kill-at``;
   0 for none) of the attempts have started (the server starts a new one; the requests that worker had
   accepted get no answer). Clients left without an answer retry once with the same idempotency key on a
   new connection.

With ``--floor``, after the burst as many GET /healthz (one ``SELECT 1`` in the server's thread pool) are
sent the burst's way: what the server and this client cost per connection whatever the route does. The
process raises its own limit on open files to ``--attempts`` + 1,024 (the server inherits it) and warns when
PostgreSQL has fewer free connections than the workers' pools may open.

The database is reset between the runs (bookings, keys and seats; the audit rows stay). After each HTTP
run the benchmark checks, against the database: exactly ``--seats`` active bookings, nobody holding two,
every slot holding exactly its seats, every refusal a problem document saying why (slot full or already
booked), and the set of bookings the clients were told about equal to the set of active bookings, each
with the person told. Throughput is attempts answered per second from the first start to the last
answer, and bookings per second until the last seat went; latencies are each attempt's from its start
(connect included) to its answer. Prints the figures per engine and run and, last, one JSON line. The
database and the server are removed at the end, always.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import queue
import random
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.demo.booking import RushWorld, SignedIn, build_rush_world, open_sessions
from zerotrip.identity.actor import system
from zerotrip.migrations import upgrade

PURPOSE = "预防接种预约资格核验与接种记录查询"
RAW_THREADS = 16
REFUSALS = {"/problems/booking/slot-full", "/problems/booking/already-booked"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the world --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    index: int
    person: int  # index into the world's people
    slot_id: int
    key: str


def plan_attempts(world: RushWorld, total: int, seed: int = 7) -> list[Attempt]:
    """``total`` attempts: each person once, a random slot and key, and one in twenty twice (the same
    request again while the first is in flight)."""
    rng = random.Random(seed)
    attempts: list[Attempt] = []
    for n, _ in enumerate(world.people):
        if len(attempts) >= total:
            break
        attempt = Attempt(len(attempts), n, rng.choice(world.slot_ids), uuid.uuid4().hex)
        attempts.append(attempt)
        if n % 19 == 0 and len(attempts) < total:
            attempts.append(Attempt(len(attempts), n, attempt.slot_id, attempt.key))
    rng.shuffle(attempts)
    return attempts


def build(
    url: str, settings: Settings, *, people: int, slots: int, seats: int
) -> tuple[RushWorld, list[SignedIn]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        day = clock.now_in_china().date() + timedelta(days=1)
        with make_sessionmaker(engine)() as db, transaction(db):
            world = build_rush_world(
                db,
                actor=system("bench"),
                settings=settings,
                people=people,
                slots=slots,
                seats_per_slot=seats // slots,
                day=day,
            )
            sessions = open_sessions(db, world.people)
        if url.startswith("postgresql"):
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return world, sessions


def reset(url: str) -> None:
    """Undo the bookings of a run: appointments, their keys and notifications, and every seat."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in (
                "DELETE FROM booking_idempotency_key",
                "DELETE FROM booking_waitlist_entry",
                "DELETE FROM booking_appointment",
                "UPDATE booking_slot SET booked = 0",
            ):
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


# -- the raw baseline ---------------------------------------------------------------------------------------


class Raw:
    """The booking transaction with the driver alone; one instance per thread (its own connection)."""

    def __init__(self, engine: str, dsn: str, world: RushWorld, ids: dict[str, Any]) -> None:
        self.engine = engine
        self.world = world
        self.ids = ids
        if engine == "postgresql":
            self.conn: Any = psycopg.connect(dsn)
            self.mark = "%s"
        else:
            self.conn = sqlite3.connect(dsn, timeout=30, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.mark = "?"

    def q(self, sql: str) -> str:
        return sql.replace("%s", self.mark)

    def json(self, value: dict[str, Any]) -> Any:
        return Jsonb(value) if self.engine == "postgresql" else json.dumps(value, ensure_ascii=False)

    def run(self, attempt: Attempt) -> str:
        person = self.world.people[attempt.person]
        person_id = str(person.person_id) if self.engine == "postgresql" else person.person_id.hex
        cur = self.conn.cursor()
        now = datetime.now(UTC)
        stamp = now if self.engine == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        if self.engine == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(
                self.q("SELECT booked, capacity, status FROM booking_slot WHERE id = %s"), (attempt.slot_id,)
            )
            booked, capacity, status = cur.fetchone()
            if booked >= capacity or status != "open":
                self.conn.rollback() if self.engine == "postgresql" else cur.execute("ROLLBACK")
                return "slot-full"
            cur.execute(
                self.q("SELECT birth_date, sex FROM booking_profile WHERE person_id = %s"), (person_id,)
            )
            cur.fetchone()
            cur.execute(
                self.q(
                    "SELECT product_code, dose FROM booking_appointment WHERE person_id = %s"
                    " AND status IN ('booked', 'checked_in')"
                ),
                (person_id,),
            )
            held = cur.fetchall()
            cur.execute(
                self.q(
                    "SELECT r.version, g.fields FROM datahub_resource r LEFT JOIN datahub_grant g"
                    " ON g.resource_id = r.id AND g.consumer_client_id = %s AND g.purpose = %s"
                    " AND g.revoked_at IS NULL WHERE r.code = %s"
                ),
                (self.ids["client_id"], PURPOSE, "330000-health.vaccinations"),
            )
            cur.fetchall()
            cur.execute(
                self.q(
                    "SELECT data FROM datahub_record WHERE resource_id = %s AND subject_key = %s"
                    " AND NOT is_deleted"
                ),
                (self.ids["resource_id"], person.resident_id),
            )
            doses = cur.fetchall()
            self._audit(cur, stamp, "datahub.record.read", person.resident_id)
            if held:
                self._rollback(cur)
                return "already-booked"
            number = "YY" + uuid.uuid4().hex[:12].upper()
            appointment_id = uuid.uuid4()
            aid = str(appointment_id) if self.engine == "postgresql" else appointment_id.hex
            cur.execute(
                self.q(
                    "INSERT INTO booking_appointment (id, number, slot_id, service_id, site_id, day,"
                    " person_id, booked_by_person_id, resident_id, product_code, series, dose, status,"
                    " qr_token, created_at, updated_at, rescheduled_count)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                    " 'booked', %s, %s, %s, 0) ON CONFLICT (person_id, series) WHERE status IN ('booked',"
                    " 'checked_in') DO NOTHING RETURNING id"
                ),
                (
                    aid,
                    number,
                    attempt.slot_id,
                    self.ids["service_id"],
                    self.ids["site_id"],
                    self.ids["day"],
                    person_id,
                    person_id,
                    person.resident_id,
                    self.world.product_code,
                    "vaccine:新冠病毒疫苗",
                    len(doses) + 1,
                    uuid.uuid4().hex,
                    stamp,
                    stamp,
                ),
            )
            if cur.fetchone() is None:
                self._rollback(cur)
                return "already-booked"
            cur.execute(
                self.q(
                    "INSERT INTO booking_idempotency_key (person_id, key, request_digest, appointment_id,"
                    " created_at) VALUES (%s, %s, %s, %s, %s)"
                ),
                (person_id, attempt.key, hashlib.sha256(attempt.key.encode()).hexdigest(), aid, stamp),
            )
            self._audit(cur, stamp, "booking.appointment.booked", person.resident_id)
            notification = uuid.uuid4()
            nid = str(notification) if self.engine == "postgresql" else notification.hex
            params = self.json({"number": number, "slot_id": attempt.slot_id})
            cur.execute(
                self.q(
                    "INSERT INTO messaging_notification (id, person_id, kind, template, params, link,"
                    " language, dedupe_key, created_at) VALUES (%s, %s, 'booking_confirmed',"
                    " 'booking.appointment.booked', %s, %s, 'zh_Hans', %s, %s)"
                ),
                (nid, person_id, params, f"/booking/appointments/{number}", f"raw:{number}", stamp),
            )
            cur.execute(
                self.q(
                    "INSERT INTO messaging_delivery (id, notification_id, channel, status, attempts, due_at,"
                    " created_at, updated_at) VALUES (%s, %s, 'inbox', 'pending', 0, %s, %s, %s)"
                ),
                (
                    str(uuid.uuid4()) if self.engine == "postgresql" else uuid.uuid4().hex,
                    nid,
                    stamp,
                    stamp,
                    stamp,
                ),
            )
            cur.execute(
                self.q(
                    "UPDATE booking_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity"
                    " AND status = 'open'"
                ),
                (attempt.slot_id,),
            )
            if cur.rowcount != 1:
                self._rollback(cur)
                return "slot-full"
            if self.engine == "postgresql":
                self.conn.commit()
            else:
                cur.execute("COMMIT")
            return "booked"
        except BaseException:
            self._rollback(cur)
            raise

    def _rollback(self, cur: Any) -> None:
        if self.engine == "postgresql":
            self.conn.rollback()
        elif self.conn.in_transaction:
            cur.execute("ROLLBACK")

    def _audit(self, cur: Any, stamp: Any, action: str, subject: str) -> None:
        values = {"purpose": PURPOSE, "resource": "330000-health.vaccinations"}
        data = self.json(values)
        digest = hashlib.sha256(f"{stamp}{action}{subject}{json.dumps(values)}".encode()).digest()
        cur.execute(
            self.q(
                "INSERT INTO audit_event (occurred_at, actor, action, subject_type, subject_id, data, digest)"
                " VALUES (%s, %s, %s, 'person', %s, %s, %s)"
            ),
            (stamp, f"client:{self.ids['client_id']}", action, subject, data, digest),
        )


def world_ids(url: str, world: RushWorld) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            site_id, service_id = connection.exec_driver_sql(
                "SELECT s.id, v.id FROM booking_site s JOIN booking_service v ON v.site_id = s.id"
                " WHERE s.code = %(code)s"
                if url.startswith("postgresql")
                else "SELECT s.id, v.id FROM booking_site s JOIN booking_service v ON v.site_id = s.id"
                " WHERE s.code = :code",
                {"code": world.site_code},
            ).one()
            day = connection.exec_driver_sql(
                f"SELECT day FROM booking_slot WHERE id = {world.slot_ids[0]}"  # noqa: S608 - an integer
            ).scalar_one()
            client_id = connection.exec_driver_sql(
                "SELECT client_id FROM identity_api_client WHERE name = '预约接种系统'"
            ).scalar_one()
            resource_id = connection.exec_driver_sql(
                "SELECT id FROM datahub_resource WHERE code = '330000-health.vaccinations'"
            ).scalar_one()
    finally:
        engine.dispose()
    return {
        "site_id": site_id,
        "service_id": service_id,
        "day": day,
        "client_id": client_id,
        "resource_id": resource_id,
    }


def run_raw(
    engine_kind: str, dsn: str, world: RushWorld, attempts: list[Attempt], ids: dict[str, Any]
) -> dict[str, Any]:
    work: queue.Queue[tuple[Attempt, float]] = queue.Queue()
    results: list[tuple[str, float]] = []
    lock = threading.Lock()
    failures: list[BaseException] = []
    workers = [Raw(engine_kind, dsn, world, ids) for _ in range(RAW_THREADS)]
    started = time.perf_counter()
    for attempt in attempts:
        work.put((attempt, started))

    def loop(raw: Raw) -> None:
        mine = []
        try:
            while True:
                try:
                    attempt, queued = work.get_nowait()
                except queue.Empty:
                    break
                for _ in range(5):  # a deadlock or busy error is retried, as a client would
                    try:
                        outcome = raw.run(attempt)
                        break
                    except (psycopg.errors.DeadlockDetected, sqlite3.OperationalError):
                        continue
                else:
                    raise RuntimeError("raw attempt failed five times")
                mine.append((outcome, time.perf_counter() - queued))
        except BaseException as error:
            failures.append(error)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=loop, args=(raw,)) for raw in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for raw in workers:
        raw.conn.close()
    if failures:
        raise failures[0]
    outcomes: dict[str, int] = {}
    for outcome, _ in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    service = sorted(latency for _, latency in results)
    return {
        "attempts": len(results),
        "outcomes": outcomes,
        "attempts_per_s": round(len(results) / wall, 1),
        "wall_s": round(wall, 2),
        # Each attempt queued at the start: its latency includes the wait for a free connection.
        "p50_ms": round(statistics.median(service) * 1000, 1),
        "p99_ms": round(service[int(len(service) * 0.99)] * 1000, 1),
    }


# -- the HTTP client -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    attempt: Attempt
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    answered: float = 0.0
    error: str | None = None


async def send(port: int, attempt: Attempt, signed: SignedIn, answer: Answer) -> None:
    body = json.dumps({"slot_id": attempt.slot_id}).encode()
    request = (
        f"POST /api/booking/appointments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Cookie: zt_session={signed.token}\r\nX-CSRF-Token: {signed.csrf}\r\n"
        f"Idempotency-Key: {attempt.key}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    answer.started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=120)
        writer.close()
        head, _, payload = raw.partition(b"\r\n\r\n")
        if not head:
            raise ConnectionError("the connection closed without an answer")
        answer.status = int(head.split(b" ", 2)[1])
        answer.body = json.loads(payload) if payload else {}
    except (OSError, ConnectionError, TimeoutError, ValueError, IndexError) as error:
        answer.error = f"{type(error).__name__}: {error}"
    answer.answered = time.perf_counter()


async def rush(
    port: int,
    attempts: list[Attempt],
    sessions: list[SignedIn],
    *,
    ramp: float,
    on_share: tuple[float, Any] | None,
) -> list[Answer]:
    answers = [Answer(a) for a in attempts]
    loop = asyncio.get_running_loop()
    origin = loop.time() + 0.2
    tasks = []
    trigger_at = int(len(attempts) * on_share[0]) if on_share else -1
    for n, (attempt, answer) in enumerate(zip(attempts, answers, strict=True)):
        at = origin + (ramp * n / len(attempts) if ramp else 0.0)
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if n == trigger_at and on_share is not None:
            on_share[1]()
        tasks.append(asyncio.create_task(send(port, attempt, sessions[attempt.person], answer)))
    await asyncio.gather(*tasks)
    return answers


async def health_burst(port: int, count: int) -> dict[str, Any]:
    """The server's floor for the burst's pattern: ``count`` GET /healthz (one ``SELECT 1`` in a thread),
    each on a connection of its own, all started at once."""
    latencies: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        await asyncio.wait_for(reader.read(), timeout=120)
        writer.close()
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_s": round(count / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(count * 0.99)] * 1000, 1),
    }


def retry_unanswered(port: int, answers: list[Answer], sessions: list[SignedIn]) -> int:
    """Clients left without an answer (the killed worker's) ask again with the same idempotency key."""
    lost = [a for a in answers if a.error is not None or a.status == 0]

    async def again() -> None:
        for answer in lost:
            fresh = Answer(answer.attempt)
            await send(port, answer.attempt, sessions[answer.attempt.person], fresh)
            answer.status, answer.body, answer.error = fresh.status, fresh.body, fresh.error

    asyncio.run(again())
    return len(lost)


def http_figures(answers: list[Answer], seats: int) -> dict[str, Any]:
    first = min(a.started for a in answers)
    last = max(a.answered for a in answers)
    booked_at = sorted(a.answered for a in answers if a.status == 201)
    latencies = sorted(a.answered - a.started for a in answers)
    statuses: dict[str, int] = {}
    for a in answers:
        key = str(a.status) if a.error is None else "no answer"
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "attempts": len(answers),
        "statuses": statuses,
        "attempts_per_s": round(len(answers) / (last - first), 1),
        "bookings_per_s": round(seats / (booked_at[-1] - first), 1) if booked_at else 0.0,
        "wall_s": round(last - first, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
    }


def check(url: str, world: RushWorld, answers: list[Answer]) -> dict[str, Any]:
    """The invariants; raises AssertionError naming the first that fails."""
    told: dict[str, int] = {}
    for a in answers:
        assert a.error is None, f"attempt {a.attempt.index} got no answer: {a.error}"
        if a.status in (200, 201):
            assert a.body.get("status") == "booked", a.body
            previous = told.setdefault(a.body["number"], a.attempt.person)
            assert previous == a.attempt.person, "one booking number told to two people"
        else:
            assert a.status == 409 and a.body.get("type") in REFUSALS, (a.status, a.body)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            active = connection.exec_driver_sql(
                "SELECT number, person_id, slot_id FROM booking_appointment WHERE status = 'booked'"
            ).all()
            slots = dict(connection.exec_driver_sql("SELECT id, booked FROM booking_slot").all())
            capacity = dict(connection.exec_driver_sql("SELECT id, capacity FROM booking_slot").all())
    finally:
        engine.dispose()
    person_of = {p.person_id.hex: n for n, p in enumerate(world.people)}
    assert len(active) == world.seats, f"{len(active)} active bookings for {world.seats} seats"
    holders = [uuid.UUID(str(p)).hex for _, p, _ in active]
    assert len(set(holders)) == len(holders), "someone holds two bookings"
    assert {n for n, _, _ in active} == set(told), "the database and the clients disagree"
    for number, person, _ in active:
        assert person_of[uuid.UUID(str(person)).hex] == told[number], "a booking is not the told person's"
    per_slot: dict[int, int] = {}
    for _, _, slot_id in active:
        per_slot[slot_id] = per_slot.get(slot_id, 0) + 1
    for slot_id in world.slot_ids:
        assert slots[slot_id] == per_slot.get(slot_id, 0) == capacity[slot_id], f"slot {slot_id} disagrees"
    return {"active": len(active), "told_booked": len(told), "ok": True}


# -- the server -------------------------------------------------------------------------------------------


def start_server(
    url: str, data_dir: Path, workers: int, log: Path, *, server: str
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "ZEROTRIP_DATA_DIR": str(data_dir),
        "ZEROTRIP_DATABASE_URL": url,
        "ZEROTRIP_AUDIT__CHECKPOINT_INTERVAL_SECONDS": "0",
        "ZEROTRIP_BOOKING__DUTY_INTERVAL_SECONDS": "0",
        "ZEROTRIP_BOOKING__ATTEMPTS_PER_MINUTE": "30",
        "ZEROTRIP_DATAHUB__ESCALATION_INTERVAL_SECONDS": "0",
        "ZEROTRIP_WEB__SERVER": server,
    }
    command = [sys.executable, "-m", "zerotrip", "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    time.sleep(1.0)  # every worker up, not just the first
                    return process, port
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise TimeoutError("the server did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def worker_pids(process: subprocess.Popen[bytes]) -> list[int]:
    """The supervisor's worker processes: its children, less multiprocessing's resource tracker (which
    uvicorn's supervisor starts first, so it has the lowest process id)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == process.pid and b"resource_tracker" not in command:
                found.append(int(entry.name))
    return sorted(found)


def over_http(
    kind: str,
    server: str,
    args: argparse.Namespace,
    url: str,
    world: RushWorld,
    attempts: list[Attempt],
    sessions: list[SignedIn],
    process: subprocess.Popen[bytes],
    port: int,
) -> dict[str, Any]:
    """The burst, the floor (with ``--floor``) and the ramp with a killed worker against one server; the
    database is reset after each run."""
    with cpu_spent(process, len(attempts)) as burst_cpu:
        answers = asyncio.run(rush(port, attempts, sessions, ramp=0.0, on_share=None))
    burst = http_figures(answers, world.seats) | burst_cpu
    burst["checks"] = check(url, world, answers)
    print(f"[{kind}/{server}] burst over HTTP: {burst}")
    floor = None
    if args.floor:
        with cpu_spent(process, len(attempts)) as floor_cpu:
            floor = asyncio.run(health_burst(port, len(attempts)))
        floor |= floor_cpu
        print(f"[{kind}/{server}] floor (GET /healthz the same way): {floor}")
    reset(url)
    killed: list[int] = []

    def kill_one() -> None:
        pids = worker_pids(process)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    on_share = (args.kill_at, kill_one) if args.kill_at > 0 else None
    answers = asyncio.run(rush(port, attempts, sessions, ramp=args.ramp, on_share=on_share))
    ramped = http_figures(answers, world.seats)
    ramped["killed_worker"] = killed[0] if killed else None
    ramped["retried"] = retry_unanswered(port, answers, sessions)
    ramped["checks"] = check(url, world, answers)
    killing = f"a worker killed at {args.kill_at:.0%}" if args.kill_at > 0 else "no worker killed"
    print(f"[{kind}/{server}] ramp over {args.ramp} s, {killing}: {ramped}")
    reset(url)
    return {"burst": burst, "ramp": ramped, **({"floor": floor} if floor is not None else {})}


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (their threads included)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def cpu_spent(process: subprocess.Popen[bytes], count: int) -> Iterator[dict[str, float]]:
    """Fills the yielded dict, when the block ends, with the CPU milliseconds per request that the server's
    workers and this client process spent in it: what a request costs whatever else the machine runs."""
    figures: dict[str, float] = {}
    pids = worker_pids(process)
    server_before = cpu_seconds(pids)
    before = resource.getrusage(resource.RUSAGE_SELF)
    yield figures
    server = cpu_seconds(pids) - server_before
    after = resource.getrusage(resource.RUSAGE_SELF)
    client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures["server_cpu_ms"] = round(server * 1000 / count, 3)
    figures["client_cpu_ms"] = round(client * 1000 / count, 3)


# -- one engine ---------------------------------------------------------------------------------------------


def run_engine(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    people = args.attempts - args.attempts // 20
    if kind == "postgresql":
        name = f"zerotrip_rush_{uuid.uuid4().hex[:10]}"
        base = args.pg_url.rsplit("/", 1)[0]
        url = f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
        dsn = f"{base}/{name}"
        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    else:
        path = folder / "rush.db"
        url, dsn = f"sqlite:///{path}", str(path)
    process: subprocess.Popen[bytes] | None = None
    try:
        settings = Settings(data_dir=folder, database_url=url)
        started = time.perf_counter()
        world, sessions = build(url, settings, people=people, slots=args.slots, seats=args.seats)
        print(
            f"[{kind}] built {len(world.people):,} residents, {world.seats:,} seats in"
            f" {len(world.slot_ids)} slots in {time.perf_counter() - started:.1f} s"
        )
        attempts = plan_attempts(world, args.attempts)
        ids = world_ids(url, world)
        raw = run_raw(kind, dsn, world, attempts, ids)
        assert raw["outcomes"].get("booked") == world.seats, raw
        print(f"[{kind}] raw: {raw}")
        reset(url)
        result: dict[str, Any] = {"raw": raw}
        for server in args.servers.split(","):
            process, port = start_server(
                url, folder, args.workers, folder / f"server-{kind}-{server}.log", server=server
            )
            result[server] = over_http(kind, server, args, url, world, attempts, sessions, process, port)
            result[server]["http_over_raw"] = round(
                result[server]["burst"]["attempts_per_s"] / raw["attempts_per_s"], 3
            )
            stop(process)
            process = None
        return result
    finally:
        if process is not None:
            stop(process)
        if kind == "postgresql":
            with psycopg.connect(args.pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raise_file_limit(needed: int) -> None:
    """Every attempt holds a socket in this process and one in a server worker (which inherit the limit):
    raise the soft limit on open files to ``needed`` (a shell's default is often 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < needed:
        raise SystemExit(f"{needed} open files are needed but the hard limit is {hard}: raise `ulimit -Hn`")


def check_pg_connections(pg_url: str, workers: int) -> None:
    """The server's workers may each open 30 pooled connections (``db.make_engine``): say so up front when
    the PostgreSQL server has fewer free."""
    with psycopg.connect(pg_url, autocommit=True) as admin:
        limit = int(admin.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        used = int(admin.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0])  # type: ignore[index]
    needed = workers * 30 + RAW_THREADS + 2
    if limit - used < needed:
        print(
            f"warning: PostgreSQL has {limit - used} free connections of {limit}; the rush may need {needed}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=5000)
    parser.add_argument("--seats", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--ramp", type=float, default=5.0, help="seconds over which the ramped run's attempts start"
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.4,
        help="the share of the ramped run's attempts started when a worker is killed; 0 kills none",
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument(
        "--servers",
        default="granian",
        help="the HTTP servers to run the HTTP runs against, in turn (granian, uvicorn or both)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time as many GET /healthz the burst's way (the server's floor)",
    )
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    raise_file_limit(args.attempts + 1024)
    if "postgresql" in args.engines:
        check_pg_connections(args.pg_url, args.workers)
    results: dict[str, Any] = {"attempts": args.attempts, "seats": args.seats, "workers": args.workers}
    with tempfile.TemporaryDirectory(prefix="zerotrip-rush-") as tmp:
        for kind in args.engines.split(","):
            folder = Path(tmp) / kind
            folder.mkdir()
            results[kind] = run_engine(kind, args, folder)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
