"""The demo builders: a deterministic plan, a whole province written through the identity actions, logins
that work."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from zerotrip.audit.models import AuditEvent
from zerotrip.common.checks import is_valid_resident_id, is_valid_uscc, parse_resident_id
from zerotrip.common.divisions import counties
from zerotrip.config import IdentitySettings, Settings
from zerotrip.datahub.models import Batch, Record, Resource
from zerotrip.demo.datasets import demo_datasets
from zerotrip.demo.names import PHONE_PATTERN
from zerotrip.demo.orgs import DEPARTMENT_KEYS
from zerotrip.demo.people import REFERENCE_DATE, plan_population
from zerotrip.demo.seed import DemoLogins, demo_logins, is_seeded, seed_demo
from zerotrip.identity import auth
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Account, Enterprise, Membership, Organisation, Person, Relation
from zerotrip.keys import KeyStore
from zerotrip.messaging import notices_queries
from zerotrip.services import workflow_queries
from zerotrip.services.models import Application
from zerotrip.services.models_workflow import SupplementItem

COUNTIES = {d.code for d in counties()}
CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


# -- the plan: pure, no database ----------------------------------------------------------------------


def test_the_same_seed_gives_the_same_population_and_another_seed_does_not() -> None:
    first = plan_population(citizens=300, seed=7)
    assert first == plan_population(citizens=300, seed=7)
    assert first.people != plan_population(citizens=300, seed=8).people


def test_the_plan_has_exactly_the_citizens_asked_for_with_valid_unique_ids() -> None:
    plan = plan_population(citizens=1000, seed=11)
    assert len(plan.people) == 1000
    assert len({p.resident_id for p in plan.people}) == 1000
    for person in plan.people:
        parsed = parse_resident_id(person.resident_id)
        assert (parsed.birth_date, parsed.sex) == (person.birth_date, person.sex)
        assert parsed.division_code == person.division_code in COUNTIES
        assert CJK_NAME.match(person.name), person.name
        assert person.phone is None or PHONE_PATTERN.match(person.phone)
    assert len({p.phone for p in plan.people if p.phone}) == sum(1 for p in plan.people if p.phone)


def test_every_county_has_citizens_at_a_thousand() -> None:
    plan = plan_population(citizens=1000, seed=3)
    assert {p.division_code for p in plan.people} == COUNTIES


def test_households_are_linked_families() -> None:
    plan = plan_population(citizens=2000, seed=5)
    kinds = Counter(h.kind for h in plan.households)
    assert set(kinds) == {"single", "couple", "family", "newborn", "elderly", "three_generations"}
    by_person = {i: h for h in plan.households for i in h.members}
    for relation in plan.relations:
        # Ties are recorded only within a household.
        assert by_person[relation.person] is by_person[relation.relative]
    parents = Counter(r.person for r in plan.relations if r.kind == "parent")
    newborns = [
        i
        for i, p in enumerate(plan.people)
        if p.birth_date > REFERENCE_DATE - timedelta(days=183) and parents[i] == 2
    ]
    assert newborns
    first = plan.households[0]
    assert (first.kind, first.division_code) == ("newborn", "330106")
    assert len(plan.enterprises) == 40
    assert all(is_valid_uscc(e.uscc) for e in plan.enterprises)


def test_the_demo_familys_newborn_is_the_mothers_only_birth_on_record_whatever_the_seed() -> None:
    # The newborn bundle reads the births register by the mother: one record, about the newborn.
    for seed in range(12):
        plan = plan_population(citizens=10, seed=seed)
        family = plan.households[0]
        father, mother, newborn = (plan.people[i] for i in family.members)
        births = next(d for d in demo_datasets(plan) if d.spec.code == "330000-health.births")
        assert [r["child_id"] for r in births.rows if r["mother_id"] == mother.resident_id] == [
            newborn.resident_id
        ], seed
        assert newborn.birth_date > REFERENCE_DATE - timedelta(days=183) and father.sex == "male"
    # Other households with a newborn may still have an older child.
    plan = plan_population(citizens=2000, seed=5)
    assert any(h.kind == "newborn" and len(h.members) == 4 for h in plan.households)


def test_the_plan_refuses_a_population_too_small_for_the_demo_family() -> None:
    with pytest.raises(ValueError, match="at least"):
        plan_population(citizens=5)


# -- the seed: through the real actions, on the real database ----------------------------------------


@pytest.fixture
def seeded(db: Session, keys: KeyStore, settings: Settings) -> DemoLogins:
    assert not is_seeded(db)
    stages: set[str] = set()
    logins = seed_demo(
        db,
        keys=keys,
        settings=settings,
        citizens=300,
        seed=42,
        progress=lambda stage, done, total: stages.add(stage),
    )
    assert is_seeded(db)
    assert stages == {
        "organisations",
        "citizens",
        "family ties",
        "enterprises",
        "staff",
        "datasets",
        "service items",
        "vaccination sites",
        "service bundles",
        "logins",
        "staff notices",
        "certificates",
    }
    return logins


def test_the_tree_has_the_province_11_cities_90_counties_and_staff_in_every_department(
    db: Session, seeded: DemoLogins
) -> None:
    rows = db.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all()
    kinds: dict[str, int] = {kind: count for kind, count in rows}
    assert kinds == {"province": 1, "city": 11, "county": 90, "department": 102 * len(DEPARTMENT_KEYS)}
    assert seeded.counts["organisations"] == sum(kinds.values())
    province = db.scalars(select(Organisation).where(Organisation.kind == "province")).one()
    at_province = db.scalars(
        select(Organisation.code).where(
            Organisation.parent_id == province.id, Organisation.kind == "department"
        )
    ).all()
    assert sorted(at_province) == sorted(f"330000-{key}" for key in DEPARTMENT_KEYS)
    assert (
        db.scalar(select(Organisation.name).where(Organisation.code == "330000-health"))
        == "浙江省卫生健康委员会"
    )
    assert (
        db.scalar(select(Organisation.name).where(Organisation.code == "330100-fund"))
        == "杭州住房公积金管理中心"
    )
    assert (
        db.scalar(select(Organisation.name).where(Organisation.code == "330106-psb"))
        == "杭州市公安局西湖区分局"
    )

    without_staff = db.scalars(
        select(Organisation.code)
        .outerjoin(Membership, Membership.org_id == Organisation.id)
        .where(Organisation.kind == "department", Membership.id.is_(None))
    ).all()
    assert without_staff == []
    roles = set(db.scalars(select(Membership.role).distinct()))
    expected = {"reviewer", "certificate_issuer", "data_steward", "site_operator"}
    assert roles >= expected | {"notice_publisher", "platform_admin"}
    # Provisioned staff have no password until they activate; only the demo logins do.
    with_password = db.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.password_hash.is_not(None), Account.kind == "staff")
    )
    assert with_password == sum(1 for login in seeded if login.portal == "staff")
    assert db.scalar(select(Account.login_name).where(Account.login_name == "hz-xh-health-01"))


def test_the_population_is_valid_and_linked(db: Session, seeded: DemoLogins) -> None:
    ids = db.scalars(select(Person.resident_id)).all()
    assert len(ids) == seeded.counts["citizens"] == 300
    assert len(set(ids)) == len(ids)
    assert all(is_valid_resident_id(value) for value in ids)

    spouses = set(
        db.execute(select(Relation.person_id, Relation.relative_id).where(Relation.kind == "spouse"))
    )
    assert spouses
    assert spouses == {(b, a) for a, b in spouses}
    households: dict[object, str | None] = {
        row.id: row.household_no for row in db.execute(select(Person.id, Person.household_no))
    }
    assert all(households[a] == households[b] for a, b in spouses)

    parent = aliased(Relation)
    newborns = db.scalars(
        select(Person.id)
        .join(parent, (parent.person_id == Person.id) & (parent.kind == "parent"))
        .where(Person.birth_date > REFERENCE_DATE - timedelta(days=183))
        .group_by(Person.id)
        .having(func.count(parent.id) == 2)
    ).all()
    assert newborns

    usccs = db.scalars(select(Enterprise.uscc)).all()
    assert len(usccs) == seeded.counts["enterprises"] == 6
    assert all(is_valid_uscc(value) for value in usccs)

    summary = db.scalars(select(AuditEvent).where(AuditEvent.action == "demo.population.seeded")).one()
    assert summary.data["citizens"] == 300
    # One summary instead of one event per person.
    assert not db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "identity.person.registered")
    )


def test_the_departments_datasets_are_catalogued_and_loaded_without_a_rejection(
    db: Session, seeded: DemoLogins
) -> None:
    loaded = {code: n for code, n in seeded.counts.items() if "." in code}
    assert len(loaded) == 11
    assert loaded["330000-psb.household"] == 300
    records = db.execute(
        select(Resource.code, func.count(Record.id))
        .join(Record, Record.resource_id == Resource.id)
        .group_by(Resource.code)
    )
    assert {code: count for code, count in records} == loaded
    assert not db.scalar(select(func.sum(Batch.rows_rejected)))
    owners = {
        resource: owner
        for resource, owner in db.execute(
            select(Resource.code, Organisation.code).join(
                Organisation, Organisation.id == Resource.owner_org_id
            )
        )
    }
    assert owners["330100-fund.accounts"] == "330100-fund"
    assert owners["330000-land.real-estate"] == "330000-land"
    opened = db.scalars(select(Resource.code).where(Resource.open_type == "open")).all()
    assert opened == ["330000-data.county-population"]


def test_the_demo_logins_sign_in(db: Session, seeded: DemoLogins) -> None:
    # What the CLI prints when the database is already seeded matches what seeding created.
    assert demo_logins(seed=42) == DemoLogins(entries=seeded.entries)
    portals = Counter(login.portal for login in seeded)
    assert portals == {"citizen": 2, "staff": 11}
    for n, login in enumerate(seeded):
        outcome = auth.attempt_login(
            db,
            login_name=login.login_name,
            password=login.password,
            client_address=f"198.51.100.{n + 1}",
            portal=login.portal,
            settings=IdentitySettings(),
        )
        assert outcome.status == "signed_in", login
    mother = db.scalars(select(Account).where(Account.login_name == seeded.entries[0].login_name)).one()
    person = db.get(Person, mother.person_id)
    assert person is not None and person.division_code == "330106" and person.sex == "female"
    admin = db.scalars(select(Account).where(Account.login_name == "zj-admin")).one()
    grants = auth.load_grants(db, admin.id)
    assert [(g.role, g.org_path.count("/")) for g in grants] == [("platform_admin", 2)]


def test_the_notice_recipient_finds_the_typhoon_notice_first(db: Session, seeded: DemoLogins) -> None:
    duty = auth.find_staff_actor(db, "hz-xh-em-duty")
    assert duty is not None and [(g.role, g.division_code) for g in duty.grants] == [(None, "330106")]
    assert "hz-xh-em-duty" in {login.login_name for login in seeded}
    page = notices_queries.list_inbox(db, actor=duty)
    assert [(i.priority, i.requires_ack, i.has_form, i.read_at) for i in page.items] == [
        ("emergency", True, True, None),
        ("normal", False, False, None),
    ]
    assert page.unread == 2 and seeded.counts["staff notices"] == 2
    assert "利奇马" in page.items[0].title and page.items[0].publisher_org_name == "浙江省"
    # Someone outside 杭州市 has only the province-wide one.
    ningbo = db.scalar(
        select(Membership.account_id)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Organisation.division_code.like("3302%"))
        .limit(1)
    )
    assert ningbo is not None
    elsewhere = Actor(kind="staff", account_id=ningbo, grants=auth.load_grants(db, ningbo))
    assert [i.priority for i in notices_queries.list_inbox(db, actor=elsewhere).items] == ["normal"]


def test_the_demo_reviewers_find_applications_in_flight(db: Session, seeded: DemoLogins) -> None:
    def queue(login_name: str, **filters: bool) -> list[tuple[str, str, bool, bool]]:
        actor = auth.find_staff_actor(db, login_name)
        assert actor is not None
        entries, _ = workflow_queries.list_queue(db, actor=actor, **filters)
        return [(e.item_code, e.status, e.is_overdue, e.is_escalated) for e in entries]

    # Made through the real actions: each left where its applicant and reviewer left it.
    assert sorted(queue("hz-xh-psb-reviewer")) == [
        ("330106-psb-0004", "accepted", True, True),
        ("330106-psb-0004", "submitted", False, False),
    ]
    assert queue("hz-hrss-reviewer") == [("330100-hrss-0003", "in_review", False, False)]
    assert queue("hz-fund-reviewer") == [("330100-fund-0003", "supplement", False, False)]
    assert queue("hz-xh-psb-reviewer", is_overdue=True) == [("330106-psb-0004", "accepted", True, True)]
    # The overdue one went up to 杭州市公安局, and the city's staff find it escalated to them.
    city_psb = db.scalars(select(Organisation).where(Organisation.code == "330100-psb")).one()
    assert db.scalars(
        select(Application.escalated_to_org_id).where(Application.escalated_to_org_id.is_not(None))
    ).all() == [city_psb.id]
    # The supplement request lists both missing things at once; the data read shows in the applicants' logs.
    requests = db.scalars(select(SupplementItem.detail)).all()
    assert len(requests) == 2 and "盖章页" in requests[0]
    reads = db.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "services.application.consented")
    ).all()
    assert len(reads) == 4
