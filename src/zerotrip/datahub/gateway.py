"""The one gateway (统一共享通道) through which every consumer reads shared data.

Every consumer is an API client: department systems over HTTP, zerotrip's own services and booking
contexts in-process with an Actor of kind "client". A read needs a live grant (not revoked, not expired)
for the resource whose purpose equals the purpose the call names; it returns only granted fields, masked by
grade unless the grant allows clear values, each record with its provenance (owning department, last
update, version). Every successful read of personal data (subjects keyed by resident ID or credit code)
writes exactly one audit event per subject asked about, in the caller's transaction; a refused call writes
none and returns nothing. The exists? query answers one yes/no question and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common.checks import is_division_code, is_valid_resident_id, is_valid_uscc
from zerotrip.datahub import grades
from zerotrip.datahub.errors import GatewayRateLimited, NoGrant
from zerotrip.datahub.models import Field, Record, Resource
from zerotrip.datahub.queries import get_resource, list_fields
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.datahub.schemas_sharing import MAX_BATCH, FieldValue, RecordView, SubjectResult
from zerotrip.datahub.sharing_queries import live_grants
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed

READ = "datahub.record.read"
CHECKED = "datahub.record.checked"
# Subjects whose data is personal (people) or about a legal person; reads about them are audited.
AUDITED_SUBJECTS = {"resident_id": "person", "uscc": "enterprise"}


def lookup(
    db: Session,
    *,
    actor: Actor,
    resource_code: str,
    subject_keys: Sequence[str],
    fields: Sequence[str] | None = None,
    purpose: str,
    on_behalf_of: str | None = None,
    limiter: SlidingWindowLimiter | None = None,
) -> list[SubjectResult]:
    """The records of each subject, in the order asked, with only the granted fields (None: all of them).

    Raises NoGrant (no live grant for this purpose, or a field outside it), GatewayRateLimited,
    ResourceNotFound, ValidationFailed (bad subject keys, more than MAX_BATCH of them).
    """
    _admit(actor, limiter)
    resource = get_resource(db, resource_code)
    clear = _granted(db, actor=actor, resource=resource, purpose=purpose)
    catalogue = {f.name: f for f in list_fields(db, resource.id)}
    chosen = _chosen_fields(resource, catalogue, clear, fields)
    keys = _subject_keys(resource, subject_keys)
    rows = db.scalars(
        select(Record)
        .where(
            Record.resource_id == resource.id,
            Record.subject_key.in_(keys),
            Record.is_deleted.is_(False),
        )
        .order_by(Record.id)
    )
    found: dict[str, list[Record]] = {key: [] for key in keys}
    for record in rows:
        found[record.subject_key or ""].append(record)
    source = identity_queries.get_organisation(db, resource.owner_org_id).name
    results = [
        SubjectResult(
            subject=key,
            records=[_view(record, chosen, catalogue, clear, source) for record in found[key]],
        )
        for key in keys
    ]
    for result in results:
        _audit(
            db,
            action=READ,
            actor=actor,
            resource=resource,
            subject=result.subject,
            fields=chosen,
            purpose=purpose,
            on_behalf_of=on_behalf_of,
            extra={"records": len(result.records)},
        )
    return results


def exists(
    db: Session,
    *,
    actor: Actor,
    resource_code: str,
    subject_key: str,
    purpose: str,
    on_behalf_of: str | None = None,
    limiter: SlidingWindowLimiter | None = None,
) -> bool:
    """Whether the resource holds any record about the subject (say, "this person holds no real estate
    in the province"), revealing nothing else. The grant must cover at least the subject field.

    Raises NoGrant, GatewayRateLimited, ResourceNotFound, ValidationFailed.
    """
    _admit(actor, limiter)
    resource = get_resource(db, resource_code)
    clear = _granted(db, actor=actor, resource=resource, purpose=purpose)
    if resource.subject_field is None:
        raise ValidationFailed.field("resource_code", "this resource has no subject to ask about")
    if resource.subject_field not in clear:
        raise NoGrant(f"the grant does not cover the subject field {resource.subject_field}")
    (key,) = _subject_keys(resource, [subject_key])
    answer = (
        db.scalar(
            select(Record.id)
            .where(
                Record.resource_id == resource.id,
                Record.subject_key == key,
                Record.is_deleted.is_(False),
            )
            .limit(1)
        )
        is not None
    )
    _audit(
        db,
        action=CHECKED,
        actor=actor,
        resource=resource,
        subject=key,
        fields=[resource.subject_field],
        purpose=purpose,
        on_behalf_of=on_behalf_of,
        extra={"answer": answer},
    )
    return answer


def _admit(actor: Actor, limiter: SlidingWindowLimiter | None) -> None:
    if actor.kind != "client" or actor.client_id is None:
        raise NoGrant("the gateway serves API clients reading under a grant")
    if limiter is None:
        return
    wait = limiter.hit(actor.client_id)
    if wait is not None:
        raise GatewayRateLimited(f"try again in {wait} seconds", retry_after=wait)


def _granted(db: Session, *, actor: Actor, resource: Resource, purpose: str) -> dict[str, bool]:
    """The fields the actor's live grants for ``purpose`` cover, each with whether it may be read clear."""
    assert actor.client_id is not None  # _admit let only clients through
    clear: dict[str, bool] = {}
    for grant in live_grants(db, client_id=actor.client_id, resource_id=resource.id, purpose=purpose):
        for name in grant.fields:
            clear[name] = clear.get(name, False) or grant.is_clear
    if not clear:
        raise NoGrant(f"no live grant lets you read {resource.code} for this purpose")
    return clear


def _chosen_fields(
    resource: Resource,
    catalogue: dict[str, Field],
    clear: dict[str, bool],
    fields: Sequence[str] | None,
) -> list[str]:
    # The catalogue may have tightened since the grant was made: a field now unshareable is not read.
    readable = [
        name
        for name, f in catalogue.items()
        if name in clear and grades.effective_share_type(resource.share_type, f.grade) != "none"
    ]
    if fields is None:
        chosen = readable
    else:
        chosen = list(dict.fromkeys(fields))
        outside = [name for name in chosen if name not in readable]
        if outside:
            raise NoGrant(f"no grant covers these fields: {', '.join(outside)}", fields=outside)
    if not chosen:
        raise NoGrant("no grant covers any field of this resource")
    return chosen


def _subject_keys(resource: Resource, subject_keys: Sequence[str]) -> list[str]:
    if resource.subject_field is None:
        raise ValidationFailed.field("resource_code", "this resource has no subject to look up")
    keys = list(dict.fromkeys(k.strip().upper() for k in subject_keys))
    if not keys:
        raise ValidationFailed.field("subjects", "name at least one subject")
    if len(keys) > MAX_BATCH:
        raise ValidationFailed.field("subjects", f"at most {MAX_BATCH} subjects in one call")
    valid = {"resident_id": is_valid_resident_id, "uscc": is_valid_uscc, "division_code": is_division_code}
    check = valid.get(resource.subject_kind)
    bad = [k for k in keys if check is not None and not check(k)]
    if bad:
        raise ValidationFailed.field(
            "subjects", f"not valid {resource.subject_kind} values: {', '.join(bad)}"
        )
    return keys


def _view(
    record: Record, chosen: list[str], catalogue: dict[str, Field], clear: dict[str, bool], source: str
) -> RecordView:
    values: dict[str, FieldValue] = {}
    for name in chosen:
        f = catalogue[name]
        value = record.data.get(name)
        masked = value is not None and grades.is_masked(f.grade, grant_is_clear=clear[name])
        shown = grades.mask(value, check_kind=f.check_kind, type_=f.type) if masked else value
        values[name] = FieldValue(value=shown, masked=masked)
    return RecordView(fields=values, source=source, updated_at=record.updated_at, version=record.version)


def _audit(
    db: Session,
    *,
    action: str,
    actor: Actor,
    resource: Resource,
    subject: str,
    fields: list[str],
    purpose: str,
    on_behalf_of: str | None,
    extra: dict[str, Any],
) -> None:
    subject_type = AUDITED_SUBJECTS.get(resource.subject_kind)
    if subject_type is None:
        return  # statistics by region and other non-personal data
    record_event(
        db,
        actor=actor.principal,
        action=action,
        subject_type=subject_type,
        subject_id=subject,
        data={
            "consumer": actor.client_id,
            "consumer_name": actor.name,
            "consumer_org_id": actor.client_org_id,
            "resource": resource.code,
            "fields": fields,
            "purpose": purpose,
            "on_behalf_of": on_behalf_of,
            **extra,
        },
    )
