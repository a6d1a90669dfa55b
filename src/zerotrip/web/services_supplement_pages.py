"""The applicant's side of the workflow on their application's page: answering a supplement request (a
file for each material asked for again, words for anything else), resubmitting, and rating the decided
application. Every form posts, then redirects to the application; a problem is shown on the page."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from zerotrip.config import Settings
from zerotrip.deps import get_settings
from zerotrip.problems import ValidationFailed
from zerotrip.services import ratings, supplements
from zerotrip.services.errors import (
    ApplicationClosed,
    InvalidUpload,
    RatingNotAllowed,
    SupplementIncomplete,
)
from zerotrip.web.page_kit import DB
from zerotrip.web.services_apply_pages import PAGE as APPLICATION_PAGE
from zerotrip.web.services_apply_pages import application_url

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Token = Annotated[str, Form()]
LongText = Annotated[str, Form(max_length=4000)]
SHOWN_ON_PAGE = (ApplicationClosed, InvalidUpload, SupplementIncomplete, RatingNotAllowed, ValidationFailed)
PAGE = dataclasses.replace(APPLICATION_PAGE, shown=SHOWN_ON_PAGE)


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.upload(
        file,
        lambda filename, content: supplements.answer_with_file(
            db,
            actor=form.actor,
            number=number,
            position=position,
            filename=filename,
            content=content,
            settings=settings,
        ),
        then=application_url(number) + "#supplement-title",
    )


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: supplements.answer_in_words(
            db, actor=form.actor, number=number, position=position, text=text
        ),
        then=application_url(number) + "#supplement-title",
    )


@router.post("/me/applications/{number}/resubmit")
def resubmit(
    request: Request, db: DB, number: str, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: supplements.resubmit_application(db, actor=form.actor, number=number, settings=settings),
        then=application_url(number),
    )


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: ratings.rate_application(
            db, actor=form.actor, number=number, score=score, comment=comment, tags=tags or []
        ),
        then=application_url(number) + "#rating-title",
    )
