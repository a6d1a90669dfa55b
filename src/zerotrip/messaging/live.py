"""Live arrival of staff notices: what a worker's broadcaster reads, and whom a notice goes to.

A worker process keeps one broadcaster (``live_hub.NoticeHub``) for all its open event streams. Every
``notices.live_poll_seconds`` it asks the database once for the notices published since its watermark
(``published_since``: one indexed range read on ``(status, published_at)``, whatever the number of open
streams) and hands each new notice to the streams whose staff member it reaches, matching the notice's
targets against the positions each stream loaded once when it opened (``notices_targeting``, the same
rules the inbox runs in SQL).

``published_at`` is stamped before the publishing transaction commits, so a notice can become visible a
moment after a later one: the watermark trails by ``LAG`` and the broadcaster remembers what it has
already handed out in that window. A stream that (re)opens with a cursor gets the notices addressed to its
reader published since the cursor less ``LAG`` (``addressed_since``), so nothing published while it was
away is lost; a reader may therefore see a notice twice across a reconnection, never zero times (the
notice's ``id`` tells them apart).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from zerotrip.identity.actor import Actor
from zerotrip.messaging.models_notices import Notice, NoticeTarget
from zerotrip.messaging.notices_inbox import VISIBLE_TO_RECIPIENTS, addressed_to
from zerotrip.messaging.notices_targeting import Position, Target, positions_of, reached_positions

# How far behind the newest notice seen the broadcaster keeps looking: longer than a publishing
# transaction takes from stamping ``published_at`` to its commit, and than the clocks of two workers differ.
LAG = timedelta(seconds=30)
# Most notices one poll or one replay hands out; the rest follow on the next poll.
BATCH = 200


@dataclass(frozen=True)
class LiveNotice:
    """A published notice as a stream announces it, with its targets for matching."""

    id: int
    title: str
    priority: str
    status: str
    publisher_org_name: str
    published_at: datetime
    requires_ack: bool
    has_form: bool
    targets: tuple[Target, ...]

    @property
    def cursor(self) -> str:
        return cursor_of(self.published_at, self.id)

    def reaches(self, positions: list[Position]) -> bool:
        return bool(reached_positions(self.targets, positions))

    def event(self) -> bytes:
        """The server-sent event announcing the notice (the same bytes for every stream it goes to)."""
        data = {
            "id": self.id,
            "title": self.title,
            "priority": self.priority,
            "status": self.status,
            "publisher_org_name": self.publisher_org_name,
            "published_at": self.published_at.isoformat(),
            "requires_ack": self.requires_ack,
            "has_form": self.has_form,
            "url": f"/staff/notices/{self.id}",
        }
        return sse_event("notice", data, event_id=self.cursor)


def cursor_of(at: datetime, notice_id: int = 0) -> str:
    """An event id: the publishing instant in microseconds since the epoch and the notice's number."""
    return f"{int(at.timestamp() * 1_000_000)}-{notice_id}"


def parse_cursor(value: str | None) -> datetime | None:
    """The instant of a cursor (``Last-Event-ID`` or ``since``); None for anything else."""
    if not value:
        return None
    micros, _, _ = value.strip().partition("-")
    if not (micros.isascii() and micros.isdigit()) or len(micros) > 17:
        return None
    return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)


def sse_event(event: str, data: object, *, event_id: str | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


def published_since(db: Session, since: datetime, *, limit: int = BATCH) -> list[LiveNotice]:
    """Notices published (or published and already withdrawn) after ``since``, oldest first, with their
    targets: two indexed reads, whoever is listening."""
    rows = db.execute(
        select(
            Notice.id,
            Notice.title,
            Notice.priority,
            Notice.status,
            Notice.publisher_org_name,
            Notice.published_at,
            Notice.requires_ack,
            Notice.form,
        )
        .where(Notice.status.in_(VISIBLE_TO_RECIPIENTS), Notice.published_at > since)
        .order_by(Notice.published_at, Notice.id)
        .limit(limit)
    ).all()
    return _with_targets(db, rows)


def addressed_since(db: Session, *, actor: Actor, since: datetime, limit: int = BATCH) -> list[LiveNotice]:
    """The notices addressed to the actor published after ``since``, oldest first (a stream's replay)."""
    positions = positions_of(actor)
    if not positions:
        return []
    rows = db.execute(
        select(
            Notice.id,
            Notice.title,
            Notice.priority,
            Notice.status,
            Notice.publisher_org_name,
            Notice.published_at,
            Notice.requires_ack,
            Notice.form,
        )
        .where(
            Notice.status.in_(VISIBLE_TO_RECIPIENTS),
            Notice.published_at > since,
            Notice.id.in_(select(NoticeTarget.notice_id).where(addressed_to(positions))),
        )
        .order_by(Notice.published_at, Notice.id)
        .limit(limit)
    ).all()
    return _with_targets(db, rows)


def _with_targets(db: Session, rows: Sequence[Row[Any]]) -> list[LiveNotice]:
    if not rows:
        return []
    targets: dict[int, list[Target]] = {}
    for notice_id, path, prefix, mask in db.execute(
        select(
            NoticeTarget.notice_id,
            NoticeTarget.scope_path,
            NoticeTarget.division_prefix,
            NoticeTarget.role_mask,
        )
        .where(NoticeTarget.notice_id.in_([r.id for r in rows]))
        .order_by(NoticeTarget.id)
    ):
        targets.setdefault(notice_id, []).append(Target(path, prefix, mask))
    return [
        LiveNotice(
            id=r.id,
            title=r.title,
            priority=r.priority,
            status=r.status,
            publisher_org_name=r.publisher_org_name,
            published_at=r.published_at,
            requires_ack=r.requires_ack,
            has_form=bool(r.form),
            targets=tuple(targets.get(r.id, ())),
        )
        for r in rows
    ]
