"""Signing in: web sessions for citizens and staff (with optional TOTP) and OAuth2 client credentials.

Failed attempts must survive the request, so ``attempt_login`` returns an outcome instead of raising; the
edge commits and then shows the problem (see ``LoginOutcome.raise_for_failure``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import pyotp
from cryptography.fernet import Fernet
from sqlalchemy import Row, Select, and_, bindparam, delete, func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.config import IdentitySettings
from zerotrip.db import one_statement
from zerotrip.identity import permissions
from zerotrip.identity.actor import Actor, Grant
from zerotrip.identity.errors import (
    AccountLocked,
    AccountNotFound,
    InvalidClient,
    LoginFailed,
    OrganisationNotFound,
    ScopeNotGranted,
    SecondFactorFailed,
    TooManyLogins,
)
from zerotrip.identity.models import (
    Account,
    ApiClient,
    ApiToken,
    LoginAttempt,
    Membership,
    Organisation,
    WebSession,
)
from zerotrip.identity.secrets import hash_password, needs_rehash, new_token, token_hash, verify_password
from zerotrip.problems import NotAllowed, ValidationFailed

SCOPES = {
    "identity.persons.read": "Read people's registry records",
    "identity.persons.write": "Register people",
    "identity.enterprises.read": "Read enterprise records",
    "identity.enterprises.write": "Register enterprises",
    "identity.orgs.read": "Read the organisation tree",
    "datahub.records.write": "Push records into the own department's data resources",
    "datahub.open.apply": "Apply to use restricted open data",
    "certificates.issue": "Issue, suspend, reinstate and revoke the own department's certificates",
}


@dataclass(frozen=True)
class LoginOutcome:
    status: Literal["signed_in", "second_factor", "failed", "locked", "rate_limited"]
    token: str | None = None
    account_kind: str | None = None

    def raise_for_failure(self) -> None:
        if self.status == "failed":
            raise LoginFailed()
        if self.status == "locked":
            raise AccountLocked()
        if self.status == "rate_limited":
            raise TooManyLogins()


def attempt_login(
    db: Session,
    *,
    login_name: str,
    password: str,
    client_address: str,
    portal: Literal["citizen", "staff"],
    settings: IdentitySettings,
) -> LoginOutcome:
    """Check a password and open a session. Too many attempts from one address in a minute are refused;
    an account is locked for a while after repeated failures. Both are recorded even when refused."""
    now = clock.now()
    recent = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.client_address == client_address,
            LoginAttempt.attempted_at > now - timedelta(minutes=1),
        )
    )
    db.add(
        LoginAttempt(
            client_address=client_address, login_name=login_name[:64], attempted_at=now, is_success=False
        )
    )
    if (recent or 0) >= settings.login_ip_limit_per_minute:
        return LoginOutcome("rate_limited")
    account = db.scalar(select(Account).where(Account.login_name == login_name, Account.kind == portal))
    if account is not None and account.locked_until is not None and account.locked_until > now:
        return LoginOutcome("locked")
    if account is None or not account.is_active or not verify_password(account.password_hash, password):
        if account is not None:
            account.failed_logins += 1
            if account.failed_logins >= settings.login_max_failures:
                account.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                account.failed_logins = 0
                record_event(
                    db,
                    actor="anonymous",
                    action="identity.account.locked",
                    subject_type="account",
                    subject_id=str(account.id),
                    data={"client_address": client_address},
                )
        return LoginOutcome("failed")
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if account.password_hash and needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    db.execute(
        delete(LoginAttempt).where(
            LoginAttempt.client_address == client_address, LoginAttempt.attempted_at < now - timedelta(days=1)
        )
    )
    pending = account.totp_secret_encrypted is not None
    token = new_token("zs_")
    db.add(
        WebSession(
            token_hash=token_hash(token),
            account_id=account.id,
            csrf_token=new_token(),
            is_second_factor_pending=pending,
            created_at=now,
            expires_at=now + (timedelta(minutes=5) if pending else timedelta(hours=settings.session_hours)),
            client_address=client_address,
        )
    )
    if not pending:
        record_event(
            db,
            actor=f"{account.kind}:{account.id}",
            action="identity.session.opened",
            subject_type="account",
            subject_id=str(account.id),
        )
    return LoginOutcome("second_factor" if pending else "signed_in", token=token, account_kind=account.kind)


def complete_second_factor(
    db: Session, *, token: str, code: str, fernet: Fernet, settings: IdentitySettings
) -> None:
    """Turn a half-open session into a full one when the TOTP code is right. Raises SecondFactorFailed."""
    now = clock.now()
    session = db.get(WebSession, token_hash(token))
    if session is None or not session.is_second_factor_pending or session.expires_at <= now:
        raise SecondFactorFailed()
    account = db.get(Account, session.account_id)
    if account is None or account.totp_secret_encrypted is None:
        raise SecondFactorFailed()
    secret = fernet.decrypt(account.totp_secret_encrypted.encode()).decode()
    if not pyotp.TOTP(secret).verify(code.strip(), for_time=now, valid_window=1):
        raise SecondFactorFailed()
    session.is_second_factor_pending = False
    session.expires_at = now + timedelta(hours=settings.session_hours)
    record_event(
        db,
        actor=f"{account.kind}:{account.id}",
        action="identity.session.opened",
        subject_type="account",
        subject_id=str(account.id),
        data={"second_factor": "totp"},
    )


def enable_totp(db: Session, *, actor: Actor, account_id: uuid.UUID, fernet: Fernet) -> str:
    """Give a staff account a TOTP secret; returns the otpauth:// URI to show as a QR code once."""
    account = db.get(Account, account_id)
    if account is None:
        raise AccountNotFound()
    if actor.kind != "system" and actor.account_id != account.id:
        raise NotAllowed("only the account holder may set up their second factor")
    secret = pyotp.random_base32()
    account.totp_secret_encrypted = fernet.encrypt(secret.encode()).decode()
    record_event(
        db,
        actor=actor.principal,
        action="identity.totp.enabled",
        subject_type="account",
        subject_id=str(account.id),
    )
    return pyotp.TOTP(secret).provisioning_uri(name=account.login_name, issuer_name="zerotrip")


