"""Composition root: builds the FastAPI application from settings, one router per context plus the pages."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from zerotrip import __version__
from zerotrip.audit.tasks import seal_pending
from zerotrip.booking.api import router as booking_router
from zerotrip.booking.api_operator import router as booking_operator_router
from zerotrip.booking.tasks import Duties as BookingDuties
from zerotrip.certificates.api import router as certificates_router
from zerotrip.certificates.api import well_known as certificates_well_known
from zerotrip.certificates.api_wallet import router as certificates_wallet_router
from zerotrip.config import Settings
from zerotrip.datahub.api import router as datahub_router
from zerotrip.datahub.tasks import escalate_overdue
from zerotrip.db import make_engine, make_sessionmaker
from zerotrip.identity.api import router as identity_router
from zerotrip.keys import KeyStore
from zerotrip.messaging.api_live import router as messaging_live_router
from zerotrip.messaging.api_notices import router as messaging_notices_router
from zerotrip.messaging.api_notifications import router as messaging_notifications_router
from zerotrip.messaging.tasks import deliver_due
from zerotrip.messaging.tasks_notices import check_headcount, send_reminders
from zerotrip.services.api import router as services_router
from zerotrip.services.api_applications import router as services_applications_router
from zerotrip.services.api_bundles import router as services_bundles_router
from zerotrip.services.api_workflow import router as services_workflow_router
from zerotrip.services.tasks import escalate_overdue as escalate_overdue_applications
from zerotrip.web import install_web
from zerotrip.web.request_id import RequestIdMiddleware

log = logging.getLogger("zerotrip")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background duties of a running server: sealing the audit log, escalating late share requests,
    reminding staff of notices they have not read, (for the demo) sending citizen notifications, and
    booking's reminders the day before, no-shows and slots ahead."""
    settings: Settings = app.state.settings
    jobs: list[tuple[str, int, Callable[[], int]]] = [
        (
            "sealed audit events",
            settings.audit.checkpoint_interval_seconds,
            lambda: seal_pending(app.state.session_factory, keys=app.state.keys, settings=settings.audit),
        ),
        (
            "escalated overdue share requests",
            settings.datahub.escalation_interval_seconds,
            lambda: escalate_overdue(app.state.session_factory),
        ),
        (
            "escalated overdue applications",
            settings.services.escalation_interval_seconds,
            lambda: escalate_overdue_applications(app.state.session_factory),
        ),
        (
            "sent notifications",
            math.ceil(settings.messaging.poll_seconds) if settings.messaging.in_process_worker else 0,
            lambda: deliver_due(app.state.session_factory, settings),
        ),
        (
            "sent notice reminder rounds",
            settings.notices.reminder_interval_seconds,
            lambda: send_reminders(app.state.session_factory, settings=settings.notices),
        ),
        (
            "rebuilt the staff headcount",
            settings.notices.headcount_check_seconds,
            lambda: check_headcount(app.state.session_factory),
        ),
        (
            "booking duties (reminders, no-shows, slots ahead)",
            settings.booking.duty_interval_seconds,
            BookingDuties(app.state.session_factory, settings.booking).run,
        ),
    ]
    tasks = [asyncio.create_task(_every(interval, name, job)) for name, interval, job in jobs if interval > 0]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hub = getattr(app.state, "notice_hub", None)
        if hub is not None:
            await hub.close()


async def _every(interval: int, name: str, job: Callable[[], int]) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            done = await anyio.to_thread.run_sync(job)
            if done:
                log.info("%s: %d", name, done)
        except Exception:
            # A failing job (a database hiccup, a tampered audit row) must not stop the server; the
            # operator's commands (`zerotrip audit verify`, the oversight pages) report the cause.
            log.exception("background job failed: %s", name)


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

    app.add_middleware(RequestIdMiddleware)
    # Routes are matched in the order included, each router's in turn: booking's come first, so a booking
    # rush's requests are not first compared with a hundred other routes (no other path starts with
    # /api/booking, so the order changes nothing else).
    app.include_router(booking_router)
    app.include_router(booking_operator_router)
    app.include_router(identity_router)
    app.include_router(datahub_router)
    app.include_router(certificates_wallet_router)
    app.include_router(certificates_router)
    app.include_router(certificates_well_known)
    app.include_router(services_router)
    # Before the applicant's routes, so /applications/queue is not read as an application number.
    app.include_router(services_workflow_router)
    app.include_router(services_applications_router)
    # Before the notices router, whose /notices/{notice_id} would take /notices/stream.
    app.include_router(messaging_live_router)
    app.include_router(messaging_notices_router)
    app.include_router(services_bundles_router)
    app.include_router(messaging_notifications_router)
    install_web(app, settings)
    return app


# The young generation's collection threshold in a server worker (CPython's default is 700).
WORKER_GC_THRESHOLD = 20_000


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory``: every worker process builds its app from the environment."""
    app = create_app(Settings())
    settle_heap()
    return app


def settle_heap() -> None:
    """Tune the cyclic garbage collector for a long-running server worker, once the app is built.

    Everything imported and built at start-up (some 280,000 objects: modules, the ORM's mappings, the
    routes' schemas) lives as long as the process, yet every full collection walked it again: under 20
    applicants applying at once a worker ran a full collection every few seconds, each taking about 200 ms
    of CPU while every request in flight in that process waited for it.
    ``gc.freeze`` moves those objects out of the collector's sight, so a full collection walks only what
    was made since. Requests allocate many container objects that die by reference counting when the
    request ends; a larger young threshold keeps the collector from running (and from promoting objects
    of requests still in flight) every 700 net allocations. Cycles are still collected, only less often.
    """
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, WORKER_GC_THRESHOLD), middle, old)
