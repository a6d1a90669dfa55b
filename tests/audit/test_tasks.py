"""The periodic sealer as a running server uses it: its own session and transaction, real commits."""

from __future__ import annotations

from pathlib import Path

from zerotrip.audit.actions import record_event
from zerotrip.audit.checkpoints import verify_log
from zerotrip.audit.tasks import seal_pending
from zerotrip.config import AuditSettings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.keys import KeyStore


def test_seal_pending_commits_checkpoints_that_verify(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(new_database(migrate=True))
    sessions = make_sessionmaker(engine)
    keys = KeyStore(tmp_path / "secrets")
    settings = AuditSettings(checkpoint_lag_seconds=0, checkpoint_max_events=3)
    try:
        with sessions() as db, transaction(db):
            for n in range(7):
                record_event(
                    db, actor="system:test", action="test.thing.done", subject_type="thing", subject_id=str(n)
                )
        assert seal_pending(sessions, keys=keys, settings=settings) == 7
        assert seal_pending(sessions, keys=keys, settings=settings) == 0
        with sessions() as db:
            report = verify_log(db, keys=keys)
        assert report.ok and report.checkpoints == 3 and report.unsealed_events == 0
    finally:
        engine.dispose()
