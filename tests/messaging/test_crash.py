"""Exactly once across a crash: a real ``zerotrip worker`` process is killed (SIGKILL) in the middle of
sending, a new one is started, and the local SMTP server counts what it received.

Each test has a database of its own (the worker is another process and needs real commits).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from zerotrip.common.checks import make_resident_id
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions as identity_actions
from zerotrip.identity.actor import Actor, system
from zerotrip.messaging import notifications
from zerotrip.messaging.actions import NotificationRequest, notify_many
from zerotrip.messaging.models_notifications import Delivery, InboxEntry

from .mailbox import Mailbox, SmtpServer

N = 24
ROOT = system("test")


def populate(url: str, count: int) -> None:
    """``count`` people who each want e-mail, and one approval notification for each."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            requests = []
            for i in range(count):
                person = identity_actions.register_person(
                    db,
                    actor=ROOT,
                    resident_id=make_resident_id(
                        division_code="330106",
                        birth_date=date(1980, 1, 1 + i % 28),
                        sequence=100 + i,
                        sex="male",
                    ),
                    name=f"测试{i}",
                    division_code="330106",
                )
                db.flush()
                notifications.set_preferences(
                    db,
                    actor=Actor(kind="citizen", account_id=uuid.uuid4(), person_id=person.id),
                    language="zh_Hans",
                    email=f"person{i}@example.cn",
                    phone=None,
                    channels={},
                )
                requests.append(
                    NotificationRequest(
                        template="services.application.approved",
                        params={"number": f"BJ{i:010d}", "item_name": "住房公积金提取"},
                        dedupe_key=f"crash:{i}",
                        person_id=person.id,
                    )
                )
            notify_many(db, requests)
    finally:
        engine.dispose()


def start_worker(url: str, data_dir: Path, smtp_port: int, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ZEROTRIP_DATABASE_URL": url,
        "ZEROTRIP_DATA_DIR": str(data_dir),
        "ZEROTRIP_MESSAGING__SMTP_HOST": "127.0.0.1",
        "ZEROTRIP_MESSAGING__SMTP_PORT": str(smtp_port),
        "ZEROTRIP_MESSAGING__MAIL_FROM": "no-reply@zwfw.example.cn",
        "ZEROTRIP_MESSAGING__LEASE_SECONDS": "2",
        "ZEROTRIP_MESSAGING__BATCH_SIZE": "10",
        "ZEROTRIP_MESSAGING__POLL_SECONDS": "0.2",
        "ZEROTRIP_MESSAGING__BACKOFF_SECONDS": "0.5",
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "zerotrip", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def drain(url: str, data_dir: Path, smtp_port: int) -> str:
    process = start_worker(url, data_dir, smtp_port, "--drain")
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output.decode()
    return output.decode()


def email_deliveries(url: str) -> list[Delivery]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            assert db.scalar(select(func.count()).select_from(InboxEntry)) == N  # every inbox got its one
            return list(db.scalars(select(Delivery).where(Delivery.channel == "email")))
    finally:
        engine.dispose()


def assert_each_message_once(mailbox: Mailbox, deliveries: list[Delivery]) -> None:
    received = Counter(mailbox.message_ids())
    assert [mid for mid, n in received.items() if n > 1] == [], "a message reached the server twice"
    assert {d.status for d in deliveries} == {"sent"}
    assert set(received) == {f"<{d.id}@zwfw.example.cn>" for d in deliveries}
    assert mailbox.count() == N


def test_killed_while_the_server_holds_its_answer_to_a_message(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The worker has handed message 5 over (the final dot is at the server) and dies before the answer:
    the server has it, so it must not be sent again; the messages after it were never started."""
    url = new_database(migrate=True)
    populate(url, N)
    with SmtpServer(Mailbox(hold_data_at=5)) as smtp:
        worker = start_worker(url, tmp_path, smtp.port)
        assert smtp.mailbox.held.wait(60), worker.stdout.read().decode() if worker.stdout else ""
        kill(worker)
        smtp.mailbox.release.set()
        assert smtp.mailbox.count() == 5
        drain(url, tmp_path, smtp.port)
        deliveries = email_deliveries(url)
        assert_each_message_once(smtp.mailbox, deliveries)
    unconfirmed = [d for d in deliveries if not d.is_confirmed]
    assert len(unconfirmed) == 1
    assert f"<{unconfirmed[0].id}@zwfw.example.cn>" == smtp.mailbox.message_ids()[4]


def test_killed_in_the_middle_of_a_message(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The worker dies while the server holds its answer to the recipient of message 7: that message was
    never complete, so the server has nothing, and it is sent by the next worker."""
    url = new_database(migrate=True)
    populate(url, N)
    with SmtpServer(Mailbox(hold_rcpt_at=7)) as smtp:
        worker = start_worker(url, tmp_path, smtp.port)
        assert smtp.mailbox.held.wait(60)
        kill(worker)
        smtp.mailbox.release.set()
        assert smtp.mailbox.count() == 6
        drain(url, tmp_path, smtp.port)
        deliveries = email_deliveries(url)
        assert_each_message_once(smtp.mailbox, deliveries)
    # Message 6's answer came, but the worker records it with the next hand-over, which never happened:
    # it counts as sent, unconfirmed. Every other message is confirmed.
    unconfirmed = [f"<{d.id}@zwfw.example.cn>" for d in deliveries if not d.is_confirmed]
    assert unconfirmed in ([], [smtp.mailbox.message_ids()[5]])
    assert max(d.attempts for d in deliveries) == 2  # the interrupted ones were claimed a second time


@pytest.mark.parametrize("seed", [7])
def test_killed_at_a_random_moment(new_database, tmp_path: Path, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Killed whenever it happens to be (the server answers each message after a few milliseconds): no
    message twice, every delivery settled, and every one not reported unconfirmed is at the server."""
    url = new_database(migrate=True)
    populate(url, N)
    mailbox = Mailbox(delay_seconds=0.02)
    with SmtpServer(mailbox) as smtp:
        worker = start_worker(url, tmp_path, smtp.port)
        deadline = time.monotonic() + 60
        wanted = random.Random(seed).randint(2, N - 4)
        while mailbox.count() < wanted and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(random.Random(seed).random() * 0.02)
        kill(worker)
        drain(url, tmp_path, smtp.port)
        deliveries = email_deliveries(url)
    received = Counter(mailbox.message_ids())
    assert [mid for mid, n in received.items() if n > 1] == [], "a message reached the server twice"
    assert {d.status for d in deliveries} == {"sent"}
    confirmed = {f"<{d.id}@zwfw.example.cn>" for d in deliveries if d.is_confirmed}
    assert confirmed <= set(received)
    assert len(received) >= N - sum(1 for d in deliveries if not d.is_confirmed)
