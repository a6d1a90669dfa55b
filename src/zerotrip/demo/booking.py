"""Demo and benchmark builders of the booking context, through booking's actions.

``seed_booking`` gives the demo its 1,789 vaccination sites (``booking_sites``), each run by its county's
health bureau, with their services and half-day slot templates, imported in bulk, the slots of the coming
week, and the booking system registered as a datahub client with its grants.

``build_rush_world`` is the world of a booking rush (the rush benchmark and the rush tests): one district,
one vaccination site with a handful of slots, and many residents registered in household registration with
profiles imported (a fifth have had a first COVID-19 dose two months before, so their next booking is the
second dose). ``open_sessions`` signs them all in at once, standing in for that many logins (a password
check costs half a second of argon2 each, which a benchmark of bookings should not measure).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from zerotrip.booking import profiles, queries, schedule, site_import, sources
from zerotrip.booking.schemas import ServiceSpec, SiteImport, SiteSpec, TemplateSpec
from zerotrip.common import clock
from zerotrip.common.checks import make_resident_id
from zerotrip.config import Settings
from zerotrip.datahub import aggregation, catalogue
from zerotrip.demo.booking_sites import plan_sites
from zerotrip.demo.datasets.base import derive_facts
from zerotrip.demo.datasets.health_data import COVID, COVID_PRODUCT, vaccinations
from zerotrip.demo.datasets.people_data import household_registration
from zerotrip.demo.orgs import OrgTree
from zerotrip.demo.people import plan_population
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Account, WebSession
from zerotrip.identity.secrets import hash_password, new_token, token_hash

SEED_DAYS = 7  # the demo's slots: the coming week
RUSH_SITE = "330106-RUSH"
RUSH_PRODUCT = "covid-inactivated-hk"
RUSH_PASSWORD = "zerotrip-rush"  # noqa: S105 - a throwaway benchmark database's citizens


def seed_booking(
    db: Session, *, actor: Actor, tree: OrgTree, settings: Settings, today: date
) -> dict[str, int]:
    """Register the booking system (household registration and vaccination records must be catalogued),
    import the 1,789 sites run by their counties' health bureaus, and generate their slots from ``today``
    for a week. Returns what was made."""
    sources.set_up_booking_system(db, actor=actor, settings=settings.booking, datahub=settings.datahub)
    sites = [
        SiteImport(
            code=plan.code,
            name=plan.name,
            org_code=tree.department(plan.division_code, "health").code,
            division_code=plan.division_code,
            address=plan.address,
            latitude=plan.latitude,
            longitude=plan.longitude,
            phone=plan.phone,
            opening_hours={
                day: [(start, end) for start, end in hours]
                for day, hours in zip(
                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), plan.opening_hours, strict=True
                )
                if hours
            },
            product_codes=list(plan.product_codes),
            capacity_per_hour=plan.capacity_per_hour,
        )
        for plan in plan_sites()
    ]
    made = site_import.import_sites(db, actor=actor, sites=sites, valid_from=today)
    slots = schedule.generate_slots(
        db, actor=actor, first_day=today, last_day=today + timedelta(days=SEED_DAYS - 1)
    )
    return {"vaccination sites": made, "slots": slots}


# -- the rush ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RushPerson:
    person_id: uuid.UUID
    resident_id: str
    account_id: uuid.UUID
    has_first_dose: bool


@dataclass(frozen=True)
class RushWorld:
    site_code: str
    product_code: str
    slot_ids: list[int]
    seats: int
    people: list[RushPerson]


def build_rush_world(
    db: Session,
    *,
    actor: Actor,
    settings: Settings,
    people: int,
    slots: int,
    seats_per_slot: int,
    day: date,
) -> RushWorld:
    """The world of a rush on ``day``'s slots (see the module docstring). ``actor`` is the platform."""
    province = actions.create_organisation(
        db, actor=actor, kind="province", code="330000", name="浙江省", division_code="330000"
    )
    city = actions.create_organisation(
        db,
        actor=actor,
        kind="city",
        code="330100",
        name="杭州市",
        division_code="330100",
        parent_id=province.id,
    )
    county = actions.create_organisation(
        db,
        actor=actor,
        kind="county",
        code="330106",
        name="西湖区",
        division_code="330106",
        parent_id=city.id,
    )
    psb, health = (
        actions.create_organisation(
            db,
            actor=actor,
            kind="department",
            code=code,
            name=name,
            division_code="330000",
            parent_id=province.id,
        )
        for code, name in (("330000-psb", "浙江省公安厅"), ("330000-health", "浙江省卫生健康委员会"))
    )
    actions.create_organisation(
        db,
        actor=actor,
        kind="department",
        code="330106-health",
        name="杭州市西湖区卫生健康局",
        division_code="330106",
        parent_id=county.id,
    )
    db.flush()
    facts = derive_facts(plan_population(citizens=10))
    catalogue.catalogue_resource(db, actor=actor, spec=household_registration(facts).for_owner(psb.id))
    catalogue.catalogue_resource(db, actor=actor, spec=vaccinations(facts).for_owner(health.id))
    residents = _register(db, actor=actor, count=people, day=day)
    sources.set_up_booking_system(db, actor=actor, settings=settings.booking, datahub=settings.datahub)
    _site(db, actor=actor, slots=slots, seats=seats_per_slot, day=day)
    slot_ids = _slot_ids(db, day)
    profiles.import_profiles(
        db,
        actor=actor,
        settings=settings.booking,
        registrations=[profiles.Registration(p.person_id, p.resident_id, "13800000000") for p in residents],
    )
    return RushWorld(
        site_code=RUSH_SITE,
        product_code=RUSH_PRODUCT,
        slot_ids=slot_ids,
        seats=slots * seats_per_slot,
        people=residents,
    )


