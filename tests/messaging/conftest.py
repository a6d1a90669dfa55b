"""A small world for citizen notifications: three registered people (one with a citizen account, one
the legal representative of an enterprise), and a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id, make_uscc
from zerotrip.config import MessagingSettings, Settings
from zerotrip.identity import actions as identity_actions
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import Account, Person
from zerotrip.identity.secrets import hash_password

from .mailbox import SmtpServer

ROOT = system("test")
PASSWORD = "correct horse battery"


@dataclass
class People:
    alice: Person  # has a citizen account
    bob: Person
    carol: Person  # legal representative of the enterprise
    alice_account: Account
    enterprise_uscc: str

    def citizen(self, person: Person) -> Actor:
        account_id = self.alice_account.id if person.id == self.alice.id else None
        return Actor(kind="citizen", name=person.name, account_id=account_id, person_id=person.id)


def register(db: Session, name: str, sequence: int, *, sex: str = "female") -> Person:
    resident_id = make_resident_id(
        division_code="330106",
        birth_date=date(1990, 1, sequence),
        sequence=sequence,
        sex=sex,  # type: ignore[arg-type]
    )
    return identity_actions.register_person(
        db, actor=ROOT, resident_id=resident_id, name=name, division_code="330106", phone="13800138000"
    )


_HASH: list[str] = []


@pytest.fixture
def people(db: Session) -> People:
    alice = register(db, "林晓雯", 1)
    bob = register(db, "陈建国", 2, sex="male")
    carol = register(db, "赵企业", 3)
    db.flush()
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    account = Account(
        kind="citizen",
        login_name="alice-citizen",
        display_name=alice.name,
        person_id=alice.id,
        password_hash=_HASH[0],
        created_at=alice.created_at,
    )
    db.add(account)
    enterprise = identity_actions.register_enterprise(
        db,
        actor=ROOT,
        uscc=make_uscc(division_code="330106", serial=777),
        name="杭州通知科技有限公司",
        legal_representative_id=carol.id,
        division_code="330106",
    )
    db.flush()
    return People(alice=alice, bob=bob, carol=carol, alice_account=account, enterprise_uscc=enterprise.uscc)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def messaging_settings(settings: Settings, smtp: SmtpServer | None = None, **overrides: object) -> Settings:
    """The test settings with the worker pointed at ``smtp`` and quick retries."""
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1" if smtp else None,
        "smtp_port": smtp.port if smtp else 25,
        "smtp_timeout_seconds": 5,
        "mail_from": "浙江政务服务 <no-reply@zwfw.example.cn>",
        "backoff_seconds": 10,
        "backoff_max_seconds": 60,
        "max_attempts": 3,
        "lease_seconds": 30,
        **overrides,
    }
    return settings.model_copy(update={"messaging": MessagingSettings(**values)})  # type: ignore[arg-type]
