"""Login: argon2id, lockout after repeated failures, per-address rate limit, TOTP, sessions that expire."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.config import IdentitySettings
from zerotrip.identity import auth
from zerotrip.identity.actor import system
from zerotrip.identity.errors import SecondFactorFailed
from zerotrip.identity.models import Account, LoginAttempt

from .conftest import PASSWORD, World

SETTINGS = IdentitySettings(login_max_failures=3, login_lockout_minutes=10, login_ip_limit_per_minute=50)


def attempt(
    db: Session, name: str, password: str, *, portal: str = "citizen", address: str = "203.0.113.9"
) -> auth.LoginOutcome:
    return auth.attempt_login(
        db, login_name=name, password=password, client_address=address, portal=portal, settings=SETTINGS
    )  # type: ignore[arg-type]


def test_passwords_are_stored_as_argon2id(db: Session, world: World) -> None:
    account = db.scalar(select(Account).where(Account.login_name == "alice"))
    assert account is not None and account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


def test_a_citizen_cannot_sign_in_at_the_staff_portal(db: Session, world: World) -> None:
    assert attempt(db, "alice", PASSWORD, portal="staff").status == "failed"
    assert attempt(db, "alice", PASSWORD).status == "signed_in"


def test_the_account_locks_after_repeated_failures_and_unlocks_later(db: Session, world: World) -> None:
    start = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    with clock.frozen(start) as frozen:
        for _ in range(SETTINGS.login_max_failures):
            assert attempt(db, "alice", "wrong password").status == "failed"
        assert attempt(db, "alice", PASSWORD).status == "locked"
        frozen.advance(timedelta(minutes=SETTINGS.login_lockout_minutes + 1))
        assert attempt(db, "alice", PASSWORD).status == "signed_in"


def test_too_many_attempts_from_one_address_are_refused(db: Session, world: World) -> None:
    limited = IdentitySettings(login_ip_limit_per_minute=4, login_max_failures=100)
    with clock.frozen(datetime(2026, 11, 29, 9, 0, tzinfo=UTC)) as frozen:
        outcomes = [
            auth.attempt_login(
                db,
                login_name=f"guess{i}",
                password="x",
                client_address="192.0.2.1",
                portal="citizen",
                settings=limited,
            ).status
            for i in range(6)
        ]
        assert outcomes == ["failed"] * 4 + ["rate_limited"] * 2
        other = auth.attempt_login(
            db,
            login_name="alice",
            password=PASSWORD,
            client_address="192.0.2.2",
            portal="citizen",
            settings=limited,
        )
        assert other.status == "signed_in"
        frozen.advance(timedelta(minutes=2))
        later = auth.attempt_login(
            db,
            login_name="alice",
            password=PASSWORD,
            client_address="192.0.2.1",
            portal="citizen",
            settings=limited,
        )
        assert later.status == "signed_in"
    assert (
        db.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.client_address == "192.0.2.1")
        )
        == 7
    )


def test_sessions_resolve_to_the_actor_and_expire(db: Session, world: World) -> None:
    with clock.frozen(datetime(2026, 11, 29, 9, 0, tzinfo=UTC)) as frozen:
        token = world.login(db, "xh-reviewer", portal="staff")
        resolved = auth.resolve_session(db, token)
        assert resolved is not None
        assert resolved.actor.kind == "staff"
        assert [g.role for g in resolved.actor.grants] == ["reviewer"]
        assert resolved.actor.grants[0].org_path == world.xihu.path
        frozen.advance(timedelta(hours=9))
        assert auth.resolve_session(db, token) is None


def test_totp_second_factor(db: Session, world: World) -> None:
    fernet = Fernet(base64.urlsafe_b64encode(b"k" * 32))
    account = db.scalar(select(Account).where(Account.login_name == "xh-reviewer"))
    assert account is not None
    uri = auth.enable_totp(db, actor=system("test"), account_id=account.id, fernet=fernet)
    secret = pyotp.parse_uri(uri).secret
    with clock.frozen(datetime(2026, 11, 29, 9, 0, 10, tzinfo=UTC)):
        outcome = attempt(db, "xh-reviewer", PASSWORD, portal="staff")
        assert outcome.status == "second_factor" and outcome.token
        pending = auth.resolve_session(db, outcome.token)
        assert pending is not None and pending.is_second_factor_pending and not pending.actor.is_authenticated
        totp = pyotp.TOTP(secret)
        accepted = {totp.at(clock.now() + timedelta(seconds=s)) for s in (-30, 0, 30)}
        wrong = next(code for code in (f"{n:06d}" for n in range(10)) if code not in accepted)
        with pytest.raises(SecondFactorFailed):
            auth.complete_second_factor(db, token=outcome.token, code=wrong, fernet=fernet, settings=SETTINGS)
        auth.complete_second_factor(
            db, token=outcome.token, code=totp.at(clock.now()), fernet=fernet, settings=SETTINGS
        )
        # Still at the frozen time: the session lives eight hours from then, not from the real clock.
        done = auth.resolve_session(db, outcome.token)
    assert done is not None and done.actor.kind == "staff"
