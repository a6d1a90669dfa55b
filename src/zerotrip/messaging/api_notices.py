"""Staff notices JSON API under ``/api/messaging``: publishing, approval, the inbox, reading and
acknowledging, roll-ups and those who have not read, report-back answers and sums, and the directory.

Staff call these from their pages with the session cookie and the ``X-CSRF-Token`` header. Every action
checks the caller itself; a notice that is not the caller's to see is a 404 (``messaging/notice-not-found``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, File, Query, Response, UploadFile
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zerotrip.config import Settings
from zerotrip.db import one_statement, transaction
from zerotrip.deps import DB, CurrentActor, get_settings
from zerotrip.messaging import (
    directory,
    notices,
    notices_inbox,
    notices_queries,
    notices_receipts,
    reports,
    rollups,
)
from zerotrip.messaging.errors_notices import AttachmentNotFound, InvalidAttachment
from zerotrip.messaging.schemas_notices import (
    AttachmentRead,
    DirectoryPage,
    InboxPage,
    Missing,
    NonReaderPage,
    NoticeCreate,
    NoticePage,
    NoticeRead,
    ReceiptState,
    RejectRequest,
    ReportAnswerCreate,
    ReportAnswerRead,
    ReportSums,
    RollupRead,
)
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/messaging", tags=["messaging: staff notices"])
AppSettings = Annotated[Settings, Depends(get_settings)]
Page = Annotated[int, Query(ge=1, le=100_000)]
PerPage = Annotated[int, Query(ge=1, le=100)]
T = TypeVar("T")


def _one_statement(db: Session, work: Callable[..., T], **kwargs: Any) -> T:
    """``work(db, **kwargs)``, a single statement: on PostgreSQL in autocommit (see ``one_statement``)."""
    with one_statement(db):
        return work(db, **kwargs)


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


@router.post("/notices", response_model=NoticeRead, status_code=201, summary="Draft (or publish) a notice")
def create_notice(body: NoticeCreate, db: DB, actor: CurrentActor, settings: AppSettings) -> NoticeRead:
    """A draft for the unit you publish for, with its targets checked against the tree; with
    ``"publish": true`` it is published at once (or waits for approval, for a province-wide emergency)."""
    with transaction(db):
        notice = notices.create_notice(db, actor=actor, spec=body, settings=settings.notices)
        return notices_queries.notice_read(db, notice, actor=actor, reached=[])


@router.get("/notices/inbox", response_model=InboxPage, summary="My inbox of notices")
async def inbox(
    db: DB, actor: CurrentActor, page: Page = 1, per_page: PerPage = 20, unread: bool = False
) -> Response:
    """Notices addressed to me: unread urgent and emergency ones first, then newest first."""
    # The answer is written from the rows by orjson (no model per row), in one hop to the thread pool.
    content = await run_in_threadpool(
        _one_statement,
        db,
        notices_inbox.inbox_json,
        actor=actor,
        page=page,
        per_page=per_page,
        unread_only=unread,
    )
    return Response(content, media_type="application/json")


@router.get("/notices/sent", response_model=NoticePage, summary="Notices I drafted or published")
def sent(db: DB, actor: CurrentActor, page: Page = 1, per_page: PerPage = 20) -> NoticePage:
    with transaction(db):
        return notices_queries.list_sent(db, actor=actor, page=page, per_page=per_page)


@router.get("/notices/approvals", response_model=NoticePage, summary="Notices waiting for my approval")
def approvals(db: DB, actor: CurrentActor, page: Page = 1, per_page: PerPage = 20) -> NoticePage:
    with transaction(db):
        return notices_queries.list_awaiting_approval(db, actor=actor, page=page, per_page=per_page)


@router.get("/notices/{notice_id}", response_model=NoticeRead, summary="One notice")
def read_notice(notice_id: int, db: DB, actor: CurrentActor) -> NoticeRead:
    """The notice with my receipt if it is addressed to me. Opening it does not mark it read."""
    with transaction(db):
        notice, reached = notices_queries.get_notice(db, actor=actor, notice_id=notice_id)
        return notices_queries.notice_read(db, notice, actor=actor, reached=reached)


@router.put(
    "/notices/{notice_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
    summary="Add a file to a draft (PDF, PNG, JPEG, .docx, .xlsx)",
)
def attach(
    notice_id: int,
    file: Annotated[UploadFile, File(description="The file.")],
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
) -> AttachmentRead:
    limit = settings.notices.attachment_max_bytes
    content = file.file.read(limit + 1)  # one byte more tells a file that is too large
    if len(content) > limit:
        raise InvalidAttachment.field("file", f"the file is larger than {limit} bytes")
    with transaction(db):
        a = notices.attach_file(
            db,
            actor=actor,
            notice_id=notice_id,
            filename=file.filename or "attachment",
            content=content,
            settings=settings,
        )
        return AttachmentRead(id=a.id, name=a.name, content_type=a.content_type, size=a.size, sha256=a.sha256)


@router.get(
    "/notices/{notice_id}/attachments/{attachment_id}",
    response_class=Response,
    summary="Download an attachment",
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {}},
)
def download(
    notice_id: int, attachment_id: int, db: DB, actor: CurrentActor, settings: AppSettings
) -> Response:
    with transaction(db):
        a = notices_queries.get_attachment(db, actor=actor, notice_id=notice_id, attachment_id=attachment_id)
        name, relative, media_type = a.name, a.path, a.content_type
    path = settings.data_dir / relative
    if not path.is_file():
        raise AttachmentNotFound("the file is missing from the data directory")
    fallback = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in name)
    quoted = urllib.parse.quote(name, safe="")
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/notices/{notice_id}/publish", response_model=NoticeRead, summary="Publish a draft")
def publish(notice_id: int, db: DB, actor: CurrentActor, settings: AppSettings) -> NoticeRead:
    """Published at once, or waiting for approval when it is a province-wide emergency and approval is on."""
    with transaction(db):
        notice = notices.publish_notice(db, actor=actor, notice_id=notice_id, settings=settings.notices)
        return notices_queries.notice_read(db, notice, actor=actor, reached=[])


@router.post("/notices/{notice_id}/approve", response_model=NoticeRead, summary="Approve and send a notice")
def approve(notice_id: int, db: DB, actor: CurrentActor) -> NoticeRead:
    with transaction(db):
        notice = notices.approve_notice(db, actor=actor, notice_id=notice_id)
        return notices_queries.notice_read(db, notice, actor=actor, reached=[])


@router.post("/notices/{notice_id}/reject", response_model=NoticeRead, summary="Refuse a notice")
def reject(notice_id: int, body: RejectRequest, db: DB, actor: CurrentActor) -> NoticeRead:
    with transaction(db):
        notice = notices.reject_notice(db, actor=actor, notice_id=notice_id, reason=body.reason)
        return notices_queries.notice_read(db, notice, actor=actor, reached=[])


@router.post(
    "/notices/{notice_id}/withdraw", response_model=NoticeRead, summary="Withdraw a published notice"
)
def withdraw(notice_id: int, db: DB, actor: CurrentActor) -> NoticeRead:
    with transaction(db):
        notice = notices.withdraw_notice(db, actor=actor, notice_id=notice_id)
        return notices_queries.notice_read(db, notice, actor=actor, reached=[])


@router.post("/notices/{notice_id}/read", response_model=ReceiptState, summary="Mark a notice read")
async def mark_read(notice_id: int, db: DB, actor: CurrentActor) -> Response:
    state = await run_in_threadpool(
        _one_statement, db, notices_receipts.mark_read, actor=actor, notice_id=notice_id
    )
    return Response(_json(state.model_dump()), media_type="application/json")


@router.post("/notices/{notice_id}/ack", response_model=ReceiptState, summary="Acknowledge a notice")
def acknowledge(notice_id: int, db: DB, actor: CurrentActor) -> ReceiptState:
    with transaction(db):
        return notices_receipts.acknowledge(db, actor=actor, notice_id=notice_id)


@router.get(
    "/notices/{notice_id}/rollup", response_model=RollupRead, summary="Read and acknowledged per unit"
)
def rollup(
    notice_id: int,
    db: DB,
    actor: CurrentActor,
    unit: Annotated[
        int | None, Query(description="The unit to drill into; default: the publishing unit.")
    ] = None,
) -> RollupRead:
    with transaction(db):
        return rollups.rollup(db, actor=actor, notice_id=notice_id, unit_id=unit)


@router.get(
    "/notices/{notice_id}/rollup/{unit_id}/missing",
    response_model=NonReaderPage,
    summary="Who in a unit has not read (or acknowledged)",
)
def missing(
    notice_id: int,
    unit_id: int,
    db: DB,
    actor: CurrentActor,
    what: Missing = "unread",
    page: Page = 1,
    per_page: PerPage = 50,
) -> NonReaderPage:
    with transaction(db):
        return rollups.list_non_readers(
            db, actor=actor, notice_id=notice_id, unit_id=unit_id, missing=what, page=page, per_page=per_page
        )


@router.put(
    "/notices/{notice_id}/reports/{org_id}",
    response_model=ReportAnswerRead,
    summary="Answer (or amend) a unit's report-back",
)
def answer(
    notice_id: int, org_id: int, body: ReportAnswerCreate, db: DB, actor: CurrentActor
) -> ReportAnswerRead:
    with transaction(db):
        given = reports.answer_report(db, actor=actor, notice_id=notice_id, org_id=org_id, values=body.values)
        return reports.answer_read(db, given)


@router.get(
    "/notices/{notice_id}/reports/{org_id}",
    response_model=ReportAnswerRead | None,
    summary="A unit's report-back answer (null before it answers)",
)
def read_answer(notice_id: int, org_id: int, db: DB, actor: CurrentActor) -> ReportAnswerRead | None:
    with transaction(db):
        return reports.get_answer(db, actor=actor, notice_id=notice_id, org_id=org_id)


@router.get("/notices/{notice_id}/reports", response_model=ReportSums, summary="Report-back sums per unit")
def report_sums(
    notice_id: int,
    db: DB,
    actor: CurrentActor,
    unit: Annotated[
        int | None, Query(description="The unit to drill into; default: the publishing unit.")
    ] = None,
) -> ReportSums:
    with transaction(db):
        return reports.report_sums(db, actor=actor, notice_id=notice_id, unit_id=unit)


@router.get("/directory", response_model=DirectoryPage, summary="Search the staff directory")
def search_directory(
    db: DB,
    actor: CurrentActor,
    q: Annotated[
        str | None, Query(max_length=60, description="Part of a name, or a login name's start.")
    ] = None,
    unit: Annotated[int | None, Query(description="Only this unit's subtree.")] = None,
    role: str | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> DirectoryPage:
    with transaction(db):
        return directory.search_staff(
            db, actor=actor, q=q, unit_id=unit, role=role, page=page, per_page=per_page
        )
