"""The staff's application pages (办件审批): the office's queue, one application with its evidence and
the reviewer's moves (accept, complete a review step, ask for a supplement listing everything missing,
approve, refuse with reasons, answer a bad rating), and the ratings per department. Every form posts, then
redirects to the application (POST → redirect → GET); a problem is shown on the application page itself.
Who may act is decided by the services actions, as for the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import Problem, ValidationFailed
from zerotrip.services import applications, ratings, reviewing
from zerotrip.services.errors import (
    ApplicationClosed,
    InvalidSupplementRequest,
    RatingNotAllowed,
    ReviewNotAllowed,
    WrongStep,
)
from zerotrip.services.workflow_schemas import QueueStatus, SupplementItemSpec
from zerotrip.web import csrf
from zerotrip.web import services_review_views as views
from zerotrip.web.auth_pages import STAFF
from zerotrip.web.datahub_text import Detail, ProblemView, Text
from zerotrip.web.page_kit import DB, check_staff, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
Token = Annotated[str, Form()]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
Flag = Annotated[str, Query(max_length=3)]
LongText = Annotated[str, Form(max_length=4000)]
# What a form on the application page may fail with and show on the page, instead of an error page.
SHOWN_ON_PAGE = (
    ApplicationClosed,
    WrongStep,
    ReviewNotAllowed,
    InvalidSupplementRequest,
    RatingNotAllowed,
    ValidationFailed,
)


def _url(number: str) -> str:
    return f"/staff/services/applications/{applications.normalise_number(number)}"


def _signed_in_staff(request: Request, db: DB, csrf_token: str) -> Caller:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_staff(caller.actor)
    return caller


def _page(
    request: Request, caller: Caller, view: views.ReviewView, problem: ProblemView | None, status_code: int
) -> Response:
    return get_renderer(request).render(
        request,
        "services/review.html",
        caller=caller,
        status_code=status_code,
        view=view,
        csrf_token=caller.csrf_token,
        problem=problem,
    )


def _shown(request: Request, db: DB, caller: Caller, number: str, problem: Problem) -> Response:
    with transaction(db):
        view = views.application(db, caller.actor, number)
    details = tuple(Detail(None, Text(e.get("detail", ""))) for e in problem.errors)
    if not details and problem.detail:
        details = (Detail(None, Text(problem.detail)),)
    return _page(request, caller, view, ProblemView(title=problem.title, details=details), problem.status)


@router.get("/staff/services/applications")
def queue(
    request: Request,
    db: DB,
    status: QueueStatus | None = None,
    overdue: Flag = "",
    escalated: Flag = "",
    page: PageQuery = 1,
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = views.queue(
            db, caller.actor, status=status, is_overdue=bool(overdue), is_escalated=bool(escalated), page=page
        )
    return get_renderer(request).render(request, "services/review_queue.html", caller=caller, view=view)


@router.get("/staff/services/applications/{number}")
def application(request: Request, db: DB, number: str) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = views.application(db, caller.actor, number)
    return _page(request, caller, view, None, 200)


@dataclass(frozen=True)
class _Sent:
    """What the application page's forms send (each form its own fields; the others stay empty)."""

    note: str
    decision_text: str
    reasons: str
    answer: str
    material_position: list[int]
    material_detail: list[str]
    others: str

    def supplement_items(self) -> list[SupplementItemSpec]:
        """One row per material (its position and what is wrong with it, empty when nothing is), and the
        other things missing one per line: all of it goes to the applicant at once."""
        return [
            SupplementItemSpec(material=position, detail=detail.strip()[:1000])
            for position, detail in zip(self.material_position, self.material_detail, strict=False)
            if detail.strip()
        ] + [
            SupplementItemSpec(detail=line.strip()[:1000])
            for line in self.others.splitlines()
            if line.strip()
        ]


@dataclass(frozen=True)
class _Move:
    act: Callable[[Session, Actor, str, _Sent, Settings, KeyStore], object]
    anchor: str = ""  # where on the application page to land afterwards


# The reviewer's moves, one per form of the application page (POST /staff/services/applications/N/MOVE).
MOVES: dict[str, _Move] = {
    "accept": _Move(
        lambda db, actor, n, f, s, k: reviewing.accept_application(db, actor=actor, number=n, note=f.note)
    ),
    "review": _Move(
        lambda db, actor, n, f, s, k: reviewing.complete_review(db, actor=actor, number=n, note=f.note)
    ),
    "supplement": _Move(
        lambda db, actor, n, f, s, k: reviewing.request_supplement(
            db, actor=actor, number=n, items=f.supplement_items(), note=f.note
        )
    ),
    "approve": _Move(
        lambda db, actor, n, f, s, k: reviewing.approve_application(
            db, actor=actor, number=n, keys=k, settings=s, decision_text=f.decision_text
        )
    ),
    "refuse": _Move(
        lambda db, actor, n, f, s, k: reviewing.refuse_application(
            db, actor=actor, number=n, reasons=f.reasons.splitlines(), keys=k, settings=s
        )
    ),
    "rectify": _Move(
        lambda db, actor, n, f, s, k: ratings.rectify_rating(db, actor=actor, number=n, answer=f.answer),
        anchor="#rating-title",
    ),
}


@router.post("/staff/services/applications/{number}/{move}")
def act(
    request: Request,
    db: DB,
    number: str,
    move: str,
    settings: AppSettings,
    keys: Keys,
    csrf_token: Token = "",
    note: LongText = "",
    decision_text: LongText = "",
    reasons: LongText = "",
    answer: LongText = "",
    material_position: Annotated[list[int] | None, Form()] = None,
    material_detail: Annotated[list[str] | None, Form()] = None,
    others: LongText = "",
) -> Response:
    """A reviewer's move on the application; a problem is shown on the application page."""
    found = MOVES.get(move)
    if found is None:
        raise HTTPException(status_code=404)
    caller = _signed_in_staff(request, db, csrf_token)
    sent = _Sent(note, decision_text, reasons, answer, material_position or [], material_detail or [], others)
    try:
        with transaction(db):
            found.act(db, caller.actor, number, sent, settings, keys)
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, problem)
    return redirect(_url(number) + found.anchor)


@router.get("/staff/services/ratings")
def rating_summary(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = views.rating_summary(db, caller.actor)
    return get_renderer(request).render(request, "services/ratings.html", caller=caller, view=view)
