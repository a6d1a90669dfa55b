"""What the applicant's forms on the application page and the bundle page share: the signed-in citizen
behind a form (with its CSRF token checked), the file sent with an upload form (refused when larger than the
limit), and how a form ends: the action in its own transaction, then a redirect to the page (POST →
redirect → GET), or, for the problems the page shows itself, the page again with the problem and its
status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from zerotrip.config import ServicesSettings, Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, resolve_caller
from zerotrip.identity.actor import Actor
from zerotrip.problems import Problem
from zerotrip.services.errors import InvalidUpload
from zerotrip.web import csrf
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.datahub_text import ProblemView
from zerotrip.web.page_kit import check_citizen, sign_in_first
from zerotrip.web.render import get_renderer, redirect
from zerotrip.web.services_apply_views import NO_FILE, message

View = TypeVar("View")


def signed_in_citizen(request: Request, db: Session, csrf_token: str) -> Caller:
    """The citizen who sent a form. Raises NotAuthenticated, a CSRF refusal, NotAllowed (not a citizen)."""
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
    return caller


def render_page(
    request: Request,
    caller: Caller,
    template: str,
    view: object,
    problem: ProblemView | None = None,
    status_code: int = 200,
) -> Response:
    """An applicant's page with its forms (they carry the caller's CSRF token) and a problem, if any."""
    return get_renderer(request).render(
        request,
        template,
        caller=caller,
        status_code=status_code,
        view=view,
        csrf_token=caller.csrf_token,
        problem=problem,
    )


def citizen_list(
    request: Request, db: Session, template: str, build: Callable[[Session, Actor], object]
) -> Response:
    """A signed-in citizen's list of their own applications (or bundle applications), ``build`` from
    their actor; a visitor who is not signed in is sent to sign in first."""
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        check_citizen(caller.actor)
        view = build(db, caller.actor)
    return get_renderer(request).render(request, template, caller=caller, view=view)


@dataclass(frozen=True)
class ApplicantPage(Generic[View]):
    """A page of the applicant's (an application, a bundle application) and how its forms end: ``view``
    builds its view-model, ``render`` shows it, ``problem`` puts a problem in the page's words, and the
    problems in ``shown`` are shown on the page instead of an error page."""

    view: Callable[[Session, Actor, str, ServicesSettings], View]
    render: Callable[[Request, Caller, View, ProblemView | None, int], Response]
    problem: Callable[[Problem, View], ProblemView]
    shown: tuple[type[Problem], ...]

    def open(self, request: Request, db: Session, number: str, settings: Settings) -> Response:
        """The page of application ``number`` for the citizen who applied (anyone else is sent to sign in,
        refused, or finds no such application)."""
        with transaction(db):
            caller = resolve_caller(request, db)
            if not caller.actor.is_authenticated:
                return sign_in_first(request, CITIZEN)
            check_citizen(caller.actor)
            view = self.view(db, caller.actor, number, settings.services)
        return self.render(request, caller, view, None, 200)

    def form(
        self, request: Request, db: Session, number: str, settings: Settings, csrf_token: str
    ) -> SentForm[View]:
        """A form sent from the page of application ``number`` by the signed-in citizen."""
        caller = signed_in_citizen(request, db, csrf_token)
        return SentForm(self, request, db, caller, number, settings)


@dataclass(frozen=True)
class SentForm(Generic[View]):
    """A form sent from an applicant's page, and how it ends."""

    page: ApplicantPage[View]
    request: Request
    db: Session
    caller: Caller
    number: str
    settings: Settings

    @property
    def actor(self) -> Actor:
        return self.caller.actor

    def show(self, problem: ProblemView, status_code: int) -> Response:
        """The page again, with ``problem``."""
        with transaction(self.db):
            view = self.page.view(self.db, self.actor, self.number, self.settings.services)
        return self.page.render(self.request, self.caller, view, problem, status_code)

    def show_problem(self, problem: Problem) -> Response:
        """The page again, with ``problem`` in its words and its status."""
        with transaction(self.db):
            view = self.page.view(self.db, self.actor, self.number, self.settings.services)
        return self.page.render(
            self.request, self.caller, view, self.page.problem(problem, view), problem.status
        )

    def post(self, action: Callable[[], object], *, then: str) -> Response:
        """Run ``action`` in its own transaction, then redirect to ``then``; a problem the page shows is
        shown on it."""
        try:
            with transaction(self.db):
                action()
        except self.page.shown as problem:
            return self.show_problem(problem)
        return redirect(then)

    def upload(
        self, file: UploadFile | None, store: Callable[[str, bytes], object], *, then: str
    ) -> Response:
        """``store`` the file sent (its name and content) like ``post``: no file chosen is a 422 on the page,
        and so is one larger than ``services.upload_max_bytes`` (read one byte past the limit, no more)."""
        if file is None or not file.filename:
            return self.show(message(NO_FILE), 422)
        filename = file.filename
        limit = self.settings.services.upload_max_bytes
        content = file.file.read(limit + 1)
        if len(content) > limit:
            return self.post(
                lambda: _refuse(InvalidUpload.field("file", f"the file is larger than {limit} bytes")),
                then="",
            )
        return self.post(lambda: store(filename, content), then=then)


def _refuse(problem: Problem) -> None:
    raise problem
