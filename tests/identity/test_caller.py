"""Resolving the caller for a request: the shared ``CurrentActor`` dependency hands the session's pooled
connection back as soon as the caller is known, and a session cookie on an API request that changes
something needs its CSRF token echoed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from starlette.requests import Request

from zerotrip.deps import SESSION_COOKIE, resolve_caller_and_release, session_cookie
from zerotrip.problems import CsrfFailed

from .conftest import World


def request(method: str, path: str, headers: dict[str, str]) -> Request:
    return Request(
        {
            "type": "http",
            "method": method,
            "path": path,
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )


def test_the_caller_is_resolved_and_the_transaction_ended(db: Session, world: World) -> None:
    token = world.login(db, "alice")
    db.commit()
    caller = resolve_caller_and_release(
        request("GET", "/api/anything", {"cookie": f"{SESSION_COOKIE}={token}"}), db
    )
    assert caller.actor.kind == "citizen" and caller.actor.person_id == world.alice.id
    assert caller.session_token == token and caller.csrf_token
    # The read-only transaction that found the session is over: its connection is back in the pool while
    # the request waits for a thread to run its route.
    assert not db.in_transaction()


def test_an_unknown_cookie_is_anonymous_and_ends_its_transaction_too(db: Session, world: World) -> None:
    db.commit()
    caller = resolve_caller_and_release(
        request("GET", "/api/anything", {"cookie": f"{SESSION_COOKIE}=nope"}), db
    )
    assert not caller.actor.is_authenticated
    assert not db.in_transaction()


def test_a_cookie_on_an_api_change_needs_the_csrf_token(db: Session, world: World) -> None:
    token = world.login(db, "bob")
    cookie = {"cookie": f"{SESSION_COOKIE}={token}"}
    with pytest.raises(CsrfFailed):
        resolve_caller_and_release(request("POST", "/api/booking/appointments", cookie), db)
    csrf = resolve_caller_and_release(request("GET", "/api/anything", cookie), db).csrf_token
    assert csrf is not None
    caller = resolve_caller_and_release(request("POST", "/api/x", {**cookie, "x-csrf-token": csrf}), db)
    assert caller.actor.person_id == world.bob.id


def test_a_bearer_token_comes_before_the_cookie() -> None:
    both = request("POST", "/api/x", {"authorization": "Bearer abc", "cookie": f"{SESSION_COOKIE}=t"})
    assert session_cookie(both) is None
    assert session_cookie(request("POST", "/api/x", {"cookie": f"{SESSION_COOKIE}=t"})) == "t"
    assert session_cookie(request("POST", "/api/x", {})) is None
