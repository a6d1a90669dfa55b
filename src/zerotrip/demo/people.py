"""A synthetic population: households over Zhejiang's counties, family ties, and enterprises.

``plan_population`` is pure (seed in, records out, no database, no wall clock); ``build_population`` writes a
plan through the identity actions. Keeping them apart makes determinism cheap to test.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import divisions
from zerotrip.common.checks import make_resident_id, make_uscc
from zerotrip.demo.names import NameGenerator, Sex
from zerotrip.demo.orgs import OrgTree, region_names
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor

Progress = Callable[[str, int, int], None]
HouseholdKind = Literal["single", "couple", "family", "newborn", "elderly", "three_generations"]

DEFAULT_SEED = 20261129
# Ages and "newborn" are measured from this date, never from today, so a seed always gives the same people.
REFERENCE_DATE = date(2026, 11, 1)
DEMO_COUNTY = "330106"  # 杭州市西湖区: the first household, a couple with a newborn, lives here

# Rough resident population of each city in ten thousands; a city's districts count 1.5 times a county.
_CITY_POPULATION = {
    "330100": 1252, "330200": 969, "330300": 968, "330400": 558, "330500": 343, "330600": 533,
    "330700": 712, "330800": 229, "330900": 117, "331000": 667, "331100": 251,
}  # fmt: skip
_HOUSEHOLD_KINDS: tuple[HouseholdKind, ...] = (
    "single",
    "couple",
    "family",
    "newborn",
    "elderly",
    "three_generations",
)
_HOUSEHOLD_WEIGHTS = (18, 20, 34, 5, 11, 12)


@dataclass(frozen=True)
class PersonPlan:
    resident_id: str
    name: str
    sex: Sex
    birth_date: date
    division_code: str
    household_no: str
    address: str
    phone: str | None


@dataclass(frozen=True)
class RelationPlan:
    """``relative`` is the ``kind`` ("spouse" or "parent") of ``person``; indexes into the plan's people."""

    person: int
    relative: int
    kind: Literal["spouse", "parent"]


@dataclass(frozen=True)
class HouseholdPlan:
    household_no: str
    division_code: str
    kind: HouseholdKind
    members: tuple[int, ...]


@dataclass(frozen=True)
class EnterprisePlan:
    uscc: str
    name: str
    legal_representative: int
    division_code: str
    address: str
    established_on: date


@dataclass(frozen=True)
class PopulationPlan:
    seed: int
    people: tuple[PersonPlan, ...]
    relations: tuple[RelationPlan, ...]
    households: tuple[HouseholdPlan, ...]
    enterprises: tuple[EnterprisePlan, ...]


@dataclass(frozen=True)
class _Home:
    county: str
    household_no: str
    address: str


def _county_weights() -> tuple[list[str], list[float]]:
    counties = sorted(divisions.counties(), key=lambda d: d.code)
    codes = [d.code for d in counties]
    raw = [1.5 if d.name.endswith("区") else 1.0 for d in counties]
    per_city: dict[str, float] = {}
    for d, w in zip(counties, raw, strict=True):
        per_city[d.parent_code or ""] = per_city.get(d.parent_code or "", 0.0) + w
    weights = [
        _CITY_POPULATION.get(d.parent_code or "", 300) * w / per_city[d.parent_code or ""]
        for d, w in zip(counties, raw, strict=True)
    ]
    return codes, weights


