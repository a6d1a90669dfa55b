"""The applicant's side of the workflow on their application's page: answering a supplement request (a
file for each material asked for again, words for anything else), resubmitting, and rating the decided
application. Every form posts, then redirects to the application; a problem is shown on the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import get_settings
from zerotrip.problems import ValidationFailed
from zerotrip.services import ratings, supplements
from zerotrip.services.errors import (
    ApplicationClosed,
    InvalidUpload,
    RatingNotAllowed,
    SupplementIncomplete,
)
from zerotrip.web import services_apply_views as views
from zerotrip.web.page_kit import DB
from zerotrip.web.render import redirect
from zerotrip.web.services_apply_pages import (
    application_url,
    render_application,
    show_problem,
    signed_in_citizen,
)

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Token = Annotated[str, Form()]
LongText = Annotated[str, Form(max_length=4000)]
SHOWN_ON_PAGE = (ApplicationClosed, InvalidUpload, SupplementIncomplete, RatingNotAllowed, ValidationFailed)


@router.post("/me/applications/{number}/supplement/{position}/file")
def answer_with_file(
    request: Request,
    db: DB,
    number: str,
    position: int,
    settings: AppSettings,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Token = "",
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    if file is None or not file.filename:
        with transaction(db):
            view = views.application(db, caller.actor, number, settings.services)
        return render_application(request, caller, view, views.message(views.NO_FILE), 422)
    limit = settings.services.upload_max_bytes
    content = file.file.read(limit + 1)
    try:
        if len(content) > limit:
            raise InvalidUpload.field("file", f"the file is larger than {limit} bytes")
        with transaction(db):
            supplements.answer_with_file(
                db,
                actor=caller.actor,
                number=number,
                position=position,
                filename=file.filename,
                content=content,
                settings=settings,
            )
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number) + "#supplement-title")


@router.post("/me/applications/{number}/supplement/{position}/answer")
def answer_in_words(
    request: Request,
    db: DB,
    number: str,
    position: int,
    settings: AppSettings,
    csrf_token: Token = "",
    text: LongText = "",
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            supplements.answer_in_words(db, actor=caller.actor, number=number, position=position, text=text)
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number) + "#supplement-title")


@router.post("/me/applications/{number}/resubmit")
def resubmit(
    request: Request, db: DB, number: str, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            supplements.resubmit_application(db, actor=caller.actor, number=number, settings=settings)
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number))


@router.post("/me/applications/{number}/rating")
def rate(
    request: Request,
    db: DB,
    number: str,
    settings: AppSettings,
    csrf_token: Token = "",
    score: Annotated[int, Form(ge=0, le=5)] = 0,
    comment: Annotated[str, Form(max_length=1000)] = "",
    tags: Annotated[list[str] | None, Form()] = None,
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            ratings.rate_application(
                db, actor=caller.actor, number=number, score=score, comment=comment, tags=tags or []
            )
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number) + "#rating-title")
