"""Request-scoped dependencies shared by every router: the database session and the actor.

The dependencies are ``async`` where they do no blocking I/O, because FastAPI runs each synchronous
dependency in its thread pool, a thread hop apiece: making a session does no I/O, nor does closing one
whose transaction has ended, and a bearer token the worker has resolved recently is answered from memory
(``identity.auth.BearerCache``). Whatever must reach the database runs in the thread pool; resolving the
caller ends its read-only transaction, so no pooled connection is held between the dependency and the
route.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zerotrip.config import Settings
from zerotrip.identity.actor import ANONYMOUS, Actor
from zerotrip.identity.auth import BearerCache, ResolvedSession, resolve_bearer, resolve_session
from zerotrip.identity.errors import InvalidToken
from zerotrip.identity.secrets import token_hash
from zerotrip.keys import KeyStore
from zerotrip.problems import CsrfFailed, NotAuthenticated

SESSION_COOKIE = "zt_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One session per request; routes open the transaction with ``with transaction(db):``. A session
    still inside a transaction at the end (a route that only read) is closed, which rolls it back, in the
    thread pool."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


def bearer_cache(request: Request) -> BearerCache:
    """The worker's cache of resolved bearer tokens, made on first use (one per application)."""
    cache: BearerCache | None = getattr(request.app.state, "bearer_cache", None)
    if cache is None:
        settings: Settings = request.app.state.settings
        cache = BearerCache(settings.identity.bearer_cache_seconds)
        request.app.state.bearer_cache = cache
    return cache


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
        actor = resolve_bearer(db, authorization[7:].strip(), cache=bearer_cache(request))
        if actor is None:
            raise InvalidToken()
        return Caller(actor=actor)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return caller_of_session(request, token, resolve_session(db, token))
    return Caller(actor=ANONYMOUS)


def session_cookie(request: Request) -> str | None:
    """The session cookie ``resolve_caller`` would resolve: None when there is none, or when a bearer token
    comes first. A hot path that reads the session together with what it needs next
    (``identity.auth.session_lookup``) hands the result to ``caller_of_session``."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return None
    return request.cookies.get(SESSION_COOKIE) or None


def caller_of_session(request: Request, token: str, resolved: ResolvedSession | None) -> Caller:
    """The caller of a resolved session cookie (anonymous when it resolved to nothing). Raises CsrfFailed
    for an API request that changes something without the session's CSRF token in ``X-CSRF-Token``."""
    if resolved is None:
        return Caller(actor=ANONYMOUS)
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


async def current_actor(request: Request, db: Annotated[Session, Depends(get_db)]) -> Actor:
    """The signed-in caller (person or API client); anonymous callers get 401."""
    actor = await _actor(request, db)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


async def any_actor(request: Request, db: Annotated[Session, Depends(get_db)]) -> Actor:
    """The caller, possibly anonymous (public endpoints)."""
    return await _actor(request, db)


async def presents_credentials(request: Request) -> None:
    """A route that resolves its caller inside its own thread hop (``signed_in_actor``) still refuses a
    caller who brings no credentials at all before FastAPI validates the body: anonymous callers get 401,
    not a 422 about a body they may not send. No I/O: a cookie or token that is present is checked later."""
    if session_cookie(request) is None and not request.headers.get("authorization", "").lower().startswith(
        "bearer "
    ):
        raise NotAuthenticated()


def signed_in_actor(request: Request, db: Session) -> Actor:
    """``current_actor`` for a route that does all its database work in one thread hop: the caller is
    resolved in that hop, before the route's transaction, instead of in a hop of its own. Raises
    NotAuthenticated (anonymous), InvalidToken, CsrfFailed."""
    authorization = request.headers.get("authorization", "")
    cached = (
        bearer_cache(request).get(token_hash(authorization[7:].strip()))
        if authorization.lower().startswith("bearer ")
        else None
    )
    actor = cached if cached is not None else resolve_caller_and_release(request, db).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


async def _actor(request: Request, db: Session) -> Actor:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        cached = bearer_cache(request).get(token_hash(authorization[7:].strip()))
        if cached is not None:
            return cached
    caller = await run_in_threadpool(resolve_caller_and_release, request, db)
    return caller.actor


def resolve_caller_and_release(request: Request, db: Session) -> Caller:
    """``resolve_caller``, then the end of the read-only transaction it began: the session's pooled
    connection goes back to the pool at once, rather than being held while the request waits for a thread
    to run its route (under a rush, requests waiting for a thread would hold every connection while the
    running ones wait for one). The route's ``with transaction(db):`` begins a new transaction."""
    caller = resolve_caller(request, db)
    if db.in_transaction():
        db.commit()
    return caller


async def caller_actor(request: Request) -> Actor:
    """``current_actor`` for a route that opens its own session when it runs (``request_session``): one
    dependency with no sub-dependency, so FastAPI makes no session and no exit stack for it. A bearer
    token the worker has resolved recently is answered from memory; anything else is resolved with a
    session of its own, closed at once. Anonymous callers get 401."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        cached = bearer_cache(request).get(token_hash(authorization[7:].strip()))
        if cached is not None:
            return cached
    actor = await run_in_threadpool(_resolve_in_own_session, request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


def _resolve_in_own_session(request: Request) -> Actor:
    with request_session(request) as db:
        return resolve_caller_and_release(request, db).actor


def request_session(request: Request) -> Session:
    """A new session of the application's factory, for a route without the ``DB`` dependency to use in
    a ``with`` block (in the thread pool)."""
    session: Session = request.app.state.session_factory()
    return session


DB = Annotated[Session, Depends(get_db)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
# The same caller for a route that opens its own session (``request_session``) in the thread pool.
CallerActor = Annotated[Actor, Depends(caller_actor)]
AnyActor = Annotated[Actor, Depends(any_actor)]
