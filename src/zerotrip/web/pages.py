"""Installs the pages: static files, the page routers, and the HTML rendering of problems."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from zerotrip.config import Settings
from zerotrip.problems import Problem
from zerotrip.web import (
    auth_pages,
    booking_my_pages,
    booking_pages,
    booking_site_pages,
    certificates_pages,
    certificates_use_pages,
    certificates_wallet_pages,
    datahub_pages,
    home_pages,
    messaging_pages,
    my_data_pages,
    notifications_pages,
    open_pages,
    services_apply_pages,
    services_bundle_pages,
    services_pages,
    services_review_pages,
    services_supplement_pages,
    sharing_pages,
)
from zerotrip.web.i18n import N_, Catalogs
from zerotrip.web.render import STATIC_DIR, Renderer, current_path

# Details Starlette gives the generic problem for HTTP errors without a problem class of their own.
HTTP_DETAILS = (N_("Method Not Allowed"),)


@dataclass(frozen=True)
class ErrorView:
    status: int
    title: str  # the problem's English title, translated by the template
    detail: str | None  # translated by the template when it is a known message
    correlation_id: str | None
    sign_in_url: str | None


def error_view(request: Request, problem: Problem) -> ErrorView:
    sign_in_url = None
    if problem.status == 401:
        login = auth_pages.STAFF if request.url.path.startswith("/staff") else auth_pages.CITIZEN
        sign_in_url = login.login_path
        if request.method == "GET":
            sign_in_url += "?" + urlencode({"next": current_path(request)})
    detail = problem.detail if problem.detail and problem.detail != problem.title else None
    correlation_id = problem.extensions.get("correlation_id")
    return ErrorView(
        status=problem.status,
        title=problem.title,
        # An unexpected error's detail only repeats the reference, which the page shows on its own line.
        detail=None if correlation_id else detail,
        correlation_id=str(correlation_id) if correlation_id else None,
        sign_in_url=sign_in_url,
    )


def install_pages(app: FastAPI, settings: Settings) -> None:
    renderer = Renderer(Catalogs(settings.web.default_locale))
    app.state.renderer = renderer

    def render_problem(request: Request, problem: Problem) -> HTMLResponse:
        # The error page does not look up the session (the database may be what failed), so its header
        # shows the signed-out navigation.
        return renderer.render(
            request,
            "error.html",
            caller=None,
            status_code=problem.status,
            problem=error_view(request, problem),
        )

    app.state.render_problem = render_problem
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth_pages.router)
    app.include_router(home_pages.router)
    app.include_router(datahub_pages.router)
    app.include_router(sharing_pages.router)
    app.include_router(my_data_pages.router)
    app.include_router(notifications_pages.router)
    app.include_router(open_pages.router)
    app.include_router(certificates_pages.router)
    app.include_router(certificates_wallet_pages.router)
    app.include_router(certificates_use_pages.router)
    app.include_router(services_pages.router)
    app.include_router(services_apply_pages.router)
    app.include_router(services_supplement_pages.router)
    app.include_router(services_review_pages.router)
    app.include_router(messaging_pages.router)
    app.include_router(booking_pages.router)
    app.include_router(booking_my_pages.router)
    app.include_router(booking_site_pages.router)
    app.include_router(services_bundle_pages.router)
