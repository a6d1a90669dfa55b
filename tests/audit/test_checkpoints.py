"""Signed checkpoints: sealing, chaining, and a verify that names the first bad event."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from zerotrip.audit import cli as audit_cli
from zerotrip.audit.actions import record_event, record_events
from zerotrip.audit.checkpoints import (
    GENESIS_DIGEST,
    VerifyReport,
    checkpoint_payload,
    seal_all,
    seal_checkpoint,
    verify_log,
)
from zerotrip.audit.digest import event_digest
from zerotrip.audit.errors import AuditTampered
from zerotrip.audit.models import AuditCheckpoint, AuditEvent
from zerotrip.audit.queries import list_events_for_subject
from zerotrip.common import clock
from zerotrip.config import AuditSettings, Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.keys import KeyStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)
EVENTS = cast(Table, AuditEvent.__table__)
CHECKPOINTS = cast(Table, AuditCheckpoint.__table__)


@pytest.fixture(autouse=True)
def empty_log(db: Session) -> None:
    """Start from an empty log; the test's transaction is rolled back, so nothing is lost."""
    db.execute(delete(AuditCheckpoint))
    db.execute(delete(AuditEvent))


def record(db: Session, count: int, *, at: datetime = T0, subject: str = "p1") -> list[int]:
    with clock.frozen(at):
        events = [
            record_event(
                db,
                actor="staff:test",
                action="identity.person.read",
                subject_type="person",
                subject_id=subject,
                data={"n": n, "fields": ["name", "address"], "purpose": "住房公积金提取"},
            )
            for n in range(count)
        ]
    db.flush()  # the ids are what the tests talk about
    return [event.id for event in events]


def seal(db: Session, keys: KeyStore, *, max_events: int = 1000, at: datetime = LATER) -> AuditCheckpoint:
    with clock.frozen(at):
        checkpoint = seal_checkpoint(db, keys=keys, max_events=max_events, lag_seconds=30)
    assert checkpoint is not None
    return checkpoint


def verify(db: Session, keys: KeyStore) -> VerifyReport:
    # A small batch so that the keyset paging crosses checkpoint boundaries.
    return verify_log(db, keys=keys, batch_size=3)


def assert_bad(report: VerifyReport, event_id: int, what: str) -> None:
    assert not report.ok
    assert report.first_bad_event_id == event_id
    assert report.problem == f"event {event_id} was {what}"


def copy_row(db: Session, event_id: int) -> dict[str, Any]:
    row = db.execute(select(EVENTS).where(EVENTS.c.id == event_id)).mappings().one()
    return dict(row)


# -- sealing ---------------------------------------------------------------------------------------------


def test_nothing_to_seal(db: Session, keys: KeyStore) -> None:
    with clock.frozen(LATER):
        assert seal_checkpoint(db, keys=keys, max_events=10, lag_seconds=30) is None
    record(db, 2, at=LATER - timedelta(seconds=10))
    with clock.frozen(LATER):
        assert seal_checkpoint(db, keys=keys, max_events=10, lag_seconds=30) is None


def test_seal_stops_at_the_first_event_younger_than_the_lag(db: Session, keys: KeyStore) -> None:
    old = record(db, 3, at=LATER - timedelta(minutes=5))
    record(db, 2, at=LATER - timedelta(seconds=5))
    checkpoint = seal(db, keys)
    assert (checkpoint.first_event_id, checkpoint.last_event_id, checkpoint.event_count) == (
        old[0],
        old[-1],
        3,
    )
    assert checkpoint.previous_digest == GENESIS_DIGEST
    assert len(checkpoint.leaves) == 3 * 40


