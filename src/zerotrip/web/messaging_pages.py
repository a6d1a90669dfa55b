"""Staff notices pages (工作通知): the inbox with live arrival, a notice (read, acknowledge, report back),
composing and publishing, approvals, the roll-up, and the staff directory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from zerotrip.messaging.api_live import event_stream, stream_caller

router = APIRouter(include_in_schema=False)


@router.get("/staff/notices/stream")
async def stream(
    request: Request,
    since: Annotated[str | None, Query(max_length=40)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> StreamingResponse:
    """The open inbox's live arrivals (the API's stream, for the page's session)."""
    caller = await run_in_threadpool(stream_caller, request)
    return event_stream(request, caller.actor, last_event_id or since)
