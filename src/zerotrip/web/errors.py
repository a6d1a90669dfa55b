"""The one problem handler: problem+json for the API and programs, an error page for people."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from zerotrip.problems import (
    BadRequest,
    FieldError,
    InternalError,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    Problem,
    ValidationFailed,
)

log = logging.getLogger("zerotrip.errors")
PROBLEM_JSON = "application/problem+json"


def wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for error in exc.errors():
        loc: tuple[Any, ...] = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        if loc and loc[0] == "body":
            pointer = "#/" + "/".join(str(part) for part in loc[1:])
            errors.append({"detail": message, "pointer": pointer})
        elif loc:
            errors.append({"detail": message, "parameter": str(loc[-1])})
        else:
            errors.append({"detail": message})
    return errors


def problem_response(request: Request, problem: Problem) -> Response:
    if wants_html(request):
        renderer = getattr(request.app.state, "render_problem", None)
        if renderer is not None:
            response: Response = renderer(request, problem)
            response.headers.update(problem.headers())
            return response
    headers = problem.headers()
    if problem.status == 401 and request.url.path.startswith("/api/"):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        problem.to_dict(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


_HTTP_PROBLEMS: dict[int, type[Problem]] = {
    400: BadRequest,
    401: NotAuthenticated,
    403: NotAllowed,
    404: NotFound,
}


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        names = ", ".join(e.get("pointer", e.get("parameter", "")).removeprefix("#/") for e in errors)
        return problem_response(request, ValidationFailed(f"check these fields: {names}", errors=errors))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        cls = _HTTP_PROBLEMS.get(exc.status_code)
        if cls is None:
            generic = Problem(str(exc.detail))
            generic.status = exc.status_code  # type: ignore[misc]
            return problem_response(request, generic)
        return problem_response(request, cls())

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        correlation_id = uuid.uuid4().hex
        log.exception("unexpected error %s on %s %s", correlation_id, request.method, request.url.path)
        return problem_response(
            request,
            InternalError(
                f"quote this reference when you report it: {correlation_id}", correlation_id=correlation_id
            ),
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