def test_checkpoints_chain_and_seal_all_splits_by_max_events(db: Session, keys: KeyStore) -> None:
    ids = record(db, 7)
    with clock.frozen(LATER):
        sealed = seal_all(
            db, keys=keys, settings=AuditSettings(checkpoint_max_events=3, checkpoint_lag_seconds=30)
        )
    assert [(c.first_event_id, c.last_event_id) for c in sealed] == [
        (ids[0], ids[2]),
        (ids[3], ids[5]),
        (ids[6], ids[6]),
    ]
    for previous, current in pairwise(sealed):
        payload = checkpoint_payload(previous)
        assert current.previous_digest == hashlib.sha256(payload).digest()
    report = verify(db, keys)
    assert report == VerifyReport(ok=True, checked_events=7, checkpoints=3, unsealed_events=0)


def test_seal_refuses_an_event_changed_before_sealing(db: Session, keys: KeyStore) -> None:
    ids = record(db, 3)
    db.execute(text("UPDATE audit_event SET actor = 'staff:someone-else' WHERE id = :id"), {"id": ids[1]})
    with pytest.raises(AuditTampered) as caught:
        seal(db, keys)
    assert caught.value.extensions == {"event_id": ids[1]}
    assert caught.value.to_dict()["status"] == 409
    assert caught.value.to_dict()["type"] == "/problems/audit/tampered"


# -- verifying an untouched log ----------------------------------------------------------------------------


def test_untouched_log_verifies_and_counts_unsealed_events(db: Session, keys: KeyStore) -> None:
    assert verify(db, keys) == VerifyReport(ok=True, checked_events=0, checkpoints=0, unsealed_events=0)
    record(db, 5)
    seal(db, keys)
    record(db, 2, at=LATER)
    calls: list[int] = []
    report = verify_log(db, keys=keys, batch_size=2, progress=calls.append)
    assert report == VerifyReport(ok=True, checked_events=7, checkpoints=1, unsealed_events=2)
    assert calls[-1] == 7


def test_checkpoints_signed_by_a_rotated_key_still_verify(db: Session, tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "secrets", "a passphrase")
    record(db, 2)
    first = seal(db, keys)
    keys.rotate("audit")
    record(db, 2)
    second = seal(db, keys)
    assert first.key_id != second.key_id
    assert verify(db, keys).ok

    stranger = KeyStore(tmp_path / "other-secrets", "a passphrase")
    report = verify(db, stranger)
    assert not report.ok
    assert (
        report.problem == f"checkpoint {first.id} is signed with key {first.key_id!r}, which is not held here"
    )


def test_numbers_that_the_database_rewrites_still_verify(db: Session, keys: KeyStore) -> None:
    # PostgreSQL's jsonb gives 1e20 back as 100000000000000000000 and 1e-07 as 0.0000001.
    with clock.frozen(T0):
        record_event(
            db,
            actor="system:test",
            action="datahub.record.aggregated",
            subject_type="record",
            subject_id="r1",
            data={"big": 1e20, "huge": 1.2345e300, "small": 1e-7, "two": 2.0, "neg": -0.0, "n": [1.5, 3]},
        )
    db.flush()
    assert verify(db, keys).ok
    seal(db, keys)
    assert verify(db, keys) == VerifyReport(ok=True, checked_events=1, checkpoints=1, unsealed_events=0)


