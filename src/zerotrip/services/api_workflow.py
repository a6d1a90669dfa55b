"""Services JSON API: the staff workflow (the office's queue, accepting, reviewing, supplement requests,
approving, refusing), the applicant's answer to a supplement request, ratings and their rectification.

Staff call these with their session (and the ``X-CSRF-Token`` header) as reviewers of the office an
application is with; the actions check it, so staff of another county get ``services/application-not-found``
and those who may only read get ``services/review-not-allowed``. This router is included before the
applicant's (``api_applications``), so ``/applications/queue`` is not taken for an application number.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import FileResponse

from zerotrip.db import transaction
from zerotrip.deps import DB, CurrentActor
from zerotrip.problems import NotFound
from zerotrip.routing import PrefixRouter
from zerotrip.services import application_queries, ratings, reviewing, supplements, workflow_queries
from zerotrip.services.api_deps import AppSettings, Keys, Scan, sent_scan
from zerotrip.services.application_schemas import ApplicationRead
from zerotrip.services.workflow_schemas import (
    ApproveRequest,
    NoteRequest,
    QueuePage,
    QueueStatus,
    RatingCreate,
    RatingSummary,
    RectificationCreate,
    RefuseRequest,
    ReviewRequest,
    SupplementAnswer,
    SupplementRequestCreate,
)

router = PrefixRouter(prefix="/api/services", tags=["services"])


def _read(db: DB, number: str, actor: CurrentActor) -> ApplicationRead:
    application = application_queries.get_application(db, actor=actor, number=number)
    return application_queries.application_read(db, application, actor=actor)


@router.get("/applications/queue", response_model=QueuePage, summary="The office's queue (staff)")
def queue(
    db: DB,
    actor: CurrentActor,
    status: QueueStatus | None = None,
    overdue: Annotated[bool, Query(description="Only those past their deadline.")] = False,
    escalated: Annotated[
        bool, Query(description="Those escalated to the caller's offices by the offices below.")
    ] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> QueuePage:
    """Due soonest first; by default every application not yet decided."""
    with transaction(db):
        items, total = workflow_queries.list_queue(
            db,
            actor=actor,
            status=status,
            is_overdue=overdue,
            is_escalated=escalated,
            page=page,
            per_page=per_page,
        )
    return QueuePage(items=items, total=total, page=page, per_page=per_page)


@router.post("/applications/{number}/accept", response_model=ApplicationRead, summary="Accept (受理)")
def accept(number: str, body: NoteRequest, db: DB, actor: CurrentActor) -> ApplicationRead:
    with transaction(db):
        reviewing.accept_application(db, actor=actor, number=number, note=body.note)
        return _read(db, number, actor)


@router.post(
    "/applications/{number}/reviews",
    response_model=ApplicationRead,
    summary="Complete the review step the application is at",
)
def review(number: str, body: ReviewRequest, db: DB, actor: CurrentActor) -> ApplicationRead:
    with transaction(db):
        reviewing.complete_review(db, actor=actor, number=number, note=body.note)
        return _read(db, number, actor)


@router.post(
    "/applications/{number}/supplement-requests",
    response_model=ApplicationRead,
    status_code=201,
    summary="Ask for everything missing at once (补正)",
)
def request_supplement(
    number: str, body: SupplementRequestCreate, db: DB, actor: CurrentActor
) -> ApplicationRead:
    with transaction(db):
        reviewing.request_supplement(db, actor=actor, number=number, items=body.items, note=body.note)
        return _read(db, number, actor)


@router.post("/applications/{number}/approve", response_model=ApplicationRead, summary="Approve")
def approve(
    number: str, body: ApproveRequest, db: DB, actor: CurrentActor, settings: AppSettings, keys: Keys
) -> ApplicationRead:
    with transaction(db):
        reviewing.approve_application(
            db, actor=actor, number=number, keys=keys, settings=settings, decision_text=body.decision_text
        )
    # Read back after the commit: the decision letter holds the shared status list's row until then.
    with transaction(db):
        return _read(db, number, actor)


@router.post("/applications/{number}/refuse", response_model=ApplicationRead, summary="Refuse, with reasons")
def refuse(
    number: str, body: RefuseRequest, db: DB, actor: CurrentActor, settings: AppSettings, keys: Keys
) -> ApplicationRead:
    with transaction(db):
        reviewing.refuse_application(
            db, actor=actor, number=number, reasons=body.reasons, keys=keys, settings=settings
        )
    with transaction(db):
        return _read(db, number, actor)


@router.get(
    "/applications/{number}/materials/{position}/file",
    response_class=FileResponse,
    summary="The file uploaded for a material (the applicant and the office's staff)",
    responses={200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}}},
)
def material_file(
    number: str, position: int, db: DB, actor: CurrentActor, settings: AppSettings
) -> FileResponse:
    with transaction(db):
        application = application_queries.get_application(db, actor=actor, number=number)
        found = application_queries.uploaded_file(db, application, position)
    if found is None:
        raise NotFound("no file was uploaded for this material")
    path, media_type, name = found
    return FileResponse(settings.data_dir / path, media_type=media_type, filename=name)


# -- the applicant's answer to a supplement request ---------------------------------------------------


@router.post(
    "/applications/{number}/supplement/items/{position}/answer",
    response_model=ApplicationRead,
    summary="Answer an item of the supplement request in words",
)
def answer(
    number: str, position: int, body: SupplementAnswer, db: DB, actor: CurrentActor
) -> ApplicationRead:
    with transaction(db):
        supplements.answer_in_words(db, actor=actor, number=number, position=position, text=body.text)
        return _read(db, number, actor)


@router.put(
    "/applications/{number}/supplement/items/{position}/file",
    response_model=ApplicationRead,
    summary="Send the file an item of the supplement request asks for (PDF, PNG or JPEG)",
)
def answer_with_file(
    number: str,
    position: int,
    file: Scan,
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
) -> ApplicationRead:
    filename, content = sent_scan(file, settings)
    with transaction(db):
        supplements.answer_with_file(
            db,
            actor=actor,
            number=number,
            position=position,
            filename=filename,
            content=content,
            settings=settings,
        )
        return _read(db, number, actor)


@router.post(
    "/applications/{number}/resubmit",
    response_model=ApplicationRead,
    summary="Resubmit once every item is answered (the clock runs again)",
)
def resubmit(number: str, db: DB, actor: CurrentActor, settings: AppSettings) -> ApplicationRead:
    with transaction(db):
        supplements.resubmit_application(db, actor=actor, number=number, settings=settings)
        return _read(db, number, actor)


# -- ratings ----------------------------------------------------------------------------------------------


@router.post(
    "/applications/{number}/rating",
    response_model=ApplicationRead,
    status_code=201,
    summary="Rate a decided application (好差评)",
)
def rate(number: str, body: RatingCreate, db: DB, actor: CurrentActor) -> ApplicationRead:
    with transaction(db):
        ratings.rate_application(
            db, actor=actor, number=number, score=body.score, comment=body.comment, tags=body.tags
        )
        return _read(db, number, actor)


@router.post(
    "/applications/{number}/rating/rectification",
    response_model=ApplicationRead,
    summary="The office's answer to a bad rating (整改)",
)
def rectify(number: str, body: RectificationCreate, db: DB, actor: CurrentActor) -> ApplicationRead:
    with transaction(db):
        ratings.rectify_rating(db, actor=actor, number=number, answer=body.answer)
        return _read(db, number, actor)


@router.get("/ratings", response_model=RatingSummary, summary="Ratings per department (staff)")
def rating_summary(db: DB, actor: CurrentActor) -> RatingSummary:
    with transaction(db):
        return ratings.rating_summary(db, actor=actor)
