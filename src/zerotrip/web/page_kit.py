"""What the datahub pages share: who may open them, paging, times in China, and notices after a POST."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.datahub.permissions import can_oversee
from zerotrip.deps import get_db
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed
from zerotrip.web.auth_pages import Portal
from zerotrip.web.datahub_text import Text
from zerotrip.web.i18n import N_
from zerotrip.web.render import current_path, redirect

DB = Annotated[Session, Depends(get_db)]
TextForm = Annotated[str, Form()]

STAFF_ONLY = N_("This page is for staff.")
CITIZENS_ONLY = N_("This page is for citizens.")


def sign_in_first(request: Request, portal: Portal) -> RedirectResponse:
    """Send a visitor who is not signed in to the portal's login, coming back here afterwards."""
    return redirect(f"{portal.login_path}?{urlencode({'next': current_path(request)})}")


def check_staff(actor: Actor) -> None:
    """Raises NotAllowed for anyone but a signed-in staff member."""
    if actor.kind != "staff":
        raise NotAllowed(STAFF_ONLY)


def check_citizen(actor: Actor) -> None:
    """Raises NotAllowed for anyone but a signed-in citizen."""
    if actor.kind != "citizen":
        raise NotAllowed(CITIZENS_ONLY)


def china_time(at: datetime | None) -> str:
    """``2026-03-02 09:30``, in China time, as every page shows instants."""
    return at.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def china_date(at: datetime | None) -> str:
    return at.astimezone(clock.CHINA).strftime("%Y-%m-%d") if at is not None else ""


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    total: int
    previous_url: str | None
    next_url: str | None

    @property
    def is_needed(self) -> bool:
        return self.pages > 1


def pager(path: str, params: Mapping[str, str], *, page: int, per_page: int, total: int) -> Pager:
    """Links to the previous and next pages, keeping the other query parameters."""
    pages = max(1, ceil(total / per_page))
    kept = {k: v for k, v in params.items() if v and k != "page"}

    def url(number: int) -> str:
        query = urlencode({**kept, "page": str(number)} if number > 1 else kept)
        return f"{path}?{query}" if query else path

    return Pager(
        page=page,
        pages=pages,
        total=total,
        previous_url=url(page - 1) if page > 1 else None,
        next_url=url(page + 1) if page < pages else None,
    )


# What a page says after a form succeeded (POST → redirect → GET with ?done=…&ref=…). Only these keys
# make a notice, so a link cannot put words on the page.
NOTICES = {
    "approved": N_("Share request %(ref)s is approved; the consumer can read the data now."),
    "refused": N_("Share request %(ref)s is refused; the consumer can read your reason."),
    "corrected": N_("Objection %(ref)s is answered and the value corrected."),
    "rejected": N_("Objection %(ref)s is answered."),
    "raised": N_("Your objection %(ref)s is sent. The department must answer it by the date shown."),
}
TOLD = N_("Consumers that read the wrong value and should be told: %(count)s.")


def notice(done: str | None, ref: str | None, told: int | None = None) -> tuple[Text, ...]:
    msgid = NOTICES.get(done or "")
    if msgid is None:
        return ()
    # Request and objection numbers are letters and digits: anything else in the link is dropped.
    texts = [Text(msgid, {"ref": re.sub(r"[^0-9A-Za-z-]", "", ref or "")[:40]})]
    if done == "corrected" and told:
        texts.append(Text(TOLD, {"count": told}))
    return tuple(texts)


def done_url(path: str, done: str, ref: str, **extra: object) -> str:
    return f"{path}?{urlencode({'done': done, 'ref': ref, **{k: str(v) for k, v in extra.items()}})}"


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str  # an English msgid, translated by the template
    is_current: bool


def staff_links(actor: Actor, current: str) -> tuple[NavLink, ...]:
    """The data work tabs; the oversight tab only for the platform operator."""
    links = [
        ("catalogue", "/staff/datahub", N_("Data resources")),
        ("requests", "/staff/datahub/requests", N_("Share requests")),
        ("objections", "/staff/datahub/objections", N_("Objections")),
    ]
    if can_oversee(actor):
        links.append(("oversight", "/staff/datahub/oversight", N_("Sharing oversight")))
    return tuple(NavLink(url, label, key == current) for key, url, label in links)
