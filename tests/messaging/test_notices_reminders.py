"""Reminders: a round goes out when the notice's reminder time has passed, counts those who still owe a read
(or an acknowledgement), shows in their inboxes, repeats up to the configured rounds and stops when nobody
owes anything."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.audit.models import AuditEvent
from zerotrip.common import clock
from zerotrip.common.checks import make_resident_id
from zerotrip.config import NoticesSettings
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Account
from zerotrip.messaging import notices_queries, notices_receipts, tasks_notices
from zerotrip.messaging.models_notices import NoticeReminder
from zerotrip.messaging.models_notifications import Delivery, Notification
from zerotrip.messaging.notices_reminders import REMINDED, REMINDER_TEMPLATE
from zerotrip.messaging.notifications import set_preferences
from zerotrip.messaging.notifications_templates import get_template
from zerotrip.messaging.schemas_notices import TargetSpec

from .notices_world import ROOT, NoticesWorld, build_notices_world

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


def test_an_emergency_round_is_escalated_to_sms_through_notifications(
    db: Session, world: NoticesWorld, session_factory: sessionmaker[Session]
) -> None:
    # A bureau member whose staff account is linked to a registered person who gave a mobile number.
    person = actions.register_person(
        db,
        actor=ROOT,
        name="杨应急",
        division_code="330106",
        resident_id=make_resident_id(
            division_code="330106", birth_date=date(1988, 3, 9), sequence=31, sex="male"
        ),
    )
    actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=world.orgs["330106-emergency"],
        login_name="xh-em-linked",
        display_name="杨应急",
        person_id=person.id,
    )
    # The person's own choice, as on the notification preferences page: a mobile number, no other change.
    set_preferences(
        db,
        actor=Actor(kind="citizen", person_id=person.id),
        language="zh_Hans",
        email=None,
        phone="13800138000",
        channels={},
    )
    db.flush()
    with clock.frozen(START) as frozen:
        notice = world.publish(
            db,
            "xh-em-pub",
            priority="emergency",
            requires_ack=True,
            remind_after_minutes=15,
            targets=[TargetSpec(org_id=world.orgs["330106-emergency"])],
        )
        db.flush()
        frozen.advance(timedelta(minutes=16))
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 1
        assert tasks_notices.send_reminders(session_factory, settings=SETTINGS) == 0
    [reminder] = db.scalars(select(NoticeReminder).where(NoticeReminder.notice_id == notice.id))
    assert (reminder.channel, reminder.recipients) == ("sms", 5)
    # Only the linked member can be texted: the others have no person, so no phone the platform knows.
    [notification] = db.scalars(select(Notification).where(Notification.person_id == person.id))
    assert notification.template == REMINDER_TEMPLATE and notification.link == f"/staff/notices/{notice.id}"
    assert (
        notification.dedupe_key
        == f"{REMINDER_TEMPLATE}:{notice.id}:1:{person_id_account(db, 'xh-em-linked')}"
    )
    channels = {
        (d.channel, d.address)
        for d in db.scalars(select(Delivery).where(Delivery.notification_id == notification.id))
    }
    assert channels == {("inbox", None), ("sms", "13800138000")}
    rendered = get_template(REMINDER_TEMPLATE).render(notification.params, "zh_Hans")
    assert "尚未确认" in rendered.sms and notice.title in rendered.sms
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == REMINDED))
    assert event.data["escalated"] == 1


def person_id_account(db: Session, login: str) -> str:
    account = db.scalar(select(Account).where(Account.login_name == login))
    assert account is not None
    return str(account.id)
