"""Background work for services. A task run owns its transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from zerotrip.db import transaction
from zerotrip.services.reviewing import flag_overdue_applications


def escalate_overdue(session_factory: sessionmaker[Session]) -> int:
    """Escalate applications past their deadline to the office above; returns how many."""
    with session_factory() as db, transaction(db):
        return len(flag_overdue_applications(db))
