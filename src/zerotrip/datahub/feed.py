"""Return to lower levels (回流): a change feed per resource, cut to a region's division-code subtree, that a
city or county platform (or another zerotrip instance) reads to keep its copy of the data.

Records are system-versioned (ADR 0001, ``records.py``): every change stamps the record with a new
``change_seq``, and a deletion leaves a tombstone. The feed is a resource's records in ``change_seq`` order,
so a record's ``change_seq`` is its cursor. A consumer reads a page, stores ``next_cursor``, and later asks
for what came after it: each record that changed since arrives once, in its latest state (a record changed
twice between two reads arrives once, with its newest version), and nothing is lost, as long as change
numbers become visible in order. The intermediate states are in the record's history, not in the feed: a
lower level keeps a copy of the present, not of the past.

Ordering, the lock and the lag: the trade-off. Change numbers come from a sequence (PostgreSQL) when the
row is written but become visible when its transaction commits, so a transaction that took number 100 and
commits after another that took 101 would let a reader pass 101 and never see 100. SQLite has one writer
at a time, so its numbers always commit in order. On PostgreSQL every writer of a resource's records holds
a lock on the resource's row until it commits (loads take it first; ``upsert_record`` and
``delete_record`` update the row's ``data_updated_at``), so writers of one resource commit one after
another. Two guards cover what is left:

- The reader takes a share lock on the resource row, skipping it if a writer holds it: while a load (or
  any write) of the resource is in flight, the page comes back empty with the cursor unchanged, because
  changes committed meanwhile could overtake the ones the load has written but not yet committed. The
  feed pauses for the length of a load and never waits for one; a load starting holds on only until the
  page read in progress has ended.
- Changes younger than a small lag (``ZEROTRIP_DATAHUB__FEED_LAG_SECONDS``, 2 s by default) are left for
  the next read: a page ends before the first of them. This covers the instant between a single upsert
  writing its record and taking the resource lock in the same flush. The price is that changes reach the
  lower level that much later.

The guarantee rests on writers taking the resource lock: a writer that changed records directly, without
touching the resource row, and stayed open longer than the lag, could still be overtaken. The
alternatives (tracking transaction ids, or readers that wait for writers) cost more and tie the feed to
one engine.

Who may read. An API client holding a live grant (``datahub_grant``: not revoked, not expired) for the
resource receives the fields its grants name, masked by grade unless a grant allows clear values, for a
region inside its organisation's division. Every page read is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.datahub import grades
from zerotrip.datahub.errors import NoGrant, RegionNotCovered
from zerotrip.datahub.gateway import AUDITED_SUBJECTS
from zerotrip.datahub.gateway import READ as RECORD_READ  # the data-use log lists these reads
from zerotrip.datahub.models import Field, Grant, Record, Resource
from zerotrip.datahub.queries import get_resource, list_fields
from zerotrip.identity import permissions
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed

DEFAULT_LAG_SECONDS = 2.0
MAX_LIMIT = 5000


@dataclass(frozen=True)
class FeedItem:
    cursor: str
    operation: str  # upsert | delete
    record_key: str
    version: int
    data: dict[str, Any]
    changed_at: datetime


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str  # pass as ``after`` next time; equals the cursor given when nothing is new
    has_more: bool
    region: str | None


@dataclass(frozen=True)
class FeedAccess:
    """The fields one caller receives from a resource's feed, and which of them arrive masked."""

    fields: tuple[Field, ...]
    masked: frozenset[str]
    purposes: tuple[str, ...]

    def shape(self, data: dict[str, Any]) -> dict[str, Any]:
        shaped: dict[str, Any] = {}
        for f in self.fields:
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in self.masked:
                value = grades.mask(value, check_kind=f.check_kind, type_=f.type)
            shaped[f.name] = value
        return shaped


def parse_cursor(after: str | None) -> int:
    """Cursors are opaque to consumers; here they are change numbers (before ADR 0001, version ids, which
    the migration made the records' change numbers, so old cursors still resume). None or empty starts at
    the beginning."""
    if after is None or after == "":
        return 0
    if not after.isdigit() or len(after) > 19:
        raise ValidationFailed(
            "after: not a cursor this feed gave out",
            errors=[{"detail": "not a cursor", "parameter": "after"}],
        )
    return int(after)


def feed_access(db: Session, *, actor: Actor, resource: Resource) -> FeedAccess:
    """The grant check: the union of the caller's live grants on the resource. The platform itself
    (``system``) receives every shareable field in clear. Raises NoGrant."""
    catalogue = [
        f
        for f in list_fields(db, resource.id)
        if grades.effective_share_type(resource.share_type, f.grade) != "none"
    ]
    if actor.kind == "system":
        return FeedAccess(tuple(catalogue), frozenset(), ("platform",))
    if actor.kind != "client" or actor.client_id is None:
        raise NoGrant("return feeds are read by department systems holding a grant for the resource")
    now = clock.now()
    grants = db.scalars(
        select(Grant).where(
            Grant.consumer_client_id == actor.client_id,
            Grant.resource_id == resource.id,
            Grant.revoked_at.is_(None),
            Grant.expires_at > now,
        )
    ).all()
    if not grants:
        raise NoGrant(f"no live grant covers the resource {resource.code!r}", resource=resource.code)
    granted = {name for g in grants for name in g.fields}
    clear = {name for g in grants if g.is_clear for name in g.fields}
    fields = tuple(f for f in catalogue if f.name in granted)
    masked = frozenset(f.name for f in fields if grades.is_masked(f.grade, grant_is_clear=f.name in clear))
    return FeedAccess(fields, masked, tuple(sorted({g.purpose for g in grants})))


