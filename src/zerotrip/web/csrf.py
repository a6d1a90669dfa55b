"""CSRF protection for every form, and the session cookie's attributes.

A signed-in form carries the session's own CSRF token. Before there is a session (the login forms) the
token is a random value in the ``zt_csrf`` cookie (HttpOnly, SameSite=Strict) that the form must echo in a
hidden field: another site can make a browser post the form, but cannot read the cookie to fill it in.
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from zerotrip.deps import SESSION_COOKIE
from zerotrip.problems import CsrfFailed

PRE_SESSION_COOKIE = "zt_csrf"
FIELD = "csrf_token"


def is_https(request: Request) -> bool:
    public_url: str = request.app.state.settings.web.public_url
    return public_url.startswith("https://")


def pre_session_token(request: Request) -> tuple[str, bool]:
    """The visitor's pre-session token and whether it is new (and so must be set as a cookie)."""
    existing = request.cookies.get(PRE_SESSION_COOKIE, "")
    if 32 <= len(existing) <= 128 and existing.isascii():
        return existing, False
    return secrets.token_urlsafe(32), True


def set_pre_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        PRE_SESSION_COOKIE,
        token,
        max_age=60 * 60 * 12,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="strict",
    )


def check_token(expected: str | None, submitted: str) -> None:
    """Raises CsrfFailed unless ``submitted`` equals ``expected`` (compared in constant time)."""
    if not expected or not submitted or not secrets.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfFailed()


def check_pre_session(request: Request, submitted: str) -> None:
    check_token(request.cookies.get(PRE_SESSION_COOKIE), submitted)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    hours: int = request.app.state.settings.identity.session_hours
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=hours * 3600,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax")
