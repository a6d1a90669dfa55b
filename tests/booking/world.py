"""A small booking world built through the real actions, on a fixed clock (``NOW``: Tuesday 1 December
2026, 09:00 in China):

- the province, Hangzhou, 西湖区 and 滨江区; the provincial public security department (household
  registration) and health commission (vaccination records, the certificate's issuer), and both
  districts' health bureaus, each running a vaccination site with a site operator;
- household registration and vaccination records catalogued and loaded through aggregation, the
  covid-vaccination certificate type, and the booking system set up as a datahub client with its grants;
- people (each with a citizen account): ``adult`` (林晓雯, 36, no doses), ``second`` (周建国, 41, a first
  COVID-19 dose ten days ago: the second is due from 12 December), ``child`` (林小宝, two, 林晓雯's son:
  too young for COVID-19 vaccines), ``grandpa`` (林国华, 76, 林晓雯's father), and ``stranger`` (王芳);
- the 西湖区 site offers covid-inactivated-hk (waitlist) and nucleic-acid testing; a template per weekday at
  09:00 and 14:00 with two seats each, and slots generated for 2 to 8 December.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.booking import profiles, schedule, sources
from zerotrip.booking.models import Service, Site, Slot
from zerotrip.booking.schemas import ServiceSpec, SiteSpec, TemplateSpec
from zerotrip.certificates.types import DEMO_TYPES, define_certificate_type
from zerotrip.common.checks import make_resident_id
from zerotrip.config import IdentitySettings, Settings
from zerotrip.datahub import aggregation, catalogue
from zerotrip.demo.datasets.base import derive_facts
from zerotrip.demo.datasets.health_data import vaccinations
from zerotrip.demo.datasets.people_data import household_registration
from zerotrip.demo.people import plan_population
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import Account, Person, WebSession
from zerotrip.identity.secrets import hash_password, token_hash

ROOT = system("test")
PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in China, a Tuesday
TOMORROW = date(2026, 12, 2)
COVID = "covid-inactivated-hk"
NAT = "nat"
SITE = "330106-001"
OTHER_SITE = "330108-001"
COVID_PRODUCT_NAME = "新冠病毒灭活疫苗（Vero细胞）"


@dataclass(frozen=True)
class Citizen:
    actor: Actor
    person: Person
    login_name: str

    @property
    def resident_id(self) -> str:
        return self.person.resident_id


@dataclass(frozen=True)
class BookingWorld:
    settings: Settings
    adult: Citizen
    second: Citizen
    child: Citizen
    grandpa: Citizen
    stranger: Citizen
    operator: Actor  # site operator at 西湖区卫生健康局
    other_operator: Actor  # site operator at 滨江区卫生健康局
    admin: Actor  # platform administrator of the province


def _org(db: Session, kind: str, code: str, name: str, division: str, parent_id: int | None) -> int:
    return actions.create_organisation(
        db, actor=ROOT, kind=kind, code=code, name=name, division_code=division, parent_id=parent_id
    ).id


def _staff(db: Session, org_id: int, login_name: str, role: str) -> Actor:
    membership = actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=org_id,
        login_name=login_name,
        display_name=login_name,
        role=role,
        password_hash=PASSWORD_HASH,
    )
    db.flush()
    return Actor(
        kind="staff",
        name=login_name,
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )


def _citizen(db: Session, name: str, born: date, sex: str, sequence: int, household: str) -> Citizen:
    resident_id = make_resident_id(division_code="330106", birth_date=born, sequence=sequence, sex=sex)  # type: ignore[arg-type]
    person = actions.register_person(
        db, actor=ROOT, name=name, division_code="330106", resident_id=resident_id, household_no=household
    )
    db.flush()  # the account refers to the person, and no ORM relationship orders the two inserts
    login_name = f"c{resident_id[-8:]}"
    # The account as identity's create_citizen_account makes it, with the password hashed once per run.
    account = Account(
        id=uuid.uuid4(),
        kind="citizen",
        login_name=login_name,
        display_name=name,
        person_id=person.id,
        password_hash=PASSWORD_HASH,
        created_at=NOW,
    )
    db.add(account)
    db.flush()
    actor = Actor(kind="citizen", name=name, account_id=account.id, person_id=person.id)
    return Citizen(actor=actor, person=person, login_name=login_name)


def household_row(citizen: Citizen, relation: str) -> dict[str, str]:
    p = citizen.person
    return {
        "resident_id": p.resident_id,
        "name": p.name,
        "sex": "男" if p.sex == "male" else "女",
        "birth_date": p.birth_date.isoformat(),
        "household_no": p.household_no or "330106000001",
        "relation_to_head": relation,
        "address": "浙江省杭州市西湖区北山街道文三路1号",
        "division_code": "330106",
    }


def dose_row(citizen: Citizen, dose: int, on: date) -> dict[str, str]:
    return {
        "resident_id": citizen.resident_id,
        "name": citizen.person.name,
        "vaccine_kind": "新冠病毒疫苗",
        "product": COVID_PRODUCT_NAME,
        "manufacturer": "华康生物制品有限公司",
        "dose": str(dose),
        "vaccinated_on": on.isoformat(),
        "batch_no": "20260801",
        "site": "杭州市西湖区北山街道社区卫生服务中心",
        "site_division": "330106",
        "adverse_reaction": "无",
    }


def load(db: Session, code: str, rows: list[dict[str, str]]) -> None:
    batch = aggregation.load_rows(
        db, actor=ROOT, resource_code=code, rows=enumerate(rows, start=1), source="test", format="records"
    )
    assert batch.rows_rejected == 0, batch.report


def site_spec(code: str, org_code: str, division: str, latitude: float, longitude: float) -> SiteSpec:
    return SiteSpec(
        code=code,
        name=f"{code}接种门诊",
        org_code=org_code,
        division_code=division,
        address="浙江省杭州市文三路1号",
        latitude=latitude,
        longitude=longitude,
        phone="0571-88888888",
        opening_hours={
            d: [("08:00", "11:30"), ("13:30", "16:30")] for d in ("mon", "tue", "wed", "thu", "fri")
        },
    )


def build_world(db: Session, settings: Settings) -> BookingWorld:
    province = _org(db, "province", "330000", "浙江省", "330000", None)
    city = _org(db, "city", "330100", "杭州市", "330100", province)
    xihu = _org(db, "county", "330106", "西湖区", "330106", city)
    binjiang = _org(db, "county", "330108", "滨江区", "330108", city)
    psb = _org(db, "department", "330000-psb", "浙江省公安厅", "330000", province)
    health = _org(db, "department", "330000-health", "浙江省卫生健康委员会", "330000", province)
    xihu_health = _org(db, "department", "330106-health", "杭州市西湖区卫生健康局", "330106", xihu)
    binjiang_health = _org(db, "department", "330108-health", "杭州市滨江区卫生健康局", "330108", binjiang)
    facts = derive_facts(plan_population(citizens=10))
    catalogue.catalogue_resource(db, actor=ROOT, spec=household_registration(facts).for_owner(psb))
    catalogue.catalogue_resource(db, actor=ROOT, spec=vaccinations(facts).for_owner(health))
    covid_type = next(t for t in DEMO_TYPES if t.code == "covid-vaccination")
    define_certificate_type(db, actor=ROOT, spec=covid_type)
    adult = _citizen(db, "林晓雯", date(1990, 5, 1), "female", 12, "330106000001")
    second = _citizen(db, "周建国", date(1985, 3, 3), "male", 21, "330106000002")
    child = _citizen(db, "林小宝", date(2024, 6, 1), "male", 31, "330106000001")
    grandpa = _citizen(db, "林国华", date(1950, 2, 2), "male", 41, "330106000003")
    stranger = _citizen(db, "王芳", date(1995, 9, 9), "female", 52, "330106000004")
    actions.link_relatives(
        db, actor=ROOT, person_id=adult.person.id, relative_id=child.person.id, kind="child"
    )
    actions.link_relatives(
        db, actor=ROOT, person_id=adult.person.id, relative_id=grandpa.person.id, kind="parent"
    )
    load(
        db,
        sources.HOUSEHOLD,
        [
            household_row(adult, "户主"),
            household_row(second, "户主"),
            household_row(child, "子女"),
            household_row(grandpa, "户主"),
            household_row(stranger, "户主"),
        ],
    )
    load(db, sources.VACCINATIONS, [dose_row(second, 1, date(2026, 11, 21))])
    sources.set_up_booking_system(db, actor=ROOT, settings=settings.booking, datahub=settings.datahub)
    world = BookingWorld(
        settings=settings,
        adult=adult,
        second=second,
        child=child,
        grandpa=grandpa,
        stranger=stranger,
        operator=_staff(db, xihu_health, "xh-site", "site_operator"),
        other_operator=_staff(db, binjiang_health, "bj-site", "site_operator"),
        admin=_staff(db, province, "zj-admin", "platform_admin"),
    )
    schedule.create_site(
        db, actor=world.operator, spec=site_spec(SITE, "330106-health", "330106", 30.27, 120.13)
    )
    schedule.create_site(
        db, actor=world.other_operator, spec=site_spec(OTHER_SITE, "330108-health", "330108", 30.21, 120.21)
    )
    db.flush()
    for site, operator in ((SITE, world.operator), (OTHER_SITE, world.other_operator)):
        schedule.add_service(db, actor=operator, site_code=site, spec=ServiceSpec(product_code=COVID))
        schedule.add_service(
            db, actor=operator, site_code=site, spec=ServiceSpec(product_code=NAT, has_waitlist=False)
        )
        db.flush()
        for product in (COVID, NAT):
            for start in (time(9, 0), time(14, 0)):
                schedule.add_templates(
                    db,
                    actor=operator,
                    site_code=site,
                    product_code=product,
                    spec=TemplateSpec(
                        weekdays=list(range(1, 8)),
                        starts_at=start,
                        minutes=30,
                        capacity=2,
                        valid_from=date(2026, 11, 1),
                    ),
                )
        db.flush()
        schedule.generate_slots(
            db, actor=operator, site_code=site, first_day=TOMORROW, last_day=date(2026, 12, 8)
        )
    db.flush()
    return world


def slot_of(
    db: Session, *, site: str = SITE, product: str = COVID, day: date = TOMORROW, hour: int = 9
) -> Slot:
    """The slot of ``product`` at ``site`` starting at ``hour`` on ``day`` (China time)."""
    starts = datetime.combine(day, time(hour), tzinfo=UTC) - timedelta(hours=8)
    slot = db.scalar(
        select(Slot)
        .join(Service, Service.id == Slot.service_id)
        .join(Site, Site.id == Slot.site_id)
        .where(Site.code == site, Service.product_code == product, Slot.starts_at == starts)
    )
    assert slot is not None, (site, product, day, hour)
    return slot


def build_profile(db: Session, world: BookingWorld, citizen: Citizen, *, for_: Citizen | None = None) -> None:
    profiles.build_profile(
        db,
        actor=citizen.actor,
        settings=world.settings.booking,
        phone="13800000000",
        consent=True,
        resident_id=for_.resident_id if for_ is not None else None,
    ).raise_for_refusal()
    db.flush()


def sign_in(
    client: TestClient, db: Session, citizen_or_staff: str, portal: str = "citizen"
) -> dict[str, str]:
    """A web session for a login; returns the CSRF header the API wants with it."""
    outcome = auth.attempt_login(
        db,
        login_name=citizen_or_staff,
        password=PASSWORD,
        client_address="10.0.0.9",
        portal=portal,  # type: ignore[arg-type]
        settings=IdentitySettings(),
    )
    assert outcome.token, outcome
    db.flush()
    client.cookies.set(SESSION_COOKIE, outcome.token)
    session = db.get(WebSession, token_hash(outcome.token))
    assert session is not None
    return {"X-CSRF-Token": session.csrf_token}
