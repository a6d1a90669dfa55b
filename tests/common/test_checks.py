"""Check characters: generated identifiers validate, and every single-character substitution is caught."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerotrip.common import clock
from zerotrip.common.checks import (
    DIGITS,
    MOD37_36_ALPHABET,
    USCC_ALPHABET,
    InvalidIdentifier,
    Sex,
    is_division_code,
    is_valid_mod37_36,
    is_valid_resident_id,
    is_valid_uscc,
    make_resident_id,
    make_uscc,
    mod37_36_check_char,
    org_code_check_char,
    parse_resident_id,
    parse_uscc,
    resident_id_check_char,
    uscc_check_char,
)
from zerotrip.common.divisions import ZHEJIANG

TODAY = date(2025, 6, 30)

division_codes = st.one_of(
    st.sampled_from([d.code for d in ZHEJIANG]),
    st.sampled_from(["110105", "310115", "440305", "540102", "650102", "810000", "820000"]),
)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sexes: st.SearchStrategy[Sex] = st.sampled_from(["male", "female"])
uscc_chars = st.sampled_from(USCC_ALPHABET)


def substitutions(value: str, alphabet: str) -> list[str]:
    """Every string that differs from ``value`` in exactly one position, using ``alphabet``."""
    return [value[:i] + c + value[i + 1 :] for i in range(len(value)) for c in alphabet if c != value[i]]


def reason(excinfo: pytest.ExceptionInfo[InvalidIdentifier]) -> str:
    return excinfo.value.reason


# --- Resident ID number -------------------------------------------------------------------------------------


@given(division=division_codes, born=birth_dates, sequence=st.integers(0, 999), sex=sexes)
def test_generated_resident_ids_parse_back(division: str, born: date, sequence: int, sex: Sex) -> None:
    value = make_resident_id(division_code=division, birth_date=born, sequence=sequence, sex=sex)
    parsed = parse_resident_id(value, today=TODAY)
    assert parsed.value == value
    assert parsed.division_code == division
    assert parsed.birth_date == born
    assert parsed.sex == sex
    assert abs(int(parsed.sequence) - sequence) <= 1
    assert make_resident_id(division_code=division, birth_date=born, sequence=sequence, sex=sex) == value


@given(division=division_codes, born=birth_dates, sequence=st.integers(0, 999), sex=sexes)
def test_every_single_substitution_of_a_resident_id_fails(
    division: str, born: date, sequence: int, sex: Sex
) -> None:
    value = make_resident_id(division_code=division, birth_date=born, sequence=sequence, sex=sex)
    for changed in substitutions(value, DIGITS + "X"):
        assert not is_valid_resident_id(changed, today=TODAY), changed


@given(first17=st.text(alphabet=DIGITS, min_size=17, max_size=17))
def test_resident_id_check_char_is_the_mod_11_2_residue(first17: str) -> None:
    check = resident_id_check_char(first17)
    weighted = sum(int(c) * 2 ** (17 - i) for i, c in enumerate(first17))
    assert (weighted + (10 if check == "X" else int(check))) % 11 == 1


@given(value=st.text(max_size=20))
def test_resident_id_parsing_raises_only_invalid_identifier(value: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_resident_id(value, today=TODAY)


def test_standard_sample_resident_id() -> None:
    parsed = parse_resident_id("11010519491231002X")
    assert parsed.division_code == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sequence == "002"
    assert parsed.sex == "female"
    assert not is_valid_resident_id("110105194912310021")


def test_lower_case_x_and_surrounding_spaces_are_normalised() -> None:
    assert parse_resident_id(" 11010519491231002x ").value == "11010519491231002X"


def test_seventeenth_digit_gives_sex() -> None:
    male = make_resident_id(division_code="330106", birth_date=date(1990, 5, 17), sequence=21, sex="male")
    assert male[14:17] == "021"
    assert parse_resident_id(male).sex == "male"
    female = make_resident_id(
        division_code="330106", birth_date=date(1990, 5, 17), sequence=999, sex="female"
    )
    assert female[14:17] == "998"
    assert parse_resident_id(female).sex == "female"


def with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11010519491231002", "must be 18 characters"),
        ("11010519491231002XX", "must be 18 characters"),
        ("", "must be 18 characters"),
        ("1101051949123100X2", "must be 17 digits followed by a digit or X"),
        ("11010519491231002Y", "must be 17 digits followed by a digit or X"),
        ("１1010519491231002X", "must be 17 digits followed by a digit or X"),  # full-width one
        ("²1010519491231002X", "must be 17 digits followed by a digit or X"),
        ("11010519490230002X", "birth date is not a real date"),
        ("11010519491301002X", "birth date is not a real date"),
        ("11010500000101002X", "birth date is not a real date"),
        (with_check("11010518991231002"), "birth date is before 1900"),
        (with_check("11010520300101002"), "birth date is in the future"),
        ("110105194912310021", "check character is wrong"),
    ],
)
def test_resident_id_error_reasons(value: str, expected: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_resident_id(value, today=TODAY)
    assert reason(excinfo) == expected
    assert not is_valid_resident_id(value, today=TODAY)


def test_future_birth_date_follows_the_platform_clock() -> None:
    value = with_check("33010620250701002")
    with clock.frozen(datetime(2025, 6, 30, 15, 59, tzinfo=UTC)):  # 23:59 on 30 June in China
        assert not is_valid_resident_id(value)
    with clock.frozen(datetime(2025, 6, 30, 16, 0, tzinfo=UTC)):  # midnight, 1 July in China
        assert is_valid_resident_id(value)


@pytest.mark.parametrize("first17", ["1101051949123100", "1101051949123100A2", "１1010519491231002"])
def test_resident_id_check_char_rejects_malformed_input(first17: str) -> None:
    with pytest.raises(InvalidIdentifier):
        resident_id_check_char(first17)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"division_code": "33010", "birth_date": date(1990, 1, 1), "sequence": 1, "sex": "male"},
        {"division_code": "33010a", "birth_date": date(1990, 1, 1), "sequence": 1, "sex": "male"},
        {"division_code": "330106", "birth_date": date(1990, 1, 1), "sequence": 1000, "sex": "male"},
        {"division_code": "330106", "birth_date": date(1990, 1, 1), "sequence": -1, "sex": "male"},
        {"division_code": "330106", "birth_date": date(1899, 12, 31), "sequence": 1, "sex": "male"},
    ],
)
def test_make_resident_id_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        make_resident_id(**kwargs)


# --- Unified social credit code -----------------------------------------------------------------------------


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Any well-formed code: arbitrary authority, category and organisation code body."""
    head = draw(uscc_chars) + draw(uscc_chars) + draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    body = draw(st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8))
    first17 = head + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


