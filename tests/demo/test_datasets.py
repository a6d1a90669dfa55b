"""The demo datasets: valid catalogue entries, rows that pass their own quality rules, references that
resolve, departments that agree with one another, and the demo family the later flows rely on. Pure: a
plan in, datasets out, no database."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time

import pytest

from zerotrip.common import clock
from zerotrip.datahub import grades
from zerotrip.datahub.schemas import ResourceSpec
from zerotrip.datahub.validation import RowValidator
from zerotrip.demo.datasets import Dataset, demo_datasets
from zerotrip.demo.orgs import DEPARTMENT_KEYS
from zerotrip.demo.people import REFERENCE_DATE, PopulationPlan, plan_population

SEED = 20261129
COVID = "新冠病毒疫苗"
PERSON_NAMES = {
    "name",
    "legal_representative",
    "holder_name",
    "spouse_name",
    "child_name",
    "mother_name",
    "father_name",
}


@pytest.fixture(scope="module")
def plan() -> PopulationPlan:
    return plan_population(citizens=500, seed=SEED)


@pytest.fixture(scope="module")
def datasets(plan: PopulationPlan) -> tuple[Dataset, ...]:
    return demo_datasets(plan)


@pytest.fixture(scope="module")
def by_code(datasets: tuple[Dataset, ...]) -> dict[str, Dataset]:
    return {d.spec.code: d for d in datasets}


def rows_of(by_code: dict[str, Dataset], code: str, **where: str) -> list[dict[str, str | None]]:
    return [r for r in by_code[code].rows if all(r[k] == v for k, v in where.items())]


# -- catalogue entries --------------------------------------------------------------------------------


def test_every_spec_is_a_valid_catalogue_entry(datasets: tuple[Dataset, ...]) -> None:
    codes = [d.spec.code for d in datasets]
    assert len(codes) == len(set(codes)) == 11
    for dataset in datasets:
        spec = ResourceSpec.model_validate(dataset.spec.model_dump())
        assert spec == dataset.spec
        assert spec.code.startswith(dataset.owner_code + ".")
        division, _, key = dataset.owner_code.partition("-")
        assert key in DEPARTMENT_KEYS
        assert division == ("330100" if key == "fund" else "330000"), spec.code
        assert spec.title and spec.title_en and "《" in spec.legal_basis
        grade = max(f.grade for f in spec.fields)
        assert grade <= 3, "no demo field is core (L4)"
        assert grades.share_allowed(grade, spec.share_type)
        assert grades.open_allowed(grade, spec.open_type)
        for f in spec.fields:
            assert f.check_kind is None or f.type == "string"
            is_person_name = f.name in PERSON_NAMES and (key, f.name) != ("market", "name")
            if f.check_kind == "resident_id" or is_person_name:
                assert f.grade == 2, (spec.code, f.name)
            if f.name in ("balance", "account_balance") or (f.name == "address" and key != "market"):
                assert f.grade == 3, (spec.code, f.name)


def test_share_and_open_types(by_code: dict[str, Dataset]) -> None:
    share = {code: d.spec.share_type for code, d in by_code.items()}
    assert share.pop("330000-market.enterprises") == "unconditional"
    assert share.pop("330000-data.county-population") == "unconditional"
    assert set(share.values()) == {"conditional"}
    opened = [code for code, d in by_code.items() if d.spec.open_type != "closed"]
    assert opened == ["330000-data.county-population"]
    open_data = by_code["330000-data.county-population"]
    assert open_data.spec.open_type == "open"
    assert {f.grade for f in open_data.spec.fields} == {1}
    assert len(open_data.rows) >= 300


def test_referenced_resources_come_first(datasets: tuple[Dataset, ...]) -> None:
    seen: dict[str, set[str]] = {}
    for dataset in datasets:
        for f in dataset.spec.fields:
            if f.reference is not None:
                code, _, name = f.reference.rpartition(".")
                assert name in seen.get(code, set()), f"{dataset.spec.code}.{f.name} → {f.reference}"
        seen[dataset.spec.code] = {f.name for f in dataset.spec.fields}


# -- rows ---------------------------------------------------------------------------------------------


def test_rows_have_exactly_the_fields_and_pass_the_quality_rules(datasets: tuple[Dataset, ...]) -> None:
    now = datetime.combine(REFERENCE_DATE, time(12), tzinfo=clock.CHINA)
    for dataset in datasets:
        spec = dataset.spec
        names = {f.name for f in spec.fields}
        validator = RowValidator(
            spec.fields, required=[*spec.effective_key_fields, *filter(None, [spec.subject_field])], now=now
        )
        assert dataset.rows, spec.code
        for number, row in enumerate(dataset.rows, start=1):
            assert set(row) == names, (spec.code, number)
            clean, errors = validator.validate(row)
            assert not errors, (spec.code, number, errors)
            assert clean is not None


def test_references_resolve_and_keys_are_unique(by_code: dict[str, Dataset]) -> None:
    for dataset in by_code.values():
        spec = dataset.spec
        keys = Counter(tuple(r[k] for k in spec.effective_key_fields) for r in dataset.rows)
        assert keys.most_common(1)[0][1] == 1, spec.code
        for f in spec.fields:
            values = [r[f.name] for r in dataset.rows if r[f.name] is not None]
            if f.is_unique:
                assert len(values) == len(set(values)), (spec.code, f.name)
            if f.reference is not None:
                code, _, name = f.reference.rpartition(".")
                targets = {r[name] for r in by_code[code].rows}
                assert set(values) <= targets, (spec.code, f.name)
            if f.type == "date":
                assert all(date.fromisoformat(v) <= REFERENCE_DATE for v in values if v), (spec.code, f.name)


def test_the_same_plan_gives_the_same_rows_and_another_seed_does_not(
    plan: PopulationPlan, datasets: tuple[Dataset, ...]
) -> None:
    assert demo_datasets(plan_population(citizens=500, seed=SEED)) == datasets
    other = demo_datasets(plan_population(citizens=500, seed=SEED + 1))
    assert [d.spec for d in other] == [d.spec for d in datasets]
    assert other[0].rows != datasets[0].rows


# -- the departments agree ----------------------------------------------------------------------------


def test_everyone_has_a_household_row_and_each_household_one_head(
    plan: PopulationPlan, by_code: dict[str, Dataset]
) -> None:
    rows = by_code["330000-psb.household"].rows
    assert [r["resident_id"] for r in rows] == [p.resident_id for p in plan.people]
    heads = Counter(r["household_no"] for r in rows if r["relation_to_head"] == "户主")
    assert set(heads) == {h.household_no for h in plan.households}
    assert set(heads.values()) == {1}
    relations = Counter(r["relation_to_head"] for r in rows)
    assert relations["配偶"] and relations["子女"] and relations["父母"]


def test_every_marriage_is_two_rows_naming_each_other(
    plan: PopulationPlan, by_code: dict[str, Dataset]
) -> None:
    rows = by_code["330000-civil.marriages"].rows
    spouses = {
        frozenset((plan.people[r.person].resident_id, plan.people[r.relative].resident_id))
        for r in plan.relations
        if r.kind == "spouse"
    }
    by_certificate: dict[str | None, list[dict[str, str | None]]] = defaultdict(list)
    for row in rows:
        by_certificate[row["certificate_no"]].append(row)
    assert len(by_certificate) == len(spouses)
    born = {p.resident_id: p.birth_date for p in plan.people}
    for pair in by_certificate.values():
        first, second = pair
        assert (first["resident_id"], first["spouse_id"]) == (second["spouse_id"], second["resident_id"])
        assert frozenset((first["resident_id"], first["spouse_id"])) in spouses
        assert {first["sex"], second["sex"]} == {"男", "女"}
        registered = date.fromisoformat(str(first["registered_on"]))
        for row in pair:
            legal_age = 22 if row["sex"] == "男" else 20
            assert (registered - born[str(row["resident_id"])]).days >= legal_age * 365


def test_births_name_the_childs_parents(plan: PopulationPlan, by_code: dict[str, Dataset]) -> None:
    index = {p.resident_id: i for i, p in enumerate(plan.people)}
    parents: dict[int, set[int]] = defaultdict(set)
    for r in plan.relations:
        if r.kind == "parent":
            parents[r.person].add(r.relative)
    rows = by_code["330000-health.births"].rows
    assert rows
    for row in rows:
        child = index[str(row["child_id"])]
        assert {index[str(row["mother_id"])], index[str(row["father_id"])]} == parents[child]
        assert plan.people[index[str(row["mother_id"])]].sex == "female"
        assert row["birth_date"] == plan.people[child].birth_date.isoformat()


def test_employees_have_one_employer_across_fund_and_insurance(
    plan: PopulationPlan, by_code: dict[str, Dataset]
) -> None:
    employers: dict[str | None, set[str | None]] = defaultdict(set)
    for code in ("330100-fund.accounts", "330000-hrss.social-insurance", "330000-medical.insurance"):
        for row in by_code[code].rows:
            if row["employer_uscc"] is not None:
                employers[row["resident_id"]].add(row["employer_uscc"])
    assert employers
    assert all(len(v) == 1 for v in employers.values())
    accounts = by_code["330100-fund.accounts"].rows
    assert all(str(r["resident_id"])[:4] == "3301" for r in accounts)  # Hangzhou's fund, Hangzhou people
    contributions = Counter(r["account_no"] for r in by_code["330100-fund.contributions"].rows)
    assert {r["account_no"] for r in accounts if r["status"] == "正常"} <= set(contributions)
    insured = {r["resident_id"] for r in by_code["330000-medical.insurance"].rows}
    adults = [p for p in plan.people if (REFERENCE_DATE - p.birth_date).days >= 18 * 365]
    assert sum(p.resident_id in insured for p in adults) > 0.9 * len(adults)


def test_vaccination_doses_are_in_order(by_code: dict[str, Dataset]) -> None:
    series: dict[tuple[str | None, str | None], list[tuple[int, str]]] = defaultdict(list)
    for row in by_code["330000-health.vaccinations"].rows:
        series[row["resident_id"], row["vaccine_kind"]].append(
            (int(str(row["dose"])), str(row["vaccinated_on"]))
        )
    kinds = Counter(kind for _, kind in series)
    assert kinds[COVID] and kinds["乙肝疫苗"]
    for doses in series.values():
        doses.sort()
        assert [d for d, _ in doses] == list(range(1, len(doses) + 1))
        assert [day for _, day in doses] == sorted(day for _, day in doses)


def test_the_open_dataset_counts_everyone(plan: PopulationPlan, by_code: dict[str, Dataset]) -> None:
    rows = by_code["330000-data.county-population"].rows
    assert sum(int(str(r["population"])) for r in rows) == len(plan.people)
    assert len({r["division_code"] for r in rows}) == 90


# -- the demo family ----------------------------------------------------------------------------------


def test_the_demo_family_has_what_the_flows_need(plan: PopulationPlan, by_code: dict[str, Dataset]) -> None:
    family = plan.households[0]
    father, mother, newborn = (
        plan.people[i] for i in (family.members[0], family.members[1], family.members[-1])
    )
    members = {plan.people[i].resident_id for i in family.members}
    # Housing-fund withdrawal: no real estate anywhere in the province, two years of contributions.
    holders = {r["holder_id"] for r in by_code["330000-land.real-estate"].rows}
    assert not members & holders
    for parent in (father, mother):
        (account,) = rows_of(by_code, "330100-fund.accounts", resident_id=parent.resident_id)
        assert account["status"] == "正常"
        months = sorted(
            str(r["month"])
            for r in rows_of(by_code, "330100-fund.contributions", resident_id=parent.resident_id)
        )
        assert len(months) >= 12
        assert months[-1] == "2026-10"
    # Birth bundle: married, the newborn's certificate names both, the newborn is not yet insured.
    (marriage, _) = sorted(
        rows_of(by_code, "330000-civil.marriages", spouse_id=mother.resident_id)
        + rows_of(by_code, "330000-civil.marriages", spouse_id=father.resident_id),
        key=lambda r: str(r["sex"]),
    )
    assert {marriage["resident_id"], marriage["spouse_id"]} == {father.resident_id, mother.resident_id}
    (birth,) = rows_of(by_code, "330000-health.births", child_id=newborn.resident_id)
    assert (birth["mother_id"], birth["father_id"]) == (mother.resident_id, father.resident_id)
    assert birth["division_code"] == "330106"
    assert not rows_of(by_code, "330000-medical.insurance", resident_id=newborn.resident_id)
    for parent in (father, mother):
        assert rows_of(by_code, "330000-medical.insurance", resident_id=parent.resident_id)
    # Vaccination booking: two or three COVID-19 doses for each parent.
    for parent in (father, mother):
        doses = rows_of(
            by_code, "330000-health.vaccinations", resident_id=parent.resident_id, vaccine_kind=COVID
        )
        assert 2 <= len(doses) <= 3
    assert rows_of(
        by_code, "330000-health.vaccinations", resident_id=newborn.resident_id, vaccine_kind="乙肝疫苗"
    )
