"""Signed checkpoints over the audit log, and the walk that verifies them.

A checkpoint seals the next run of events (in id order, after the previous checkpoint) under the Merkle root
of one leaf per event, chains to the previous checkpoint by hash and is signed with the platform's audit key.
Writers never wait for it: sealing runs later and leaves events younger than a lag for the next run, so
transactions still in flight commit before their range is sealed (the lag must exceed the longest
transaction that records events). The stored (id, leaf) pairs let ``verify_log`` name the first event that
was changed, deleted or inserted behind the platform's back.

What a checkpoint cannot prove: events after the newest checkpoint are only checked against their own
digests, and removing the newest checkpoint together with its events is visible only to someone holding a
copy of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import Select, Text, cast, select, text
from sqlalchemy.orm import Session

from zerotrip.audit.digest import canonical_json, event_digest, leaf, merkle_root
from zerotrip.audit.errors import AuditTampered
from zerotrip.audit.models import AuditCheckpoint, AuditEvent
from zerotrip.common import clock
from zerotrip.config import AuditSettings
from zerotrip.keys import KeyStore, PublicKey, SigningKey

KEY_NAME = "audit"
GENESIS_DIGEST = bytes(32)
LEAF_SIZE = 40  # 8-byte big-endian event id, then the 32-byte leaf
BATCH_SIZE = 1000
_SEALER_LOCK_KEY = 0x7A74_6175_6469_7401  # pg_advisory_xact_lock key held by sealers only
_KEY_ID = re.compile(r"[a-z2-7]{1,64}")
INSERTED = "inserted behind the log's back"


class _Event(NamedTuple):
    id: int
    occurred_at: datetime | None
    stored_digest: bytes | None
    content_digest: bytes | None  # None: the row's content can no longer be read at all

    @property
    def is_intact(self) -> bool:
        return self.content_digest is not None and self.content_digest == self.stored_digest


class _Head(NamedTuple):
    """A checkpoint without its leaves."""

    id: int
    sealed_at: datetime
    first_event_id: int
    last_event_id: int
    event_count: int
    merkle_root: bytes
    previous_digest: bytes
    key_id: str
    signature: bytes


_EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.subject_type,
    AuditEvent.subject_id,
    # Read as text and parsed here, so a value overwritten with something that is not JSON is reported
    # as a changed event instead of stopping the walk.
    cast(AuditEvent.data, Text),
    AuditEvent.request_id,
    AuditEvent.digest,
)
_HEAD_COLUMNS = tuple(getattr(AuditCheckpoint, name) for name in _Head._fields)


# -- payload, chain and signatures -------------------------------------------------------------------


def checkpoint_payload(checkpoint: AuditCheckpoint | _Head) -> bytes:
    """The exact bytes a checkpoint's signature covers and the next checkpoint's chain digest hashes."""
    body = {
        "v": 1,
        "first_event_id": checkpoint.first_event_id,
        "last_event_id": checkpoint.last_event_id,
        "event_count": checkpoint.event_count,
        "merkle_root": checkpoint.merkle_root.hex(),
        "previous_digest": checkpoint.previous_digest.hex(),
        "sealed_at": checkpoint.sealed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "key_id": checkpoint.key_id,
    }
    return b"zerotrip.audit.checkpoint\x00" + canonical_json(body)


def _chain_digest(previous: _Head | None) -> bytes:
    return GENESIS_DIGEST if previous is None else hashlib.sha256(checkpoint_payload(previous)).digest()


def _sign(key: SigningKey, payload: bytes) -> bytes:
    if isinstance(key.private_key, ed25519.Ed25519PrivateKey):
        return key.private_key.sign(payload)
    return key.private_key.sign(payload, ec.ECDSA(hashes.SHA256()))


def _signature_verifies(public_key: PublicKey, signature: bytes, payload: bytes) -> bool:
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, payload)
        else:
            public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# -- reading events and checkpoints in bounded batches ----------------------------------------------------


def _to_event(row: Any) -> _Event:
    event_id, occurred_at, actor, action, subject_type, subject_id, data_text, request_id, stored = row
    try:
        data = json.loads(data_text)
    except (TypeError, ValueError):
        return _Event(event_id, occurred_at, stored, None)
    content = event_digest(
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data,
        request_id=request_id,
    )
    return _Event(event_id, occurred_at, stored, content)


def _read_events(db: Session, query: Select[*tuple[Any, ...]]) -> list[_Event]:
    try:
        return [_to_event(row) for row in db.execute(query).all()]
    except (TypeError, ValueError):
        # A value the driver cannot decode (say a timestamp overwritten with text on SQLite): read the batch
        # row by row so that only the unreadable row is reported, as changed.
        events = []
        for event_id in db.scalars(query.with_only_columns(AuditEvent.id)).all():
            try:
                row = db.execute(select(*_EVENT_COLUMNS).where(AuditEvent.id == event_id)).one()
                events.append(_to_event(row))
            except (TypeError, ValueError):
                events.append(_Event(event_id, None, None, None))
        return events


def _event_stream(db: Session, *, after: int | None, batch_size: int) -> Iterator[_Event]:
    """Events in id order from just after ``after``, fetched by keyset in batches (bounded memory)."""
    while True:
        query = select(*_EVENT_COLUMNS).order_by(AuditEvent.id).limit(batch_size)
        if after is not None:
            query = query.where(AuditEvent.id > after)
        batch = _read_events(db, query)
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1].id


def _head_stream(db: Session, *, batch_size: int = 100) -> Iterator[_Head]:
    after: int | None = None
    while True:
        query = select(*_HEAD_COLUMNS).order_by(AuditCheckpoint.id).limit(batch_size)
        if after is not None:
            query = query.where(AuditCheckpoint.id > after)
        batch = [_Head._make(row) for row in db.execute(query).all()]
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1].id


def _last_head(db: Session) -> _Head | None:
    row = db.execute(
        select(*_HEAD_COLUMNS).order_by(AuditCheckpoint.last_event_id.desc()).limit(1)
    ).one_or_none()
    return None if row is None else _Head._make(row)


# -- sealing ---------------------------------------------------------------------------------------------


def _lock_sealer(db: Session) -> None:
    """Make concurrent sealers queue up; event writers never take this lock."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEALER_LOCK_KEY})
    else:
        # SQLite: claim the write lock before reading, so a second sealer waits (busy timeout) instead of
        # reading the same range and then failing on a stale snapshot.
        db.execute(text("UPDATE audit_checkpoint SET note = note WHERE 1 = 0"))