def _register(db: Session, *, actor: Actor, count: int, day: date) -> list[RushPerson]:
    password_hash = hash_password(RUSH_PASSWORD)
    now = clock.now()
    people: list[RushPerson] = []
    households, doses = [], []
    for n in range(count):
        born = date(1950, 1, 1) + timedelta(days=(n * 37) % (50 * 365))
        resident_id = make_resident_id(
            division_code="330106", birth_date=born, sequence=n % 1000, sex="male" if n % 2 else "female"
        )
        name = f"居民{n:05d}"
        person = actions.register_person(
            db, actor=actor, name=name, division_code="330106", resident_id=resident_id, audit=False
        )
        first_dose = n % 5 == 0
        people.append(RushPerson(person.id, resident_id, uuid.uuid4(), first_dose))
        households.append(
            {
                "resident_id": resident_id,
                "name": name,
                "sex": "男" if n % 2 else "女",
                "birth_date": born.isoformat(),
                "household_no": f"330106{n:06d}",
                "relation_to_head": "户主",
                "address": f"浙江省杭州市西湖区文三路{n % 500 + 1}号",
                "division_code": "330106",
            }
        )
        if first_dose:
            doses.append(
                {
                    "resident_id": resident_id,
                    "name": name,
                    "vaccine_kind": COVID,
                    "product": COVID_PRODUCT,
                    "manufacturer": "华康生物制品有限公司",
                    "dose": "1",
                    "vaccinated_on": (day - timedelta(days=60)).isoformat(),
                    "batch_no": "20260801",
                    "site": "杭州市西湖区北山街道社区卫生服务中心",
                    "site_division": "330106",
                    "adverse_reaction": "无",
                }
            )
        if n % 500 == 499:
            db.flush()  # people in batches: the driver inserts many rows per statement
    db.flush()
    accounts = cast(Table, Account.__table__)
    rows = [
        {
            "id": p.account_id,
            "kind": "citizen",
            "login_name": f"r{p.resident_id}",
            "display_name": p.resident_id[-6:],
            "person_id": p.person_id,
            "password_hash": password_hash,
            "is_active": True,
            "failed_logins": 0,
            "created_at": now,
        }
        for p in people
    ]
    for start in range(0, len(rows), 2_000):
        db.execute(insert(accounts), rows[start : start + 2_000])
    for code, records in (("330000-psb.household", households), ("330000-health.vaccinations", doses)):
        if records:
            aggregation.load_rows(
                db,
                actor=actor,
                resource_code=code,
                rows=enumerate(records, start=1),
                source="rush",
                format="records",
            )
    return people


def _site(db: Session, *, actor: Actor, slots: int, seats: int, day: date) -> None:
    schedule.create_site(
        db,
        actor=actor,
        spec=SiteSpec(
            code=RUSH_SITE,
            name="西湖区体育中心临时接种点",
            org_code="330106-health",
            division_code="330106",
            address="浙江省杭州市西湖区体育场路1号",
            latitude=30.27,
            longitude=120.13,
            opening_hours={
                d: [("08:00", "20:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        ),
    )
    db.flush()
    schedule.add_service(db, actor=actor, site_code=RUSH_SITE, spec=ServiceSpec(product_code=RUSH_PRODUCT))
    db.flush()
    for n in range(slots):
        start = (datetime.combine(day, time(9)) + timedelta(minutes=30 * n)).time()
        schedule.add_templates(
            db,
            actor=actor,
            site_code=RUSH_SITE,
            product_code=RUSH_PRODUCT,
            spec=TemplateSpec(
                weekdays=[day.isoweekday()],
                starts_at=start,
                minutes=30,
                capacity=seats,
                valid_from=day,
                valid_until=day,
            ),
        )
    db.flush()
    schedule.generate_slots(db, actor=actor, site_code=RUSH_SITE, first_day=day, last_day=day)


def _slot_ids(db: Session, day: date) -> list[int]:
    return [s.id for s in queries.list_slots(db, site_code=RUSH_SITE, first_day=day, last_day=day)]


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf: str


def open_sessions(db: Session, people: list[RushPerson], *, hours: int = 8) -> list[SignedIn]:
    """A web session for each person, as a login opens it (the cookie's token and the CSRF token), all in
    one INSERT."""
    now = clock.now()
    signed = [SignedIn(new_token("zs_"), new_token()) for _ in people]
    rows = [
        {
            "token_hash": token_hash(s.token),
            "account_id": p.account_id,
            "csrf_token": s.csrf,
            "is_second_factor_pending": False,
            "created_at": now,
            "expires_at": now + timedelta(hours=hours),
            "client_address": "127.0.0.1",
        }
        for p, s in zip(people, signed, strict=True)
    ]
    sessions = cast(Table, WebSession.__table__)
    for start in range(0, len(rows), 2_000):
        db.execute(insert(sessions), rows[start : start + 2_000])
    return signed