# -- tampering with events -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "staff:someone-else"},
        {"data": {"n": 99}},
        {"occurred_at": T0 + timedelta(seconds=1)},
        {"request_id": "forged"},
        {"digest": bytes(32)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changed_sealed_event_is_named(db: Session, keys: KeyStore, change: dict[str, Any]) -> None:
    ids = record(db, 5)
    seal(db, keys)
    db.execute(update(EVENTS).where(EVENTS.c.id == ids[2]).values(**change))
    assert_bad(verify(db, keys), ids[2], "changed")


def test_changed_unsealed_event_is_named(db: Session, keys: KeyStore) -> None:
    record(db, 3)
    seal(db, keys)
    unsealed = record(db, 3, at=LATER)
    db.execute(text("UPDATE audit_event SET subject_id = 'p2' WHERE id = :id"), {"id": unsealed[1]})
    assert_bad(verify(db, keys), unsealed[1], "changed")


def test_event_whose_content_is_garbled_counts_as_changed(db: Session, keys: KeyStore) -> None:
    # SQLite stores whatever a raw UPDATE writes, even what the columns cannot read back; PostgreSQL's
    # types refuse that, so there the garbling is a well-typed value of the wrong shape.
    sqlite = db.get_bind().dialect.name == "sqlite"
    ids = record(db, 6)
    seal(db, keys)
    when = "'yesterday'" if sqlite else "'1970-01-01 00:00:00+00'"
    db.execute(text(f"UPDATE audit_event SET occurred_at = {when} WHERE id = :id"), {"id": ids[4]})
    assert_bad(verify(db, keys), ids[4], "changed")
    garbage = "'not json'" if sqlite else "'\"not an object\"'::jsonb"
    db.execute(text(f"UPDATE audit_event SET data = {garbage} WHERE id = :id"), {"id": ids[1]})
    assert_bad(verify(db, keys), ids[1], "changed")


def test_deleted_sealed_event_is_named(db: Session, keys: KeyStore) -> None:
    ids = record(db, 5)
    seal(db, keys)
    db.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[3]})
    assert_bad(verify(db, keys), ids[3], "deleted")


def test_deleting_the_last_events_of_a_checkpoint_is_found(db: Session, keys: KeyStore) -> None:
    ids = record(db, 4)
    seal(db, keys)
    db.execute(delete(EVENTS).where(EVENTS.c.id >= ids[2]))
    assert_bad(verify(db, keys), ids[2], "deleted")


def test_event_inserted_into_a_sealed_range_is_named(db: Session, keys: KeyStore) -> None:
    ids = record(db, 5)
    # Open a gap inside the range to come, then slip a well-formed row into it after sealing.
    original = copy_row(db, ids[2])
    db.execute(delete(EVENTS).where(EVENTS.c.id == ids[2]))
    checkpoint = seal(db, keys)
    assert checkpoint.event_count == 4
    assert verify(db, keys).ok
    db.execute(insert(EVENTS).values(**original))
    assert_bad(verify(db, keys), ids[2], "inserted behind the log's back")


def test_event_inserted_before_the_first_checkpoint_is_named(db: Session, keys: KeyStore) -> None:
    ids = record(db, 3)
    original = copy_row(db, ids[0])
    db.execute(delete(EVENTS).where(EVENTS.c.id == ids[0]))
    seal(db, keys)
    forged = {**original, "actor": "staff:forger"}
    forged["digest"] = event_digest(
        **{key: forged[key] for key in ("occurred_at", "actor", "action", "subject_type", "subject_id")},
        data=forged["data"],
        request_id=forged["request_id"],
    )
    db.execute(insert(EVENTS).values(**forged))
    assert_bad(verify(db, keys), ids[0], "inserted behind the log's back")


def test_event_inserted_between_two_checkpoints_is_named(db: Session, keys: KeyStore) -> None:
    first = record(db, 2)
    seal(db, keys)
    second = record(db, 3)
    original = copy_row(db, second[0])
    db.execute(delete(EVENTS).where(EVENTS.c.id == second[0]))
    later = seal(db, keys)
    db.execute(insert(EVENTS).values(**original))
    assert first[-1] < second[0] < later.first_event_id
    assert_bad(verify(db, keys), second[0], "inserted behind the log's back")


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        # (what happens to which of ten sealed events) -> the index reported
        ([("change", 7), ("delete", 5), ("change", 3)], 3),
        ([("change", 6), ("delete", 2)], 2),
        ([("delete", 8), ("change", 9), ("delete", 4)], 4),
    ],
)
def test_of_several_tampered_rows_the_lowest_id_is_named(
    db: Session, keys: KeyStore, tamper: list[tuple[str, int]], first_bad: int
) -> None:
    ids = record(db, 10)
    with clock.frozen(LATER):
        seal_all(db, keys=keys, settings=AuditSettings(checkpoint_max_events=4, checkpoint_lag_seconds=30))
    for how, index in tamper:
        if how == "change":
            db.execute(update(EVENTS).where(EVENTS.c.id == ids[index]).values(action="forged"))
        else:
            db.execute(delete(EVENTS).where(EVENTS.c.id == ids[index]))
    report = verify(db, keys)
    assert report.first_bad_event_id == ids[first_bad]
    assert not report.ok