@given(
    division=division_codes,
    serial=st.integers(0, 31**6 - 1),
    authority=uscc_chars,
    category=uscc_chars,
)
def test_generated_usccs_parse_back(division: str, serial: int, authority: str, category: str) -> None:
    value = make_uscc(
        division_code=division, serial=serial, registration_authority=authority, category=category
    )
    parsed = parse_uscc(value)
    assert parsed.value == value
    assert parsed.registration_authority == authority
    assert parsed.category == category
    assert parsed.division_code == division
    assert parsed.org_code == value[8:17]
    assert parsed.org_code.startswith("MA")
    assert parse_uscc(value.lower()).value == value


@given(a=st.integers(0, 31**6 - 1), b=st.integers(0, 31**6 - 1))
def test_make_uscc_gives_distinct_serials_distinct_codes(a: int, b: int) -> None:
    assert (make_uscc(division_code="330106", serial=a) == make_uscc(division_code="330106", serial=b)) == (
        a == b
    )


@given(value=usccs())
def test_every_single_substitution_of_a_uscc_fails(value: str) -> None:
    assert is_valid_uscc(value)
    for changed in substitutions(value, USCC_ALPHABET):
        assert not is_valid_uscc(changed), changed


@given(value=st.text(max_size=20))
def test_uscc_parsing_raises_only_invalid_identifier(value: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_uscc(value)


def test_uscc_weights_are_powers_of_three() -> None:
    # The weights printed in GB 32100 for positions 1 to 17.
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    first17 = "91350100M000100Y4"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    assert uscc_check_char(first17) == USCC_ALPHABET[(31 - total % 31) % 31]


def test_standard_sample_uscc() -> None:
    parsed = parse_uscc("91350100M000100Y43")
    assert parsed.registration_authority == "9"
    assert parsed.category == "1"
    assert parsed.division_code == "350100"
    assert parsed.org_code == "M000100Y4"


def test_lower_case_uscc_is_normalised() -> None:
    assert parse_uscc(" 91350100m000100y43 ").value == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("body", "check"),
    [("M000100Y", "4"), ("D2143569", "X"), ("00000000", "0"), ("MA000000", "7")],
)
def test_org_code_check_char(body: str, check: str) -> None:
    assert org_code_check_char(body) == check


