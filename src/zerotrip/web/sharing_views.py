"""View-models of the steward's share requests and objections, with their decision forms' actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.config import DatahubSettings
from zerotrip.datahub import objections, queries, sharing, sharing_queries
from zerotrip.datahub.schemas_sharing import ObjectionRead
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed
from zerotrip.web import datahub_text as words
from zerotrip.web.datahub_views import OrgNames
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import STAFF_ONLY, Pager, china_time, pager

PER_PAGE = 20
REQUEST_FILTERS = (
    ("pending", N_("Waiting for a decision")),
    ("approved", N_("Approved")),
    ("refused", N_("Refused")),
    ("all", N_("All")),
)
OBJECTION_FILTERS = (
    ("open", N_("Being verified")),
    ("corrected", N_("Corrected")),
    ("rejected", N_("Not corrected")),
    ("all", N_("All")),
)
CATALOGUE_LIMIT = 2000


@dataclass(frozen=True)
class FilterLink:
    url: str
    label: str
    is_current: bool


@dataclass(frozen=True)
class RequestCard:
    number: str
    resource_code: str
    resource_title: str
    resource_title_en: str | None
    consumer_org_name: str
    consumer_org_name_en: str | None
    consumer_client_id: str
    fields: tuple[str, ...]  # titles
    purpose: str
    legal_basis: str
    is_clear_requested: bool
    status: str
    status_label: str
    is_pending: bool
    requested_at: str
    due_at: str
    decided_at: str
    reason: str | None
    is_overdue: bool
    is_escalated: bool


@dataclass(frozen=True)
class RequestsView:
    filters: tuple[FilterLink, ...]
    cards: tuple[RequestCard, ...]
    pager: Pager


@dataclass(frozen=True)
class KeyValue:
    title: str
    value: str


@dataclass(frozen=True)
class ObjectionCard:
    number: str
    resource_code: str
    resource_title: str
    record: tuple[KeyValue, ...]
    field_title: str
    claim: str
    proposed_value: str | None
    evidence: str | None
    status: str
    status_label: str
    is_open: bool
    raised_at: str
    due_at: str
    is_overdue: bool
    answer: str | None
    answered_at: str
    corrected_version: int | None


@dataclass(frozen=True)
class ObjectionsView:
    filters: tuple[FilterLink, ...]
    cards: tuple[ObjectionCard, ...]
    pager: Pager


def _filters(path: str, options: tuple[tuple[str, str], ...], current: str) -> tuple[FilterLink, ...]:
    return tuple(FilterLink(f"{path}?status={key}", label, key == current) for key, label in options)


def share_requests(db: Session, actor: Actor, *, status: str, page: int) -> RequestsView:
    """Requests for the resources the steward looks after, the newest first. Raises NotAllowed."""
    if actor.kind != "staff":
        raise NotAllowed(STAFF_ONLY)
    status = status if status in {key for key, _ in REQUEST_FILTERS} else "pending"
    rows, total = sharing_queries.list_share_requests(
        db, actor=actor, status=None if status == "all" else status, page=page, per_page=PER_PAGE
    )
    now = clock.now()
    orgs = OrgNames(db)
    catalogue = catalogue_by_id(db) if rows else {}
    titles: dict[int, dict[str, str]] = {}
    cards = []
    for r in rows:
        entry = catalogue[r.resource_id]
        if r.resource_id not in titles:
            titles[r.resource_id] = field_titles(db, entry.code)
        org_name, org_name_en = orgs(r.consumer_org_id)
        cards.append(
            RequestCard(
                number=r.number,
                resource_code=entry.code,
                resource_title=entry.title,
                resource_title_en=entry.title_en,
                consumer_org_name=org_name,
                consumer_org_name_en=org_name_en,
                consumer_client_id=r.consumer_client_id,
                fields=tuple(titles[r.resource_id].get(name, name) for name in r.fields),
                purpose=r.purpose,
                legal_basis=r.legal_basis,
                is_clear_requested=r.is_clear_requested,
                status=r.status,
                status_label=words.REQUEST_STATUS_LABELS.get(r.status, r.status),
                is_pending=r.status == "pending",
                requested_at=china_time(r.requested_at),
                due_at=china_time(r.due_at),
                decided_at=china_time(r.decided_at),
                reason=r.reason,
                is_overdue=sharing_queries.is_overdue(r, now=now),
                is_escalated=r.is_escalated,
            )
        )
    path = "/staff/datahub/requests"
    return RequestsView(
        filters=_filters(path, REQUEST_FILTERS, status),
        cards=tuple(cards),
        pager=pager(path, {"status": status}, page=page, per_page=PER_PAGE, total=total),
    )


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    title: str
    title_en: str | None
    owner_org_id: int


def catalogue_by_id(db: Session) -> dict[int, CatalogueEntry]:
    """Every resource's code, titles and owner by id. Share requests name their resource by id, and the
    catalogue is small (hundreds of entries), so one read of it serves a whole page."""
    everything, _ = queries.list_resources(db, per_page=CATALOGUE_LIMIT)
    return {r.id: CatalogueEntry(r.code, r.title, r.title_en, r.owner_org_id) for r in everything}


def field_titles(db: Session, code: str) -> dict[str, str]:
    return {f.name: f.title for f in queries.list_fields(db, queries.get_resource(db, code).id)}


def decide_share_request(
    db: Session,
    actor: Actor,
    *,
    number: str,
    decision: Literal["approve", "refuse"],
    reason: str,
    settings: DatahubSettings,
) -> None:
    """Raises ShareRequestNotFound, NotSteward, ShareRequestClosed, ShareNotAllowed, ValidationFailed."""
    if decision == "approve":
        sharing.approve_share_request(db, actor=actor, number=number, settings=settings)
    else:
        sharing.refuse_share_request(db, actor=actor, number=number, reason=reason)


def steward_objections(db: Session, actor: Actor, *, status: str, page: int) -> ObjectionsView:
    """Objections to the steward's departments' records, the soonest due first. Raises NotAllowed."""
    if actor.kind != "staff":
        raise NotAllowed(STAFF_ONLY)
    status = status if status in {key for key, _ in OBJECTION_FILTERS} else "open"
    rows, total = objections.list_objections(
        db, actor=actor, status=None if status == "all" else status, page=page, per_page=PER_PAGE
    )
    cards = tuple(objection_card(db, objections.objection_read(db, o), evidence=o.evidence) for o in rows)
    path = "/staff/datahub/objections"
    return ObjectionsView(
        filters=_filters(path, OBJECTION_FILTERS, status),
        cards=cards,
        pager=pager(path, {"status": status}, page=page, per_page=PER_PAGE, total=total),
    )


def objection_card(db: Session, read: ObjectionRead, *, evidence: str | None) -> ObjectionCard:
    titles = field_titles(db, read.resource_code)
    return ObjectionCard(
        number=read.number,
        resource_code=read.resource_code,
        resource_title=read.resource_title,
        record=tuple(
            KeyValue(titles.get(name, name), "" if value is None else str(value))
            for name, value in read.record.items()
        ),
        field_title=read.field_title,
        claim=read.claim,
        proposed_value=read.proposed_value,
        evidence=evidence,
        status=read.status,
        status_label=words.OBJECTION_STATUS_LABELS.get(read.status, read.status),
        is_open=read.status == "open",
        raised_at=china_time(read.raised_at),
        due_at=china_time(read.due_at),
        is_overdue=read.is_overdue,
        answer=read.answer,
        answered_at=china_time(read.answered_at),
        corrected_version=read.corrected_version,
    )


def answer_objection(
    db: Session,
    actor: Actor,
    *,
    number: str,
    outcome: Literal["corrected", "rejected"],
    answer: str,
    corrected_value: str,
) -> int:
    """Correct or reject; returns how many consumers read the wrong value and should be told.
    Raises ObjectionNotFound, NotSteward, ObjectionClosed, ValidationFailed."""
    answered = objections.answer_objection(
        db,
        actor=actor,
        number=number,
        outcome=outcome,
        answer=answer,
        corrected_value=corrected_value.strip() or None,
    )
    return len(answered.consumers_to_tell)