# -- tampering with checkpoints ------------------------------------------------------------------------------


def test_forged_signature_is_found(db: Session, keys: KeyStore) -> None:
    record(db, 3)
    checkpoint = seal(db, keys)
    forged = bytes([checkpoint.signature[0] ^ 1]) + checkpoint.signature[1:]
    db.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.id == checkpoint.id).values(signature=forged))
    report = verify(db, keys)
    assert not report.ok
    assert report.first_bad_event_id is None
    assert report.problem == f"checkpoint {checkpoint.id} signature does not verify"


@pytest.mark.parametrize("column", ["merkle_root", "last_event_id", "sealed_at", "previous_digest"])
def test_changed_checkpoint_fields_break_the_signature(db: Session, keys: KeyStore, column: str) -> None:
    record(db, 3)
    checkpoint = seal(db, keys)
    values: dict[str, Any] = {
        "merkle_root": bytes(32),
        "last_event_id": checkpoint.last_event_id + 1,
        "sealed_at": checkpoint.sealed_at + timedelta(seconds=1),
        "previous_digest": b"\x01" * 32,
    }
    db.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.id == checkpoint.id).values({column: values[column]}))
    assert verify(db, keys).problem == f"checkpoint {checkpoint.id} signature does not verify"


def test_changed_leaves_are_found(db: Session, keys: KeyStore) -> None:
    record(db, 3)
    checkpoint = seal(db, keys)
    leaves = checkpoint.leaves[:-1] + bytes([checkpoint.leaves[-1] ^ 1])
    db.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.id == checkpoint.id).values(leaves=leaves))
    assert verify(db, keys).problem == f"checkpoint {checkpoint.id} leaves do not match its Merkle root"


def test_deleted_checkpoint_breaks_the_chain(db: Session, keys: KeyStore) -> None:
    record(db, 6)
    with clock.frozen(LATER):
        sealed = seal_all(
            db, keys=keys, settings=AuditSettings(checkpoint_max_events=2, checkpoint_lag_seconds=30)
        )
    first, middle, _last = sealed
    db.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.id == middle.id))
    report = verify(db, keys)
    assert not report.ok
    assert report.problem == f"checkpoint {middle.id} is missing (chain broken)"
    db.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.id == first.id))
    problem = verify(db, keys).problem
    assert problem is not None and "chain broken" in problem


def test_deleting_the_newest_checkpoint_leaves_its_events_unsealed(db: Session, keys: KeyStore) -> None:
    # Known limit: nothing inside the database vouches for the newest checkpoint; its events are still
    # checked against their own digests, and the next run seals them again.
    record(db, 4)
    checkpoint = seal(db, keys)
    db.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.id == checkpoint.id))
    assert verify(db, keys) == VerifyReport(ok=True, checked_events=4, checkpoints=0, unsealed_events=4)


# -- queries ------------------------------------------------------------------------------------------------


def test_list_events_for_subject_newest_first(db: Session) -> None:
    mine = record(db, 3, subject="p1")
    record(db, 2, subject="p2")
    events = list_events_for_subject(db, subject_type="person", subject_id="p1")
    assert [event.id for event in events] == mine[::-1]
    assert len(list_events_for_subject(db, subject_type="person", subject_id="p1", limit=2)) == 2
    assert list_events_for_subject(db, subject_type="person", subject_id="nobody") == []


# -- with real commits: concurrent sealers and the CLI -------------------------------------------------------


