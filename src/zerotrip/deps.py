"""Request-scoped dependencies shared by every router: the database session and the actor."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.identity.actor import ANONYMOUS, Actor
from zerotrip.identity.auth import resolve_bearer, resolve_session
from zerotrip.identity.errors import InvalidToken
from zerotrip.keys import KeyStore
from zerotrip.problems import CsrfFailed, NotAuthenticated

SESSION_COOKIE = "zt_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; routes open the transaction with ``with transaction(db):``."""
    with request.app.state.session_factory() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


@dataclass(frozen=True)
class Caller:
    actor: Actor
    csrf_token: str | None = None
    session_token: str | None = None
    is_second_factor_pending: bool = False


def resolve_caller(request: Request, db: Session) -> Caller:
    """Bearer token (API clients) wins over the session cookie (people on the web)."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        actor = resolve_bearer(db, authorization[7:].strip())
        if actor is None:
            raise InvalidToken()
        return Caller(actor=actor)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        resolved = resolve_session(db, token)
        if resolved is not None:
            # A cookie rides along on cross-site requests: the API wants the CSRF token echoed in a header.
            if (
                request.method not in SAFE_METHODS
                and request.url.path.startswith("/api/")
                and not secrets.compare_digest(request.headers.get("x-csrf-token", ""), resolved.csrf_token)
            ):
                raise CsrfFailed("send the X-CSRF-Token header with requests made from a signed-in page")
            return Caller(
                actor=resolved.actor,
                csrf_token=resolved.csrf_token,
                session_token=token,
                is_second_factor_pending=resolved.is_second_factor_pending,
            )
    return Caller(actor=ANONYMOUS)


def current_actor(request: Request, db: Annotated[Session, Depends(get_db)]) -> Actor:
    """The signed-in caller (person or API client); anonymous callers get 401."""
    actor = resolve_caller(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


def any_actor(request: Request, db: Annotated[Session, Depends(get_db)]) -> Actor:
    """The caller, possibly anonymous (public endpoints)."""
    return resolve_caller(request, db).actor


DB = Annotated[Session, Depends(get_db)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
AnyActor = Annotated[Actor, Depends(any_actor)]
