"""Defining and revising items: who may, what is checked, versions and audit, and trips that follow the
materials; the guide's search."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.services import catalogue, queries
from zerotrip.services.errors import InvalidItem, ItemCodeTaken, NotItemManager
from zerotrip.services.models import ITEM_TYPES, LIFE_EVENTS, Material
from zerotrip.services.schemas import (
    Channel,
    ItemSpec,
    ItemType,
    LifeEvent,
    MaterialSpec,
    SourceSpec,
    StepSpec,
)
from zerotrip.services.trips import CHANNELS

from .world import (
    CONTRIBUTIONS,
    FUND_WITHDRAWAL,
    HOUSEHOLD,
    MARRIAGE,
    REAL_ESTATE,
    ServicesWorld,
    fund_withdrawal_spec,
    marriage_spec,
)


def test_the_vocabularies_agree() -> None:
    assert ItemType.__args__ == ITEM_TYPES  # type: ignore[attr-defined]
    assert LifeEvent.__args__ == LIFE_EVENTS  # type: ignore[attr-defined]
    assert Channel.__args__ == CHANNELS  # type: ignore[attr-defined]


def test_a_defined_item_has_its_departments_level_a_version_and_an_audit_event(
    db: Session, world: ServicesWorld
) -> None:
    item = world.fund_withdrawal
    assert (item.level, item.version, item.department_org_id) == ("city", 1, world.fund_id)
    assert world.marriage.level == "county"
    guide = queries.item_read(db, item)
    assert guide.trips.trips == 0 and guide.trips.band == "zero"
    assert [m.source.kind for m in guide.materials] == ["datahub", "datahub", "commitment"]
    assert guide.materials[0].source.exists and guide.life_events == ["renting"]
    assert [s.name for s in guide.steps] == ["受理", "审查", "决定", "办结送达"]
    marriage = queries.item_read(db, world.marriage)
    assert marriage.trips.trips == 1
    reasons = [(r.kind, r.name) for r in marriage.trips.visits[0].reasons]
    assert reasons == [
        ("apply", ""),
        ("material", "居民户口簿"),
        ("material", "本人身份证"),
        ("step", "双方亲自到场"),
        ("step", "当场颁发结婚证"),
    ]
    assert [m.needs_visit for m in marriage.materials] == [True, True, False]
    events = db.scalars(select(AuditEvent).where(AuditEvent.subject_type == "service_item")).all()
    assert {(e.action, e.subject_id, e.data["trips"]) for e in events} == {
        ("services.item.defined", FUND_WITHDRAWAL, 0),
        ("services.item.defined", MARRIAGE, 1),
    }
    assert catalogue.spec_of(db, item) == fund_withdrawal_spec(world.fund_id)


def test_only_the_departments_reviewers_and_the_platform_administrator_define_items(
    db: Session, world: ServicesWorld
) -> None:
    spec = fund_withdrawal_spec(world.fund_id).model_copy(update={"code": "330100-fund-0002"})
    for outsider in (world.civil_reviewer, world.fund_steward, world.citizen):
        with pytest.raises(NotItemManager):
            catalogue.define_item(db, actor=outsider, spec=spec)
        with pytest.raises(NotItemManager):
            catalogue.revise_item(
                db, actor=outsider, code=FUND_WITHDRAWAL, spec=fund_withdrawal_spec(world.fund_id)
            )
    assert catalogue.define_item(db, actor=world.admin, spec=spec).code == "330100-fund-0002"
    revised = catalogue.revise_item(
        db, actor=world.fund_reviewer, code=FUND_WITHDRAWAL, spec=fund_withdrawal_spec(world.fund_id)
    )
    assert revised.version == 2


def test_a_code_is_taken_once(db: Session, world: ServicesWorld) -> None:
    with pytest.raises(ItemCodeTaken):
        catalogue.define_item(db, actor=world.admin, spec=fund_withdrawal_spec(world.fund_id))


def _with_material(world: ServicesWorld, source: SourceSpec, code: str = "330100-fund-0009") -> ItemSpec:
    spec = fund_withdrawal_spec(world.fund_id)
    return spec.model_copy(
        update={
            "code": code,
            "is_instant": False,
            "materials": [*spec.materials, MaterialSpec(name="新材料", source=source)],
        }
    )


@pytest.mark.parametrize(
    ("source", "pointer"),
    [
        (SourceSpec(kind="datahub", ref="330000-land.nothing", fields=["name"]), "materials/3/source/ref"),
        (SourceSpec(kind="datahub", ref=REAL_ESTATE, fields=["name", "colour"]), "materials/3/source/fields"),
        (SourceSpec(kind="datahub", ref="330000-data.statistics", exists=True), "materials/3/source/exists"),
        (SourceSpec(kind="prior_result", ref="330100-fund-9999"), "materials/3/source/ref"),
        (SourceSpec(kind="prior_result", ref="330100-fund-0009"), "materials/3/source/ref"),
        (SourceSpec(kind="onsite", held_by="datahub:330000-land.nothing"), "materials/3/source/held_by"),
    ],
)
def test_references_must_exist(db: Session, world: ServicesWorld, source: SourceSpec, pointer: str) -> None:
    with pytest.raises(InvalidItem) as raised:
        catalogue.define_item(db, actor=world.admin, spec=_with_material(world, source))
    assert raised.value.errors[0]["pointer"] == f"#/{pointer}"


def test_what_references_may_name(db: Session, world: ServicesWorld) -> None:
    fine = SourceSpec(kind="prior_result", ref=MARRIAGE)
    assert catalogue.define_item(db, actor=world.admin, spec=_with_material(world, fine)).version == 1
    held = SourceSpec(kind="upload", held_by="certificate:no-real-estate")
    assert catalogue.define_item(db, actor=world.admin, spec=_with_material(world, held, "X-2")).version == 1


def test_an_item_is_implemented_by_a_department(db: Session, world: ServicesWorld) -> None:
    for org_id, detail in ((world.city_id, "a department"), (999_999, "no such organisation")):
        spec = fund_withdrawal_spec(world.fund_id).model_copy(
            update={"code": "X-3", "department_org_id": org_id}
        )
        with pytest.raises(InvalidItem, match=detail):
            catalogue.define_item(db, actor=world.admin, spec=spec)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"promised_days": 5, "statutory_days": 3, "is_instant": False}, "promised time limit"),
        ({"steps": [StepSpec(kind="review"), StepSpec(kind="accept")]}, "steps must be"),
        ({"channels": ["window"]}, "applied for online"),
        ({"channels": []}, "at least 1"),
        ({"channels": ["online", "online"]}, "twice"),
        (
            {
                "steps": [
                    StepSpec(kind="accept", presence="inspection"),
                    StepSpec(kind="decide"),
                    StepSpec(kind="issue"),
                ]
            },
            "in person",
        ),
    ],
)
def test_an_item_must_be_consistent(world: ServicesWorld, change: dict[str, object], message: str) -> None:
    data = fund_withdrawal_spec(world.fund_id).model_dump() | change
    with pytest.raises(ValidationError, match=message):
        ItemSpec.model_validate(data)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"kind": "datahub", "ref": REAL_ESTATE}, "named fields or asks"),
        ({"kind": "datahub", "ref": REAL_ESTATE, "fields": ["name"], "exists": True}, "named fields or asks"),
        ({"kind": "certificate"}, "valid code"),
        ({"kind": "certificate", "ref": "Marriage Certificate"}, "valid code"),
        ({"kind": "upload", "ref": "x"}, "names nothing"),
        ({"kind": "commitment"}, "states the pledge"),
        ({"kind": "upload", "commitment": "我承诺"}, "only a commitment"),
        ({"kind": "certificate", "ref": "marriage", "held_by": "datahub:x.y.z"}, "uploads and on-site"),
        ({"kind": "onsite", "held_by": "paper:anything"}, "held_by is certificate"),
        ({"kind": "upload", "fields": ["name"]}, "for datahub sources"),
    ],
)
def test_a_source_must_be_consistent(source: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SourceSpec.model_validate(source)


def test_an_instant_item_decides_from_fetched_evidence_alone(world: ServicesWorld) -> None:
    spec = fund_withdrawal_spec(world.fund_id)
    with pytest.raises(ValidationError, match="fetched evidence"):
        ItemSpec.model_validate(
            spec.model_dump() | {"materials": [{"name": "租房合同", "source": {"kind": "upload"}}]}
        )


def test_revisions_are_versioned_and_the_code_and_department_stay(db: Session, world: ServicesWorld) -> None:
    spec = marriage_spec(world.civil_id).model_copy(update={"name": "内地居民结婚登记（预约）"})
    revised = catalogue.revise_item(db, actor=world.civil_reviewer, code=MARRIAGE, spec=spec)
    assert (revised.version, revised.name) == (2, "内地居民结婚登记（预约）")
    versions = queries.list_item_versions(db, revised.id)
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].snapshot["name"] == "内地居民结婚登记"
    for change in ({"code": "330106-civil-0002"}, {"department_org_id": world.fund_id}):
        with pytest.raises((InvalidItem, NotItemManager)):
            catalogue.revise_item(
                db,
                actor=world.admin,
                code=MARRIAGE,
                spec=marriage_spec(world.civil_id).model_copy(update=change),
            )


def test_a_materials_source_change_changes_the_count_and_the_analysis(
    db: Session, world: ServicesWorld
) -> None:
    before = queries.trip_analysis(db)
    assert before.trips == {FUND_WITHDRAWAL: 0, MARRIAGE: 1}
    what_if = {w.holder.label: (w.items, w.fewer_trips, w.to_zero) for w in before.what_if}
    assert what_if == {f"datahub:{HOUSEHOLD}": (1, 0, 0)}, "the couple still come to sign in person"

    # The civil affairs bureau accepts marriage registrations online and posts the certificate, and reads
    # the household register through the datahub instead of asking for the paper.
    online = marriage_spec(world.civil_id, household="datahub").model_copy(
        update={
            "channels": ["online"],
            "steps": [StepSpec(kind=k) for k in ("accept", "review", "decide", "issue")],
        }
    )
    catalogue.revise_item(db, actor=world.civil_reviewer, code=MARRIAGE, spec=online)
    assert queries.item_read(db, world.marriage).trips.trips == 1, "the ID card is still shown in person"
    stored = db.scalars(select(Material).where(Material.item_id == world.marriage.id)).all()
    assert (stored[0].source_kind, stored[0].source_ref) == ("datahub", HOUSEHOLD)

    no_card = online.model_copy(update={"materials": [m for m in online.materials if m.name != "本人身份证"]})
    catalogue.revise_item(db, actor=world.civil_reviewer, code=MARRIAGE, spec=no_card)
    after = queries.trip_analysis(db)
    assert after.trips == {FUND_WITHDRAWAL: 0, MARRIAGE: 0}
    assert after.total.as_dict() == {"zero": 2, "one": 0, "more": 0, "total": 2}
    assert before.total.as_dict() == {"zero": 1, "one": 1, "more": 0, "total": 2}
    assert after.what_if == () and after.forcing == ()
    county = {r.level: r.bands.as_dict() for r in after.by_department}["county"]
    assert county == {"zero": 1, "one": 0, "more": 0, "total": 1}


def test_the_guide_is_searched_by_name_department_and_life_event(db: Session, world: ServicesWorld) -> None:
    def codes(**filters: object) -> list[str]:
        rows, total = queries.list_items(db, **filters)  # type: ignore[arg-type]
        assert total == len(rows)
        return [r.code for r in rows]

    assert codes() == [FUND_WITHDRAWAL, MARRIAGE]
    assert codes(search="公积金") == [FUND_WITHDRAWAL]
    assert codes(search="marriage") == [MARRIAGE]
    assert codes(search=" 330106 ") == [MARRIAGE]
    assert codes(department_org_id=world.fund_id) == [FUND_WITHDRAWAL]
    assert codes(life_event="marriage") == [MARRIAGE]
    assert codes(life_event="birth") == []
    assert codes(level="city") == [FUND_WITHDRAWAL]
    assert codes(search="结婚", life_event="renting") == []
    for n in range(25):
        spec = marriage_spec(world.civil_id).model_copy(update={"code": f"330106-civil-1{n:03d}"})
        catalogue.define_item(db, actor=world.civil_reviewer, spec=spec)
    first, total = queries.list_items(db, search="结婚", per_page=10)
    third, _ = queries.list_items(db, search="结婚", page=3, per_page=10)
    assert total == 26 and len(first) == 10 and len(third) == 6
    assert sorted(queries.list_item_departments(db)) == sorted([world.fund_id, world.civil_id])
    summaries = queries.item_summaries(db, first[:2])
    assert [(s.trips, s.band, s.department.name) for s in summaries] == [
        (1, "one", "杭州市西湖区民政局"),
        (1, "one", "杭州市西湖区民政局"),
    ]
    assert CONTRIBUTIONS in {m.source.ref for m in queries.item_read(db, world.fund_withdrawal).materials}