def logout(db: Session, *, token: str) -> None:
    session = db.get(WebSession, token_hash(token))
    if session is not None:
        db.delete(session)


def load_grants(db: Session, account_id: uuid.UUID) -> tuple[Grant, ...]:
    rows = db.execute(
        select(Membership.org_id, Membership.org_path, Organisation.division_code, Membership.role)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.account_id == account_id)
        .order_by(Membership.id)
    ).all()
    return tuple(Grant(org_id=r[0], org_path=r[1], division_code=r[2], role=r[3]) for r in rows)


def find_staff_actor(db: Session, login_name: str) -> Actor | None:
    """The actor of an active staff account, for operator commands that act as a named person."""
    account = db.scalar(
        select(Account).where(
            Account.login_name == login_name, Account.kind == "staff", Account.is_active.is_(True)
        )
    )
    if account is None:
        return None
    return Actor(
        kind="staff", name=account.display_name, account_id=account.id, grants=load_grants(db, account.id)
    )


@dataclass(frozen=True)
class ResolvedSession:
    actor: Actor
    csrf_token: str
    is_second_factor_pending: bool


# The columns of a session and its account that make the caller (``session_lookup``, ``session_from_row``).
SESSION_COLUMNS = (
    WebSession.csrf_token,
    WebSession.is_second_factor_pending,
    WebSession.expires_at,
    Account.id,
    Account.kind,
    Account.display_name,
    Account.person_id,
    Account.is_active,
)


