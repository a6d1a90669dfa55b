"""Background work for staff notices. A task run owns its transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from zerotrip.common import clock
from zerotrip.config import NoticesSettings
from zerotrip.db import transaction
from zerotrip.messaging.notices_reminders import due_notices, remind
from zerotrip.messaging.rollups_headcount import rebuild_headcount, verify_headcount


def send_reminders(session_factory: sessionmaker[Session], *, settings: NoticesSettings) -> int:
    """Send every reminder round that is due; returns how many rounds went out."""
    with session_factory() as db, transaction(db):
        now = clock.now()
        sent = [
            remind(db, notice=n, now=now, settings=settings)
            for n in due_notices(db, settings=settings, now=now)
        ]
        return sum(1 for r in sent if r is not None)


def refresh_headcount(session_factory: sessionmaker[Session]) -> int:
    """Derive the staff headcount per unit again from the memberships (after memberships were removed, or
    after a bulk load); returns its number of rows."""
    with session_factory() as db, transaction(db):
        return rebuild_headcount(db)


def check_headcount(session_factory: sessionmaker[Session]) -> int:
    """Rebuild the staff headcount per unit if it no longer matches the memberships; 1 if it was rebuilt."""
    with session_factory() as db, transaction(db):
        return int(verify_headcount(db))
