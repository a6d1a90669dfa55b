"""Staff notices pages (工作通知): the inbox with live arrival, a notice (read on opening, acknowledge, report
back), composing and publishing, approvals, the roll-up, and the staff directory. Forms post, then
redirect (POST → redirect → GET); a problem is shown on the page of the form that caused it."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_settings, resolve_caller
from zerotrip.messaging import notices, notices_queries, notices_receipts, reports
from zerotrip.messaging.api_live import event_stream, stream_caller
from zerotrip.messaging.errors_notices import (
    AckNotRequired,
    ApprovalNotAllowed,
    AttachmentNotFound,
    InvalidAttachment,
    InvalidNotice,
    InvalidReport,
    NoticeStateConflict,
    NotNoticePublisher,
    ReportNotAllowed,
    TargetOutsideSubtree,
)
from zerotrip.messaging.schemas_notices import Missing
from zerotrip.problems import ValidationFailed
from zerotrip.web import csrf
from zerotrip.web import messaging_compose_views as compose_views
from zerotrip.web import messaging_views as views
from zerotrip.web.auth_pages import STAFF
from zerotrip.web.datahub_text import ProblemView
from zerotrip.web.page_kit import DB, check_staff, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Token = Annotated[str, Form()]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
Short = Annotated[str, Query(max_length=60)]
# What a form on a notice's page may fail with and show there, instead of an error page.
SHOWN_ON_NOTICE = (
    AckNotRequired,
    ApprovalNotAllowed,
    InvalidAttachment,
    InvalidNotice,
    InvalidReport,
    NoticeStateConflict,
    ReportNotAllowed,
)
SHOWN_ON_COMPOSE = (InvalidNotice, TargetOutsideSubtree, InvalidAttachment, NotNoticePublisher)


def _url(notice_id: int) -> str:
    return f"/staff/notices/{notice_id}"


def _signed_in_staff(request: Request, db: DB, csrf_token: str) -> Caller:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_staff(caller.actor)
    return caller


def _page(
    request: Request,
    db: DB,
    template: str,
    build: Callable[[Caller], object],
    problem: ProblemView | None = None,
) -> Response:
    """A GET page for signed-in staff: ``build(caller)`` makes its view inside the transaction."""
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = build(caller)
    return get_renderer(request).render(
        request, template, caller=caller, view=view, csrf_token=caller.csrf_token, problem=problem
    )


# -- the inbox and its live stream ----------------------------------------------------------------------


@router.get("/staff/notices")
def inbox(request: Request, db: DB, page: PageQuery = 1) -> Response:
    return _page(request, db, "messaging/inbox.html", lambda c: views.inbox(db, c.actor, page=page))


@router.get("/staff/notices/stream")
async def stream(
    request: Request,
    since: Annotated[str | None, Query(max_length=40)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> StreamingResponse:
    """The open inbox's live arrivals (the API's stream, for the page's session)."""
    caller = await run_in_threadpool(stream_caller, request)
    return event_stream(request, caller.actor, last_event_id or since)


@router.get("/staff/notices/sent")
def sent(request: Request, db: DB, page: PageQuery = 1) -> Response:
    return _page(request, db, "messaging/sent.html", lambda c: views.sent(db, c.actor, page=page))


@router.get("/staff/notices/approvals")
def approvals(request: Request, db: DB, page: PageQuery = 1) -> Response:
    return _page(request, db, "messaging/approvals.html", lambda c: views.approvals(db, c.actor, page=page))


# -- composing ------------------------------------------------------------------------------------------


@router.get("/staff/notices/new")
def compose(request: Request, db: DB) -> Response:
    return _page(
        request, db, "messaging/compose.html", lambda c: compose_views.compose(db, c.actor), problem=None
    )


@router.post("/staff/notices/new")
async def create(request: Request, db: DB, settings: AppSettings) -> Response:
    """Draft the notice with its files and, unless the publisher keeps a draft, publish it."""
    data = await request.form(max_files=settings.notices.attachments_per_notice + 1)
    return await run_in_threadpool(_create, request, db, settings, data)