@pytest.fixture
def committed(new_database: Callable[[], str], tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh database of its own, where commits are real."""
    yield Settings(data_dir=tmp_path / "data", database_url=new_database(), key_passphrase=None)


def record_committed(settings: Settings, count: int, *, at: datetime) -> list[int]:
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            return record(db, count, at=at)
    finally:
        engine.dispose()


def test_two_sealers_at_once_do_not_seal_the_same_range(committed: Settings) -> None:
    record_committed(committed, 5, at=T0)
    keys = KeyStore(committed.secrets_dir)
    keys.signing_key("audit")  # made up front, so the two sealers do not race to create it
    engine = make_engine(committed.resolved_database_url)
    sessions = make_sessionmaker(engine)
    outcome: list[object] = []

    def second_sealer() -> None:
        with sessions() as db, transaction(db), clock.frozen(LATER):
            outcome.append(seal_checkpoint(db, keys=keys, max_events=100, lag_seconds=30))

    try:
        with sessions() as db, transaction(db), clock.frozen(LATER):
            assert seal_checkpoint(db, keys=keys, max_events=100, lag_seconds=30) is not None
            thread = threading.Thread(target=second_sealer)
            thread.start()
            time.sleep(0.5)  # the second sealer is now waiting for the first to commit
        thread.join(timeout=30)
        assert outcome == [None]
        with sessions() as db:
            assert db.scalar(select(AuditCheckpoint.event_count)) == 5
            assert verify_log(db, keys=keys).ok
    finally:
        engine.dispose()


def test_cli_checkpoint_then_verify_then_find_tampering(committed: Settings) -> None:
    runner = CliRunner()
    ids = record_committed(committed, 5, at=datetime.now(UTC) - timedelta(hours=1))

    result = runner.invoke(audit_cli.app, ["checkpoint"], obj=committed)
    assert result.exit_code == 0, result.output
    assert "Sealed 5 events in 1 checkpoint" in result.output
    result = runner.invoke(audit_cli.app, ["checkpoint"], obj=committed)
    assert result.exit_code == 0 and "Nothing to seal" in result.output

    result = runner.invoke(audit_cli.app, ["verify"], obj=committed)
    assert result.exit_code == 0, result.output
    assert "The audit log verifies" in result.output

    engine = make_engine(committed.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_event SET actor = 'staff:forger' WHERE id = :id"), {"id": ids[3]}
        )
    engine.dispose()
    result = runner.invoke(audit_cli.app, ["verify"], obj=committed)
    assert result.exit_code == 1, result.output
    assert f"event {ids[3]} was changed" in result.output


# -- many events at once ---------------------------------------------------------------------------------


def test_events_recorded_in_bulk_are_sealed_and_verified_like_any_other(db: Session, keys: KeyStore) -> None:
    before = record(db, 2)
    events: list[tuple[str, str, dict[str, Any] | None]] = [
        ("person", f"p{n}", {"number": f"N{n}", "fields": ["name"], "valid_until": None}) for n in range(5)
    ]
    events.append(("person", "p-float", {"score": 1.0, "ratio": 0.25}))  # not plain: the exact slow path
    events.append(("person", "p-empty", None))
    with clock.frozen(T0):
        assert (
            record_events(db, actor="client:dept", action="certificates.certificate.issued", events=events)
            == 7
        )
    rows = db.execute(select(EVENTS).where(EVENTS.c.id > before[-1]).order_by(EVENTS.c.id)).mappings().all()
    assert [row["subject_id"] for row in rows] == [subject for _, subject, _ in events]
    for row in rows:
        # The digest is exactly what record_event writes for the same event.
        assert row["digest"] == event_digest(
            occurred_at=row["occurred_at"],
            actor=row["actor"],
            action=row["action"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            data=row["data"],
            request_id=row["request_id"],
        )
    assert rows[-2]["data"] == {"score": 1, "ratio": 0.25} and rows[-1]["data"] == {}
    seal(db, keys)
    assert verify(db, keys) == VerifyReport(ok=True, checked_events=9, checkpoints=1, unsealed_events=0)
    # A bulk-written event changed afterwards is caught like any other.
    db.execute(update(EVENTS).where(EVENTS.c.id == rows[2]["id"]).values(subject_id="someone else"))
    assert_bad(verify(db, keys), rows[2]["id"], "changed")
