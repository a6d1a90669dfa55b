"""The one gateway (统一共享通道) through which every consumer reads shared data.

Every consumer is an API client: department systems over HTTP, zerotrip's own services and booking
contexts in-process with an Actor of kind "client". A read needs a live grant (not revoked, not expired)
for the resource whose purpose equals the purpose the call names; it returns only granted fields, masked by
grade unless the grant allows clear values, each record with its provenance (owning department, last
update, version). Every successful read of personal data (subjects keyed by resident ID or credit code)
writes exactly one audit event per subject asked about, in the caller's transaction; a refused call writes
none and returns nothing. The exists? query answers one yes/no question and nothing else.

A call makes two statements and one INSERT: the resource's version stamp together with the caller's live
grants for the purpose (one indexed join, so a revoked or expired grant stops the very next read), the
subjects' current records, and the audit events of every subject asked about in one INSERT. The resource's
description (fields, grades, owner's name) is read only when the ``CatalogueCache`` the caller passes
(the API passes its worker's, and so do in-process consumers called from a request) lacks that version.
Reads are prebuilt Core statements returning tuples. ``describe`` gives a consumer the same description
(with the titles it shows before asking) for one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_events
from zerotrip.common import clock
from zerotrip.common.checks import is_division_code, is_valid_resident_id, is_valid_uscc
from zerotrip.datahub import grades
from zerotrip.datahub.cache import CatalogueCache, FieldEntry, ResourceEntry
from zerotrip.datahub.errors import GatewayRateLimited, NoGrant, ResourceNotFound
from zerotrip.datahub.models import Field, Grant, Record, Resource
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.datahub.schemas_sharing import MAX_BATCH, FieldValue, RecordView, SubjectResult
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed

READ = "datahub.record.read"
CHECKED = "datahub.record.checked"
# Subjects whose data is personal (people) or about a legal person; reads about them are audited.
AUDITED_SUBJECTS = {"resident_id": "person", "uscc": "enterprise"}

_resource = cast(Table, Resource.__table__)
_grant = cast(Table, Grant.__table__)
_field = cast(Table, Field.__table__)
_record = cast(Table, Record.__table__)

# The hot path's statements, built once: making a select() and its comparisons anew on every call costs
# more Python time than running it. Executed on the session's connection, inside its transaction.
#
# A resource's version stamp with the caller's live grants for one purpose (no grant: one row of NULLs);
# "live" is the rule of ``sharing_queries.is_live``: not revoked and not yet expired.
_VERSION_AND_GRANTS = (
    select(_resource.c.id, _resource.c.version, _resource.c.updated_at, _grant.c.fields, _grant.c.is_clear)
    .select_from(
        _resource.outerjoin(
            _grant,
            and_(
                _grant.c.resource_id == _resource.c.id,
                _grant.c.consumer_client_id == bindparam("client_id"),
                _grant.c.purpose == bindparam("purpose"),
                _grant.c.revoked_at.is_(None),
                _grant.c.expires_at > bindparam("now", type_=_grant.c.expires_at.type),
            ),
        )
    )
    .where(_resource.c.code == bindparam("code"))
)
_VERSION = select(_resource.c.id, _resource.c.version, _resource.c.updated_at).where(
    _resource.c.code == bindparam("code")
)
_DESCRIPTION = select(
    _resource.c.code,
    _resource.c.title,
    _resource.c.version,
    _resource.c.updated_at,
    _resource.c.subject_kind,
    _resource.c.subject_field,
    _resource.c.share_type,
    _resource.c.owner_org_id,
).where(_resource.c.id == bindparam("resource_id"))
_FIELDS = (
    select(_field.c.name, _field.c.title, _field.c.grade, _field.c.type, _field.c.check_kind)
    .where(_field.c.resource_id == bindparam("resource_id"))
    .order_by(_field.c.position)
)
_RECORDS = (
    select(_record.c.subject_key, _record.c.data, _record.c.updated_at, _record.c.version)
    .where(
        _record.c.resource_id == bindparam("resource_id"),
        _record.c.subject_key.in_(bindparam("keys", expanding=True)),
        _record.c.is_deleted.is_(False),
    )
    .order_by(_record.c.id)
)
_ANY_RECORD = (
    select(_record.c.id)
    .where(
        _record.c.resource_id == bindparam("resource_id"),
        _record.c.subject_key == bindparam("key"),
        _record.c.is_deleted.is_(False),
    )
    .limit(1)
)


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
    catalogue: CatalogueCache | None = None,
) -> list[SubjectResult]:
    """The records of each subject, in the order asked, with only the granted fields (None: all of them).

    Raises NoGrant (no live grant for this purpose, or a field outside it), GatewayRateLimited,
    ResourceNotFound, ValidationFailed (bad subject keys, more than MAX_BATCH of them).
    """
    _admit(actor, limiter)
    resource, clear = _resource_and_grants(
        db, actor=actor, resource_code=resource_code, purpose=purpose, catalogue=catalogue
    )
    chosen = _chosen_fields(resource, clear, fields)
    keys = _subject_keys(resource, subject_keys)
    found: dict[str, list[RecordView]] = {key: [] for key in keys}
    rows = db.connection().execute(_RECORDS, {"resource_id": resource.id, "keys": keys})
    for subject_key, data, updated_at, version in rows:
        found[subject_key].append(_view(data, updated_at, version, chosen, resource, clear))
    results = [SubjectResult(subject=key, records=found[key]) for key in keys]
    _audit(
        db,
        action=READ,
        actor=actor,
        resource=resource,
        subjects={result.subject: {"records": len(result.records)} for result in results},
        fields=chosen,
        purpose=purpose,
        on_behalf_of=on_behalf_of,
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
    catalogue: CatalogueCache | None = None,
) -> bool:
    """Whether the resource holds any record about the subject (say, "this person holds no real estate
    in the province"), revealing nothing else. The grant must cover at least the subject field.

    Raises NoGrant, GatewayRateLimited, ResourceNotFound, ValidationFailed.
    """
    _admit(actor, limiter)
    resource, clear = _resource_and_grants(
        db, actor=actor, resource_code=resource_code, purpose=purpose, catalogue=catalogue
    )
    if resource.subject_field is None:
        raise ValidationFailed.field("resource_code", "this resource has no subject to ask about")
    if resource.subject_field not in clear:
        raise NoGrant(f"the grant does not cover the subject field {resource.subject_field}")
    (key,) = _subject_keys(resource, [subject_key])
    answer = (
        db.connection().execute(_ANY_RECORD, {"resource_id": resource.id, "key": key}).first() is not None
    )
    _audit(
        db,
        action=CHECKED,
        actor=actor,
        resource=resource,
        subjects={key: {"answer": answer}},
        fields=[resource.subject_field],
        purpose=purpose,
        on_behalf_of=on_behalf_of,
    )
    return answer


def describe(
    db: Session, resource_code: str, *, catalogue: CatalogueCache | None = None
) -> ResourceEntry | None:
    """The resource's description as the gateway reads it (code, title, subject, owner's name, fields with
    their titles and grades), or None when no resource has the code. Reads nothing about any subject and
    needs no grant: it is what a consumer shows before asking (an applicant's preview). One statement
    reads the version stamp; the rest comes from ``catalogue`` when it holds that version."""
    db.flush()  # as _resource_and_grants: a revision pending in the caller's session counts
    row = db.connection().execute(_VERSION, {"code": resource_code}).first()
    if row is None:
        return None
    return _cached_description(db, row[0], row[1], row[2], catalogue)


def _cached_description(
    db: Session, resource_id: int, version: int, updated_at: datetime, catalogue: CatalogueCache | None
) -> ResourceEntry:
    resource = catalogue.get(resource_id, version=version, updated_at=updated_at) if catalogue else None
    if resource is None:
        resource = _describe(db, resource_id)
        if catalogue is not None:
            catalogue.put(resource)
    return resource


def _admit(actor: Actor, limiter: SlidingWindowLimiter | None) -> None:
    if actor.kind != "client" or actor.client_id is None:
        raise NoGrant("the gateway serves API clients reading under a grant")
    if limiter is None:
        return
    wait = limiter.hit(actor.client_id)
    if wait is not None:
        raise GatewayRateLimited(f"try again in {wait} seconds", retry_after=wait)


def _resource_and_grants(
    db: Session, *, actor: Actor, resource_code: str, purpose: str, catalogue: CatalogueCache | None
) -> tuple[ResourceEntry, dict[str, bool]]:
    """The resource's description and the fields the actor's live grants for ``purpose`` cover, each with
    whether it may be read clear. One statement finds the resource's version stamp and the live grants
    (the rule of ``sharing_queries.is_live``: not revoked, not yet expired); the description comes from
    ``catalogue`` when it holds that version. Raises ResourceNotFound, NoGrant."""
    assert actor.client_id is not None  # _admit let only clients through
    # These statements go to the session's connection, which does not autoflush as an ORM query would:
    # what an in-process caller has pending in the same session (a grant just revoked) must count.
    db.flush()
    rows = (
        db.connection()
        .execute(
            _VERSION_AND_GRANTS,
            {"client_id": actor.client_id, "purpose": purpose, "now": clock.now(), "code": resource_code},
        )
        .all()
    )
    if not rows:
        raise ResourceNotFound(f"no resource has the code {resource_code!r}")
    resource_id, version, updated_at = rows[0][:3]
    resource = _cached_description(db, resource_id, version, updated_at, catalogue)
    clear: dict[str, bool] = {}
    for *_, granted_fields, is_clear in rows:
        for name in granted_fields or ():
            clear[name] = clear.get(name, False) or bool(is_clear)
    if not clear:
        raise NoGrant(f"no live grant lets you read {resource.code} for this purpose")
    return resource, clear


def _describe(db: Session, resource_id: int) -> ResourceEntry:
    """A resource's description as it is now, with its owner's name."""
    connection = db.connection()
    row = connection.execute(_DESCRIPTION, {"resource_id": resource_id}).one()
    fields = connection.execute(_FIELDS, {"resource_id": resource_id}).all()
    return ResourceEntry(
        id=resource_id,
        code=row.code,
        title=row.title,
        version=row.version,
        updated_at=row.updated_at,
        subject_kind=row.subject_kind,
        subject_field=row.subject_field,
        share_type=row.share_type,
        owner_name=identity_queries.get_organisation(db, row.owner_org_id).name,
        fields={
            f.name: FieldEntry(
                name=f.name, title=f.title, grade=f.grade, type=f.type, check_kind=f.check_kind
            )
            for f in fields
        },
    )


def _chosen_fields(
    resource: ResourceEntry, clear: dict[str, bool], fields: Sequence[str] | None
) -> list[str]:
    # The catalogue may have tightened since the grant was made: a field now unshareable is not read.
    readable = [name for name in resource.shareable() if name in clear]
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


def _subject_keys(resource: ResourceEntry, subject_keys: Sequence[str]) -> list[str]:
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
    data: dict[str, Any],
    updated_at: Any,
    version: int,
    chosen: list[str],
    resource: ResourceEntry,
    clear: dict[str, bool],
) -> RecordView:
    values: dict[str, FieldValue] = {}
    for name in chosen:
        f = resource.fields[name]
        value = data.get(name)
        masked = value is not None and grades.is_masked(f.grade, grant_is_clear=clear[name])
        shown = grades.mask(value, check_kind=f.check_kind, type_=f.type) if masked else value
        values[name] = FieldValue(value=shown, masked=masked)
    return RecordView(fields=values, source=resource.owner_name, updated_at=updated_at, version=version)


def _audit(
    db: Session,
    *,
    action: str,
    actor: Actor,
    resource: ResourceEntry,
    subjects: dict[str, dict[str, Any]],
    fields: list[str],
    purpose: str,
    on_behalf_of: str | None,
) -> None:
    """One event per subject (with what ``subjects`` adds for it), all in one INSERT."""
    subject_type = AUDITED_SUBJECTS.get(resource.subject_kind)
    if subject_type is None:
        return  # statistics by region and other non-personal data
    common = {
        "consumer": actor.client_id,
        "consumer_name": actor.name,
        "consumer_org_id": actor.client_org_id,
        "resource": resource.code,
        "fields": fields,
        "purpose": purpose,
        "on_behalf_of": on_behalf_of,
    }
    record_events(
        db,
        actor=actor.principal,
        action=action,
        events=[(subject_type, subject, common | extra) for subject, extra in subjects.items()],
    )