def _create(request: Request, db: DB, settings: Settings, data: FormData) -> Response:
    caller = _signed_in_staff(request, db, str(data.get("csrf_token", "")))
    form = _compose_form(data)
    files = [f for f in data.getlist("files") if isinstance(f, UploadFile) and f.filename]
    try:
        with transaction(db):
            publish = data.get("action") != "draft"
            spec = compose_views.spec_of(form, publish=False)
            notice = notices.draft_notice(db, actor=caller.actor, spec=spec)
            limit = settings.notices.attachment_max_bytes
            for upload in files:
                content = upload.file.read(limit + 1)
                if len(content) > limit:
                    raise InvalidAttachment.field("file", f"the file is larger than {limit} bytes")
                notices.attach_file(
                    db,
                    actor=caller.actor,
                    notice_id=notice.id,
                    filename=upload.filename or "attachment",
                    content=content,
                    settings=settings,
                )
            if publish:
                notices.publish_notice(db, actor=caller.actor, notice_id=notice.id, settings=settings.notices)
            notice_id = notice.id
    except SHOWN_ON_COMPOSE as problem:
        with transaction(db):
            view = compose_views.compose(db, caller.actor, form)
        return get_renderer(request).render(
            request,
            "messaging/compose.html",
            caller=caller,
            status_code=problem.status,
            view=view,
            csrf_token=caller.csrf_token,
            problem=views.problem_view(problem, compose_views.field_label),
        )
    return redirect(_url(notice_id))


def _compose_form(data: FormData) -> compose_views.ComposeForm:
    def text(name: str, limit: int) -> str:
        value = data.get(name, "")
        return value[:limit] if isinstance(value, str) else ""

    def number(value: object) -> int | None:
        return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None

    units = [n for n in (number(v) for v in data.getlist("units")) if n is not None]
    return compose_views.ComposeForm(
        title=text("title", 300),
        body=text("body", 25_000),
        priority=text("priority", 20) or "normal",
        requires_ack=data.get("requires_ack") == "yes",
        unit_ids=sorted(set(units))[:50],
        division_code=text("division_code", 10),
        roles=[r for r in data.getlist("roles") if isinstance(r, str)][:10],
        links=text("links", 10_000),
        form=text("form", 2_000),
        remind_after=text("remind_after", 10),
        publisher_org_id=number(data.get("publisher_org_id")),
    )


# -- one notice -----------------------------------------------------------------------------------------


def _notice_page(
    request: Request,
    db: DB,
    caller: Caller,
    notice_id: int,
    problem: ProblemView | None = None,
    status: int = 200,
) -> Response:
    with transaction(db):
        view = views.notice(db, caller.actor, notice_id)
    return get_renderer(request).render(
        request,
        "messaging/notice.html",
        caller=caller,
        status_code=status,
        view=view,
        csrf_token=caller.csrf_token,
        problem=problem,
    )


@router.get("/staff/notices/{notice_id}")
def notice(request: Request, db: DB, notice_id: int) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
    return _notice_page(request, db, caller, notice_id)


@router.get("/staff/notices/{notice_id}/attachments/{attachment_id}")
def download(request: Request, db: DB, notice_id: int, attachment_id: int, settings: AppSettings) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        a = notices_queries.get_attachment(
            db, actor=caller.actor, notice_id=notice_id, attachment_id=attachment_id
        )
        name, relative, media_type = a.name, a.path, a.content_type
    path = settings.data_dir / relative
    if not path.is_file():
        raise AttachmentNotFound("the file is missing from the data directory")
    fallback = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in name)
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"
            ),
            "Cache-Control": "private, no-store",
        },
    )


def _act(
    request: Request,
    db: DB,
    notice_id: int,
    csrf_token: str,
    action: Callable[[Caller], object],
    anchor: str = "",
) -> Response:
    """Run a form's action on the notice, then back to its page (or the page with the problem)."""
    caller = _signed_in_staff(request, db, csrf_token)
    try:
        with transaction(db):
            action(caller)
    except SHOWN_ON_NOTICE as problem:
        return _notice_page(request, db, caller, notice_id, views.problem_view(problem), problem.status)
    return redirect(_url(notice_id) + anchor)


@router.post("/staff/notices/{notice_id}/ack")
def acknowledge(request: Request, db: DB, notice_id: int, csrf_token: Token = "") -> Response:
    return _act(
        request,
        db,
        notice_id,
        csrf_token,
        lambda c: notices_receipts.acknowledge(db, actor=c.actor, notice_id=notice_id),
    )


