"""Background work for citizen notifications. A task run owns its transactions."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from zerotrip.config import Settings
from zerotrip.messaging.worker import Worker


def deliver_due(session_factory: sessionmaker[Session], settings: Settings) -> int:
    """Send every delivery that is due now, batch after batch, as a worker would (the web server's
    in-process worker for the demo); returns how many were sent."""
    worker = Worker(session_factory, settings)
    sent = 0
    while True:
        tally = worker.run_once()
        sent += tally.sent + tally.unconfirmed
        if tally.claimed < settings.messaging.batch_size:
            return sent
