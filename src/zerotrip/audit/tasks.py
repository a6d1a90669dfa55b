"""Background work for the audit log: sealing what has accumulated. A task run owns its transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from zerotrip.audit.checkpoints import seal_all
from zerotrip.config import AuditSettings
from zerotrip.db import transaction
from zerotrip.keys import KeyStore


def seal_pending(session_factory: sessionmaker[Session], *, keys: KeyStore, settings: AuditSettings) -> int:
    """Seal every event old enough under signed checkpoints; returns how many events were sealed.

    Safe to run from several processes at once: sealers serialise among themselves (never against
    event writers).
    """
    with session_factory() as db, transaction(db):
        return sum(c.event_count for c in seal_all(db, keys=keys, settings=settings))
