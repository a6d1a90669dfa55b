"""The citizen's notification pages (消息): the inbox, marking read, one notification with how it went on
each channel, and the notification settings (language, e-mail, mobile number, channels per kind).

Notifications are written in the page's language. Forms carry the session's CSRF token and follow
POST → redirect → GET; a refused settings form is shown again with what was typed and why.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_settings, resolve_caller
from zerotrip.messaging import notifications
from zerotrip.problems import ValidationFailed
from zerotrip.web import csrf
from zerotrip.web import notifications_views as views
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.datahub_text import ProblemView, Text, problem_view
from zerotrip.web.page_kit import DB, check_citizen, sign_in_first
from zerotrip.web.render import get_renderer, redirect, safe_next

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
ShortQuery = Annotated[str | None, Query(max_length=40)]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
TextForm = Annotated[str, Form(max_length=300)]
INBOX = "/me/notifications"
SETTINGS = "/me/notifications/settings"
MAX_VALUE = 300


def _language(request: Request) -> str:
    return get_renderer(request).translator(request).language.locale


@router.get(INBOX)
def inbox(
    request: Request, db: DB, page: PageQuery = 1, unread: bool = False, done: ShortQuery = None
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        view = views.inbox(db, caller.actor, language=_language(request), page=page, unread_only=unread)
    return get_renderer(request).render(
        request,
        "notifications/inbox.html",
        caller=caller,
        view=view,
        csrf_token=caller.csrf_token,
        notices=views.notice(done),
    )


@router.post(f"{INBOX}/read")
def mark_all_read(request: Request, db: DB, csrf_token: TextForm = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
        notifications.mark_all_read(db, actor=caller.actor)
    return redirect(views.done_url(INBOX, "all-read"))


# Before /me/notifications/{id}: "settings" is not an id.
@router.get(SETTINGS)
def settings_page(request: Request, db: DB, settings: AppSettings, done: ShortQuery = None) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        form = views.settings_form(db, caller.actor, settings=settings.messaging)
    return _settings_page(request, caller, form, notices=views.notice(done))


@router.post(SETTINGS)
async def save_settings(request: Request, db: DB, settings: AppSettings) -> Response:
    submitted = await request.form()
    values = {k: v[:MAX_VALUE] for k, v in submitted.items() if isinstance(v, str)}
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, values.get("csrf_token", ""))
        check_citizen(caller.actor)
    try:
        with transaction(db):
            views.save_settings(db, caller.actor, values)
    except ValidationFailed as problem:
        with transaction(db):
            form = views.settings_form(
                db,
                caller.actor,
                settings=settings.messaging,
                submitted=values,
                chosen=views.chosen_channels(values),
            )
        shown = problem_view(problem, labels=views.FORM_LABELS)
        return _settings_page(request, caller, form, problem=shown, status_code=problem.status)
    return redirect(views.done_url(SETTINGS, "saved"))


def _settings_page(
    request: Request,
    caller: Caller,
    form: views.SettingsForm,
    *,
    problem: ProblemView | None = None,
    notices: tuple[Text, ...] = (),
    status_code: int = 200,
) -> Response:
    return get_renderer(request).render(
        request,
        "notifications/settings.html",
        caller=caller,
        status_code=status_code,
        csrf_token=caller.csrf_token,
        form=form,
        problem=problem,
        notices=notices,
    )


@router.get(f"{INBOX}/{{notification_id}}")
def notification(request: Request, db: DB, notification_id: uuid.UUID, done: ShortQuery = None) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        view = views.notification(db, caller.actor, notification_id, language=_language(request))
    return get_renderer(request).render(
        request,
        "notifications/notification.html",
        caller=caller,
        view=view,
        csrf_token=caller.csrf_token,
        notices=views.notice(done),
    )


@router.post(f"{INBOX}/{{notification_id}}/read")
def mark_read(
    request: Request, db: DB, notification_id: uuid.UUID, csrf_token: TextForm = "", back_to: TextForm = INBOX
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
        notifications.mark_read(db, actor=caller.actor, notification_id=notification_id)
    target = safe_next(back_to, INBOX)
    return redirect(views.done_url(target.split("?", 1)[0], "read", **_query(target)))


def _query(url: str) -> dict[str, str]:
    """The query of a same-site URL coming back to (the inbox's page and filter), without an old notice."""
    query = url.split("?", 1)[1] if "?" in url else ""
    return {k: v for k, v in parse_qsl(query) if k in ("page", "unread")}