def age_on(born: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class _Planner:
    def __init__(self, *, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = NameGenerator(self.rng)
        self.regions = region_names()
        self.people: list[PersonPlan] = []
        self.surnames: list[str] = []  # aligned with people: compound surnames make slicing names unsafe
        self.relations: list[RelationPlan] = []
        self.households: list[HouseholdPlan] = []
        self._ids: set[str] = set()
        self._serials: dict[str, int] = {}

    def birth_date(self, age: int) -> date:
        """A birth date making someone ``age`` on the reference date."""
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
        return latest - timedelta(days=self.rng.randrange(365))

    def resident_id(self, county: str, born: date, sex: Sex) -> str:
        while True:
            value = make_resident_id(
                division_code=county, birth_date=born, sequence=self.rng.randrange(1000), sex=sex
            )
            if value not in self._ids:
                self._ids.add(value)
                return value

    def address(self, county: str) -> str:
        return self.names.address(city=self.regions[county[:4] + "00"].name, county=self.regions[county].name)

    def person(
        self, home: _Home, *, sex: Sex, age: int, surname: str | None = None, born: date | None = None
    ) -> int:
        born = born or self.birth_date(age)
        surname = surname or self.names.surname()
        has_phone = age >= 16 and self.rng.random() < (0.7 if age >= 70 else 0.97)
        self.people.append(
            PersonPlan(
                resident_id=self.resident_id(home.county, born, sex),
                name=surname + self.names.given_name(sex=sex, birth_year=born.year),
                sex=sex,
                birth_date=born,
                division_code=home.county,
                household_no=home.household_no,
                address=home.address,
                phone=self.names.phone() if has_phone else None,
            )
        )
        self.surnames.append(surname)
        return len(self.people) - 1

    def couple(self, home: _Home, *, husband_age: int) -> tuple[int, int, str]:
        surname = self.names.surname()
        husband = self.person(home, sex="male", age=husband_age, surname=surname)
        wife_age = max(20, husband_age - self.rng.choice((-1, 0, 1, 1, 2, 2, 3, 4)))
        wife = self.person(home, sex="female", age=wife_age)
        self.relations.append(RelationPlan(husband, wife, "spouse"))
        return husband, wife, surname

    def child(self, home: _Home, parents: tuple[int, int], *, age: int, born: date | None = None) -> int:
        # Most children take the father's surname; some take the mother's.
        surname = self.surnames[parents[1] if self.rng.random() < 0.1 else parents[0]]
        sex: Sex = self.rng.choice(("male", "female"))
        kid = self.person(home, sex=sex, age=age, surname=surname, born=born)
        for parent in parents:
            self.relations.append(RelationPlan(kid, parent, "parent"))
        return kid

    def household(self, kind: HouseholdKind, county: str, *, is_demo_family: bool = False) -> None:
        serial = self._serials[county] = self._serials.get(county, 0) + 1
        home = _Home(county, f"{county}{serial:06d}", self.address(county))
        start = len(self.people)
        rng = self.rng
        if kind == "single":
            age = rng.randint(20, 45) if rng.random() < 0.75 else rng.randint(46, 85)
            self.person(home, sex=rng.choice(("male", "female")), age=age)
        elif kind == "couple":
            self.couple(home, husband_age=rng.randint(24, 60))
        elif kind == "elderly":
            self.couple(home, husband_age=rng.randint(62, 88))
        elif kind in ("family", "three_generations"):
            husband, wife, surname = self.couple(home, husband_age=rng.randint(28, 50))
            oldest_child = max(0, min(18, self.age(husband) - 21, self.age(wife) - 21))
            for _ in range(rng.choice((1, 1, 2, 2, 3)) if kind == "family" else rng.choice((1, 2))):
                self.child(home, (husband, wife), age=rng.randint(0, oldest_child))
            if kind == "three_generations":
                self.grandparents(home, husband, surname)
        else:  # newborn: born in the six months before the reference date
            husband, wife, _ = self.couple(home, husband_age=rng.randint(25, 38))
            # The demo family's newborn is the mother's only child in the births register, so the demo's
            # newborn bundle (出生“一件事”) is unambiguously about it.
            if rng.random() < 0.3 and not is_demo_family:
                self.child(home, (husband, wife), age=rng.randint(2, 6))
            born = REFERENCE_DATE - timedelta(days=rng.randint(7, 180))
            self.child(home, (husband, wife), age=0, born=born)
        members = tuple(range(start, len(self.people)))
        self.households.append(HouseholdPlan(home.household_no, county, kind, members))

    def grandparents(self, home: _Home, adult: int, surname: str) -> None:
        """The husband's elderly parents live with the family; both are linked as his parents."""
        age = self.age(adult) + self.rng.randint(24, 34)
        grandfather = self.person(home, sex="male", age=age, surname=surname)
        parents = [grandfather]
        if self.rng.random() < 0.75:
            grandmother = self.person(home, sex="female", age=age - self.rng.randint(0, 4))
            self.relations.append(RelationPlan(grandfather, grandmother, "spouse"))
            parents.append(grandmother)
        for parent in parents:
            self.relations.append(RelationPlan(adult, parent, "parent"))

    def age(self, index: int) -> int:
        return age_on(self.people[index].birth_date, REFERENCE_DATE)

    def enterprises(self, count: int, codes: list[str], weights: list[float]) -> list[EnterprisePlan]:
        adults_by_county: dict[str, list[int]] = {}
        for i, p in enumerate(self.people):
            if 25 <= self.age(i) <= 65:
                adults_by_county.setdefault(p.division_code, []).append(i)
        everyone = [i for group in adults_by_county.values() for i in group]
        result: list[EnterprisePlan] = []
        used_codes: set[str] = set()
        used_names: set[str] = set()
        while len(result) < count:
            county = self.rng.choices(codes, weights)[0]
            uscc = make_uscc(division_code=county, serial=self.rng.randrange(10**8))
            name = self.enterprise_name(county)
            if uscc in used_codes or name in used_names:
                continue
            used_codes.add(uscc)
            used_names.add(name)
            candidates = adults_by_county.get(county) or everyone
            result.append(
                EnterprisePlan(
                    uscc=uscc,
                    name=name,
                    legal_representative=self.rng.choice(candidates),
                    division_code=county,
                    address=self.address(county),
                    established_on=REFERENCE_DATE - timedelta(days=self.rng.randint(60, 30 * 365)),
                )
            )
        return result

    def enterprise_name(self, county: str) -> str:
        # Registered names lead with the place: the city, sometimes the county too.
        place = self.regions[county[:4] + "00"].short_name
        if self.rng.random() < 0.4:
            place += self.regions[county].short_name
        return self.names.enterprise_name(place=place)


def plan_population(*, citizens: int = 10_000, seed: int = DEFAULT_SEED) -> PopulationPlan:
    """Exactly ``citizens`` people in households, with their ties and ``max(1, citizens // 50)``
    enterprises. The first household is a couple with a newborn in 杭州市西湖区 (the demo family); the
    next ones give every county at least one household; the rest are spread by rough population."""
    if citizens < 10:
        raise ValueError("a demo population needs at least 10 citizens")
    planner = _Planner(seed=seed)
    codes, weights = _county_weights()
    sizes = {"single": 1, "couple": 2, "elderly": 2, "newborn": 4, "family": 5, "three_generations": 7}
    number = 0
    while len(planner.people) < citizens:
        remaining = citizens - len(planner.people)
        if number == 0:
            kind: HouseholdKind = "newborn"
            county = DEMO_COUNTY
        else:
            kind = planner.rng.choices(_HOUSEHOLD_KINDS, _HOUSEHOLD_WEIGHTS)[0]
            county = codes[number - 1] if number <= len(codes) else planner.rng.choices(codes, weights)[0]
        # Near the end, only households that surely fit, so the count comes out exact.
        if sizes[kind] > remaining:
            kind = "couple" if remaining >= 2 else "single"
        planner.household(kind, county, is_demo_family=number == 0)
        number += 1
    enterprises = planner.enterprises(max(1, citizens // 50), codes, weights)
    return PopulationPlan(
        seed=seed,
        people=tuple(planner.people),
        relations=tuple(planner.relations),
        households=tuple(planner.households),
        enterprises=tuple(enterprises),
    )


@dataclass
class Population:
    """A built population: the plan, and the ids its people and enterprises were given (same order)."""

    plan: PopulationPlan
    person_ids: list[uuid.UUID]
    enterprise_ids: list[uuid.UUID]
    # The ORM rows, held so they stay in the session's identity map while ties are recorded.
    rows: list[object] = field(default_factory=list, repr=False)

    def person_id(self, index: int) -> uuid.UUID:
        return self.person_ids[index]

    def households(self, kind: HouseholdKind) -> list[HouseholdPlan]:
        return [h for h in self.plan.households if h.kind == kind]


def build_population(
    db: Session,
    *,
    actor: Actor,
    org_tree: OrgTree,
    citizens: int = 10_000,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> Population:
    """Register a planned population through the identity actions: people (one summary audit event rather
    than one per person), family ties, then enterprises with their legal representatives."""
    plan = plan_population(citizens=citizens, seed=seed)
    missing = {p.division_code for p in plan.people} - set(org_tree.nodes)
    if missing:
        raise ValueError(f"the organisation tree does not serve {', '.join(sorted(missing))}")
    batch = 1000
    people = []
    # Uniqueness of ID numbers is guaranteed by the plan, so pending rows need not be flushed before each
    # action's duplicate check; flushing in batches lets the driver insert many rows per statement.
    with db.no_autoflush:
        for i, p in enumerate(plan.people, start=1):
            people.append(
                actions.register_person(
                    db,
                    actor=actor,
                    resident_id=p.resident_id,
                    name=p.name,
                    division_code=p.division_code,
                    sex=p.sex,
                    birth_date=p.birth_date,
                    phone=p.phone,
                    address=p.address,
                    household_no=p.household_no,
                    audit=False,
                )
            )
            if i % batch == 0 or i == len(plan.people):
                db.flush()
                if progress is not None:
                    progress("citizens", i, len(plan.people))
    ids = [p.id for p in people]
    for i, r in enumerate(plan.relations, start=1):
        actions.link_relatives(
            db, actor=actor, person_id=ids[r.person], relative_id=ids[r.relative], kind=r.kind, audit=False
        )
        if i % batch == 0 or i == len(plan.relations):
            db.flush()
            if progress is not None:
                progress("family ties", i, len(plan.relations))
    enterprises = []
    for i, e in enumerate(plan.enterprises, start=1):
        enterprises.append(
            actions.register_enterprise(
                db,
                actor=actor,
                uscc=e.uscc,
                name=e.name,
                legal_representative_id=ids[e.legal_representative],
                division_code=e.division_code,
                address=e.address,
                established_on=e.established_on,
            )
        )
        if progress is not None and (i % 100 == 0 or i == len(plan.enterprises)):
            progress("enterprises", i, len(plan.enterprises))
    record_event(
        db,
        actor=actor.principal,
        action="demo.population.seeded",
        subject_type="demo",
        subject_id=f"population:{seed}",
        data={
            "seed": seed,
            "citizens": len(plan.people),
            "households": len(plan.households),
            "relations": len(plan.relations),
            "enterprises": len(plan.enterprises),
            "reference_date": REFERENCE_DATE.isoformat(),
        },
    )
    db.flush()
    return Population(
        plan=plan, person_ids=ids, enterprise_ids=[e.id for e in enterprises], rows=[*people, *enterprises]
    )
