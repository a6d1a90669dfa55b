"""A world for bundles (一件事), built through the real actions from the demo's own definitions: the demo
family (the first household of a ten-person demo population: a couple in 西湖区 with a newborn) and the
demo enterprise; the departments that hold their data (household register, births, medical insurance,
enterprises) with the demo datasets loaded; the departments that implement the newborn and enterprise
change bundles' items with a reviewer each (plus 上城区's public security reviewer, who serves another
county); the demo items and bundles; and the one-stop service platform with the grants the demo has.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.certificates.types import DEMO_TYPES, define_certificate_type
from zerotrip.common.checks import make_uscc
from zerotrip.config import Settings
from zerotrip.datahub import aggregation
from zerotrip.datahub import catalogue as datahub_catalogue
from zerotrip.demo.datasets import demo_datasets
from zerotrip.demo.people import plan_population
from zerotrip.demo.service_bundles import DEMO_BUNDLES, build_demo_bundles, set_up_bundle_grants
from zerotrip.demo.services import demo_items, set_up_service_platform
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.secrets import hash_password
from zerotrip.services import catalogue, results
from zerotrip.services.bundle_models import Bundle

from .apply_world import PASSWORD, Citizen

ROOT = system("test")
DATASETS = (
    "330000-psb.household",
    "330000-market.enterprises",
    "330000-health.births",
    "330000-medical.insurance",
)
# (code, name, division, parent code)
ORGS = (
    ("330000", "浙江省", "330000", None),
    ("330100", "杭州市", "330100", "330000"),
    ("330106", "西湖区", "330106", "330100"),
    ("330102", "上城区", "330102", "330100"),
    ("330000-data", "浙江省数据局", "330000", "330000"),
    ("330000-psb", "浙江省公安厅", "330000", "330000"),
    ("330000-market", "浙江省市场监督管理局", "330000", "330000"),
    ("330000-health", "浙江省卫生健康委员会", "330000", "330000"),
    ("330000-medical", "浙江省医疗保障局", "330000", "330000"),
    ("330100-hrss", "杭州市人力资源和社会保障局", "330100", "330100"),
    ("330100-fund", "杭州住房公积金管理中心", "330100", "330100"),
    ("330106-health", "杭州市西湖区卫生健康局", "330106", "330106"),
    ("330106-psb", "杭州市公安局西湖区分局", "330106", "330106"),
    ("330106-medical", "杭州市西湖区医疗保障局", "330106", "330106"),
    ("330106-market", "杭州市西湖区市场监督管理局", "330106", "330106"),
    ("330106-tax", "国家税务总局杭州市西湖区税务局", "330106", "330106"),
    ("330102-psb", "杭州市公安局上城区分局", "330102", "330102"),
)
NEWBORN_PARTS = ("330106-health", "330106-psb", "330106-medical", "330100-hrss")


@dataclass(frozen=True)
class BundleWorld:
    settings: Settings
    org_ids: dict[str, int]
    mother: Citizen
    father: Citizen  # the demo enterprise's legal representative
    stranger: Citizen
    enterprise_uscc: str
    child_name: str
    child_birth_date: str
    reviewers: dict[str, Actor]  # by department code
    admin: Actor  # the province's platform administrator
    newborn: Bundle
    enterprise_change: Bundle


def _citizen(db: Session, person_id: object, name: str, resident_id: str, login_name: str) -> Citizen:
    account = actions.create_citizen_account(
        db, actor=ROOT, person_id=person_id, login_name=login_name, password=PASSWORD
    )
    actor = Actor(kind="citizen", name=name, account_id=account.id, person_id=account.person_id)
    return Citizen(actor=actor, resident_id=resident_id, name=name, login_name=login_name)


def staff(db: Session, org_id: int, login_name: str, role: str) -> Actor:
    membership = actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=org_id,
        login_name=login_name,
        display_name=login_name,
        role=role,
        password_hash=hash_password(PASSWORD),
    )
    db.flush()
    return Actor(
        kind="staff",
        name=login_name,
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )


def build_bundle_world(db: Session, settings: Settings) -> BundleWorld:
    ids: dict[str, int] = {}
    for code, name, division, parent in ORGS:
        kind = (
            "department"
            if "-" in code
            else "province"
            if parent is None
            else "city"
            if code.endswith("00")
            else "county"
        )
        ids[code] = actions.create_organisation(
            db,
            actor=ROOT,
            kind=kind,
            code=code,
            name=name,
            division_code=division,
            parent_id=ids[parent] if parent else None,
        ).id
    plan = plan_population(citizens=10, seed=0)
    people = [
        actions.register_person(
            db,
            actor=ROOT,
            resident_id=p.resident_id,
            name=p.name,
            division_code=p.division_code,
            sex=p.sex,
            birth_date=p.birth_date,
            phone=p.phone,
            address=p.address,
            household_no=p.household_no,
        )
        for p in plan.people
    ]
    db.flush()
    for e in plan.enterprises:
        actions.register_enterprise(
            db,
            actor=ROOT,
            uscc=e.uscc,
            name=e.name,
            legal_representative_id=people[e.legal_representative].id,
            division_code=e.division_code,
            address=e.address,
            established_on=e.established_on,
        )
    for dataset in demo_datasets(plan):
        if dataset.spec.code not in DATASETS:
            continue
        datahub_catalogue.catalogue_resource(db, actor=ROOT, spec=dataset.for_owner(ids[dataset.owner_code]))
        batch = aggregation.load_rows(
            db,
            actor=ROOT,
            resource_code=dataset.spec.code,
            rows=enumerate(dataset.rows, start=1),
            source="test",
            format="records",
        )
        assert batch.rows_rejected == 0, batch.report
    # Each department's decision is a letter in the applicant's wallet.
    letter = next(t for t in DEMO_TYPES if t.code == results.DECISION_LETTER)
    type_code = make_uscc(division_code="330000", serial=4243, registration_authority="1", category="1")
    define_certificate_type(db, actor=ROOT, spec=letter.model_copy(update={"type_code": type_code + "001"}))
    wanted = {code for demo in DEMO_BUNDLES for code in demo.parts}
    items = [
        catalogue.define_item(db, actor=ROOT, spec=demo.spec(ids[demo.org], demo.org))
        for demo in demo_items()
        if demo.code in wanted
    ]
    db.flush()
    set_up_service_platform(db, actor=ROOT, items=items, settings=settings)
    newborn, enterprise_change = build_demo_bundles(db, actor=ROOT)
    set_up_bundle_grants(db, actor=ROOT, bundles_=[newborn, enterprise_change], settings=settings)
    family = plan.households[0]
    father_index, mother_index = family.members[0], family.members[1]
    enterprise = plan.enterprises[0]
    assert enterprise.legal_representative == father_index
    mother, father, stranger = (
        _citizen(db, people[i].id, plan.people[i].name, plan.people[i].resident_id, f"1390000000{n}")
        for n, i in enumerate((mother_index, father_index, 4))
    )
    reviewers = {
        code: staff(db, ids[code], f"{code}-reviewer", "reviewer")
        for code in (*NEWBORN_PARTS, "330106-market", "330106-tax", "330100-fund", "330102-psb")
    }
    world = BundleWorld(
        settings=settings,
        org_ids=ids,
        mother=mother,
        father=father,
        stranger=stranger,
        enterprise_uscc=enterprise.uscc,
        child_name=plan.people[family.members[-1]].name,
        child_birth_date=plan.people[family.members[-1]].birth_date.isoformat(),
        reviewers=reviewers,
        admin=staff(db, ids["330000"], "zj-admin", "platform_admin"),
        newborn=newborn,
        enterprise_change=enterprise_change,
    )
    db.flush()
    return world


TWIN_NAME = "林妍霜"


def add_twin(db: Session, world: BundleWorld) -> str:
    """The births register gets a second birth of the mother's, a twin born minutes after the newborn
    (synthetic, built here), so her newborn bundle reads two candidate records. Returns the twin's name."""
    row = {
        "certificate_no": "Z330000999",
        "child_name": TWIN_NAME,
        "child_sex": "女",
        "birth_date": world.child_birth_date,
        "birth_time": "23:58",
        "gestational_weeks": "37",
        "weight_g": "2650",
        "length_cm": "47",
        "birth_place": "浙江省杭州市西湖区",
        "hospital": "杭州市西湖区人民医院",
        "mother_id": world.mother.resident_id,
        "mother_name": world.mother.name,
        "issued_on": world.child_birth_date,
        "division_code": "330106",
    }
    batch = aggregation.load_rows(
        db, actor=ROOT, resource_code="330000-health.births", rows=[(1, row)], source="test", format="records"
    )
    assert batch.rows_rejected == 0, batch.report
    return TWIN_NAME
