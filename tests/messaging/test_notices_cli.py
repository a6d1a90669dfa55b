"""``zerotrip notices``: the headcount rebuilt and due reminders sent, against a database of its own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from zerotrip.cli import app
from zerotrip.common import clock
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.messaging.models_notices import NoticeReminder

from .notices_world import build_notices_world

runner = CliRunner()


def test_headcount_and_reminders(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = new_database(migrate=True)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            world = build_notices_world(db)
            with clock.frozen(clock.now() - timedelta(hours=2)):
                notice = world.publish(db, "hz-pub", remind_after_minutes=60)
            notice_id = notice.id
        base = ("--data-dir", str(tmp_path), "--database-url", url)
        result = runner.invoke(app, [*base, "notices", "headcount"], catch_exceptions=False)
        assert result.exit_code == 0 and "Headcount rows: 13" in result.output, result.output
        result = runner.invoke(app, [*base, "notices", "remind"], catch_exceptions=False)
        assert result.exit_code == 0 and "Reminder rounds sent: 1" in result.output, result.output
        with make_sessionmaker(engine)() as db:
            [reminder] = db.scalars(select(NoticeReminder).where(NoticeReminder.notice_id == notice_id))
            assert (reminder.round, reminder.missing, reminder.recipients) == (1, "unread", 9)
    finally:
        engine.dispose()
