"""What every demo dataset shares: the Dataset shape, spec helpers, and facts derived once from the plan.

``Facts`` holds the derivations several departments must agree on (who is married to whom, who works
where, which household is the demo family), so that, say, the housing fund, social insurance and medical
insurance name the same employer for a person.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.demo.orgs import RegionName, department_name, region_names
from zerotrip.demo.people import REFERENCE_DATE, HouseholdPlan, PersonPlan, PopulationPlan, age_on

Row = dict[str, str | None]

HANGZHOU = "330100"
SEXES = ["男", "女"]
# One regulation every sharing department relies on, after its own statute.
PUBLIC_DATA_REGULATION = "《浙江省公共数据条例》"
MONTH_PATTERN = r"^\d{4}-\d{2}$"


@dataclass(frozen=True)
class Dataset:
    owner_code: str  # organisation code of the owning department, e.g. "330000-psb"
    spec: ResourceSpec  # owner_org_id is 0 until ``for_owner`` fills it in from the organisation tree
    rows: tuple[Row, ...]

    def for_owner(self, owner_org_id: int) -> ResourceSpec:
        return self.spec.model_copy(update={"owner_org_id": owner_org_id})


def field(name: str, title: str, grade: int, **rules: object) -> FieldSpec:
    return FieldSpec.model_validate({"name": name, "title": title, "grade": grade, **rules})


def resource(code: str, title: str, title_en: str, **values: object) -> ResourceSpec:
    """A resource spec owned by the department whose code prefixes ``code`` ("330000-psb.household")."""
    owner = code.partition(".")[0]
    division, _, key = owner.partition("-")
    owner_name = department_name(key, division, region_names())[0]
    return ResourceSpec.model_validate(
        {
            "code": code,
            "owner_org_id": 0,
            "title": title,
            "title_en": title_en,
            "contact": f"{owner_name}数据管理处",
            **values,
        }
    )


def sex_zh(person: PersonPlan) -> str:
    return "男" if person.sex == "male" else "女"


def rng_for(plan: PopulationPlan, name: str) -> random.Random:
    """One generator per dataset, so adding a dataset or a row to one never shifts another's values."""
    return random.Random(f"{plan.seed}:{name}")


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def between(rng: random.Random, first: date, last: date) -> date:
    """A day from ``first`` to ``last`` inclusive (``first`` when the range is empty)."""
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def month_of(day: date, offset: int = 0) -> tuple[int, int]:
    """The (year, month) ``offset`` months after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + offset
    return index // 12, index % 12 + 1


def money(value: float) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class Facts:
    """Derivations from the plan that several datasets must agree on."""

    plan: PopulationPlan
    regions: dict[str, RegionName]
    ages: tuple[int, ...]
    household_of: tuple[HouseholdPlan, ...]  # aligned with plan.people
    spouse_of: dict[int, int]
    parents_of: dict[int, tuple[int, ...]]
    employer_of: dict[int, int]  # person index → enterprise index
    wage_of: dict[int, int]  # monthly wage in yuan of everyone with an employer
    retired_employees: frozenset[int]  # retired from an employer: an employee's pension and medical cover
    # The demo family: the first household, a couple in 西湖区 with a newborn.
    father: int
    mother: int
    newborn: int

    @property
    def parents(self) -> tuple[int, int]:
        return self.father, self.mother

    def person(self, index: int) -> PersonPlan:
        return self.plan.people[index]

    def county_name(self, division_code: str) -> str:
        """A county as documents name it: 杭州市西湖区 for a district, 桐庐县 for a county."""
        county = self.regions[division_code].name
        city = self.regions[division_code[:4] + "00"].name
        return city + county if county.endswith("区") else county


def derive_facts(plan: PopulationPlan) -> Facts:
    household_of = {index: h for h in plan.households for index in h.members}
    spouse_of: dict[int, int] = {}
    parents: dict[int, list[int]] = {}
    for relation in plan.relations:
        if relation.kind == "spouse":
            spouse_of[relation.person] = relation.relative
            spouse_of[relation.relative] = relation.person
        else:
            parents.setdefault(relation.person, []).append(relation.relative)
    family = plan.households[0]
    father, mother, newborn = family.members[0], family.members[1], family.members[-1]
    ages = tuple(age_on(p.birth_date, REFERENCE_DATE) for p in plan.people)
    employer_of = _employment(plan, ages, (father, mother))
    rng = rng_for(plan, "wages")
    # Wages spread roughly log-normally around 8,000 yuan a month.
    wage_of = {i: int(min(60_000, max(2_490, rng.lognormvariate(9.0, 0.5)))) for i in sorted(employer_of)}
    retired = frozenset(
        i
        for i, p in enumerate(plan.people)
        if i not in employer_of and ages[i] >= (60 if p.sex == "male" else 55) and rng.random() < 0.55
    )
    return Facts(
        plan=plan,
        regions=region_names(),
        ages=ages,
        household_of=tuple(household_of[index] for index in range(len(plan.people))),
        spouse_of=spouse_of,
        parents_of={child: tuple(ps) for child, ps in parents.items()},
        employer_of=employer_of,
        wage_of=wage_of,
        retired_employees=retired,
        father=father,
        mother=mother,
        newborn=newborn,
    )


def _employment(plan: PopulationPlan, ages: tuple[int, ...], demo_parents: tuple[int, int]) -> dict[int, int]:
    """Who works where: legal representatives at their own enterprise, most other adults of working age
    at an enterprise in their own city when there is one, and both demo parents at long-established
    Hangzhou enterprises (their fund record reaches back two years)."""
    rng = rng_for(plan, "employment")
    by_city: dict[str, list[int]] = {}
    for e, enterprise in enumerate(plan.enterprises):
        by_city.setdefault(enterprise.division_code[:4] + "00", []).append(e)
    everywhere = list(range(len(plan.enterprises)))
    employer: dict[int, int] = {}
    for index, person in enumerate(plan.people):
        if 20 <= ages[index] <= 59 and rng.random() < 0.78:
            employer[index] = rng.choice(by_city.get(person.division_code[:4] + "00") or everywhere)
    for e, enterprise in enumerate(plan.enterprises):
        employer[enterprise.legal_representative] = e
    settled = REFERENCE_DATE - timedelta(days=3 * 365)
    oldest_first = sorted(everywhere, key=lambda e: plan.enterprises[e].established_on)
    in_hangzhou = [e for e in by_city.get(HANGZHOU, []) if plan.enterprises[e].established_on <= settled]
    for n, parent in enumerate(demo_parents):
        employer[parent] = in_hangzhou[n % len(in_hangzhou)] if in_hangzhou else oldest_first[0]
    return employer


def department_title(facts: Facts, key: str, division_code: str) -> str:
    """A department's full name as printed on documents: a district's bureau carries its city's name."""
    name = department_name(key, division_code, facts.regions)[0]
    city = facts.regions[division_code[:4] + "00"].name
    if facts.regions[division_code].name.endswith("区") and not name.startswith(city):
        return city + name
    return name
