"""The template environment and what every page gets: the translator, the language switch, the nav."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from zerotrip.db import transaction
from zerotrip.deps import Caller
from zerotrip.messaging.notifications_queries import unread_for_header
from zerotrip.web.i18n import LANGUAGES, Catalogs, Translator

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True)
class NavUser:
    """Who the header says is signed in; logging out needs the session's CSRF token."""

    kind: Literal["citizen", "staff"]
    name: str
    csrf_token: str


@dataclass(frozen=True)
class LanguageLink:
    tag: str
    name: str
    url: str
    is_current: bool


def safe_next(value: str | None, default: str) -> str:
    """A same-site path to go to after a login or a language switch; anything else becomes ``default``.

    Refuses absolute and scheme-relative URLs (``//evil.example``), backslashes (browsers read ``/\\`` as
    ``//``) and control characters, so ``next`` can never send the visitor to another site."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def current_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def redirect(url: str) -> RedirectResponse:
    """POST → redirect → GET (303 makes the browser follow with a GET)."""
    return RedirectResponse(url, status_code=303)


class Renderer:
    """Renders templates in the visitor's language; every page is ``no-store`` (it may show personal data
    or carry a CSRF token)."""

    def __init__(self, catalogs: Catalogs) -> None:
        self.catalogs = catalogs
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def translator(self, request: Request) -> Translator:
        return self.catalogs.for_request(request)

    def render(
        self,
        request: Request,
        template: str,
        *,
        caller: Caller | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        translator = self.translator(request)
        here = current_path(request)
        languages = [
            LanguageLink(
                tag=language.tag,
                name=language.name,
                url=f"/lang/{language.tag}?{urlencode({'next': here})}",
                is_current=language.locale == translator.language.locale,
            )
            for language in LANGUAGES
        ]
        html = self.env.get_template(template).render(
            _=translator.gettext,
            ngettext=translator.ngettext,
            lang=translator.language.tag,
            languages=languages,
            nav_user=nav_user(caller),
            nav_unread=header_unread(request, caller),
            here=here,
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def header_unread(request: Request, caller: Caller | None) -> int | None:
    """A signed-in citizen's unread messages, for the header: one indexed count in a session of its own
    (the page's may be closed). None for anyone else, and on the error page (no caller)."""
    if caller is None or caller.actor.kind != "citizen":
        return None
    with request.app.state.session_factory() as db, transaction(db):
        return unread_for_header(db, caller.actor)


def nav_user(caller: Caller | None) -> NavUser | None:
    if caller is None or caller.csrf_token is None or caller.is_second_factor_pending:
        return None
    actor = caller.actor
    if actor.kind == "citizen" or actor.kind == "staff":
        return NavUser(kind=actor.kind, name=actor.name, csrf_token=caller.csrf_token)
    return None


def get_renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer
