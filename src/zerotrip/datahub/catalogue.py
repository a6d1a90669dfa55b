"""Cataloguing resources (数据目录): create and revise, with every revision kept as a version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.datahub.errors import InvalidResource, NotSteward, ResourceCodeTaken
from zerotrip.datahub.models import Field, Record, Resource, ResourceVersion
from zerotrip.datahub.permissions import can_steward
from zerotrip.datahub.queries import get_resource, list_fields
from zerotrip.datahub.records import region_of
from zerotrip.datahub.schemas import ResourceSpec
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor


def catalogue_resource(db: Session, *, actor: Actor, spec: ResourceSpec) -> Resource:
    """Add a resource to the catalogue. The steward of the owning department does this.

    A resource's grade is the highest of its fields'. Raises NotSteward, ResourceCodeTaken,
    InvalidResource, OrganisationNotFound.
    """
    owner = identity_queries.get_organisation(db, spec.owner_org_id)
    if not can_steward(actor, owner.path):
        raise NotSteward()
    if db.scalar(select(Resource.id).where(Resource.code == spec.code)) is not None:
        raise ResourceCodeTaken()
    _check_references(db, spec)
    now = clock.now()
    resource = Resource(code=spec.code, version=1, created_at=now, updated_at=now)
    _apply(resource, spec)
    db.add(resource)
    db.flush()  # the id links fields and versions
    _replace_fields(db, resource, spec)
    _snapshot(db, resource, spec, actor)
    record_event(
        db,
        actor=actor.principal,
        action="datahub.resource.catalogued",
        subject_type="resource",
        subject_id=resource.code,
        data={"version": 1, "grade": resource.grade},
    )
    return resource


def revise_resource(db: Session, *, actor: Actor, code: str, spec: ResourceSpec) -> Resource:
    """Save a new version of a resource's description. The code and owner cannot change.

    Raises ResourceNotFound, NotSteward, InvalidResource.
    """
    resource = get_resource(db, code)
    owner = identity_queries.get_organisation(db, resource.owner_org_id)
    if not can_steward(actor, owner.path):
        raise NotSteward()
    if spec.code != code or spec.owner_org_id != resource.owner_org_id:
        raise InvalidResource("the code and the owning department of a resource cannot change")
    _check_references(db, spec)
    region_source = (resource.region_field, resource.subject_field, resource.subject_kind)
    _apply(resource, spec)
    if region_source != (resource.region_field, resource.subject_field, resource.subject_kind):
        _recompute_regions(db, resource)
    resource.version += 1
    resource.updated_at = clock.now()
    _replace_fields(db, resource, spec)
    _snapshot(db, resource, spec, actor)
    record_event(
        db,
        actor=actor.principal,
        action="datahub.resource.revised",
        subject_type="resource",
        subject_id=resource.code,
        data={"version": resource.version, "grade": resource.grade},
    )
    return resource


def spec_of(db: Session, resource: Resource) -> ResourceSpec:
    """The current description of a resource in the shape stewards edit."""
    return ResourceSpec.model_validate(snapshot_of(resource, list_fields(db, resource.id)))


def snapshot_of(resource: Resource, fields: list[Field]) -> dict[str, Any]:
    return {
        "code": resource.code,
        "owner_org_id": resource.owner_org_id,
        "title": resource.title,
        "title_en": resource.title_en,
        "description": resource.description,
        "subject_kind": resource.subject_kind,
        "subject_field": resource.subject_field,
        "key_fields": list(resource.key_fields),
        "region_field": resource.region_field,
        "share_type": resource.share_type,
        "open_type": resource.open_type,
        "update_frequency": resource.update_frequency,
        "legal_basis": resource.legal_basis,
        "contact": resource.contact,
        "keywords": list(resource.keywords),
        "fields": [
            {
                "name": f.name,
                "title": f.title,
                "type": f.type,
                "description": f.description,
                "grade": f.grade,
                "is_required": f.is_required,
                "is_unique": f.is_unique,
                "pattern": f.pattern,
                "enumeration": f.enumeration,
                "check_kind": f.check_kind,
                "reference": f.reference,
                "max_age_days": f.max_age_days,
            }
            for f in fields
        ],
    }


def _apply(resource: Resource, spec: ResourceSpec) -> None:
    resource.owner_org_id = spec.owner_org_id
    resource.title = spec.title
    resource.title_en = spec.title_en
    resource.description = spec.description
    resource.subject_kind = spec.subject_kind
    resource.subject_field = spec.subject_field
    resource.key_fields = spec.effective_key_fields
    resource.region_field = spec.region_field
    resource.share_type = spec.share_type
    resource.open_type = spec.open_type
    resource.grade = max(f.grade for f in spec.fields)
    resource.update_frequency = spec.update_frequency
    resource.legal_basis = spec.legal_basis
    resource.contact = spec.contact
    resource.keywords = list(spec.keywords)


def _recompute_regions(db: Session, resource: Resource) -> None:
    """Records keep the division code their return feeds filter by; when what it is taken from changes,
    every record's code is worked out again (streamed, so a large resource stays within memory)."""
    rows = db.execute(
        select(Record.id, Record.data)
        .where(Record.resource_id == resource.id)
        .execution_options(yield_per=1000)
    )
    for chunk in rows.partitions():
        db.execute(
            update(Record),
            [{"id": record_id, "division_code": region_of(resource, data)} for record_id, data in chunk],
        )


def _replace_fields(db: Session, resource: Resource, spec: ResourceSpec) -> None:
    db.execute(delete(Field).where(Field.resource_id == resource.id))
    for position, f in enumerate(spec.fields):
        db.add(Field(resource_id=resource.id, position=position, **f.model_dump()))


def _snapshot(db: Session, resource: Resource, spec: ResourceSpec, actor: Actor) -> None:
    db.add(
        ResourceVersion(
            resource_id=resource.id,
            version=resource.version,
            snapshot=spec.model_dump(mode="json"),
            changed_by=actor.principal,
            changed_at=clock.now(),
        )
    )


def _check_references(db: Session, spec: ResourceSpec) -> None:
    for f in spec.fields:
        if f.check_kind and f.type != "string":
            raise InvalidResource.field(
                f"fields/{f.name}/check_kind", "check characters apply to string fields"
            )
        if f.max_age_days and f.type not in ("date", "datetime"):
            raise InvalidResource.field(f"fields/{f.name}/max_age_days", "freshness applies to dates")
        if f.reference is None:
            continue
        code, _, field_name = f.reference.rpartition(".")
        if code == spec.code:
            names = {g.name for g in spec.fields}
        else:
            target = db.scalar(select(Resource).where(Resource.code == code))
            names = {g.name for g in list_fields(db, target.id)} if target is not None else set()
        if field_name not in names:
            raise InvalidResource.field(
                f"fields/{f.name}/reference", f"{f.reference} is not a catalogued field"
            )
    subject = next((f for f in spec.fields if f.name == spec.subject_field), None)
    if (
        subject is not None
        and spec.subject_kind != "none"
        and subject.check_kind not in (None, spec.subject_kind)
    ):
        raise InvalidResource.field(
            "subject_field", "the subject field's check does not match the subject kind"
        )
