"""Reminders: a round goes out when the notice's reminder time has passed, counts those who still owe a read
(or an acknowledgement), shows in their inboxes, repeats up to the configured rounds and stops when nobody
owes anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.audit.models import AuditEvent
from zerotrip.common import clock
from zerotrip.config import NoticesSettings
from zerotrip.messaging import notices_queries, notices_receipts, tasks_notices
from zerotrip.messaging.models_notices import NoticeReminder
from zerotrip.messaging.notices_reminders import REMINDED
from zerotrip.messaging.schemas_notices import TargetSpec

from .notices_world import NoticesWorld, build_notices_world

START = datetime(2019, 8, 9, 6, 0, tzinfo=UTC)
SETTINGS = NoticesSettings(reminder_max_rounds=2)


@pytest.fixture
def world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def rounds(db: Session, notice_id: int) -> list[tuple[int, str, int]]:
    return [
        (r.round, r.missing, r.recipients)
        for r in db.scalars(
            select(NoticeReminder)
            .where(NoticeReminder.notice_id == notice_id)
            .order_by(NoticeReminder.round)
            .execution_options(populate_existing=True)
        )
    ]


def test_rounds_go_to_those_who_still_owe_an_acknowledgement(
    db: Session, world: NoticesWorld, session_factory: sessionmaker[Session]
) -> None:
    with clock.frozen(START) as frozen:
        notice = world.publish(
            db,
            "xh-em-pub",
            requires_ack=True,
            remind_after_minutes=30,
            targets=[TargetSpec(org_id=world.orgs["330106-emergency"])],
        )
        plain = world.publish(db, "xh-em-pub", targets=[TargetSpec()])  # no reminder time: never reminded
        notices_receipts.acknowledge(db, actor=world.staff["xh-em-1"], notice_id=notice.id)
        notices_receipts.mark_read(db, actor=world.staff["xh-em-2"], notice_id=notice.id)  # read, not acked
        db.flush()
        frozen.advance(timedelta(minutes=29))
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 0
        frozen.advance(timedelta(minutes=2))
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 1
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 0  # not due again yet
        # Four staff in the bureau; 冯审核 acknowledged: three still owe it.
        assert rounds(db, notice.id) == [(1, "unacknowledged", 3)]
        assert rounds(db, plain.id) == []
        owing = notices_queries.list_inbox(db, actor=world.staff["xh-em-2"]).items
        assert [(i.id, i.is_reminded) for i in owing] == [(plain.id, False), (notice.id, True)]
        done = notices_queries.list_inbox(db, actor=world.staff["xh-em-1"]).items
        assert [(i.id, i.is_reminded) for i in done if i.id == notice.id] == [(notice.id, False)]

        notices_receipts.acknowledge(db, actor=world.staff["xh-em-3"], notice_id=notice.id)
        db.flush()
        frozen.advance(timedelta(minutes=30))
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 1
        frozen.advance(timedelta(hours=5))
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 0  # two rounds at most
        assert rounds(db, notice.id) == [(1, "unacknowledged", 3), (2, "unacknowledged", 2)]
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == REMINDED)).all()
    assert [e.data["round"] for e in events] == [1, 2]


def test_no_round_when_everyone_has_read(
    db: Session, world: NoticesWorld, session_factory: sessionmaker[Session]
) -> None:
    with clock.frozen(START) as frozen:
        notice = world.publish(
            db,
            "xh-em-pub",
            remind_after_minutes=10,
            targets=[TargetSpec(org_id=world.orgs["330106-emergency"])],
        )
        for login in ("xh-em-pub", "xh-em-1", "xh-em-2", "xh-em-3"):
            notices_receipts.mark_read(db, actor=world.staff[login], notice_id=notice.id)
        db.flush()
        frozen.advance(timedelta(minutes=11))
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 0
        frozen.advance(timedelta(minutes=11))
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 0
    assert rounds(db, notice.id) == []