def test_org_code_check_char_covers_x_and_zero() -> None:
    checks = {org_code_check_char(f"{n:08d}") for n in range(200)}
    assert "X" in checks
    assert "0" in checks


def with_uscc_check(first17: str) -> str:
    return first17 + uscc_check_char(first17)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("91350100M000100Y4", "must be 18 characters"),
        ("91350100M000100Y433", "must be 18 characters"),
        ("91350100M000100YI3", "contains a character outside 0-9 and A-Y (without I, O, S, V, Z)"),
        ("91350100M000100YO3", "contains a character outside 0-9 and A-Y (without I, O, S, V, Z)"),
        ("91350100M000100Y4Z", "contains a character outside 0-9 and A-Y (without I, O, S, V, Z)"),
        ("９1350100M000100Y43", "contains a character outside 0-9 and A-Y (without I, O, S, V, Z)"),
        (with_uscc_check("913501A0M000100Y4"), "characters 3 to 8 must be a division code"),
        ("91350100M000100Y44", "check character is wrong"),
        (with_uscc_check("91350100M000100Y5"), "organisation code check character is wrong"),
    ],
)
def test_uscc_error_reasons(value: str, expected: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_uscc(value)
    assert reason(excinfo) == expected
    assert not is_valid_uscc(value)


@pytest.mark.parametrize("first17", ["91350100M000100Y", "91350100M000100YI", "91350100m000100Y4"])
def test_uscc_check_char_rejects_malformed_input(first17: str) -> None:
    with pytest.raises(InvalidIdentifier):
        uscc_check_char(first17)


@pytest.mark.parametrize("body", ["M000100", "M000100Y4", "m000100y", "M000100-"])
def test_org_code_check_char_rejects_malformed_input(body: str) -> None:
    with pytest.raises(InvalidIdentifier):
        org_code_check_char(body)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"division_code": "3301", "serial": 1},
        {"division_code": "330106", "serial": -1},
        {"division_code": "330106", "serial": 31**6},
        {"division_code": "330106", "serial": 1, "registration_authority": "I"},
        {"division_code": "330106", "serial": 1, "category": "12"},
    ],
)
def test_make_uscc_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        make_uscc(**kwargs)


# --- ISO 7064 MOD 37,36 -------------------------------------------------------------------------------------


def test_mod37_36_known_vector() -> None:
    # The worked example used by python-stdnum's ISO 7064 module.
    assert mod37_36_check_char("A12425GABC1234002") == "M"
    assert is_valid_mod37_36("A12425GABC1234002M")
    assert not is_valid_mod37_36("A12425GABC1234002N")


@given(value=st.text(alphabet=MOD37_36_ALPHABET, min_size=1, max_size=60))
def test_mod37_36_detects_every_single_substitution(value: str) -> None:
    full = value + mod37_36_check_char(value)
    assert is_valid_mod37_36(full)
    for changed in substitutions(full, MOD37_36_ALPHABET):
        assert not is_valid_mod37_36(changed), changed


@pytest.mark.parametrize("value", ["", "A", "a12425gabc1234002m", "1.2.156.3005.2.M", "A12425GABC1234002Ｍ"])
def test_mod37_36_rejects_malformed_input(value: str) -> None:
    assert not is_valid_mod37_36(value)


def test_mod37_36_check_char_rejects_characters_outside_the_alphabet() -> None:
    with pytest.raises(InvalidIdentifier):
        mod37_36_check_char("1.2.156")


# --- Division codes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["330000", "330100", "330106", "110105", "650102", "710000", "820000"])
def test_division_codes(value: str) -> None:
    assert is_division_code(value)


@pytest.mark.parametrize(
    "value",
    ["000000", "990000", "100000", "160000", "720000", "33010", "3301060", "33010a", "３３0106", "330106 "],
)
def test_not_division_codes(value: str) -> None:
    assert not is_division_code(value)
