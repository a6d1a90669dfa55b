"""The worker against a real local SMTP server and the log SMS provider: what is sent, retries and
backoff, permanent refusals, fencing of lapsed claims, interrupted hand-overs, TLS and login."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.messaging import notifications, outbox
from zerotrip.messaging.actions import notify
from zerotrip.messaging.models_notifications import Delivery
from zerotrip.messaging.tasks import deliver_due
from zerotrip.messaging.worker import Worker

from .conftest import People, messaging_settings
from .mailbox import SmtpServer

APPROVED = {
    "number": "BJ23456789AB",
    "item_name": "住房公积金提取",
    "item_name_en": "Housing fund withdrawal",
}
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def with_email(
    db: Session,
    people: People,
    *,
    email: str = "alice@example.cn",
    language: str = "zh_Hans",
    phone: str | None = None,
) -> None:
    notifications.set_preferences(
        db, actor=people.citizen(people.alice), language=language, email=email, phone=phone, channels={}
    )


def approve(db: Session, people: People, key: str = "approved") -> uuid.UUID:
    notification_id = notify(
        db,
        person_id=people.alice.id,
        template="services.application.approved",
        params=APPROVED,
        dedupe_key=key,
        link="/me/applications/BJ23456789AB",
    )
    db.commit()  # the worker's sessions come after the event's transaction
    return notification_id


def delivery(db: Session, notification_id: uuid.UUID, channel: str) -> Delivery:
    found = db.scalar(
        select(Delivery)
        .where(Delivery.notification_id == notification_id, Delivery.channel == channel)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


def test_an_email_reaches_the_server_once_named_by_its_delivery(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people)
    notification_id = approve(db, people)
    config = messaging_settings(settings, smtp)
    assert deliver_due(session_factory, config) == 2  # the inbox and the e-mail
    assert deliver_due(session_factory, config) == 0
    (message,) = smtp.mailbox.messages
    sent = delivery(db, notification_id, "email")
    assert message["Message-ID"] == f"<{sent.id}@zwfw.example.cn>"
    assert message["To"] == "alice@example.cn"
    assert message["Subject"] == "办件 BJ23456789AB 已办结：准予许可"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "浙江政务服务" in str(message["From"])
    body = message.get_content()
    assert "住房公积金提取" in body
    assert body.strip().endswith(f"{settings.web.public_url}/me/applications/BJ23456789AB")
    assert (sent.status, sent.attempts, sent.is_confirmed) == ("sent", 1, True)
    assert sent.provider_ref == message["Message-ID"]
    assert delivery(db, notification_id, "inbox").status == "sent"


def test_the_email_is_in_the_recipients_language(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people, language="en")
    approve(db, people)
    deliver_due(session_factory, messaging_settings(settings, smtp))
    (message,) = smtp.mailbox.messages
    assert message["Subject"] == "Application BJ23456789AB approved"
    assert message["Content-Language"] == "en"
    assert "“Housing fund withdrawal”" in message.get_content()


def test_a_busy_mailbox_is_retried_with_backoff_until_the_attempts_run_out(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people)
    smtp.mailbox.busy.add("alice@example.cn")
    config = messaging_settings(settings, smtp)  # backoff 10 s doubling, 3 attempts
    with clock.frozen(T0) as frozen:
        notification_id = approve(db, people)
        worker = Worker(session_factory, config)
        worker.run_once()
        first = delivery(db, notification_id, "email")
        assert (first.status, first.attempts, first.due_at) == ("pending", 1, T0 + timedelta(seconds=10))
        assert first.last_error is not None and first.last_error.startswith("451 4.3.0")
        frozen.advance(timedelta(seconds=9))
        assert worker.run_once().claimed == 0  # not due yet
        frozen.advance(timedelta(seconds=1))
        assert worker.run_once().retried == 1
        second = delivery(db, notification_id, "email")
        assert (second.status, second.attempts, second.due_at) == (
            "pending",
            2,
            frozen.at + timedelta(seconds=20),
        )
        frozen.advance(timedelta(seconds=20))
        assert worker.run_once().failed == 1
        third = delivery(db, notification_id, "email")
        assert (third.status, third.attempts) == ("failed", 3)
    assert smtp.mailbox.messages == []


def test_a_mailbox_free_again_gets_the_message_on_the_next_attempt(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people)
    smtp.mailbox.busy_at_data.add("alice@example.cn")  # refused after the content: at the step of no return
    config = messaging_settings(settings, smtp)
    with clock.frozen(T0) as frozen:
        notification_id = approve(db, people)
        worker = Worker(session_factory, config)
        assert worker.run_once().retried == 1
        assert delivery(db, notification_id, "email").status == "pending"
        smtp.mailbox.busy_at_data.clear()
        frozen.advance(timedelta(seconds=10))
        assert worker.run_once().sent == 1
    sent = delivery(db, notification_id, "email")
    assert (sent.status, sent.attempts, sent.is_confirmed, sent.last_error) == ("sent", 2, True, None)
    assert smtp.mailbox.count() == 1


def test_a_refused_mailbox_fails_at_once(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people, email="nobody@example.cn")
    smtp.mailbox.refuse.add("nobody@example.cn")
    notification_id = approve(db, people)
    tally = Worker(session_factory, messaging_settings(settings, smtp)).run_once()
    assert (tally.sent, tally.failed) == (1, 1)  # the inbox got it; the e-mail did not
    failed = delivery(db, notification_id, "email")
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "550 5.1.1 No such mailbox here"


def test_without_a_mail_server_email_fails_saying_why(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with_email(db, people)
    notification_id = approve(db, people)
    Worker(session_factory, messaging_settings(settings, None)).run_once()
    failed = delivery(db, notification_id, "email")
    assert failed.status == "failed"
    assert failed.last_error == "e-mail is not configured on this platform (no SMTP host)"


def test_an_unreachable_mail_server_is_retried(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with_email(db, people)
    notification_id = approve(db, people)
    config = messaging_settings(settings, None, smtp_host="127.0.0.1", smtp_port=1)
    Worker(session_factory, config).run_once()
    retried = delivery(db, notification_id, "email")
    assert retried.status == "pending"
    assert retried.last_error is not None and "cannot reach the mail server 127.0.0.1:1" in retried.last_error


def test_sms_goes_through_the_log_provider_once(
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    with_email(db, people, email="", phone="13800138009")
    notification_id = approve(db, people)
    log_file = tmp_path / "sms.jsonl"
    config = messaging_settings(settings, None, sms_log_file=log_file)
    assert deliver_due(session_factory, config) == 2
    assert deliver_due(session_factory, config) == 0
    (line,) = log_file.read_text(encoding="utf-8").splitlines()
    sent = json.loads(line)
    sms = delivery(db, notification_id, "sms")
    assert sent["to"] == "13800138009"
    assert sent["reference"] == str(sms.id)
    assert (
        sent["text"] == "【政务服务】您申请的“住房公积金提取”（BJ23456789AB）已审核通过，请登录查看办理结果。"
    )
    assert (sms.status, sms.provider_ref, sms.is_confirmed) == ("sent", f"log:{sms.id}", True)


def test_a_worker_whose_claim_lapsed_and_was_taken_over_sends_nothing(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people)
    config = messaging_settings(settings, smtp)
    with clock.frozen(T0) as frozen:
        notification_id = approve(db, people)
        with session_factory() as slow, transaction(slow):
            claimed = outbox.claim(slow, token="slow", now=T0, settings=config.messaging, limit=10)
        assert {c.channel for c in claimed} == {"inbox", "email"}
        frozen.advance(timedelta(seconds=31))  # past the 30 s lease: another worker takes it over
        assert Worker(session_factory, config, token="quick").run_once().sent == 2
        with session_factory() as slow, transaction(slow):
            email = next(c for c in claimed if c.channel == "email")
            assert not outbox.begin_handover(
                slow, token="slow", delivery_id=email.id, now=frozen.at, settings=config.messaging
            )
            assert outbox.deliver_to_inbox(slow, token="slow", items=claimed, now=frozen.at) == 0
    assert smtp.mailbox.count() == 1
    assert delivery(db, notification_id, "email").attempts == 2


def test_an_interrupted_handover_counts_as_sent_and_is_never_sent_again(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people)
    config = messaging_settings(settings, smtp)
    with clock.frozen(T0) as frozen:
        notification_id = approve(db, people)
        with session_factory() as gone, transaction(gone):
            claimed = outbox.claim(gone, token="gone", now=T0, settings=config.messaging, limit=10)
            email = next(c for c in claimed if c.channel == "email")
            assert outbox.begin_handover(
                gone, token="gone", delivery_id=email.id, now=T0, settings=config.messaging
            )
        # The worker "gone" stopped after recording the hand-over: the message may have been delivered.
        frozen.advance(timedelta(seconds=29))
        assert Worker(session_factory, config).run_once().claimed == 0
        frozen.advance(timedelta(seconds=2))
        Worker(session_factory, config).run_once()
    settled = delivery(db, notification_id, "email")
    assert (settled.status, settled.is_confirmed, settled.sent_at) == ("sent", False, T0)
    assert settled.last_error == outbox.INTERRUPTED
    assert smtp.mailbox.count() == 0  # not sent again
    assert delivery(db, notification_id, "inbox").status == "sent"  # the inbox's lapsed claim was retaken


def test_a_stopping_worker_finishes_the_message_in_hand_and_gives_back_the_rest(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> None:
    with_email(db, people)
    ids = [approve(db, people, key=f"k{i}") for i in range(4)]
    smtp.mailbox.hold_data_at = 1
    worker = Worker(session_factory, messaging_settings(settings, smtp))
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(worker.run_once()))
    thread.start()
    assert smtp.mailbox.held.wait(10)
    worker.stopping.set()
    smtp.mailbox.release.set()
    thread.join(10)
    (tally,) = result
    assert (tally.sent, tally.released) == (4 + 1, 3)  # type: ignore[attr-defined]
    statuses = sorted((delivery(db, i, "email").status, delivery(db, i, "email").attempts) for i in ids)
    assert statuses == [("pending", 0), ("pending", 0), ("pending", 0), ("sent", 1)]
    assert smtp.mailbox.count() == 1