def session_lookup(*columns: Any, joined: Callable[[Select[Any]], Select[Any]] | None = None) -> Select[Any]:
    """A session cookie's session and account (bind ``session_hash``: ``token_hash(token)``) with more
    ``columns`` of tables ``joined`` adds (outer joins, so a missing row there still resolves the
    caller): a hot path (booking's precheck) reads the caller and what it needs next in one round trip,
    and hands the row to ``session_from_row``. A staff caller's grants take one more statement."""
    statement = (
        select(*SESSION_COLUMNS, *columns)
        .select_from(WebSession)
        .join(Account, Account.id == WebSession.account_id)
    )
    if joined is not None:
        statement = joined(statement)
    return statement.where(WebSession.token_hash == bindparam("session_hash"))


def session_from_row(db: Session, row: Row[Any] | None) -> ResolvedSession | None:
    """The caller of a row of ``session_lookup`` (None: no row, expired, or the account is inactive)."""
    if row is None:
        return None
    columns: tuple[Any, ...] = tuple(row)[:8]
    csrf_token, second_factor_pending, expires_at, account_id, kind, name, person_id, is_active = columns
    if expires_at <= clock.now() or not is_active:
        return None
    if second_factor_pending:
        return ResolvedSession(
            actor=Actor(kind="anonymous"), csrf_token=csrf_token, is_second_factor_pending=True
        )
    actor = Actor(
        kind="staff" if kind == "staff" else "citizen",
        name=name,
        account_id=account_id,
        person_id=person_id,
        grants=load_grants(db, account_id) if kind == "staff" else (),
    )
    return ResolvedSession(actor=actor, csrf_token=csrf_token, is_second_factor_pending=False)


def resolve_session(db: Session, token: str) -> ResolvedSession | None:
    """The actor behind a session cookie, or None when it is unknown or expired. One statement (every
    request pays for it): the session, its account and (for staff) the grants, a row per membership."""
    with one_statement(db):  # a request's first statement: in autocommit, one round trip
        db.flush()  # the statement runs on the connection, which does not flush the session for us
        rows = db.connection().execute(_RESOLVE_SESSION, {"token_hash": token_hash(token)}).all()
    if not rows:
        return None
    first = rows[0]
    if first.expires_at <= clock.now() or not first.is_active:
        return None
    if first.is_second_factor_pending:
        return ResolvedSession(
            actor=Actor(kind="anonymous"), csrf_token=first.csrf_token, is_second_factor_pending=True
        )
    is_staff = first.kind == "staff"
    grants: tuple[Grant, ...] = ()
    if is_staff and first.org_id is not None:
        grants = tuple(Grant(r.org_id, r.org_path, r.division_code, r.role) for r in rows)
    actor = Actor(
        kind="staff" if is_staff else "citizen",
        name=first.display_name,
        account_id=first.account_id,
        person_id=first.person_id,
        grants=grants,
    )
    return ResolvedSession(actor=actor, csrf_token=first.csrf_token, is_second_factor_pending=False)


def _resolve_session_statement() -> Select[Any]:
    s, a = WebSession.__table__.c, Account.__table__.c
    m, o = Membership.__table__.c, Organisation.__table__.c
    return (
        select(
            s.expires_at,
            s.csrf_token,
            s.is_second_factor_pending,
            a.id.label("account_id"),
            a.kind,
            a.display_name,
            a.person_id,
            a.is_active,
            m.org_id,
            m.org_path,
            o.division_code,
            m.role,
        )
        .select_from(
            WebSession.__table__.join(Account.__table__, a.id == s.account_id)
            .outerjoin(Membership.__table__, and_(m.account_id == a.id, a.kind == "staff"))
            .outerjoin(Organisation.__table__, o.id == m.org_id)
        )
        .where(s.token_hash == bindparam("token_hash"))
        .order_by(m.id)
    )


_RESOLVE_SESSION = _resolve_session_statement()


# -- API clients ------------------------------------------------------------------------------------


