"""The demo seed: the whole province, its people and staff, and a handful of logins with a known password."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.datahub import aggregation, catalogue
from zerotrip.demo.booking import seed_booking
from zerotrip.demo.certificates import build_demo_certificates
from zerotrip.demo.datasets import Dataset, demo_datasets
from zerotrip.demo.names import NameGenerator, Sex
from zerotrip.demo.notices import seed_notices
from zerotrip.demo.orgs import OrgTree, build_org_tree, department_name, region_names
from zerotrip.demo.people import DEFAULT_SEED, DEMO_COUNTY, build_population, plan_population
from zerotrip.demo.service_bundles import build_demo_bundles, set_up_bundle_grants
from zerotrip.demo.service_work import seed_work_in_flight
from zerotrip.demo.services import build_service_catalogue, set_up_service_platform
from zerotrip.demo.staff import TITLES, build_staff
from zerotrip.identity import actions, queries
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.secrets import hash_password
from zerotrip.keys import KeyStore

Progress = Callable[[str, int, int], None]

# Known to everyone who reads this file: only for a demo deployment, never for real data.
DEMO_PASSWORD = "zerotrip-demo"  # noqa: S105
PROVINCE_CODE = "330000"
CITY_CODE = DEMO_COUNTY[:4] + "00"  # 杭州市


@dataclass(frozen=True)
class DemoLogin:
    who: str
    login_name: str
    password: str
    portal: Literal["citizen", "staff"]
    description: str


@dataclass(frozen=True)
class DemoLogins:
    """What the CLI prints after seeding: the logins, and (after a seed) how much was created."""

    entries: tuple[DemoLogin, ...]
    counts: Mapping[str, int] = field(default_factory=dict)

    def __iter__(self) -> Iterator[DemoLogin]:
        return iter(self.entries)


@dataclass(frozen=True)
class _Planned:
    login: DemoLogin
    display_name: str
    person_index: int | None = None  # citizens: the person in the population plan
    org_code: str | None = None  # staff: where the role is held
    role: str | None = None


# Staff logins: (login name, org code, role or None for a member without one, what they are for).
DUTY_TITLE = "值班员"
_STAFF: tuple[tuple[str, str, str | None, str], ...] = (
    ("zj-admin", PROVINCE_CODE, "platform_admin", "平台管理员：管理全省组织、目录与共享"),
    ("hz-fund-reviewer", f"{CITY_CODE}-fund", "reviewer", "审核公积金提取等申请"),
    ("hz-fund-issuer", f"{CITY_CODE}-fund", "certificate_issuer", "签发办理结果与电子证照"),
    (
        "hz-land-steward",
        f"{CITY_CODE}-land",
        "data_steward",
        "不动产登记数据的数据专员：编目、归集、审批共享",
    ),
    ("hz-xh-health-site", f"{DEMO_COUNTY}-health", "site_operator", "西湖区接种点：排班、签到、登记接种"),
    ("zj-notice", PROVINCE_CODE, "notice_publisher", "向全省各单位发布通知与紧急通知"),
    (
        "hz-xh-em-duty",
        f"{DEMO_COUNTY}-emergency",
        None,
        "通知收件人：工作台收通知，确认收到台风紧急通知并报送转移人数",
    ),
    # 出生“一件事”: each department reviews its own part.
    ("hz-xh-health-reviewer", f"{DEMO_COUNTY}-health", "reviewer", "出生“一件事”：审核出生医学证明"),
    ("hz-xh-psb-reviewer", f"{DEMO_COUNTY}-psb", "reviewer", "出生“一件事”：审核出生登记（落户）"),
    ("hz-xh-medical-reviewer", f"{DEMO_COUNTY}-medical", "reviewer", "出生“一件事”：审核新生儿医保参保"),
    ("hz-hrss-reviewer", f"{CITY_CODE}-hrss", "reviewer", "出生“一件事”：审核新生儿社保卡申领"),
)


def is_seeded(db: Session) -> bool:
    """True once the demo province exists (seeding twice would collide on its codes)."""
    return queries.find_organisation_by_code(db, PROVINCE_CODE) is not None


def demo_logins(*, seed: int = DEFAULT_SEED) -> DemoLogins:
    """The logins ``seed_demo(seed=seed)`` creates, worked out without the database (to print them again
    when the demo database already exists). They do not depend on the number of citizens."""
    return DemoLogins(entries=tuple(p.login for p in _planned(seed)))


def seed_demo(
    db: Session,
    *,
    keys: KeyStore,
    settings: Settings,
    citizens: int = 10_000,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> DemoLogins:
    """Build the organisation tree, the population, staff in every department, the departments' datasets
    (catalogued and loaded through aggregation), the service catalogue, the demo logins and the demo
    e-certificates (signed with the deployment's ``keys``). Adds and flushes; the caller commits. Raises
    DemoDataRejected if aggregation refuses a demo row."""
    actor = system("seed")
    tree = build_org_tree(db, actor=actor, progress=progress)
    population = build_population(
        db, actor=actor, org_tree=tree, citizens=citizens, seed=seed, progress=progress
    )
    staff = build_staff(db, actor=actor, org_tree=tree, seed=seed, progress=progress)
    datasets = demo_datasets(population.plan)
    records = _load_datasets(db, actor=actor, org_tree=tree, datasets=datasets, progress=progress)
    items = build_service_catalogue(db, actor=actor, org_tree=tree)
    if progress is not None:
        progress("service items", len(items), len(items))
    set_up_service_platform(db, actor=actor, items=items, settings=settings)
    booking = seed_booking(db, actor=actor, tree=tree, settings=settings, today=clock.now_in_china().date())
    if progress is not None:
        progress("vaccination sites", booking["vaccination sites"], booking["vaccination sites"])
    bundles = build_demo_bundles(db, actor=actor)
    set_up_bundle_grants(db, actor=actor, bundles_=bundles, settings=settings)
    if progress is not None:
        progress("service bundles", len(bundles), len(bundles))
    planned = _planned(seed)
    # One argon2id hash for every staff login: hashing is deliberately slow.
    password_hash = hash_password(DEMO_PASSWORD)
    for p in planned:
        if p.person_index is not None:
            actions.create_citizen_account(
                db,
                actor=actor,
                person_id=population.person_id(p.person_index),
                login_name=p.login.login_name,
                password=DEMO_PASSWORD,
            )
        else:
            assert p.org_code is not None
            actions.add_staff_member(
                db,
                actor=actor,
                org_id=tree.get(p.org_code).id,
                login_name=p.login.login_name,
                display_name=p.display_name,
                role=p.role,
                title=TITLES[p.role] if p.role else DUTY_TITLE,
                password_hash=password_hash,
            )
    db.flush()
    if progress is not None:
        progress("logins", len(planned), len(planned))
    staff_notices = seed_notices(db, tree=tree, settings=settings.notices)
    if progress is not None:
        progress("staff notices", staff_notices, staff_notices)
    certificates = build_demo_certificates(
        db,
        actor=actor,
        plan=population.plan,
        datasets=datasets,
        keys=keys,
        settings=settings,
        progress=progress,
    )
    # Last: the reviewers' queues hold applications already in flight (made through the real actions).
    seed_work_in_flight(
        db,
        plan=population.plan,
        person_id=population.person_id,
        datasets=datasets,
        keys=keys,
        settings=settings,
    )
    counts = {
        "organisations": len(tree.nodes),
        "citizens": len(population.plan.people),
        "households": len(population.plan.households),
        "enterprises": len(population.plan.enterprises),
        "staff": len(staff) + sum(1 for p in planned if p.person_index is None),
        "service items": len(items),
        "service bundles": len(bundles),
        **records,
        "certificates": certificates,
        **booking,
        "staff notices": staff_notices,
    }
    return DemoLogins(entries=tuple(p.login for p in planned), counts=counts)


class DemoDataRejected(RuntimeError):
    """Aggregation refused rows of a demo dataset: the generator and the quality rules disagree."""


def _load_datasets(
    db: Session,
    *,
    actor: Actor,
    org_tree: OrgTree,
    datasets: tuple[Dataset, ...],
    progress: Progress | None,
) -> dict[str, int]:
    """Catalogue each department's dataset and load its rows through aggregation, as a steward would;
    every row must be accepted. Returns the records loaded per resource code."""
    counts: dict[str, int] = {}
    for n, dataset in enumerate(datasets, start=1):
        spec = dataset.for_owner(org_tree.get(dataset.owner_code).id)
        catalogue.catalogue_resource(db, actor=actor, spec=spec)
        batch = aggregation.load_rows(
            db,
            actor=actor,
            resource_code=spec.code,
            rows=enumerate(dataset.rows, start=1),
            source="seed",
            format="records",
        )
        if batch.rows_rejected or batch.rows_accepted != len(dataset.rows):
            examples = batch.report.get("examples", [])[:3]
            raise DemoDataRejected(f"{spec.code}: {batch.rows_rejected} rows refused, e.g. {examples}")
        counts[spec.code] = batch.rows_accepted
        if progress is not None:
            progress("datasets", n, len(datasets))
    return counts


def _planned(seed: int) -> list[_Planned]:
    return _citizen_logins(seed) + _staff_logins(seed)


def _citizen_logins(seed: int) -> list[_Planned]:
    """The mother and father of the first planned household, a couple in 西湖区 with a newborn. The first
    household is planned before any other, so the smallest population gives the same family."""
    plan = plan_population(citizens=10, seed=seed)
    family = plan.households[0]
    assert family.kind == "newborn" and family.division_code == DEMO_COUNTY
    father, mother = family.members[0], family.members[1]
    newborn = plan.people[family.members[-1]]
    result = []
    for index, role in ((mother, "母亲"), (father, "父亲")):
        person = plan.people[index]
        login = DemoLogin(
            who=f"{person.name}（{role}）",
            login_name=person.phone or person.resident_id,
            password=DEMO_PASSWORD,
            portal="citizen",
            description=(
                f"西湖区，{newborn.birth_date:%Y-%m-%d} 出生的 {newborn.name} 的{role}："
                "出生“一件事”、公积金提取"
            ),
        )
        result.append(_Planned(login=login, display_name=person.name, person_index=index))
    return result


def _staff_logins(seed: int) -> list[_Planned]:
    rng = random.Random(f"demo-logins:{seed}")
    names = NameGenerator(rng)
    regions = region_names()
    result = []
    for login_name, org_code, role, description in _STAFF:
        division_code, _, key = org_code.partition("-")
        org_name = department_name(key, division_code, regions)[0] if key else regions[division_code].name
        sex: Sex = rng.choice(("male", "female"))
        display_name = names.full_name(sex=sex, birth_year=rng.randint(1970, 1995))
        login = DemoLogin(
            who=f"{display_name}（{org_name} {TITLES[role] if role else DUTY_TITLE}）",
            login_name=login_name,
            password=DEMO_PASSWORD,
            portal="staff",
            description=description,
        )
        result.append(_Planned(login=login, display_name=display_name, org_code=org_code, role=role))
    return result