def seal_checkpoint(
    db: Session, *, keys: KeyStore, max_events: int, lag_seconds: int
) -> AuditCheckpoint | None:
    """Seal the next run of events after the last checkpoint under a signed checkpoint.

    The run is at most ``max_events`` events in id order and stops at the first event younger than
    ``lag_seconds``, so an event committed late cannot land inside a sealed range. The checkpoint is added
    to the caller's transaction; returns None when no event is old enough. Raises AuditTampered (naming the
    event) when an event's content no longer matches the digest written with it.
    """
    if max_events < 1:
        raise ValueError("max_events must be at least 1")
    _lock_sealer(db)
    previous = _last_head(db)
    cutoff = clock.now() - timedelta(seconds=lag_seconds)
    pairs: list[bytes] = []
    leaves: list[bytes] = []
    first_id = last_id = 0
    after = previous.last_event_id if previous is not None else None
    for event in _event_stream(db, after=after, batch_size=min(max_events, BATCH_SIZE)):
        if event.occurred_at is not None and event.occurred_at > cutoff:
            break
        if event.content_digest is None or not event.is_intact:
            raise AuditTampered(f"event {event.id} was changed before it was sealed", event_id=event.id)
        if not leaves:
            first_id = event.id
        digest = leaf(event.id, event.content_digest)
        pairs.append(event.id.to_bytes(8, "big", signed=True) + digest)
        leaves.append(digest)
        last_id = event.id
        if len(leaves) == max_events:
            break
    if not leaves:
        return None

    key = keys.signing_key(KEY_NAME, algorithm="EdDSA")
    checkpoint = AuditCheckpoint(
        sealed_at=clock.now().astimezone(UTC),
        first_event_id=first_id,
        last_event_id=last_id,
        event_count=len(leaves),
        leaves=b"".join(pairs),
        merkle_root=merkle_root(leaves),
        previous_digest=_chain_digest(previous),
        key_id=key.kid,
    )
    checkpoint.signature = _sign(key, checkpoint_payload(checkpoint))
    db.add(checkpoint)
    # Flush for the id the operator is shown, and to meet the unique range constraint now, not at commit.
    db.flush()
    return checkpoint


def seal_all(db: Session, *, keys: KeyStore, settings: AuditSettings) -> list[AuditCheckpoint]:
    """Seal checkpoints until no event old enough is left; all of them in the caller's transaction."""
    sealed: list[AuditCheckpoint] = []
    while (
        checkpoint := seal_checkpoint(
            db,
            keys=keys,
            max_events=settings.checkpoint_max_events,
            lag_seconds=settings.checkpoint_lag_seconds,
        )
    ) is not None:
        sealed.append(checkpoint)
    return sealed


# -- verification ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked_events: int
    checkpoints: int
    unsealed_events: int
    first_bad_event_id: int | None = None
    problem: str | None = None


