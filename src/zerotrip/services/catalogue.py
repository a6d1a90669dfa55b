"""Defining and revising service items (事项梳理), with every revision kept as a version and audited."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.datahub import queries as datahub_queries
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import OrganisationNotFound
from zerotrip.services import trips
from zerotrip.services.errors import InvalidItem, ItemCodeTaken, NotItemManager
from zerotrip.services.models import Item, ItemEvent, ItemVersion, Material, Step
from zerotrip.services.permissions import can_define_items
from zerotrip.services.queries import get_item, list_events, list_materials, list_steps, source_spec
from zerotrip.services.schemas import ItemSpec, MaterialSpec, StepSpec


def define_item(db: Session, *, actor: Actor, spec: ItemSpec) -> Item:
    """Add an item to the catalogue for its implementing department.

    The item's level is its department's (province, city or county, from the division code); its trip
    count is never stored, only worked out from what it asks for. Raises NotItemManager, ItemCodeTaken,
    InvalidItem.
    """
    department_path, level = _department(db, spec)
    if not can_define_items(actor, department_path):
        raise NotItemManager()
    if db.scalar(select(Item.id).where(Item.code == spec.code)) is not None:
        raise ItemCodeTaken(f"{spec.code} is already in the catalogue")
    _check_references(db, spec)
    now = clock.now()
    item = Item(code=spec.code, level=level, version=1, created_at=now, updated_at=now)
    _apply(item, spec)
    db.add(item)
    db.flush()  # the id links materials, steps, events and versions
    _replace_parts(db, item, spec)
    _snapshot(db, item, spec, actor)
    _audit(db, actor, "services.item.defined", item, spec, level)
    return item


def revise_item(db: Session, *, actor: Actor, code: str, spec: ItemSpec) -> Item:
    """Save a new version of an item's guide. The code and the implementing department cannot change.

    Raises ItemNotFound, NotItemManager, InvalidItem.
    """
    item = get_item(db, code)
    department_path, level = _department(db, spec)
    if not can_define_items(actor, department_path):
        raise NotItemManager()
    if spec.code != code or spec.department_org_id != item.department_org_id:
        raise InvalidItem("the code and the implementing department of an item cannot change")
    _check_references(db, spec)
    _apply(item, spec)
    item.version += 1
    item.updated_at = clock.now()
    _replace_parts(db, item, spec)
    _snapshot(db, item, spec, actor)
    _audit(db, actor, "services.item.revised", item, spec, level)
    return item


def spec_of(db: Session, item: Item) -> ItemSpec:
    """The current description of an item in the shape staff edit."""
    return ItemSpec(
        code=item.code,
        name=item.name,
        name_en=item.name_en,
        department_org_id=item.department_org_id,
        type=item.type,
        legal_basis=item.legal_basis,
        conditions=item.conditions,
        statutory_days=item.statutory_days,
        promised_days=item.promised_days,
        fee_yuan=item.fee_yuan,
        fee_basis=item.fee_basis,
        channels=list(item.channels),
        is_instant=item.is_instant,
        life_events=list_events(db, [item.id])[item.id],
        contact=item.contact,
        materials=[
            MaterialSpec(
                name=m.name,
                name_en=m.name_en,
                description=m.description,
                is_required=m.is_required,
                is_deferrable=m.is_deferrable,
                source=source_spec(m),
            )
            for m in list_materials(db, [item.id])[item.id]
        ],
        steps=[
            StepSpec(kind=s.kind, name=s.name, presence=s.presence)
            for s in list_steps(db, [item.id])[item.id]
        ],
    )


def level_of(division_code: str) -> str:
    """province (330000), city (330100) or county (330106), from a GB/T 2260 code."""
    if division_code.endswith("0000"):
        return "province"
    if division_code.endswith("00"):
        return "city"
    return "county"


def _department(db: Session, spec: ItemSpec) -> tuple[str, str]:
    try:
        org = identity_queries.get_organisation(db, spec.department_org_id)
    except OrganisationNotFound:
        raise InvalidItem.field("department_org_id", "no such organisation") from None
    if org.kind != "department":
        raise InvalidItem.field("department_org_id", "an item is implemented by a department")
    return org.path, level_of(org.division_code)


def _check_references(db: Session, spec: ItemSpec) -> None:
    """Every resource, field and earlier item a material names must exist. Certificate types are kept as
    codes: the certificates context checks them when a certificate is fetched."""
    for index, material in enumerate(spec.materials):
        source = material.source
        where = f"materials/{index}/source"
        if source.kind == "datahub":
            assert source.ref is not None  # the schema requires it
            resource = datahub_queries.find_resource(db, source.ref)
            if resource is None:
                raise InvalidItem.field(f"{where}/ref", f"{source.ref} is not a catalogued data resource")
            names = {f.name for f in datahub_queries.list_fields(db, resource.id)}
            unknown = [name for name in source.fields if name not in names]
            if unknown:
                raise InvalidItem.field(
                    f"{where}/fields", f"not fields of {source.ref}: {', '.join(unknown)}"
                )
            if source.exists and resource.subject_kind not in ("resident_id", "uscc"):
                raise InvalidItem.field(
                    f"{where}/exists", "an exists fact needs a resource about people or enterprises"
                )
        elif source.kind == "prior_result":
            if source.ref == spec.code:
                raise InvalidItem.field(f"{where}/ref", "an item cannot need its own result")
            if db.scalar(select(Item.id).where(Item.code == source.ref)) is None:
                raise InvalidItem.field(f"{where}/ref", f"{source.ref} is not a service item")
        if source.held_by and source.held_by.startswith("datahub:"):
            code = source.held_by.removeprefix("datahub:")
            if datahub_queries.find_resource(db, code) is None:
                raise InvalidItem.field(f"{where}/held_by", f"{code} is not a catalogued data resource")


def _apply(item: Item, spec: ItemSpec) -> None:
    item.name = spec.name
    item.name_en = spec.name_en
    item.department_org_id = spec.department_org_id
    item.type = spec.type
    item.legal_basis = spec.legal_basis
    item.conditions = spec.conditions
    item.statutory_days = spec.statutory_days
    item.promised_days = spec.promised_days
    item.fee_yuan = spec.fee_yuan
    item.fee_basis = spec.fee_basis
    item.channels = list(spec.channels)
    item.is_instant = spec.is_instant
    item.contact = spec.contact


def _replace_parts(db: Session, item: Item, spec: ItemSpec) -> None:
    for table in (Material, Step, ItemEvent):
        db.execute(delete(table).where(table.item_id == item.id))
    for position, m in enumerate(spec.materials):
        holder_kind, _, holder_ref = (m.source.held_by or "").partition(":")
        db.add(
            Material(
                item_id=item.id,
                position=position,
                name=m.name,
                name_en=m.name_en,
                description=m.description,
                is_required=m.is_required,
                is_deferrable=m.is_deferrable,
                source_kind=m.source.kind,
                source_ref=m.source.ref,
                source_fields=list(m.source.fields),
                is_exists_fact=m.source.exists,
                commitment_text=m.source.commitment,
                held_by_kind=holder_kind or None,
                held_by_ref=holder_ref or None,
            )
        )
    for position, s in enumerate(spec.steps):
        db.add(Step(item_id=item.id, position=position, kind=s.kind, name=s.name, presence=s.presence))
    for event in spec.life_events:
        db.add(ItemEvent(item_id=item.id, event=event))


def _snapshot(db: Session, item: Item, spec: ItemSpec, actor: Actor) -> None:
    db.add(
        ItemVersion(
            item_id=item.id,
            version=item.version,
            snapshot=spec.model_dump(mode="json"),
            changed_by=actor.principal,
            changed_at=clock.now(),
        )
    )


def _audit(db: Session, actor: Actor, action: str, item: Item, spec: ItemSpec, level: str) -> None:
    org = identity_queries.get_organisation(db, spec.department_org_id)
    count = trips.count_trips(spec.as_trip_item(department=org.name, level=level))
    record_event(
        db,
        actor=actor.principal,
        action=action,
        subject_type="service_item",
        subject_id=item.code,
        data={"version": item.version, "trips": count.trips},
    )
