"""The rush benchmark's invariants, scaled down, on the engine under test: many residents book a handful of
slots at once over real HTTP (a uvicorn server in this process, each client on its own connection, each
request in its own database session and transaction), some retrying with the same idempotency key and some
trying twice. Exactly as many bookings as seats, nobody holds two, every refusal is a clear problem, and the
database agrees with what each client was told. Then a reschedule racing a booking for the last seat."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.web.live import serve
from zerotrip.app import create_app
from zerotrip.booking.models import Appointment, Slot
from zerotrip.common import clock
from zerotrip.config import AuditSettings, BookingSettings, DatahubSettings, Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.demo.booking import RushWorld, SignedIn, build_rush_world, open_sessions
from zerotrip.identity.actor import system

PEOPLE = 90
SLOTS = 3
SEATS = 8  # 24 seats for 90 people
REFUSALS = {(409, "/problems/booking/slot-full"), (409, "/problems/booking/already-booked")}


@dataclass
class Rush:
    engine: Engine
    world: RushWorld
    sessions: list[SignedIn]
    base_url: str


@pytest.fixture
def rush(new_database: object, tmp_path: Path) -> Iterator[Rush]:
    url = new_database(migrate=True)  # type: ignore[operator]
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        audit=AuditSettings(checkpoint_interval_seconds=0),
        datahub=DatahubSettings(escalation_interval_seconds=0),
        booking=BookingSettings(attempts_per_minute=1000, duty_interval_seconds=0),
    )
    engine = make_engine(url)
    day = clock.now_in_china().date() + timedelta(days=1)
    with make_sessionmaker(engine)() as db, transaction(db):
        world = build_rush_world(
            db,
            actor=system("test"),
            settings=settings,
            people=PEOPLE,
            slots=SLOTS,
            seats_per_slot=SEATS,
            day=day,
        )
        sessions = open_sessions(db, world.people)
    with serve(create_app(settings)) as base_url:
        yield Rush(engine=engine, world=world, sessions=sessions, base_url=base_url)
    engine.dispose()


def _post(
    base_url: str, signed: SignedIn, path: str, body: dict[str, object], key: str | None
) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"X-CSRF-Token": signed.csrf, "Cookie": f"zt_session={signed.token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    with httpx.Client(base_url=base_url, timeout=60) as client:  # a connection of its own
        response = client.post(path, json=body, headers=headers)
    return response.status_code, response.json()


def test_a_rush_never_overbooks_and_everyone_is_told_the_truth(rush: Rush) -> None:
    rng = random.Random(7)
    attempts: list[tuple[int, int, str | None]] = []  # (person index, slot id, idempotency key)
    for n in range(PEOPLE):
        key = f"p{n}-a" if n % 3 else None
        attempts.append((n, rng.choice(rush.world.slot_ids), key))
        if n % 9 == 0:  # a retry of the same request, sent while the first is in flight
            attempts.append((n, attempts[-1][1], f"p{n}-a"))
            attempts[-2] = (n, attempts[-2][1], f"p{n}-a")
        if n % 11 == 0:  # a second, different attempt
            attempts.append((n, rng.choice(rush.world.slot_ids), f"p{n}-b"))
    rng.shuffle(attempts)
    start = threading.Barrier(len(attempts))

    def attempt(item: tuple[int, int, str | None]) -> tuple[int, int, dict]:  # type: ignore[type-arg]
        n, slot_id, key = item
        start.wait()
        status, body = _post(
            rush.base_url, rush.sessions[n], "/api/booking/appointments", {"slot_id": slot_id}, key
        )
        return n, status, body

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        answers = list(pool.map(attempt, attempts))

    told_booked: dict[str, int] = {}
    for n, status, body in answers:
        if status in (200, 201):
            assert body["status"] == "booked"
            assert told_booked.setdefault(body["number"], n) == n
        else:
            assert (status, body.get("type")) in REFUSALS, (status, body)
    person_of = {p.person_id: n for n, p in enumerate(rush.world.people)}
    with Session(rush.engine) as db:
        active = db.execute(
            select(Appointment.number, Appointment.person_id, Appointment.slot_id).where(
                Appointment.status == "booked"
            )
        ).all()
        slots = {s.id: s for s in db.scalars(select(Slot))}
        total = db.scalar(select(func.count()).select_from(Appointment))
    # Exactly as many bookings as seats, and the database agrees with what the clients were told.
    assert len(active) == rush.world.seats
    assert {number for number, _, _ in active} == set(told_booked)
    assert total == len(active)  # no refused attempt left a row behind
    assert all(person_of[person] == told_booked[number] for number, person, _ in active)
    # Nobody holds two; each slot is full and holds exactly its seats.
    assert max(Counter(person for _, person, _ in active).values()) == 1
    per_slot = Counter(slot_id for _, _, slot_id in active)
    assert all(slots[i].booked == slots[i].capacity == per_slot[i] == SEATS for i in rush.world.slot_ids)
    # A retried request was answered with the booking the first one made (or the same refusal reason).
    for n in {n for n, _, key in attempts if key and key.endswith("-a") and n % 9 == 0}:
        outcomes = [(status, body.get("number")) for m, status, body in answers if m == n]
        numbers = {number for status, number in outcomes if status in (200, 201)}
        assert len(numbers) <= 1, outcomes


def test_a_reschedule_racing_a_booking_for_the_last_seat_leaves_exactly_one_booking_each(rush: Rush) -> None:
    """Pairs: A holds a seat in the first slot and moves to the second while B books the second's last
    seat. Whoever wins, A holds exactly one booking, the second slot exactly its seats, and the first slot
    gets A's seat back only if A moved."""
    first, second = rush.world.slot_ids[0], rush.world.slot_ids[1]
    movers = list(range(0, 2 * SEATS, 2))[:SEATS]
    bookers = [n + 1 for n in movers]
    held: dict[int, str] = {}
    for n in movers:
        status, body = _post(
            rush.base_url, rush.sessions[n], "/api/booking/appointments", {"slot_id": first}, None
        )
        assert status == 201, body
        held[n] = body["number"]
    start = threading.Barrier(2 * len(movers))

    def move(n: int) -> tuple[int, int, dict]:  # type: ignore[type-arg]
        start.wait()
        status, body = _post(
            rush.base_url,
            rush.sessions[n],
            f"/api/booking/appointments/{held[n]}/reschedule",
            {"slot_id": second},
            None,
        )
        return n, status, body

    def book(n: int) -> tuple[int, int, dict]:  # type: ignore[type-arg]
        start.wait()
        status, body = _post(
            rush.base_url, rush.sessions[n], "/api/booking/appointments", {"slot_id": second}, None
        )
        return n, status, body

    with ThreadPoolExecutor(max_workers=2 * len(movers)) as pool:
        answers = list(
            pool.map(lambda job: job[0](job[1]), [(move, n) for n in movers] + [(book, n) for n in bookers])
        )
    for _, status, body in answers:
        assert status in (200, 201) or (status, body.get("type")) == (409, "/problems/booking/slot-full"), (
            body
        )
    moved = {n for n, status, _ in answers if n in movers and status == 200}
    with Session(rush.engine) as db:
        rows = db.execute(
            select(Appointment.person_id, Appointment.slot_id, Appointment.number).where(
                Appointment.status == "booked"
            )
        ).all()
        slot_rows = {s.id: s.booked for s in db.scalars(select(Slot).where(Slot.id.in_([first, second])))}
    by_person = Counter(person for person, _, _ in rows)
    for n in movers:
        person = rush.world.people[n].person_id
        assert by_person[person] == 1  # never zero, never two
        where = next(slot for p, slot, _ in rows if p == person)
        assert where == (second if n in moved else first)
    in_second = [p for p, slot, _ in rows if slot == second]
    assert len(in_second) == slot_rows[second] == SEATS
    assert slot_rows[first] == sum(1 for _, slot, _ in rows if slot == first) == len(movers) - len(moved)