class _Found(Exception):
    def __init__(self, problem: str, event_id: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.event_id = event_id


def _bad(event_id: int, what: str) -> _Found:
    return _Found(f"event {event_id} was {what}", event_id)


def _chain_broken(head: _Head, previous: _Head | None) -> str:
    missing = range(previous.id + 1 if previous is not None else 1, head.id)
    if len(missing) == 1:
        return f"checkpoint {missing[0]} is missing (chain broken)"
    if missing:
        return f"checkpoints {missing[0]} to {missing[-1]} are missing (chain broken)"
    after = f"checkpoint {previous.id}" if previous is not None else "the start of the log"
    return f"checkpoint {head.id} does not follow {after} (chain broken)"


class _Walk:
    """One pass over checkpoints and events in id order that stops at the first thing wrong."""

    def __init__(
        self, db: Session, keys: KeyStore, batch_size: int, progress: Callable[[int], None] | None
    ) -> None:
        self.db = db
        self.keys = keys
        self.batch_size = batch_size
        self.progress = progress
        self.checked = 0
        self.checkpoints = 0
        self.unsealed = 0
        self._events = _event_stream(db, after=None, batch_size=batch_size)
        self._pending: _Event | None = None
        self._public_keys: dict[str, PublicKey] = {}

    def run(self) -> None:
        previous: _Head | None = None
        for head in _head_stream(self.db):
            blob = self.db.scalar(select(AuditCheckpoint.leaves).where(AuditCheckpoint.id == head.id))
            pairs = self._check_checkpoint(head, previous, blob or b"")
            self._check_range(head, pairs)
            self.checkpoints += 1
            previous = head
        while (event := self._next_event()) is not None:
            if not event.is_intact:
                raise _bad(event.id, "changed")
            self.unsealed += 1

    def _next_event(self) -> _Event | None:
        event, self._pending = self._pending, None
        if event is None:
            event = next(self._events, None)
            if event is not None:
                self.checked += 1
                if self.progress is not None and self.checked % self.batch_size == 0:
                    self.progress(self.checked)
        return event

    def _public_key(self, head: _Head) -> PublicKey:
        if head.key_id not in self._public_keys:
            unknown = _Found(
                f"checkpoint {head.id} is signed with key {head.key_id!r}, which is not held here"
            )
            if not _KEY_ID.fullmatch(head.key_id):
                raise unknown
            try:
                self._public_keys[head.key_id] = self.keys.load(KEY_NAME, head.key_id).public_key
            except (OSError, TypeError, ValueError):
                raise unknown from None
        return self._public_keys[head.key_id]

    def _check_checkpoint(self, head: _Head, previous: _Head | None, blob: bytes) -> list[tuple[int, bytes]]:
        """Signature, chain and Merkle root; returns the checkpoint's (event id, leaf) pairs."""
        if not _signature_verifies(self._public_key(head), head.signature, checkpoint_payload(head)):
            raise _Found(f"checkpoint {head.id} signature does not verify")
        if head.previous_digest != _chain_digest(previous):
            raise _Found(_chain_broken(head, previous))
        if previous is not None and head.first_event_id <= previous.last_event_id:
            raise _Found(f"checkpoint {head.id} overlaps checkpoint {previous.id}")
        pairs = [
            (int.from_bytes(blob[at : at + 8], "big", signed=True), blob[at + 8 : at + LEAF_SIZE])
            for at in range(0, len(blob), LEAF_SIZE)
        ]
        if merkle_root([digest for _, digest in pairs]) != head.merkle_root:
            raise _Found(f"checkpoint {head.id} leaves do not match its Merkle root")
        ids = [event_id for event_id, _ in pairs]
        if (
            len(blob) % LEAF_SIZE
            or len(pairs) != head.event_count
            or not pairs
            or ids[0] != head.first_event_id
            or ids[-1] != head.last_event_id
            or any(a >= b for a, b in pairwise(ids))
        ):
            raise _Found(f"checkpoint {head.id} leaves do not match its event range")
        return pairs

    def _check_range(self, head: _Head, pairs: list[tuple[int, bytes]]) -> None:
        """Merge the events up to the checkpoint's last id with its leaves, both in id order."""
        index = 0
        while (event := self._next_event()) is not None:
            if event.id > head.last_event_id:
                self._pending = event
                break
            if event.id < head.first_event_id:
                raise _bad(event.id, INSERTED)  # between the previous range and this one
            if index < len(pairs) and pairs[index][0] < event.id:
                raise _bad(pairs[index][0], "deleted")
            if index == len(pairs) or pairs[index][0] > event.id:
                raise _bad(event.id, INSERTED)
            if not event.is_intact or leaf(event.id, event.content_digest or b"") != pairs[index][1]:
                raise _bad(event.id, "changed")
            index += 1
        if index < len(pairs):
            raise _bad(pairs[index][0], "deleted")


def verify_log(
    db: Session,
    *,
    keys: KeyStore,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk every checkpoint and event in id order and report the first sign of tampering, if any.

    Each checkpoint's signature (by the key it names), its chain to the one before and the Merkle root of
    its leaves are checked, then its events are compared leaf by leaf. Events after the newest checkpoint
    are checked against their own digests. ``progress`` is called with the number of events read so far.
    """
    walk = _Walk(db, keys, batch_size, progress)
    try:
        walk.run()
    except _Found as found:
        return VerifyReport(
            ok=False,
            checked_events=walk.checked,
            checkpoints=walk.checkpoints,
            unsealed_events=walk.unsealed,
            first_bad_event_id=found.event_id,
            problem=found.problem,
        )
    if progress is not None:
        progress(walk.checked)
    return VerifyReport(
        ok=True, checked_events=walk.checked, checkpoints=walk.checkpoints, unsealed_events=walk.unsealed
    )
