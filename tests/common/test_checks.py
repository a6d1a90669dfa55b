"""Check characters: valid numbers pass, and every single-character change is caught."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerotrip.common.checks import (
    USCC_ALPHABET,
    InvalidIdentifier,
    is_division_code,
    is_valid_resident_id,
    is_valid_uscc,
    make_resident_id,
    make_uscc,
    org_code_check_char,
    parse_resident_id,
    parse_uscc,
)
from zerotrip.common.divisions import counties

county_codes = st.sampled_from([d.code for d in counties()])
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 1))
sexes = st.sampled_from(["male", "female"])


@st.composite
def resident_ids(draw: st.DrawFn) -> tuple[str, date, str]:
    born = draw(birth_dates)
    sex = draw(sexes)
    value = make_resident_id(
        division_code=draw(county_codes), birth_date=born, sequence=draw(st.integers(0, 999)), sex=sex
    )
    return value, born, sex


@st.composite
def usccs(draw: st.DrawFn) -> str:
    return make_uscc(
        division_code=draw(county_codes),
        serial=draw(st.integers(0, 10**9)),
        registration_authority=draw(st.sampled_from("159")),
        category=draw(st.sampled_from("123")),
    )


def test_the_standard_sample_number() -> None:
    parsed = parse_resident_id("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"
    assert parsed.division_code == "110105"
    assert not is_valid_resident_id("110105194912310021")
    assert parse_resident_id("11010519491231002x").value == "11010519491231002X"


@given(resident_ids())
def test_generated_resident_ids_are_valid_and_carry_birth_date_and_sex(case: tuple[str, date, str]) -> None:
    value, born, sex = case
    parsed = parse_resident_id(value)
    assert (parsed.birth_date, parsed.sex) == (born, sex)


@settings(max_examples=60)
@given(resident_ids())
def test_every_single_character_change_of_a_resident_id_fails(case: tuple[str, date, str]) -> None:
    value = case[0]
    for position in range(18):
        for replacement in "0123456789X":
            if replacement == value[position]:
                continue
            changed = value[:position] + replacement + value[position + 1 :]
            assert not is_valid_resident_id(changed), changed


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1101051949123100", "must be 18 characters"),
        ("1101051949123100AX", "must be 17 digits followed by a digit or X"),
        ("110105194902300027", "birth date is not a real date"),
        ("110105299912310027", "birth date is in the future"),
        ("110105194912310021", "check character is wrong"),
    ],
)
def test_resident_id_reasons(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_resident_id(value)
    assert caught.value.reason == reason


def test_a_known_credit_code() -> None:
    # A widely published, valid sample: the GB 32100 check and the GB 11714 organisation code both hold.
    parsed = parse_uscc("91350100M000100Y43")
    assert parsed.division_code == "350100"
    assert parsed.org_code == "M000100Y4"
    assert org_code_check_char("M000100Y") == "4"


@given(usccs())
def test_generated_credit_codes_are_valid(value: str) -> None:
    assert is_valid_uscc(value)
    assert parse_uscc(value.lower()).value == value


@settings(max_examples=60)
@given(usccs())
def test_every_single_character_change_of_a_credit_code_fails(value: str) -> None:
    for position in range(18):
        for replacement in USCC_ALPHABET:
            if replacement == value[position]:
                continue
            changed = value[:position] + replacement + value[position + 1 :]
            assert not is_valid_uscc(changed), changed


def test_credit_code_reasons() -> None:
    good = make_uscc(division_code="330106", serial=7)
    with pytest.raises(InvalidIdentifier, match="18 characters"):
        parse_uscc(good[:-1])
    with pytest.raises(InvalidIdentifier, match="outside"):
        parse_uscc(good[:-1] + "I")
    wrong = good[:-1] + next(c for c in USCC_ALPHABET if c != good[-1])
    with pytest.raises(InvalidIdentifier, match="check character is wrong"):
        parse_uscc(wrong)


def test_division_codes() -> None:
    assert is_division_code("330106")
    assert not is_division_code("000000")
    assert not is_division_code("990000")
    assert not is_division_code("33010")