def register_api_client(
    db: Session, *, actor: Actor, org_id: int, name: str, scopes: list[str]
) -> tuple[ApiClient, str]:
    """Register a department system; the secret is returned once and only its hash is kept.
    Raises OrganisationNotFound, NotAllowed, ValidationFailed."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationFailed.field("scopes", f"unknown scopes: {', '.join(unknown)}")
    org = db.get(Organisation, org_id)
    if org is None:
        raise OrganisationNotFound()
    if not permissions.can_manage_org(actor, org.path):
        raise NotAllowed("registering API clients needs the platform administrator role over the unit")
    secret = new_token()
    client = ApiClient(
        id=uuid.uuid4(),
        client_id=f"zt-{uuid.uuid4().hex[:16]}",
        secret_hash=hash_password(secret),
        name=name,
        org_id=org.id,
        scopes=sorted(set(scopes)),
        created_at=clock.now(),
    )
    db.add(client)
    record_event(
        db,
        actor=actor.principal,
        action="identity.api_client.registered",
        subject_type="api_client",
        subject_id=client.client_id,
        data={"scopes": client.scopes, "org_id": org.id},
    )
    return client, secret


def issue_client_token(
    db: Session, *, client_id: str, client_secret: str, scope: str | None, settings: IdentitySettings
) -> tuple[str, ApiToken]:
    """OAuth2 client-credentials grant. The token carries the requested scopes, which must all be held by
    the client (none requested means all it holds). Raises InvalidClient, ScopeNotGranted."""
    client = db.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or not client.is_active or not verify_password(client.secret_hash, client_secret):
        raise InvalidClient(error="invalid_client")
    requested = set(scope.split()) if scope else set(client.scopes)
    missing = requested - set(client.scopes)
    if missing:
        raise ScopeNotGranted(f"the client does not hold: {' '.join(sorted(missing))}", error="invalid_scope")
    now = clock.now()
    token = new_token("zt_")
    row = ApiToken(
        token_hash=token_hash(token),
        api_client_id=client.id,
        scopes=sorted(requested),
        issued_at=now,
        expires_at=now + timedelta(minutes=settings.token_minutes),
    )
    db.add(row)
    return token, row


class BearerCache:
    """What bearer tokens resolved to, kept by one worker process so that a client's burst of calls does
    not ask the database about the same token each time.

    Entries are keyed by the token's SHA-256 (the token itself is not kept) and hold the actor and the
    token's own expiry. An entry is used only while both hold: the token has not expired (checked against
    the platform clock on every use, so an expired token is refused at once, exactly as without the cache),
    and it was read from the database less than ``ttl_seconds`` ago. After that the database is asked again,
    so a deleted token or a deactivated API client stops working within ``ttl_seconds``
    (``identity.bearer_cache_seconds``); 0 keeps nothing. Thread-safe; at most ``max_entries`` tokens.
    """

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[str, tuple[Actor, datetime, float]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Actor | None:
        kept = self._entries.get(digest)
        if kept is None:
            return None
        actor, expires_at, read_at = kept
        if self._monotonic() - read_at >= self.ttl or expires_at <= clock.now():
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return actor

    def put(self, digest: str, actor: Actor, expires_at: datetime) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if digest not in self._entries and len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest-inserted makes room
            self._entries[digest] = (actor, expires_at, self._monotonic())


def resolve_bearer(db: Session, token: str, *, cache: BearerCache | None = None) -> Actor | None:
    """The API client behind a bearer token, or None when the token is unknown or expired or its client
    is deactivated. One statement (the client's organisation exists by foreign key); with ``cache``, none
    while the cache may answer (see ``BearerCache`` for how long a withdrawn token can last)."""
    digest = token_hash(token)
    if cache is not None:
        cached = cache.get(digest)
        if cached is not None:
            return cached
    row = db.execute(
        select(ApiToken.scopes, ApiToken.expires_at, ApiClient.client_id, ApiClient.name, ApiClient.org_id)
        .join(ApiClient, ApiClient.id == ApiToken.api_client_id)
        .where(ApiToken.token_hash == digest, ApiClient.is_active.is_(True))
    ).one_or_none()
    if row is None or row.expires_at <= clock.now():
        return None
    actor = Actor(
        kind="client",
        name=row.name,
        client_id=row.client_id,
        client_org_id=row.org_id,
        scopes=frozenset(row.scopes),
    )
    if cache is not None:
        cache.put(digest, actor, row.expires_at)
    return actor