def _region_for(db: Session, *, actor: Actor, region: str | None) -> str | None:
    """The region to cut the feed to: the one asked for, which must lie inside the caller's organisation's
    division, or that whole division. Raises ValidationFailed, RegionNotCovered."""
    if region is not None and (len(region) != 6 or not region.isdigit()):
        raise ValidationFailed(
            "region: a six-digit division code",
            errors=[{"detail": "not a division code", "parameter": "region"}],
        )
    if actor.kind == "system":
        return region
    assert actor.client_org_id is not None  # feed_access let only API clients through
    own = identity_queries.get_organisation(db, actor.client_org_id).division_code
    if region is None:
        return own
    if not permissions.division_covers(own, region):
        raise RegionNotCovered(f"{region} is not inside {own}", region=region, division=own)
    return region


def _no_write_in_flight(db: Session, resource: Resource) -> bool:
    """Share-lock the resource row unless a writer holds it (PostgreSQL: ``FOR SHARE SKIP LOCKED``; SQLite
    has one writer at a time and ignores the clause). Held until this read's transaction ends."""
    locked = db.scalar(
        select(Resource.id).where(Resource.id == resource.id).with_for_update(read=True, skip_locked=True)
    )
    return locked is not None


def read_feed(
    db: Session,
    *,
    actor: Actor,
    code: str,
    region: str | None = None,
    after: str | None = None,
    limit: int = 500,
    lag_seconds: float = DEFAULT_LAG_SECONDS,
) -> FeedPage:
    """The changes to a resource after ``after``, oldest first, in ``region``'s subtree. Raises
    ResourceNotFound, NoGrant, RegionNotCovered, ValidationFailed."""
    resource = get_resource(db, code)
    access = feed_access(db, actor=actor, resource=resource)
    region = _region_for(db, actor=actor, region=region)
    start = parse_cursor(after)
    limit = max(1, min(limit, MAX_LIMIT))
    if not _no_write_in_flight(db, resource):
        return FeedPage(items=[], next_cursor=str(start), has_more=False, region=region)
    horizon = clock.now() - timedelta(seconds=lag_seconds)
    query = select(Record).where(Record.resource_id == resource.id, Record.change_seq > start)
    if region is not None:
        query = query.where(Record.division_code.like(permissions.division_prefix(region) + "%"))
    rows = list(db.scalars(query.order_by(Record.change_seq).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    young = next((i for i, r in enumerate(rows) if r.updated_at > horizon), None)
    if young is not None:  # stop before the first change younger than the lag, and come back for it
        rows, has_more = rows[:young], False
    items = [
        FeedItem(
            cursor=str(r.change_seq),
            operation="delete" if r.is_deleted else "upsert",
            record_key=r.record_key,
            version=r.version,
            data={} if r.is_deleted else access.shape(r.data),
            changed_at=r.updated_at,
        )
        for r in rows
    ]
    next_cursor = items[-1].cursor if items else str(start)
    _audit_subjects(db, actor=actor, resource=resource, access=access, records=rows)
    record_event(
        db,
        actor=actor.principal,
        action="datahub.feed.read",
        subject_type="resource",
        subject_id=resource.code,
        data={
            "region": region,
            "after": str(start),
            "next_cursor": next_cursor,
            "changes": len(items),
            "fields": [f.name for f in access.fields],
            "purposes": list(access.purposes),
        },
    )
    return FeedPage(items=items, next_cursor=next_cursor, has_more=has_more, region=region)


def _audit_subjects(
    db: Session, *, actor: Actor, resource: Resource, access: FeedAccess, records: Sequence[Record]
) -> None:
    """One read event per person or enterprise whose data the page carried, as the gateway writes them,
    so the data subject's data-use log shows that a lower level received their data."""
    subject_type = AUDITED_SUBJECTS.get(resource.subject_kind)
    if subject_type is None or resource.subject_field is None or not access.fields:
        return  # statistics by region and other non-personal data
    subjects = dict.fromkeys(
        str(v.data[resource.subject_field])
        for v in records
        if not v.is_deleted and v.data.get(resource.subject_field)
    )
    for subject in subjects:
        record_event(
            db,
            actor=actor.principal,
            action=RECORD_READ,
            subject_type=subject_type,
            subject_id=subject,
            data={
                "consumer": actor.client_id,
                "consumer_name": actor.name,
                "consumer_org_id": actor.client_org_id,
                "resource": resource.code,
                "fields": [f.name for f in access.fields],
                "purpose": "; ".join(access.purposes),
                "on_behalf_of": None,
                "via": "return feed",
            },
        )
