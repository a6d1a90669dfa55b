"""Bundles in the catalogue (一件事): defining and revising them, and the guide's reads.

A bundle is defined by the platform administrator over every part's department (the 政务服务 office that
joins departments' items into one application). Its parts are catalogued items, all applied for online; the
order they run in is not typed in but follows from their materials (a part that asks for another part's
result needs it), and must have no cycle. The guide shows the bundle's one set of materials: each datahub
source once however many parts read it, each part's own materials, and the results passed from part to
part; and the trip count of the whole bundle (``bundle_rules.count_bundle_trips``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.services import bundle_rules, trips
from zerotrip.services.bundle_models import Bundle, BundlePart
from zerotrip.services.bundle_schemas import (
    BundleMaterialRead,
    BundlePartRead,
    BundleRead,
    BundleSpec,
    BundleSummary,
    BundleTripsRead,
    PartVisitRead,
    PassedOnRead,
)
from zerotrip.services.errors import BundleCodeTaken, BundleNotFound, InvalidBundle, NotBundleManager
from zerotrip.services.models import Item, Material
from zerotrip.services.permissions import can_define_bundles
from zerotrip.services.queries import Departments, list_materials, source_spec, trip_items, trip_material
from zerotrip.services.schemas import ReasonRead, SourceSpec

DEFINED = "services.bundle.defined"
REVISED = "services.bundle.revised"


# -- defining ---------------------------------------------------------------------------------------------


def define_bundle(db: Session, *, actor: Actor, spec: BundleSpec) -> Bundle:
    """Add a bundle of catalogued items for a life event. Raises NotBundleManager, BundleCodeTaken,
    InvalidBundle (an unknown item, one not applied for online, parts that need each other's results)."""
    items = _checked_parts(db, actor, spec)
    if find_bundle(db, spec.code) is not None:
        raise BundleCodeTaken(f"{spec.code} is already a bundle")
    now = clock.now()
    bundle = Bundle(code=spec.code, version=1, created_at=now, updated_at=now)
    _apply(bundle, spec)
    db.add(bundle)
    db.flush()  # the parts refer to the bundle's id
    _replace_parts(db, bundle, items)
    _audit(db, actor, DEFINED, bundle, spec)
    return bundle


def revise_bundle(db: Session, *, actor: Actor, code: str, spec: BundleSpec) -> Bundle:
    """Save a new version of a bundle; its code cannot change. Applications already started keep the
    parts they started with. Raises BundleNotFound, NotBundleManager, InvalidBundle."""
    bundle = get_bundle(db, code)
    if spec.code != code:
        raise InvalidBundle.field("code", "the code of a bundle cannot change")
    # The administrator must be over the departments of the parts it had and of those it will have.
    _checked_parts(db, actor, spec.model_copy(update={"parts": [i.code for _, i in parts_of(db, bundle)]}))
    items = _checked_parts(db, actor, spec)
    _apply(bundle, spec)
    bundle.version += 1
    bundle.updated_at = clock.now()
    _replace_parts(db, bundle, items)
    _audit(db, actor, REVISED, bundle, spec)
    return bundle


def _checked_parts(db: Session, actor: Actor, spec: BundleSpec) -> list[Item]:
    items: list[Item] = []
    for index, code in enumerate(spec.parts):
        item = db.scalar(select(Item).where(Item.code == code))
        if item is None:
            raise InvalidBundle.field(f"parts/{index}", f"{code} is not a service item")
        if "online" not in item.channels:
            raise InvalidBundle.field(f"parts/{index}", f"{code} is not applied for online")
        items.append(item)
    paths = [identity_queries.get_organisation(db, i.department_org_id).path for i in items]
    if not can_define_bundles(actor, paths):
        raise NotBundleManager()
    materials = list_materials(db, [i.id for i in items])
    try:
        bundle_rules.run_order(part_needs(items, materials))
    except bundle_rules.CyclicNeeds as error:
        raise InvalidBundle.field("parts", str(error)) from None
    if spec.subject_register is not None and not any(
        m.source_kind == "datahub" and m.source_ref == spec.subject_register and not m.is_exists_fact
        for i in items
        for m in materials[i.id]
    ):
        raise InvalidBundle.field("subject_register", "no part reads fields of this register")
    return items


def _apply(bundle: Bundle, spec: BundleSpec) -> None:
    bundle.name = spec.name
    bundle.name_en = spec.name_en
    bundle.life_event = spec.life_event
    bundle.description = spec.description
    bundle.conditions = spec.conditions
    bundle.subject_register = spec.subject_register


def _replace_parts(db: Session, bundle: Bundle, items: Sequence[Item]) -> None:
    db.execute(delete(BundlePart).where(BundlePart.bundle_id == bundle.id))
    for position, item in enumerate(items):
        db.add(BundlePart(bundle_id=bundle.id, position=position, item_id=item.id))


def _audit(db: Session, actor: Actor, action: str, bundle: Bundle, spec: BundleSpec) -> None:
    record_event(
        db,
        actor=actor.principal,
        action=action,
        subject_type="service_bundle",
        subject_id=bundle.code,
        data={
            "version": bundle.version,
            "parts": list(spec.parts),
            "life_event": spec.life_event,
            "subject_register": spec.subject_register,
        },
    )


# -- the parts and what they share ------------------------------------------------------------------------


def part_needs(items: Sequence[Item], materials: dict[int, list[Material]]) -> dict[str, frozenset[str]]:
    """Each part's item code → the codes of the other parts whose results it asks for."""
    codes = {i.code for i in items}
    return {
        i.code: frozenset(
            m.source_ref
            for m in materials[i.id]
            if m.source_kind == "prior_result" and m.source_ref in codes and m.source_ref != i.code
        )
        for i in items
    }


@dataclass(frozen=True)
class SharedSource:
    """A datahub source as the bundle reads it: once, with the union of the fields its parts read."""

    name: str
    resource_code: str
    is_exists: bool
    fields: tuple[str, ...]
    feeds: tuple[tuple[int, int], ...]  # (part position, material position)


def shared_sources(parts: Sequence[Sequence[Material]]) -> list[SharedSource]:
    """The distinct datahub sources of the parts (``parts[p]`` is part p's materials), in first-use order:
    one per resource and kind of question (its fields, or whether a record exists)."""
    found: dict[tuple[str, bool], SharedSource] = {}
    for position, materials in enumerate(parts):
        for m in materials:
            if m.source_kind != "datahub" or m.source_ref is None:
                continue
            key = (m.source_ref, m.is_exists_fact)
            seen = found.get(key)
            if seen is None:
                found[key] = SharedSource(
                    m.name, m.source_ref, m.is_exists_fact, tuple(m.source_fields), ((position, m.position),)
                )
            else:
                found[key] = SharedSource(
                    seen.name,
                    seen.resource_code,
                    seen.is_exists,
                    tuple(dict.fromkeys((*seen.fields, *m.source_fields))),
                    (*seen.feeds, (position, m.position)),
                )
    return list(found.values())


def is_passed_on(m: Material, part_codes: dict[str, int]) -> bool:
    """A prior result that another part of the same bundle gives (pushed on, never asked of anyone)."""
    return m.source_kind == "prior_result" and m.source_ref in part_codes


# -- reads ------------------------------------------------------------------------------------------------


def find_bundle(db: Session, code: str) -> Bundle | None:
    return db.scalar(select(Bundle).where(Bundle.code == code))


def get_bundle(db: Session, code: str) -> Bundle:
    bundle = find_bundle(db, code)
    if bundle is None:
        raise BundleNotFound(f"no bundle has the code {code!r}")
    return bundle


def list_bundles(db: Session, *, life_event: str | None = None) -> list[Bundle]:
    """Every bundle (a catalogue has few), of one life event if given, by code."""
    query = select(Bundle)
    if life_event:
        query = query.where(Bundle.life_event == life_event)
    return list(db.scalars(query.order_by(Bundle.code)))


def parts_of(db: Session, bundle: Bundle) -> list[tuple[int, Item]]:
    """(position, item) of each part, in guide order."""
    rows = db.execute(
        select(BundlePart.position, Item)
        .join(Item, Item.id == BundlePart.item_id)
        .where(BundlePart.bundle_id == bundle.id)
        .order_by(BundlePart.position)
    )
    return [(position, item) for position, item in rows]


def bundles_of_item(db: Session, item_id: int) -> list[Bundle]:
    """The bundles an item is part of (its guide page points to them)."""
    return list(
        db.scalars(
            select(Bundle)
            .join(BundlePart, BundlePart.bundle_id == Bundle.id)
            .where(BundlePart.item_id == item_id)
            .order_by(Bundle.code)
        )
    )


def bundle_read(db: Session, bundle: Bundle) -> BundleRead:
    """The bundle's guide: its parts with their departments, its one set of materials, the results passed
    from part to part, its promised time limit, and the trips of the whole bundle."""
    parts = parts_of(db, bundle)
    items = [item for _, item in parts]
    departments = Departments(db)
    materials = list_materials(db, [i.id for i in items])
    counted = trip_items(db, items, departments)
    needs = part_needs(items, materials)
    position_of = {item.code: position for position, item in parts}
    part_trips = [trips.count_trips(t).trips for t in counted]
    shared = shared_sources([materials[i.id] for i in items])
    one_set: list[BundleMaterialRead] = [
        BundleMaterialRead(
            name=s.name,
            source=SourceSpec(
                kind="datahub",
                ref=s.resource_code,
                fields=[] if s.is_exists else list(s.fields),
                exists=s.is_exists,
            ),
            parts=sorted({p for p, _ in s.feeds}),
            needs_visit=False,
        )
        for s in shared
    ]
    passed_on: list[PassedOnRead] = []
    for position, item in parts:
        for m in materials[item.id]:
            if m.source_kind == "datahub":
                continue
            if is_passed_on(m, position_of):
                assert m.source_ref is not None
                passed_on.append(
                    PassedOnRead(name=m.name, from_part=position_of[m.source_ref], to_part=position)
                )
                continue
            one_set.append(
                BundleMaterialRead(
                    name=m.name,
                    source=source_spec(m),
                    parts=[position],
                    needs_visit=trip_material(m).source.needs_presence,
                )
            )
    whole = bundle_rules.count_bundle_trips(counted)
    return BundleRead(
        code=bundle.code,
        name=bundle.name,
        name_en=bundle.name_en,
        life_event=bundle.life_event,
        description=bundle.description,
        conditions=bundle.conditions,
        subject_register=bundle.subject_register,
        version=bundle.version,
        updated_at=bundle.updated_at,
        parts=[
            BundlePartRead(
                position=position,
                item_code=item.code,
                item_name=item.name,
                department=departments(item.department_org_id),
                level=item.level,
                promised_days=item.promised_days,
                trips=part_trips[index],
                needs=sorted(position_of[code] for code in needs[item.code]),
            )
            for index, (position, item) in enumerate(parts)
        ],
        materials=one_set,
        passed_on=passed_on,
        materials_separately=sum(len(materials[i.id]) for i in items),
        promised_days=bundle_rules.critical_days(needs, {i.code: i.promised_days for i in items}),
        trips=BundleTripsRead(
            trips=whole.trips,
            band=whole.band,
            separately=whole.separately,
            visits=[
                PartVisitRead(
                    parts=list(v.parts),
                    steps=list(v.steps),
                    reasons=[ReasonRead(kind=r.kind, name=r.name) for r in v.reasons],
                    is_acceptance=v.is_acceptance,
                )
                for v in whole.visits
            ],
        ),
    )


def bundle_summaries(db: Session, bundles: Sequence[Bundle]) -> list[BundleSummary]:
    departments = Departments(db)
    found = []
    for bundle in bundles:
        items = [item for _, item in parts_of(db, bundle)]
        whole = bundle_rules.count_bundle_trips(trip_items(db, items, departments))
        found.append(
            BundleSummary(
                code=bundle.code,
                name=bundle.name,
                name_en=bundle.name_en,
                life_event=bundle.life_event,
                parts=len(items),
                departments=list(dict.fromkeys(departments(i.department_org_id).name for i in items)),
                trips=whole.trips,
                band=whole.band,
            )
        )
    return found
