"""Services reads: ``get_*`` raises NotFound, ``find_*`` returns None, ``list_*`` pages.

The guide is public: nothing here needs an actor. Trip counts are worked out from the stored materials and
steps every time they are read, so they cannot go stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zerotrip.identity import queries as identity_queries
from zerotrip.services import trips
from zerotrip.services.errors import ItemNotFound
from zerotrip.services.models import Item, ItemEvent, ItemVersion, Material, Step
from zerotrip.services.schemas import (
    DepartmentRef,
    ItemRead,
    ItemSummary,
    MaterialRead,
    SourceSpec,
    StepRead,
    TripsRead,
)


def find_item(db: Session, code: str) -> Item | None:
    return db.scalar(select(Item).where(Item.code == code))


def get_item(db: Session, code: str) -> Item:
    item = find_item(db, code)
    if item is None:
        raise ItemNotFound(f"no service item has the code {code!r}")
    return item


def list_items(
    db: Session,
    *,
    search: str | None = None,
    department_org_id: int | None = None,
    life_event: str | None = None,
    level: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Item], int]:
    """Items whose code or name (Chinese or English) contains ``search``, of one department, serving one
    life event, at one level; ordered by code."""
    query = select(Item)
    if search and search.strip():
        like = f"%{search.strip()}%"
        query = query.where(or_(Item.code.ilike(like), Item.name.ilike(like), Item.name_en.ilike(like)))
    if department_org_id is not None:
        query = query.where(Item.department_org_id == department_org_id)
    if life_event:
        query = query.where(Item.id.in_(select(ItemEvent.item_id).where(ItemEvent.event == life_event)))
    if level:
        query = query.where(Item.level == level)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Item.code).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def list_item_departments(db: Session) -> list[int]:
    """The ids of the departments that implement at least one item."""
    return list(db.scalars(select(Item.department_org_id).distinct()))


def list_materials(db: Session, item_ids: Iterable[int]) -> dict[int, list[Material]]:
    found: dict[int, list[Material]] = defaultdict(list)
    ids = list(item_ids)
    if ids:
        for m in db.scalars(
            select(Material).where(Material.item_id.in_(ids)).order_by(Material.item_id, Material.position)
        ):
            found[m.item_id].append(m)
    return found


def list_steps(db: Session, item_ids: Iterable[int]) -> dict[int, list[Step]]:
    found: dict[int, list[Step]] = defaultdict(list)
    ids = list(item_ids)
    if ids:
        for s in db.scalars(select(Step).where(Step.item_id.in_(ids)).order_by(Step.item_id, Step.position)):
            found[s.item_id].append(s)
    return found


def list_events(db: Session, item_ids: Iterable[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    ids = list(item_ids)
    if ids:
        for item_id, event in db.execute(
            select(ItemEvent.item_id, ItemEvent.event)
            .where(ItemEvent.item_id.in_(ids))
            .order_by(ItemEvent.item_id, ItemEvent.event)
        ):
            found[item_id].append(event)
    return found


def list_item_versions(db: Session, item_id: int) -> list[ItemVersion]:
    """Every saved description of an item, newest first."""
    return list(
        db.scalars(
            select(ItemVersion).where(ItemVersion.item_id == item_id).order_by(ItemVersion.version.desc())
        )
    )


# -- from rows to what trip counting and the guide read ---------------------------------------------


def source_spec(m: Material) -> SourceSpec:
    return SourceSpec(
        kind=m.source_kind,
        ref=m.source_ref,
        fields=list(m.source_fields),
        exists=m.is_exists_fact,
        commitment=m.commitment_text,
        held_by=f"{m.held_by_kind}:{m.held_by_ref}" if m.held_by_kind else None,
    )


def trip_material(m: Material) -> trips.Material:
    holder = (
        trips.Holder(m.held_by_kind, m.held_by_ref)  # type: ignore[arg-type]
        if m.held_by_kind and m.held_by_ref
        else None
    )
    source = trips.Source(
        kind=m.source_kind,  # type: ignore[arg-type]
        ref=m.source_ref,
        fields=tuple(m.source_fields),
        is_exists=m.is_exists_fact,
        held_by=holder,
    )
    return trips.Material(m.name, source)


def trip_item(
    item: Item, materials: Sequence[Material], steps: Sequence[Step], department: str
) -> trips.Item:
    return trips.Item(
        code=item.code,
        name=item.name,
        department=department,
        level=item.level,
        channels=frozenset(item.channels),
        promised_days=item.promised_days,
        materials=tuple(trip_material(m) for m in materials),
        steps=tuple(trips.Step(s.kind, s.presence, s.name) for s in steps),  # type: ignore[arg-type]
    )


class Departments:
    """Department names by id, each looked up once (a catalogue has few departments and many items)."""

    def __init__(self, db: Session) -> None:
        self._db = db
        self._found: dict[int, DepartmentRef] = {}

    def __call__(self, org_id: int) -> DepartmentRef:
        ref = self._found.get(org_id)
        if ref is None:
            org = identity_queries.get_organisation(self._db, org_id)
            ref = DepartmentRef(id=org.id, code=org.code, name=org.name, name_en=org.name_en)
            self._found[org_id] = ref
        return ref


def trip_items(
    db: Session, items: Sequence[Item], departments: Departments | None = None
) -> list[trips.Item]:
    """What trip counting reads of each of ``items`` (three queries, however many items)."""
    names = departments or Departments(db)
    ids = [i.id for i in items]
    materials, steps = list_materials(db, ids), list_steps(db, ids)
    return [trip_item(i, materials[i.id], steps[i.id], names(i.department_org_id).name) for i in items]


def catalogue(db: Session) -> list[trips.Item]:
    """The whole catalogue as trip counting reads it, in code order."""
    return trip_items(db, list(db.scalars(select(Item).order_by(Item.code))))


def trip_analysis(db: Session) -> trips.Analysis:
    """The catalogue's trip analysis; the CLI gives the same figures for the catalogue exported as CSV."""
    return trips.analyse(catalogue(db))


def item_summaries(db: Session, items: Sequence[Item]) -> list[ItemSummary]:
    departments = Departments(db)
    counted = trip_items(db, items, departments)
    events = list_events(db, [i.id for i in items])
    return [
        ItemSummary(
            code=i.code,
            name=i.name,
            name_en=i.name_en,
            department=departments(i.department_org_id),
            level=i.level,
            type=i.type,
            promised_days=i.promised_days,
            is_instant=i.is_instant,
            life_events=events[i.id],
            trips=(count := trips.count_trips(t)).trips,
            band=count.band,
        )
        for i, t in zip(items, counted, strict=True)
    ]


def item_read(db: Session, item: Item) -> ItemRead:
    """The item's guide: everything it asks for, what replaces each paper, and its trips."""
    department = Departments(db)(item.department_org_id)
    materials = list_materials(db, [item.id])[item.id]
    steps = list_steps(db, [item.id])[item.id]
    counted = trip_item(item, materials, steps, department.name)
    return ItemRead(
        code=item.code,
        name=item.name,
        name_en=item.name_en,
        department=department,
        level=item.level,
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
        version=item.version,
        updated_at=item.updated_at,
        materials=[
            MaterialRead(
                name=m.name,
                name_en=m.name_en,
                description=m.description,
                is_required=m.is_required,
                is_deferrable=m.is_deferrable,
                source=source_spec(m),
                needs_visit=trip_material(m).source.needs_presence,
            )
            for m in materials
        ],
        steps=[StepRead(kind=s.kind, name=s.name, presence=s.presence) for s in steps],
        trips=TripsRead.of(trips.count_trips(counted)),
    )
