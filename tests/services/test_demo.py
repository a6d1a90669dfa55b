"""The demo service catalogue: real-world shaped items across departments and levels, defined through the
real action, whose trip analysis means something."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from zerotrip.certificates.types import DEMO_TYPES
from zerotrip.demo import service_kit as kit
from zerotrip.demo import services as demo
from zerotrip.services import queries

from .demo_world import build_demo_catalogue


def test_the_demo_catalogue(db: Session) -> None:
    tree, items = build_demo_catalogue(db)
    assert len(items) == len(demo.demo_items()) >= 45
    departments = Counter(tree.get(demo_org(i.code)).department_key for i in items)
    assert len(departments) >= 11, departments
    assert all(i.department_org_id == tree.get(demo_org(i.code)).id for i in items)
    assert {i.level for i in items} == {"province", "city", "county"}

    guides = {i.code: queries.item_read(db, i) for i in items}
    trips = {code: g.trips.trips for code, g in guides.items()}
    fund = guides[kit.FUND_RENTING]
    assert fund.is_instant and trips[kit.FUND_RENTING] == 0
    assert {m.source.kind for m in fund.materials} == {"datahub", "commitment"}
    newborn = (kit.BIRTH_CERTIFICATE, kit.BIRTH_REGISTRATION, kit.NEWBORN_MEDICAL, kit.NEWBORN_CARD)
    assert {tree.get(demo_org(code)).department_key for code in newborn} == {
        "health",
        "psb",
        "medical",
        "hrss",
    }
    assert all(trips[code] == 0 and "birth" in guides[code].life_events for code in newborn)
    assert trips[kit.ENTERPRISE_CHANGE] == 0 and trips[kit.VACCINATION_CERTIFICATE] == 0
    assert trips[kit.MARRIAGE_REGISTRATION] == 1, "the couple sign in person and leave with the certificate"
    assert [r.kind for r in guides[kit.MARRIAGE_REGISTRATION].trips.visits[0].reasons].count("step") == 2
    fed = [m.source.ref for g in guides.values() for m in g.materials if m.source.kind == "prior_result"]
    assert kit.BIRTH_REGISTRATION in fed and kit.ENTERPRISE_CHANGE in fed

    certificates = {
        m.source.ref for g in guides.values() for m in g.materials if m.source.kind == "certificate"
    }
    held = {m.source.held_by for g in guides.values() for m in g.materials if m.source.held_by}
    assert certificates <= set(kit.CERTIFICATE_TYPES)
    assert {h.partition(":")[2] for h in held if h.startswith("certificate:")} <= set(kit.CERTIFICATE_TYPES)

    analysis = queries.trip_analysis(db)
    assert analysis.total.zero and analysis.total.one and analysis.total.more
    assert analysis.total.zero / analysis.total.total > 0.5
    by_holder = {w.holder.label: w for w in analysis.what_if}
    for holder in (
        "datahub:330000-psb.household",
        "certificate:marriage-certificate",
        "certificate:business-licence",
    ):
        assert by_holder[holder].to_zero >= 1, holder
    assert any(f.sole == 0 for f in analysis.forcing), (
        "some originals are shown where the applicant is anyway"
    )


def demo_org(code: str) -> str:
    """The organisation code an item code starts with: 330106-health-0001 → 330106-health."""
    return code.rsplit("-", 1)[0]


def test_every_certificate_material_names_a_certificate_type_of_the_certificates_context() -> None:
    types = {t.code for t in DEMO_TYPES}
    named = [
        (item.code, m.name, m.source.ref)
        for item in demo.demo_items()
        for m in item.materials
        if m.source.kind == "certificate"
    ]
    held = [
        (item.code, m.name, m.source.held_by.partition(":")[2])
        for item in demo.demo_items()
        for m in item.materials
        if m.source.held_by and m.source.held_by.startswith("certificate:")
    ]
    assert named and held
    assert [n for n in named + held if n[2] not in types] == []
    assert "marriage-certificate" in {ref for _, _, ref in named}
