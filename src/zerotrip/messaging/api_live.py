"""Live arrival of staff notices as server-sent events: ``GET /api/messaging/notices/stream`` for a bearer
client or a signed-in page (the pages use ``/staff/notices/stream``, the same stream).

Events: ``ready`` (the stream is open; its cursor), ``notice`` (a notice addressed to the caller was
published: number, title, priority, status, publishing unit, when, whether it asks for an acknowledgement
or a report-back, its page), and keep-alive comments. Each event's ``id`` is a cursor: reconnect with
``Last-Event-ID`` (browsers do it by themselves) or ``?since=`` to get what was published meanwhile.
Delivery is at least once: after a reconnection a notice may come again, with the same ``id`` in its data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, resolve_caller
from zerotrip.identity.actor import Actor
from zerotrip.messaging.errors_notices import StaffOnly
from zerotrip.messaging.live import parse_cursor
from zerotrip.messaging.live_hub import NoticeHub
from zerotrip.problems import NotAuthenticated
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/messaging", tags=["messaging: staff notices"])
Since = Annotated[
    str | None,
    Query(
        max_length=40, description="A cursor (an event's id) to resume from when no Last-Event-ID is sent."
    ),
]
LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=40, include_in_schema=False)]


def notice_hub(app: FastAPI) -> NoticeHub:
    """The worker's broadcaster, made on first use (one per application, so one per worker process)."""
    hub: NoticeHub | None = getattr(app.state, "notice_hub", None)
    if hub is None:
        settings: Settings = app.state.settings
        hub = NoticeHub(
            app.state.session_factory,
            poll_seconds=settings.notices.live_poll_seconds,
            heartbeat_seconds=settings.notices.live_heartbeat_seconds,
            max_seconds=settings.notices.live_stream_max_seconds,
        )
        app.state.notice_hub = hub
    return hub


def stream_caller(request: Request) -> Caller:
    """Who opens the stream, resolved in a session of its own that is closed before streaming starts (a
    stream must not hold a database connection for its lifetime)."""
    with request.app.state.session_factory() as db, transaction(db):
        return resolve_caller(request, db)


def event_stream(request: Request, actor: Actor, cursor: str | None) -> StreamingResponse:
    """The response streaming the actor's notices; raises NotAuthenticated, StaffOnly."""
    if not actor.is_authenticated:
        raise NotAuthenticated()
    if actor.kind != "staff":
        raise StaffOnly()
    hub = notice_hub(request.app)
    return StreamingResponse(
        hub.stream(actor, parse_cursor(cursor)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/notices/stream",
    summary="New notices addressed to me, as they are published (server-sent events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 401: {}, 403: {}},
)
async def stream(
    request: Request, since: Since = None, last_event_id: LastEventId = None
) -> StreamingResponse:
    caller = await run_in_threadpool(stream_caller, request)
    return event_stream(request, caller.actor, last_event_id or since)
