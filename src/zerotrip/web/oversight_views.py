"""The platform operator's oversight: share requests past their deadline, and how much shared data is read.

Sharing volume is counted from the audit log's ``datahub.record.read`` events (one per subject read), the
same record the citizen's data-use log is built from, over the last 30 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zerotrip.audit import queries as audit_queries
from zerotrip.common import clock
from zerotrip.datahub import sharing_queries
from zerotrip.datahub.gateway import READ
from zerotrip.datahub.permissions import can_oversee
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed
from zerotrip.web.datahub_views import OrgNames
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import china_date, china_time
from zerotrip.web.sharing_views import catalogue_by_id

DAYS = 30
TOP = 10
OVERDUE_SHOWN = 100
OPERATOR_ONLY = N_("Sharing oversight is for the platform operator.")


@dataclass(frozen=True)
class OverdueRow:
    number: str
    resource_title: str
    resource_title_en: str | None
    owner_name: str
    owner_name_en: str | None
    consumer_org_name: str
    consumer_org_name_en: str | None
    purpose: str
    requested_at: str
    due_at: str
    days_late: int
    is_escalated: bool


@dataclass(frozen=True)
class Bar:
    label: str
    label_en: str | None
    note: str  # the resource code or the consumer's department
    count: int
    width: int  # percent of the longest bar, for the drawing; the count is the data


@dataclass(frozen=True)
class OversightView:
    overdue: tuple[OverdueRow, ...]
    overdue_total: int
    since: str
    total_reads: int
    by_resource: tuple[Bar, ...]
    by_consumer: tuple[Bar, ...]


def oversight(db: Session, actor: Actor) -> OversightView:
    """Raises NotAllowed for anyone but the platform operator."""
    if actor.kind != "staff" or not can_oversee(actor):
        raise NotAllowed(OPERATOR_ONLY)
    now = clock.now()
    late, total = sharing_queries.list_share_requests(
        db, actor=actor, is_overdue_only=True, per_page=OVERDUE_SHOWN
    )
    late = sorted(late, key=lambda r: r.due_at or now)
    catalogue = catalogue_by_id(db)
    orgs = OrgNames(db)
    overdue = tuple(
        OverdueRow(
            number=r.number,
            resource_title=catalogue[r.resource_id].title,
            resource_title_en=catalogue[r.resource_id].title_en,
            owner_name=orgs(catalogue[r.resource_id].owner_org_id)[0],
            owner_name_en=orgs(catalogue[r.resource_id].owner_org_id)[1],
            consumer_org_name=orgs(r.consumer_org_id)[0],
            consumer_org_name_en=orgs(r.consumer_org_id)[1],
            purpose=r.purpose,
            requested_at=china_time(r.requested_at),
            due_at=china_time(r.due_at),
            days_late=(now - r.due_at).days if r.due_at else 0,
            is_escalated=r.is_escalated,
        )
        for r in late
    )
    since = now - timedelta(days=DAYS)
    by_code = {entry.code: entry for entry in catalogue.values()}
    by_resource = []
    for read in _reads(db, since, "resource"):
        entry = by_code.get(read.value)
        by_resource.append(
            (entry.title if entry else read.value, entry.title_en if entry else None, read.value, read.count)
        )
    by_consumer = []
    for read in _reads(db, since, "consumer"):
        org = orgs(read.consumer_org_id)[0] if read.consumer_org_id is not None else ""
        by_consumer.append((read.consumer_name or read.value, None, org or read.value, read.count))
    return OversightView(
        overdue=overdue,
        overdue_total=total,
        since=china_date(since),
        total_reads=_total_reads(db, since),
        by_resource=_bars(by_resource),
        by_consumer=_bars(by_consumer),
    )


@dataclass(frozen=True)
class ReadCount:
    value: str  # the resource code or the consumer's client id
    count: int
    consumer_name: str | None
    consumer_org_id: int | None


def _reads(db: Session, since: datetime, key: str) -> list[ReadCount]:
    """Read events since ``since`` counted by one value of their data (the resource or the consumer), the
    most first, each with the consumer's name and department as the newest such event recorded them."""
    found = []
    for row in audit_queries.count_events_by(db, action=READ, key=key, since=since, limit=TOP):
        org_id = row.newest_data.get("consumer_org_id")
        name = row.newest_data.get("consumer_name")
        found.append(
            ReadCount(
                value=row.value,
                count=row.count,
                consumer_name=str(name) if name else None,
                consumer_org_id=org_id if isinstance(org_id, int) else None,
            )
        )
    return found


def _total_reads(db: Session, since: datetime) -> int:
    return audit_queries.count_events(db, action=READ, since=since)


def _bars(items: Sequence[tuple[str, str | None, str, int]]) -> tuple[Bar, ...]:
    longest = max((count for *_, count in items), default=0)
    return tuple(
        Bar(
            label=label,
            label_en=label_en,
            note=note,
            count=count,
            width=max(1, round(100 * count / longest)) if longest else 0,
        )
        for label, label_en, note, count in items
    )
