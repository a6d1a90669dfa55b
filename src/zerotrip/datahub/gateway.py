"""The one gateway (统一共享通道) through which every consumer reads shared data.

Every consumer is an API client: department systems over HTTP, zerotrip's own services and booking
contexts in-process with an Actor of kind "client". A read needs a live grant (not revoked, not expired)
for the resource whose purpose equals the purpose the call names; it returns only granted fields, masked by
grade unless the grant allows clear values, each record with its provenance (owning department, last
update, version). Every successful read of personal data (subjects keyed by resident ID or credit code)
writes exactly one audit event per subject asked about, in the caller's transaction; a refused call writes
none and returns nothing. The exists? query answers one yes/no question and nothing else.

A lookup makes one read and the audit INSERT: the resource's version stamp together with the caller's
live grants for the purpose (one indexed join, so a revoked or expired grant stops the very next read) and
the subjects' current records, in one statement, then the audit events of every subject asked about. The
resource's description (fields, grades, owner's name) is read only when the ``CatalogueCache`` the caller
passes (the API passes its worker's, and so do in-process consumers called from a request) lacks that
version. The hot statements are SQL run at the driver level (``db.Statement``), returning tuples; the API
runs a call on PostgreSQL on a pooled connection in autocommit (``db.autocommit_driver``: two round
trips, no BEGIN or COMMIT, no Session), elsewhere in ``one_statement``; an in-process consumer runs it in
its own transaction. ``describe`` gives a consumer the same description
(with the titles it shows before asking) for one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_events
from zerotrip.common import clock
from zerotrip.common.checks import is_division_code, is_valid_resident_id, is_valid_uscc
from zerotrip.datahub import grades
from zerotrip.datahub.cache import CatalogueCache, FieldEntry, ResourceEntry
from zerotrip.datahub.errors import GatewayRateLimited, NoGrant, ResourceNotFound
from zerotrip.datahub.models import Field, Resource
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.datahub.schemas_sharing import MAX_BATCH, SubjectResult
from zerotrip.db import Driver, Statement, from_db_json, from_db_time
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed

READ = "datahub.record.read"
CHECKED = "datahub.record.checked"
# Subjects whose data is personal (people) or about a legal person; reads about them are audited.
AUDITED_SUBJECTS = {"resident_id": "person", "uscc": "enterprise"}

_resource = cast(Table, Resource.__table__)
_field = cast(Table, Field.__table__)

# The hot path's statements, written once at the driver level (``db.Statement``): building a select()
# and processing its parameters and rows through SQLAlchemy cost more Python time than running it.
#
# A resource's version stamp with the caller's live grants for one purpose (no grant: one row of NULLs);
# "live" is the rule of ``sharing_queries.is_live``: not revoked and not yet expired.
_GRANTS_SQL = """
SELECT 0, r.id, r.version, r.updated_at, g.fields, g.is_clear, NULL
FROM datahub_resource r
LEFT JOIN datahub_grant g ON g.resource_id = r.id AND g.consumer_client_id = :client_id
  AND g.purpose = :purpose AND g.revoked_at IS NULL AND g.expires_at > :now
