"""Composition root: builds the FastAPI application from settings, one router per context plus the pages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from zerotrip import __version__
from zerotrip.audit.tasks import seal_pending
from zerotrip.common.context import request_id
from zerotrip.config import Settings
from zerotrip.datahub.api import router as datahub_router
from zerotrip.db import make_engine, make_sessionmaker
from zerotrip.identity.api import router as identity_router
from zerotrip.keys import KeyStore
from zerotrip.web import install_web

log = logging.getLogger("zerotrip")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background duties of a running server: periodic sealing of the audit log."""
    settings: Settings = app.state.settings
    interval = settings.audit.checkpoint_interval_seconds
    task = asyncio.create_task(_seal_periodically(app, interval)) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _seal_periodically(app: FastAPI, interval: int) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            sealed = await anyio.to_thread.run_sync(
                lambda: seal_pending(
                    app.state.session_factory, keys=app.state.keys, settings=app.state.settings.audit
                )
            )
            if sealed:
                log.info("sealed %d audit events", sealed)
        except Exception:
            # Tampering or a database hiccup must not stop the server; `zerotrip audit verify` reports it.
            log.exception("sealing the audit log failed")


def create_app(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    keys: KeyStore | None = None,
) -> FastAPI:
    """The whole platform as one ASGI app. Nothing connects to the database until a request arrives."""
    app = FastAPI(
        lifespan=_lifespan,
        title="zerotrip",
        version=__version__,
        summary="Once-only digital government: the departments' data travels so citizens don't.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    if session_factory is None:
        engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
        session_factory = make_sessionmaker(engine)
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.keys = keys or KeyStore(
        settings.secrets_dir, settings.key_passphrase.get_secret_value() if settings.key_passphrase else None
    )

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        token = request_id.set(rid[:64])
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        response.headers["X-Request-ID"] = rid[:64]
        return response

    app.include_router(identity_router)
    app.include_router(datahub_router)
    install_web(app, settings)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory``: every worker process builds its app from the environment."""
    return create_app(Settings())
