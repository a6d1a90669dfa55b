"""Eligibility on a fixed clock: one example per refusal reason, the real series (inactivated primary, a
heterologous booster, MMR's second dose), and properties over random histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import get_args

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from zerotrip.booking.eligibility import (
    MESSAGES,
    ActiveBooking,
    DoseRecord,
    Eligibility,
    Person,
    Reason,
    age_in_months,
    check_eligibility,
    next_dose,
    reaches_age,
)
from zerotrip.booking.products import COVID, MMR, PRODUCTS, get_product, primary_length

TODAY = date(2026, 11, 1)
ADULT = Person(birth_date=date(1985, 3, 14), sex="female")
INACTIVATED = get_product("covid-inactivated-hk")
INACTIVATED_OTHER = get_product("covid-inactivated-zy")
RECOMBINANT = get_product("covid-recombinant")
MRNA = get_product("covid-mrna")
INHALED = get_product("covid-adenovirus-inhaled")
MMR_VACCINE = get_product("mmr")
MARRIAGE = get_product("marriage-registration")
NAT = get_product("nat")
# The product name vaccination records in datahub carry (demo.datasets.health_data).
RECORDED_NAME = "新冠病毒灭活疫苗（Vero细胞）"


def covid(dose: int, given_on: date, product: str | None = RECORDED_NAME) -> DoseRecord:
    return DoseRecord(vaccine_kind=COVID, dose=dose, given_on=given_on, product=product)


def check(product_code: str, dose: int, on: date = TODAY, **kwargs: object) -> Eligibility:
    kwargs.setdefault("person", ADULT)
    return check_eligibility(product=get_product(product_code), dose=dose, on=on, today=TODAY, **kwargs)  # type: ignore[arg-type]


TWO_DOSES = (covid(1, date(2021, 5, 1)), covid(2, date(2021, 5, 29)))

# One case per reason: (product, dose, day, person, records, active bookings).
CASES: dict[Reason, tuple[str, int, date, Person, tuple[DoseRecord, ...], tuple[ActiveBooking, ...]]] = {
    "date_in_past": ("covid-inactivated-hk", 1, TODAY - timedelta(days=1), ADULT, (), ()),
    "unknown_dose": ("nat", 2, TODAY, ADULT, (), ()),
    "too_young": ("covid-inactivated-hk", 1, TODAY, Person(date(2024, 1, 1), "male"), (), ()),
    "too_old": ("mmr", 1, TODAY, ADULT, (), ()),
    "already_booked": ("nat", 1, TODAY, ADULT, (), (ActiveBooking("nat", 1),)),
    "dose_already_given": ("covid-inactivated-hk", 1, TODAY, ADULT, TWO_DOSES, ()),
    "dose_already_booked": ("covid-inactivated-zy", 1, TODAY, ADULT, (), (ActiveBooking("covid-mrna", 1),)),
    "previous_dose_pending": (
        "covid-inactivated-hk", 2, TODAY, ADULT, (), (ActiveBooking("covid-inactivated-hk", 1),),
    ),
    "wrong_dose_order": ("covid-inactivated-hk", 2, TODAY, ADULT, (), ()),
    "mixed_primary_series": ("covid-mrna", 2, TODAY, ADULT, (covid(1, date(2026, 9, 1)),), ()),
    "primary_series_required": ("covid-adenovirus-inhaled", 1, TODAY, ADULT, (), ()),
    "booster_not_allowed": (
        "covid-recombinant", 3, TODAY, ADULT,
        (covid(1, date(2021, 5, 1), "covid-mrna"), covid(2, date(2021, 5, 29), "covid-mrna")), (),
    ),
    "series_complete": (
        "covid-inactivated-hk", 4, TODAY, ADULT, (*TWO_DOSES, covid(3, date(2022, 1, 5))), (),
    ),
    "interval_too_short": (
        "covid-inactivated-hk", 2, TODAY, ADULT, (covid(1, TODAY - timedelta(days=20)),), (),
    ),
}  # fmt: skip


def test_every_reason_has_a_message_and_an_example() -> None:
    assert set(MESSAGES) == set(get_args(Reason)) == set(CASES)


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_reason_on_a_fixed_clock(reason: Reason) -> None:
    code, dose, on, person, records, active = CASES[reason]
    result = check(code, dose, on, person=person, records=records, active=active)
    assert not result.allowed
    assert result.reason == reason
    assert result.message == MESSAGES[reason]
    assert "%(" not in result.message % result.params  # every placeholder has its value


def test_too_young_says_from_when() -> None:
    toddler = Person(date(2024, 1, 31), "male")
    result = check("covid-inactivated-hk", 1, person=toddler)
    assert result.reason == "too_young"
    assert result.earliest_on == date(2027, 1, 31)
    assert result.params["min_age_months"] == 36
    assert check("covid-inactivated-hk", 1, date(2027, 1, 30), person=toddler).reason == "too_young"
    assert check("covid-inactivated-hk", 1, date(2027, 1, 31), person=toddler).allowed


def test_interval_too_short_until_the_minimum_interval_has_passed() -> None:
    first = covid(1, date(2026, 10, 20))
    early = check("covid-inactivated-hk", 2, date(2026, 11, 9), records=(first,))
    assert early.reason == "interval_too_short"
    assert early.earliest_on == date(2026, 11, 10)
    assert early.params == {"dose": 2, "days": 21, "earliest": "2026-11-10"}
    assert check("covid-inactivated-hk", 2, date(2026, 11, 10), records=(first,)).allowed
    # Another maker's inactivated vaccine completes the same primary series.
    assert check("covid-inactivated-zy", 2, date(2026, 11, 10), records=(first,)).allowed


def test_dose_already_booked_counts_any_product_of_the_kind() -> None:
    active = (ActiveBooking("covid-inactivated-zy", 1),)
    assert check("covid-inactivated-hk", 1, active=active).reason == "dose_already_booked"
    # Other kinds and appointments do not count.
    other = (ActiveBooking("hepb-adult", 1), ActiveBooking("nat", 1), ActiveBooking("gone-product", 1))
    assert check("covid-inactivated-hk", 1, active=other).allowed


def test_the_demo_records_lead_to_a_booster() -> None:
    """Records as datahub holds them (the product's name, not its code): two inactivated doses in 2021."""
    assert next_dose(INACTIVATED, TWO_DOSES) == 3
    for code in ("covid-inactivated-hk", "covid-recombinant", "covid-mrna", "covid-adenovirus-inhaled"):
        assert check(code, 3, records=TWO_DOSES).allowed, code
    booster_too_soon = check("covid-mrna", 3, date(2026, 11, 2), records=(
        covid(1, date(2026, 1, 5)), covid(2, date(2026, 5, 10)),
    ))  # fmt: skip
    assert booster_too_soon.reason == "interval_too_short"
    assert booster_too_soon.earliest_on == date(2026, 5, 10) + timedelta(days=180)


def test_a_booster_is_for_adults() -> None:
    teen = Person(date(2010, 6, 1), "male")
    result = check("covid-inactivated-hk", 3, person=teen, records=TWO_DOSES)
    assert result.reason == "too_young"
    assert result.earliest_on == date(2028, 6, 1)


def test_recombinant_primary_series_has_three_doses_and_no_booster() -> None:
    records = [DoseRecord(COVID, 1, date(2026, 9, 1), "covid-recombinant")]
    assert check("covid-recombinant", 2, records=records).allowed
    records.append(DoseRecord(COVID, 2, date(2026, 10, 5), "covid-recombinant"))
    assert check("covid-recombinant", 3, date(2026, 11, 1), records=records).reason == "interval_too_short"
    assert check("covid-recombinant", 3, date(2026, 11, 2), records=records).allowed
    assert (
        check("covid-inactivated-hk", 3, date(2026, 11, 2), records=records).reason == "mixed_primary_series"
    )
    records.append(DoseRecord(COVID, 3, date(2026, 11, 2), "covid-recombinant"))
    # No booster follows a recombinant primary series.
    assert check("covid-recombinant", 4, date(2027, 6, 1), records=records).reason == "booster_not_allowed"
    assert check("covid-mrna", 4, date(2027, 6, 1), records=records).reason == "booster_not_allowed"
    assert check("covid-mrna", 5, date(2027, 6, 1), records=records).reason == "wrong_dose_order"
    assert check("covid-mrna", 0, date(2027, 6, 1), records=records).reason == "unknown_dose"


def test_mmr_second_dose_waits_for_eighteen_months() -> None:
    child = Person(date(2025, 7, 15), "female")
    first = DoseRecord(MMR, 1, date(2026, 3, 20), "麻疹腮腺炎风疹联合减毒活疫苗")
    early = check("mmr", 2, person=child, records=(first,))
    assert early.reason == "too_young"
    assert early.earliest_on == date(2027, 1, 15)
    assert check("mmr", 2, date(2027, 1, 15), person=child, records=(first,)).allowed


def test_marriage_age_differs_by_sex() -> None:
    born = date(2005, 6, 1)
    on = date(2026, 11, 5)  # 21 years old
    assert check("marriage-registration", 1, on, person=Person(born, "female")).allowed
    refused = check("marriage-registration", 1, on, person=Person(born, "male"))
    assert refused.reason == "too_young"
    assert refused.earliest_on == date(2027, 6, 1)
    assert check("marriage-registration", 2, on, person=Person(born, "female")).reason == "unknown_dose"


def test_unknown_recorded_product_is_assumed_to_be_the_same_platform() -> None:
    records = (covid(1, date(2026, 9, 1), "某进口疫苗"),)
    assert check("covid-mrna", 2, records=records).allowed
    assert check(
        "covid-adenovirus-inhaled", 3, records=(*records, covid(2, date(2026, 9, 30), None))
    ).reason == ("booster_not_allowed")


# --- properties ---------------------------------------------------------------------------------------------

VACCINES = [p for p in PRODUCTS if p.is_vaccine]
days = st.integers(min_value=-400, max_value=400).map(lambda n: TODAY + timedelta(days=n))
near_days = st.integers(min_value=0, max_value=60).map(lambda n: TODAY + timedelta(days=n))
people = st.builds(
    Person,
    birth_date=st.one_of(
        st.dates(min_value=date(1920, 1, 1), max_value=TODAY),
        st.integers(0, 25 * 366).map(lambda n: TODAY - timedelta(days=n)),
    ),
    sex=st.sampled_from(["male", "female"]),
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[DoseRecord, ...]:
    """0–4 doses of one vaccine kind, numbered 1.., given at increasing dates with random products; often
    recent, so intervals matter."""
    kind = draw(st.sampled_from([COVID, MMR]))
    names = [p.code for p in PRODUCTS if p.vaccine_kind == kind] + [p.name for p in PRODUCTS] + ["未知疫苗"]
    count = draw(st.integers(0, 4))
    day = TODAY - timedelta(days=draw(st.one_of(st.integers(0, 120), st.integers(0, 2400))) + 60 * count)
    records = []
    for number in range(1, count + 1):
        records.append(DoseRecord(kind, number, day, draw(st.sampled_from([*names, None]))))
        day += timedelta(days=draw(st.integers(1, 240)))
    return tuple(records)


actives = st.lists(
    st.builds(
        ActiveBooking, product_code=st.sampled_from([p.code for p in PRODUCTS]), dose=st.integers(1, 4)
    ),
    max_size=3,
).map(tuple)


@given(
    product=st.sampled_from(PRODUCTS),
    dose=st.integers(-1, 6),
    on=days,
    person=people,
    records=histories(),
    active=actives,
)
@settings(max_examples=400)
def test_an_allowed_booking_keeps_every_rule(product, dose, on, person, records, active) -> None:  # type: ignore[no-untyped-def]
    result = check_eligibility(
        person=person, product=product, dose=dose, on=on, today=TODAY, records=records, active=active
    )
    assert result.dose == dose
    if not result.allowed:
        assert result.reason in MESSAGES
        assert "%(" not in result.message % result.params
        return
    age = age_in_months(person.birth_date, on)
    assert on >= TODAY
    assert age >= product.min_age_for(person.sex)
    assert product.max_age_months is None or age < product.max_age_months
    if not product.is_vaccine:
        assert dose == 1
        assert all(b.product_code != product.code for b in active)
        return
    mine = [r for r in records if r.vaccine_kind == product.vaccine_kind]
    assert dose == max((r.dose for r in mine), default=0) + 1
    same_kind = [b for b in active if get_product(b.product_code).vaccine_kind == product.vaccine_kind]
    assert all(b.dose != dose for b in same_kind)
    previous = [r for r in mine if r.dose == dose - 1]
    if previous:
        gap = (on - previous[0].given_on).days
        rule = product.primary[dose - 1] if dose <= len(product.primary) else None
        needed = rule.min_interval_days if rule is not None else product.booster.min_interval_days  # type: ignore[union-attr]
        assert gap >= needed


@given(product=st.sampled_from(VACCINES), person=people, records=histories(), active=actives, on=near_days)
@settings(max_examples=250, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
def test_earliest_day_is_exact(product, person, records, active, on) -> None:  # type: ignore[no-untyped-def]
    """For a refusal that passes with time, the earliest day passes that rule and the day before does not."""
    dose = next_dose(product, records)
    result = check_eligibility(
        person=person, product=product, dose=dose, on=on, today=TODAY, records=records, active=active
    )
    assume(result.reason in ("too_young", "interval_too_short"))
    assert result.earliest_on is not None and result.earliest_on > on
    later = check_eligibility(
        person=person, product=product, dose=dose, on=result.earliest_on, today=TODAY, records=records,
        active=active,
    )  # fmt: skip
    assert later.reason != result.reason or later.earliest_on != result.earliest_on
    day_before = check_eligibility(
        person=person, product=product, dose=dose, on=result.earliest_on - timedelta(days=1), today=TODAY,
        records=records, active=active,
    )  # fmt: skip
    assert day_before.reason == result.reason


@given(
    product=st.sampled_from(PRODUCTS), person=people, records=histories(), on=days, wait=st.integers(1, 900)
)
@settings(max_examples=200)
def test_waiting_never_revokes_an_allowed_booking_without_an_upper_age(  # type: ignore[no-untyped-def]
    product, person, records, on, wait
) -> None:
    assume(product.max_age_months is None)
    dose = next_dose(product, records)
    now = check_eligibility(person=person, product=product, dose=dose, on=on, today=TODAY, records=records)
    assume(now.allowed)
    later = on + timedelta(days=wait)
    assert check_eligibility(
        person=person, product=product, dose=dose, on=later, today=TODAY, records=records
    ).allowed


@given(product=st.sampled_from(PRODUCTS), person=people, records=histories(), active=actives, on=days)
@settings(max_examples=200)
def test_order_of_records_and_bookings_does_not_matter(  # type: ignore[no-untyped-def]
    product, person, records, active, on
) -> None:
    dose = next_dose(product, records)
    args = {"person": person, "product": product, "dose": dose, "on": on, "today": TODAY}
    forward = check_eligibility(**args, records=records, active=active)
    backward = check_eligibility(**args, records=records[::-1], active=active[::-1])
    assert forward == backward


@given(product=st.sampled_from(PRODUCTS), person=people, records=histories(), on=days)
@settings(max_examples=200)
def test_holding_the_dose_refuses_a_second_booking(product, person, records, on) -> None:  # type: ignore[no-untyped-def]
    """One active booking per person per dose: whatever was allowed is refused once a booking holds it."""
    dose = next_dose(product, records)
    first = check_eligibility(person=person, product=product, dose=dose, on=on, today=TODAY, records=records)
    assume(first.allowed)
    for other in [
        p for p in PRODUCTS if p.vaccine_kind == product.vaccine_kind and p.code != product.code
    ] + [product]:
        held = (ActiveBooking(other.code, dose),)
        again = check_eligibility(
            person=person, product=product, dose=dose, on=on, today=TODAY, records=records, active=held
        )
        if product.is_vaccine:
            assert again.reason == "dose_already_booked"
        elif other == product:
            assert again.reason == "already_booked"


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)), months=st.integers(0, 1500))
def test_reaching_an_age(born: date, months: int) -> None:
    day = reaches_age(born, months)
    assert age_in_months(born, day) >= months
    assert age_in_months(born, day - timedelta(days=1)) < months


def test_primary_length_by_platform() -> None:
    assert primary_length(COVID, "inactivated") == 2
    assert primary_length(COVID, "recombinant") == 3
    assert primary_length(COVID, "adenovirus") == 0
    assert INACTIVATED.max_dose == RECOMBINANT.max_dose == MRNA.max_dose == INHALED.max_dose == 3
    assert MARRIAGE.max_dose == NAT.max_dose == 0
    assert replace(MMR_VACCINE, booster=None).max_dose == 2
    assert INACTIVATED_OTHER.name == INACTIVATED.name
    assert INACTIVATED_OTHER.manufacturer != INACTIVATED.manufacturer
