"""One error family for the whole platform: RFC 9457 problem details.

Each context subclasses :class:`Problem` with a stable ``slug`` (the last part of its ``type`` URI), a fixed
``title`` and an HTTP ``status``. Actions raise them; one handler renders ``application/problem+json`` for the
API and an error page for HTML. Every subclass is listed in ``docs/problems.md`` (a test checks it).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict


class FieldError(TypedDict, total=False):
    detail: str
    pointer: str
    parameter: str


class Problem(Exception):
    """Base of every expected failure; never raised itself."""

    registry: ClassVar[dict[str, type[Problem]]] = {}
    slug: ClassVar[str] = "about:blank"
    title: ClassVar[str] = "Problem"
    status: ClassVar[int] = 400

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slug" in cls.__dict__:
            existing = Problem.registry.get(cls.slug)
            if existing is not None and existing.__qualname__ != cls.__qualname__:
                raise TypeError(f"problem slug {cls.slug!r} is used twice")
            Problem.registry[cls.slug] = cls

    def __init__(
        self, detail: str | None = None, *, errors: list[FieldError] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors or []
        self.extensions = extensions

    def headers(self) -> dict[str, str]:
        """HTTP headers that belong with this problem (none by default)."""
        return {}

    def to_dict(self, *, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": f"/problems/{self.slug}", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = list(self.errors)
        body.update(self.extensions)
        return body


class ValidationFailed(Problem):
    """The request was understood but some fields are invalid; ``errors`` names each field."""

    slug = "validation-failed"
    title = "Your request is not valid"
    status = 422

    @classmethod
    def field(cls, name: str, detail: str) -> ValidationFailed:
        return cls(f"{name}: {detail}", errors=[{"detail": detail, "pointer": f"#/{name}"}])


class BadRequest(Problem):
    slug = "bad-request"
    title = "The request could not be read"
    status = 400


class NotAuthenticated(Problem):
    slug = "not-authenticated"
    title = "You need to sign in"
    status = 401


class NotAllowed(Problem):
    slug = "not-allowed"
    title = "You are not allowed to do this"
    status = 403


class NotFound(Problem):
    slug = "not-found"
    title = "Not found"
    status = 404


class Conflict(Problem):
    slug = "conflict"
    title = "This conflicts with what is already stored"
    status = 409


class CsrfFailed(Problem):
    slug = "csrf-failed"
    title = "The form has expired; reload the page and try again"
    status = 403


class RateLimited(Problem):
    """Raise with ``retry_after=SECONDS`` to tell the client when to come back (a Retry-After header)."""

    slug = "rate-limited"
    title = "Too many requests; wait and try again"
    status = 429

    def headers(self) -> dict[str, str]:
        retry_after = self.extensions.get("retry_after")
        return {"Retry-After": str(int(retry_after))} if retry_after is not None else {}


class InternalError(Problem):
    """Something unexpected failed; the response carries a correlation id, never the exception text."""

    slug = "internal-error"
    title = "Something went wrong on our side"
    status = 500