WHERE r.code = :code"""
_VERSION_AND_GRANTS = Statement(_GRANTS_SQL)
# The same, and after those rows, in one round trip, the subjects' current records (part 1: record id,
# version, update, data, subject), in the order they were made. The records are read whether or not a
# grant covers them, and returned only when one does.
_RECORDS_SQL = """
UNION ALL
SELECT 1, d.id, d.version, d.updated_at, d.data, NULL, d.subject_key
FROM datahub_record d JOIN datahub_resource r ON r.id = d.resource_id
WHERE r.code = :code AND d.subject_key {} AND NOT d.is_deleted
ORDER BY 1, 2"""
_GRANTS_AND_RECORDS = Statement(
    postgresql=_GRANTS_SQL + _RECORDS_SQL.format("= ANY(:keys)"),
    sqlite=_GRANTS_SQL + _RECORDS_SQL.format("IN (SELECT value FROM json_each(:keys))"),
)
_ANY_RECORD = Statement(
    "SELECT d.id FROM datahub_record d"
    " WHERE d.resource_id = :resource_id AND d.subject_key = :key AND NOT d.is_deleted LIMIT 1"
)
# For ``describe`` and the catalogue cache's misses, through SQLAlchemy.
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
    results = lookup_answer(
        db,
        actor=actor,
        resource_code=resource_code,
        subject_keys=subject_keys,
        fields=fields,
        purpose=purpose,
        on_behalf_of=on_behalf_of,
        limiter=limiter,
        catalogue=catalogue,
    )
    return [SubjectResult.model_validate(result) for result in results]


def lookup_answer(
    db: Session | Driver,
    *,
    actor: Actor,
    resource_code: str,
    subject_keys: Sequence[str],
    fields: Sequence[str] | None = None,
    purpose: str,
    on_behalf_of: str | None = None,
    limiter: SlidingWindowLimiter | None = None,
    catalogue: CatalogueCache | None = None,
) -> list[dict[str, Any]]:
    """``lookup``'s answer as plain data in the shape of ``SubjectResult`` (what the API writes as JSON
    without building a model per value). Two round trips: the grants with the records, and the audit
    INSERT; on PostgreSQL in ``one_statement``, no BEGIN or COMMIT either. ``db`` may be a ``Driver`` on a
    pooled connection in autocommit (the API's, see ``db.autocommit_driver``): no Session at all, but for
    a catalogue cache miss."""
    _admit(actor, limiter)
    asked = list(dict.fromkeys(k.strip().upper() for k in subject_keys))
    driver = db if isinstance(db, Driver) else Driver(db)
    keys = asked if 0 < len(asked) <= MAX_BATCH else []  # refused below, after the grant check
    rows = driver.rows(
        _GRANTS_AND_RECORDS,
        {
            "client_id": actor.client_id,
            "purpose": purpose,
            "now": driver.time(clock.now()),
            "code": resource_code,
            "keys": keys if driver.dialect == "postgresql" else driver.json(keys),
        },
    )
    resource, clear = _resource_and_grants(driver, rows, resource_code=resource_code, catalogue=catalogue)
    chosen = _chosen_fields(resource, clear, fields)
    keys = _subject_keys(resource, asked)
    found: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    views = _Views(resource, chosen, clear)
    for part, _id, version, updated_at, data, _clear, subject_key in rows:
        if part == 1:
            found[subject_key].append(views.view(from_db_json(data), from_db_time(updated_at), version))
    _audit(
        driver,
        action=READ,
        actor=actor,
        resource=resource,
        subjects={key: {"records": len(records)} for key, records in found.items()},
        fields=chosen,
        purpose=purpose,
        on_behalf_of=on_behalf_of,
    )
    return [{"subject": key, "records": records} for key, records in found.items()]


def exists(
    db: Session | Driver,
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
    driver = db if isinstance(db, Driver) else Driver(db)
    rows = driver.rows(
        _VERSION_AND_GRANTS,
        {
            "client_id": actor.client_id,
            "purpose": purpose,
            "now": driver.time(clock.now()),
            "code": resource_code,
        },
    )
    resource, clear = _resource_and_grants(driver, rows, resource_code=resource_code, catalogue=catalogue)
    if resource.subject_field is None:
        raise ValidationFailed.field("resource_code", "this resource has no subject to ask about")
    if resource.subject_field not in clear:
        raise NoGrant(f"the grant does not cover the subject field {resource.subject_field}")
    (key,) = _subject_keys(resource, [subject_key])
    answer = bool(driver.rows(_ANY_RECORD, {"resource_id": resource.id, "key": key}))
    _audit(
        driver,
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
    db: Session | Driver,
    resource_id: int,
    version: int,
    updated_at: datetime,
    catalogue: CatalogueCache | None,
) -> ResourceEntry:
    resource = catalogue.get(resource_id, version=version, updated_at=updated_at) if catalogue else None
    if resource is None:
        if isinstance(db, Driver):
            with db.session() as session:  # a cold path: a Session of its own from a pooled driver
                resource = _describe(session, resource_id)
        else:
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
    db: Session | Driver, rows: list[tuple[Any, ...]], *, resource_code: str, catalogue: CatalogueCache | None
) -> tuple[ResourceEntry, dict[str, bool]]:
    """The resource's description and the fields the caller's live grants cover, each with whether it
    may be read clear, from the rows of ``_VERSION_AND_GRANTS`` (part 0; rows of other parts are skipped).
    The description comes from ``catalogue`` when it holds the version the rows name. Raises
    ResourceNotFound, NoGrant."""
    if not rows or rows[0][0] != 0:
        raise ResourceNotFound(f"no resource has the code {resource_code!r}")
    resource_id, version, updated_at = rows[0][1:4]
    resource = _cached_description(db, resource_id, version, from_db_time(updated_at), catalogue)
    clear: dict[str, bool] = {}
    for part, _id, _version, _updated_at, granted_fields, is_clear, _subject in rows:
        if part != 0:
            break
        for name in from_db_json(granted_fields) or ():
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


class _Views:
    """Records as a consumer may see them under one call's grants: each chosen field's value, masked by
    grade unless the grant allows clear values, and the record's provenance."""

    def __init__(self, resource: ResourceEntry, chosen: list[str], clear: dict[str, bool]) -> None:
        self.source = resource.owner_name
        # Per chosen field: (name, whether it is masked, its check kind, its type), decided once a call.
        self.fields = [
            (
                name,
                grades.is_masked(resource.fields[name].grade, grant_is_clear=clear[name]),
                resource.fields[name].check_kind,
                resource.fields[name].type,
            )
            for name in chosen
        ]

    def view(self, data: dict[str, Any], updated_at: datetime, version: int) -> dict[str, Any]:
        values: dict[str, dict[str, Any]] = {}
        for name, masked_grade, check_kind, type_ in self.fields:
            value = data.get(name)
            masked = masked_grade and value is not None
            shown = grades.mask(value, check_kind=check_kind, type_=type_) if masked else value
            values[name] = {"value": shown, "masked": masked}
        return {"fields": values, "source": self.source, "updated_at": updated_at, "version": version}


def _audit(
    db: Session | Driver,
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
