"""Writing notifications into the outbox: recipients, templates, dedupe, preferences, reading."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.audit.models import AuditEvent
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import NotYourRecord
from zerotrip.messaging import notifications, notifications_queries
from zerotrip.messaging.actions import NotificationRequest, notify, notify_many
from zerotrip.messaging.errors_notifications import NotificationNotFound, RecipientNotFound
from zerotrip.messaging.models_notifications import Delivery, Notification
from zerotrip.messaging.tasks import deliver_due
from zerotrip.problems import ValidationFailed

from .conftest import People, messaging_settings

APPROVED = {"number": "BJ23456789AB", "item_name": "住房公积金提取"}


def deliveries(db: Session, notification_id: uuid.UUID) -> dict[str, Delivery]:
    rows = db.scalars(select(Delivery).where(Delivery.notification_id == notification_id))
    return {d.channel: d for d in rows}


def test_notify_writes_the_notification_and_an_inbox_delivery(db: Session, people: People) -> None:
    notification_id = notify(
        db,
        person_id=people.alice.id,
        template="services.application.approved",
        params=APPROVED,
        dedupe_key="test:approved:1",
        link="/me/applications/BJ23456789AB",
    )
    notification = db.get_one(Notification, notification_id)
    assert notification.person_id == people.alice.id
    assert notification.kind == "application_decided"
    assert notification.language == "zh_Hans"
    assert notification.link == "/me/applications/BJ23456789AB"
    found = deliveries(db, notification_id)
    # Without preferences, a person has the inbox only: no address is known for e-mail or SMS.
    assert list(found) == ["inbox"]
    assert found["inbox"].status == "pending"
    assert found["inbox"].attempts == 0


def test_the_same_dedupe_key_is_told_once(db: Session, people: People) -> None:
    first = notify(
        db,
        person_id=people.alice.id,
        template="services.application.approved",
        params=APPROVED,
        dedupe_key="k1",
    )
    again = notify(
        db,
        person_id=people.alice.id,
        template="services.application.approved",
        params=APPROVED,
        dedupe_key="k1",
    )
    assert again == first
    assert db.scalar(select(Notification.id).where(Notification.dedupe_key == "k1")) == first
    assert len(list(db.scalars(select(Delivery).where(Delivery.notification_id == first)))) == 1


def test_recipients_by_account_resident_id_and_enterprise(db: Session, people: People) -> None:
    requests = [
        NotificationRequest(
            template="services.application.referred",
            params=APPROVED,
            dedupe_key="a",
            account_id=people.alice_account.id,
        ),
        NotificationRequest(
            template="services.application.referred",
            params=APPROVED,
            dedupe_key="b",
            resident_id=people.bob.resident_id.lower(),
        ),
        NotificationRequest(
            template="services.application.referred",
            params=APPROVED,
            dedupe_key="c",
            uscc=people.enterprise_uscc,
        ),
        NotificationRequest(
            template="services.application.referred", params=APPROVED, dedupe_key="a", person_id=people.bob.id
        ),
    ]
    ids = notify_many(db, requests)
    assert ids[0] == ids[3]  # the repeated key in one call is told once, to the first recipient
    recipients = [db.get_one(Notification, i).person_id for i in ids[:3]]
    assert recipients == [people.alice.id, people.bob.id, people.carol.id]


@pytest.mark.parametrize(
    "recipient",
    [
        {"person_id": uuid.uuid4()},
        {"account_id": uuid.uuid4()},
        {"resident_id": "11010519491231002X"},
        {"uscc": "91330106MA27XYZ00K"},
    ],
)
def test_an_unregistered_recipient_is_refused(
    db: Session, people: People, recipient: dict[str, object]
) -> None:
    with pytest.raises(RecipientNotFound):
        notify(
            db,
            template="services.application.approved",
            params=APPROVED,
            dedupe_key="x",
            **recipient,  # type: ignore[arg-type]
        )


def test_callers_mistakes_are_programming_errors(db: Session, people: People) -> None:
    with pytest.raises(LookupError):
        notify(db, person_id=people.alice.id, template="no.such.template", params={}, dedupe_key="x")
    with pytest.raises(ValueError, match="needs params"):
        notify(
            db,
            person_id=people.alice.id,
            template="services.application.approved",
            params={"number": "1"},
            dedupe_key="x",
        )
    with pytest.raises(ValueError, match="exactly one way"):
        notify(
            db,
            person_id=people.alice.id,
            resident_id=people.alice.resident_id,
            template="services.application.approved",
            params=APPROVED,
            dedupe_key="x",
        )
    with pytest.raises(ValueError, match="path on the platform"):
        notify(
            db,
            person_id=people.alice.id,
            template="services.application.approved",
            params=APPROVED,
            dedupe_key="x",
            link="https://evil.example/phish",
        )


def test_preferences_choose_channels_per_kind_and_language(db: Session, people: People) -> None:
    alice = people.citizen(people.alice)
    notifications.set_preferences(
        db,
        actor=alice,
        language="en",
        email=" alice@example.cn ",
        phone="+86 138-0013-8001",
        channels={"application_progress": ["sms"], "certificate_issued": []},
    )
    decided = notify(
        db,
        person_id=people.alice.id,
        template="services.application.approved",
        params=APPROVED,
        dedupe_key="d",
    )
    progress = notify(
        db,
        person_id=people.alice.id,
        template="services.application.referred",
        params=APPROVED,
        dedupe_key="p",
    )
    issued = notify(
        db,
        person_id=people.alice.id,
        template="certificates.certificate.issued",
        params={"type_name": "结婚证", "number": "N1"},
        dedupe_key="i",
    )
    # application_decided keeps its defaults (e-mail and SMS); the others are what she chose.
    assert {c: d.address for c, d in deliveries(db, decided).items()} == {
        "inbox": None,
        "email": "alice@example.cn",
        "sms": "13800138001",
    }
    assert set(deliveries(db, progress)) == {"inbox", "sms"}
    assert set(deliveries(db, issued)) == {"inbox"}
    assert db.get_one(Notification, decided).language == "en"
    read = notifications_queries.get_preferences(db, actor=alice)
    assert read.channels["application_decided"] == ["email", "sms"]
    assert read.channels["application_progress"] == ["sms"]
    assert read.registered_phone == "13800138000"


def test_preferences_are_validated_and_audited_without_the_addresses(db: Session, people: People) -> None:
    alice = people.citizen(people.alice)
    with pytest.raises(ValidationFailed) as failed:
        notifications.set_preferences(
            db,
            actor=alice,
            language="fr",
            email="alice@example.cn\r\nBcc: everyone@example.cn",
            phone="12345",
            channels={"no_such_kind": ["email"], "application_decided": ["pigeon"]},
        )
    pointers = {e["pointer"] for e in failed.value.errors}
    assert pointers == {
        "#/language",
        "#/email",
        "#/phone",
        "#/channels/no_such_kind",
        "#/channels/application_decided",
    }
    notifications.set_preferences(
        db, actor=alice, language="zh_Hans", email="a@example.cn", phone=None, channels={}
    )
    db.flush()
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "messaging.preferences.changed")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.subject_id == people.alice.resident_id
    assert event.data == {"changed": ["email"]}
    assert "a@example.cn" not in str(event.data)


def test_only_citizens_have_preferences_and_inboxes(db: Session, people: People) -> None:
    staff = Actor(kind="staff", account_id=uuid.uuid4())
    with pytest.raises(NotYourRecord):
        notifications.set_preferences(db, actor=staff, language="en", email=None, phone=None, channels={})
    with pytest.raises(NotYourRecord):
        notifications_queries.list_inbox(db, actor=staff)
    with pytest.raises(NotYourRecord):
        notifications_queries.unread_count(db, actor=staff)
    assert notifications_queries.unread_for_header(db, staff) is None


def test_marking_read_only_in_ones_own_inbox(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    first = notify(
        db,
        person_id=people.alice.id,
        template="services.application.approved",
        params=APPROVED,
        dedupe_key="1",
    )
    notify(
        db,
        person_id=people.alice.id,
        template="services.application.referred",
        params=APPROVED,
        dedupe_key="2",
    )
    for_bob = notify(
        db, person_id=people.bob.id, template="services.application.referred", params=APPROVED, dedupe_key="3"
    )
    db.commit()  # the worker's sessions see it (the test's outer transaction is still rolled back)
    assert deliver_due(session_factory, messaging_settings(settings)) == 3
    alice = people.citizen(people.alice)
    inbox = notifications_queries.list_inbox(db, actor=alice, language="en")
    assert inbox.total == 2 and inbox.unread == 2
    # Newest first: both arrived in one batch, the later notification on top.
    assert [i.subject for i in inbox.items] == [
        "Application BJ23456789AB is with a reviewer",
        "Application BJ23456789AB approved",
    ]
    with pytest.raises(NotificationNotFound):
        notifications.mark_read(db, actor=alice, notification_id=for_bob)
    notifications.mark_read(db, actor=alice, notification_id=first)
    assert notifications_queries.unread_count(db, actor=alice) == 1
    assert notifications.mark_all_read(db, actor=alice) == 1
    assert notifications_queries.unread_count(db, actor=alice) == 0
    item = notifications_queries.get_inbox_item(db, actor=alice, notification_id=first)
    assert item.read_at is not None
    assert [(d.channel, d.status, d.is_confirmed) for d in item.deliveries] == [("inbox", "sent", True)]
    assert notifications_queries.unread_count(db, actor=people.citizen(people.bob)) == 1
