"""The per-worker broadcaster of staff notices and the event streams it feeds (server-sent events).

One ``NoticeHub`` per application (so per worker process) holds the open streams. Its polling task runs
only while at least one stream is open: every ``poll_seconds`` one database read in a worker thread
(``live.published_since``), then an in-memory fan-out to the streams the notice reaches. Several worker
processes each poll on their own; a stream is served by the worker that accepted it.

A stream starts with ``retry`` and a ``ready`` event carrying the current cursor, replays what its reader
missed since its cursor (``Last-Event-ID`` or ``?since=``), then sends each new notice addressed to them and
a heartbeat (an ``id:`` line and a comment) every ``heartbeat_seconds``. It ends after ``max_seconds`` (give
or take a tenth, so a worker's streams do not all reconnect at once), which makes the browser reconnect
with its ``Last-Event-ID`` and the server check the session again; or when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

import anyio.to_thread
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.db import transaction
from zerotrip.identity.actor import Actor
from zerotrip.messaging.live import LAG, LiveNotice, addressed_since, cursor_of, published_since, sse_event
from zerotrip.messaging.notices_targeting import Position, positions_of

log = logging.getLogger("zerotrip.messaging.live")
# A stream whose client reads slower than notices arrive keeps at most this many waiting, then is closed
# (its browser reconnects and replays from its cursor).
QUEUE_LIMIT = 256
_CLOSE = b""


@dataclass(eq=False)
class Subscriber:
    """One open stream: the reader's positions (loaded once) and the events waiting to be sent."""

    account_id: object
    positions: list[Position]
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    sent: set[int] = field(default_factory=set)
    # A stream opened without a cursor starts at its ``ready`` instant: the hub's polls look back LAG for
    # late commits, and what they find from before the stream opened is not news to this reader.
    floor: datetime | None = None

    def offer(self, notice: LiveNotice, event: bytes) -> bool:
        """Queue the notice unless this stream has it or it predates the stream; True when queued."""
        if notice.id in self.sent or (self.floor is not None and notice.published_at < self.floor):
            return False
        self.sent.add(notice.id)
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self._close_now()
            return False
        return True

    def _close_now(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(_CLOSE)


class NoticeHub:
    """The worker's broadcaster; made with the application, started by the first stream that opens."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        poll_seconds: float,
        heartbeat_seconds: float,
        max_seconds: float,
    ) -> None:
        self.session_factory = session_factory
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.max_seconds = max_seconds
        self.subscribers: set[Subscriber] = set()
        self.polls = 0  # database reads made, for tests and the benchmark
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._high: datetime | None = None  # the newest publishing instant seen
        self._seen: dict[int, datetime] = {}  # notices handed out within LAG of the newest

    # -- streams ------------------------------------------------------------------------------------------

    def add_subscriber(self, actor: Actor) -> Subscriber:
        """Register a reader's stream (the polling task is started by ``subscribe``)."""
        subscriber = Subscriber(account_id=actor.account_id, positions=positions_of(actor))
        self.subscribers.add(subscriber)
        return subscriber

    def subscribe(self, actor: Actor) -> Subscriber:
        subscriber = self.add_subscriber(actor)
        self._ensure_running()
        assert self._wake is not None
        self._wake.set()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def stream(self, actor: Actor, since: datetime | None) -> AsyncIterator[bytes]:
        """The event stream of one reader; ``since`` is where their previous stream stopped."""
        subscriber = self.subscribe(actor)
        try:
            now = clock.now()
            if since is None:
                subscriber.floor = now  # set before the first await: no fan-out comes in between
            yield f"retry: {random.randint(2000, 4000)}\n\n".encode()  # noqa: S311 - spreading reconnections
            yield sse_event("ready", {"cursor": cursor_of(now)}, event_id=cursor_of(now))
            if since is not None:
                replay = await anyio.to_thread.run_sync(self._replay, actor, since)
                for notice in replay:
                    if notice.id not in subscriber.sent:
                        subscriber.sent.add(notice.id)
                        yield notice.event()
            loop = asyncio.get_running_loop()
            ends_at = loop.time() + self.max_seconds * random.uniform(0.9, 1.1)  # noqa: S311
            while True:
                left = ends_at - loop.time()
                if left <= 0:
                    return
                try:
                    event = await asyncio.wait_for(
                        subscriber.queue.get(), timeout=min(self.heartbeat_seconds, left)
                    )
                except TimeoutError:
                    yield f"id: {cursor_of(clock.now())}\n: keep-alive\n\n".encode()
                    continue
                if event == _CLOSE:
                    return
                yield event
        finally:
            self.unsubscribe(subscriber)

    def _replay(self, actor: Actor, since: datetime) -> list[LiveNotice]:
        with self.session_factory() as db, transaction(db):
            return addressed_since(db, actor=actor, since=since - LAG)

    # -- the polling task ----------------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        # A new event loop (a test's second client) gets a task of its own.
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run(), name="zerotrip notice hub")

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self.subscribers:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                fresh = await anyio.to_thread.run_sync(self._poll)
                self.fan_out(fresh)
            except Exception:
                # The database may be away for a moment; the streams stay open and the next poll retries.
                log.exception("polling for new notices failed")
            await asyncio.sleep(self.poll_seconds)

    def _poll(self) -> list[LiveNotice]:
        if self._high is None:
            self._high = clock.now()
        with self.session_factory() as db, transaction(db):
            found = published_since(db, self._high - LAG)
        self.polls += 1
        return found

    def fan_out(self, notices: list[LiveNotice]) -> int:
        """Hand the notices not handed out before to the streams they reach; returns the deliveries."""
        delivered = 0
        for notice in notices:
            if notice.id in self._seen:
                continue
            self._seen[notice.id] = notice.published_at
            if self._high is None or notice.published_at > self._high:
                self._high = notice.published_at
            event = notice.event()
            for subscriber in list(self.subscribers):
                if notice.reaches(subscriber.positions) and subscriber.offer(notice, event):
                    delivered += 1
        if self._high is not None:
            horizon = self._high - LAG
            for notice_id in [n for n, at in self._seen.items() if at <= horizon]:
                del self._seen[notice_id]
        return delivered

    async def close(self) -> None:
        """End every stream and the polling task (the application is shutting down)."""
        for subscriber in list(self.subscribers):
            subscriber._close_now()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._task
        self._task = None
