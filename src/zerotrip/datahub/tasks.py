"""Background work for the datahub. A task run owns its transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from zerotrip.datahub.sharing import flag_overdue_requests
from zerotrip.db import transaction


def escalate_overdue(session_factory: sessionmaker[Session]) -> int:
    """Flag share requests past their decision deadline to the platform operator; returns how many."""
    with session_factory() as db, transaction(db):
        return len(flag_overdue_requests(db))