@router.post("/staff/notices/{notice_id}/report")
async def report(request: Request, db: DB, notice_id: int) -> Response:
    data = await request.form()
    return await run_in_threadpool(_report, request, db, notice_id, data)


def _report(request: Request, db: DB, notice_id: int, data: FormData) -> Response:
    org = data.get("org_id", "")
    values: dict[str, int] = {}
    bad: list[str] = []
    for key, value in data.items():
        if key.startswith("v_") and isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit() and len(text) <= 13:
                values[key[2:]] = int(text)
            else:
                bad.append(key[2:])

    def answer(caller: Caller) -> None:
        if bad:
            raise InvalidReport(
                "whole numbers only",
                errors=[{"detail": "a number is needed", "pointer": f"#/values/{k}"} for k in bad],
            )
        reports.answer_report(
            db,
            actor=caller.actor,
            notice_id=notice_id,
            values=values,
            org_id=int(org) if isinstance(org, str) and org.isdigit() else None,
        )

    return _act(request, db, notice_id, str(data.get("csrf_token", "")), answer, "#report")


@router.post("/staff/notices/{notice_id}/attach")
def attach(
    request: Request,
    db: DB,
    notice_id: int,
    settings: AppSettings,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Token = "",
) -> Response:
    def add(caller: Caller) -> None:
        if file is None or not file.filename:
            raise InvalidAttachment.field("file", "the file is empty")
        limit = settings.notices.attachment_max_bytes
        content = file.file.read(limit + 1)
        if len(content) > limit:
            raise InvalidAttachment.field("file", f"the file is larger than {limit} bytes")
        notices.attach_file(
            db,
            actor=caller.actor,
            notice_id=notice_id,
            filename=file.filename,
            content=content,
            settings=settings,
        )

    return _act(request, db, notice_id, csrf_token, add)


@router.post("/staff/notices/{notice_id}/publish")
def publish(
    request: Request, db: DB, notice_id: int, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    return _act(
        request,
        db,
        notice_id,
        csrf_token,
        lambda c: notices.publish_notice(db, actor=c.actor, notice_id=notice_id, settings=settings.notices),
    )


@router.post("/staff/notices/{notice_id}/approve")
def approve(request: Request, db: DB, notice_id: int, csrf_token: Token = "") -> Response:
    return _act(
        request,
        db,
        notice_id,
        csrf_token,
        lambda c: notices.approve_notice(db, actor=c.actor, notice_id=notice_id),
    )


@router.post("/staff/notices/{notice_id}/reject")
def reject(request: Request, db: DB, notice_id: int, csrf_token: Token = "", reason: Token = "") -> Response:
    return _act(
        request,
        db,
        notice_id,
        csrf_token,
        lambda c: notices.reject_notice(db, actor=c.actor, notice_id=notice_id, reason=reason[:500]),
    )


@router.post("/staff/notices/{notice_id}/withdraw")
def withdraw(request: Request, db: DB, notice_id: int, csrf_token: Token = "") -> Response:
    return _act(
        request,
        db,
        notice_id,
        csrf_token,
        lambda c: notices.withdraw_notice(db, actor=c.actor, notice_id=notice_id),
    )


# -- following a notice, and the directory --------------------------------------------------------------


@router.get("/staff/notices/{notice_id}/rollup")
def rollup(
    request: Request,
    db: DB,
    notice_id: int,
    unit: Annotated[int | None, Query(ge=1)] = None,
    missing: Missing = "unread",
    page: PageQuery = 1,
) -> Response:
    return _page(
        request,
        db,
        "messaging/rollup.html",
        lambda c: views.rollup(db, c.actor, notice_id, unit_id=unit, missing=missing, page=page),
    )


@router.get("/staff/directory")
def staff_directory(
    request: Request, db: DB, q: Short = "", role: Short = "", page: PageQuery = 1
) -> Response:
    problem: ProblemView | None = None
    try:
        return _page(
            request,
            db,
            "messaging/directory.html",
            lambda c: views.staff_directory(db, c.actor, q=q, role=role, page=page),
            problem=None,
        )
    except ValidationFailed as found:
        problem = views.problem_view(found)
    return _page(
        request,
        db,
        "messaging/directory.html",
        lambda c: views.staff_directory(db, c.actor, q="", role="", page=1),
        problem=problem,
    )
