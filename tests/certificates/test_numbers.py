"""Certificate numbers, issuer credit codes and grant codes: valid, unique, unguessable, checked."""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerotrip.certificates import numbers
from zerotrip.common.checks import (
    MOD37_36_ALPHABET,
    InvalidIdentifier,
    is_valid_mod37_36,
    mod37_36_check_char,
    parse_uscc,
)
from zerotrip.common.divisions import ZHEJIANG


@dataclass(frozen=True)
class Org:
    code: str
    division_code: str


DIVISIONS = [d.code for d in ZHEJIANG]
orgs = st.builds(
    Org,
    code=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=30),
    division_code=st.sampled_from(DIVISIONS),
)
serials = st.integers(1, 999)


@given(org=orgs)
def test_issuer_credit_codes_are_valid_government_codes_and_deterministic(org: Org) -> None:
    code = numbers.issuer_credit_code(org)
    parsed = parse_uscc(code)
    assert (parsed.registration_authority, parsed.category) == ("1", "1")
    assert parsed.division_code == org.division_code
    assert numbers.issuer_credit_code(Org(org.code, org.division_code)) == code


def test_every_demo_department_gets_its_own_credit_code() -> None:
    keys = ("psb", "civil", "land", "fund", "hrss", "medical", "health", "market", "tax", "education")
    codes = {numbers.issuer_credit_code(Org(f"{d}-{k}", d)) for d in DIVISIONS for k in keys}
    assert len(codes) == len(DIVISIONS) * len(keys)


def test_a_bad_division_is_refused() -> None:
    with pytest.raises(ValueError, match="division"):
        numbers.issuer_credit_code(Org("x", "000000"))


@given(org=orgs, serial=serials)
def test_new_numbers_parse_back_with_a_valid_check_character(org: Org, serial: int) -> None:
    issuer = numbers.issuer_credit_code(org)
    type_code = numbers.type_code(issuer, serial)
    number = numbers.new_certificate_number(type_code=type_code, issuer_credit_code=issuer)
    assert number.startswith("1.2.156.3005.2.")
    parsed = numbers.parse_certificate_number(number)
    assert (parsed.type_code, parsed.issuer_credit_code, parsed.version) == (type_code, issuer, "001")
    assert re.fullmatch(r"\d{12}", parsed.serial)
    assert is_valid_mod37_36(number.replace(".", ""))
    # Lower case and spaces, as typed, are accepted.
    assert numbers.parse_certificate_number(" " + number.lower() + " ").value == number


@given(org=orgs, position=st.integers(0, 200), char=st.sampled_from(MOD37_36_ALPHABET))
def test_any_single_changed_character_is_caught(org: Org, position: int, char: str) -> None:
    issuer = numbers.issuer_credit_code(org)
    number = numbers.new_certificate_number(type_code=numbers.type_code(issuer, 1), issuer_credit_code=issuer)
    i = position % len(number)
    if number[i] == "." or number[i] == char:
        return
    changed = number[:i] + char + number[i + 1 :]
    assert not numbers.is_valid_certificate_number(changed)


def test_numbers_are_unique_and_their_serials_spread() -> None:
    issuer = numbers.issuer_credit_code(Org("330000-civil", "330000"))
    type_code = numbers.type_code(issuer, 3)
    drawn = [
        numbers.new_certificate_number(type_code=type_code, issuer_credit_code=issuer) for _ in range(5000)
    ]
    assert len(set(drawn)) == len(drawn)
    serials = [int(numbers.parse_certificate_number(n).serial) for n in drawn]
    # Random over 10**12, not a counter: every leading digit turns up, and no two neighbours are adjacent.
    assert {str(s).zfill(12)[0] for s in serials} == set("0123456789")
    assert sum(1 for a, b in itertools.pairwise(serials) if abs(a - b) == 1) == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "shaped"),
        ("1.2.156.3005.2.X.Y.123.001.A", "shaped"),
        ("１.2.156.3005.2", "ASCII"),
    ],
)
def test_malformed_numbers_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        numbers.parse_certificate_number(text)


def test_a_number_with_an_invalid_issuer_code_is_refused() -> None:
    issuer = numbers.issuer_credit_code(Org("330000-land", "330000"))
    number = numbers.certificate_number(
        type_code=numbers.type_code(issuer, 1), issuer_credit_code=issuer, serial="000000000001"
    )
    broken_issuer = issuer[:-1] + ("0" if issuer[-1] != "0" else "1")
    body = number.rsplit(".", 1)[0].replace(issuer + ".000000000001", broken_issuer + ".000000000001")
    rebuilt = f"{body}.{mod37_36_check_char(body.replace('.', ''))}"
    with pytest.raises(InvalidIdentifier, match="issuer credit code"):
        numbers.parse_certificate_number(rebuilt)


def test_type_codes_need_a_credit_code_and_a_serial() -> None:
    issuer = numbers.issuer_credit_code(Org("330000-psb", "330000"))
    assert numbers.is_type_code(numbers.type_code(issuer, 12))
    assert numbers.type_code(issuer, 12).endswith("012")
    with pytest.raises(ValueError, match="serial"):
        numbers.type_code(issuer, 0)
    with pytest.raises(ValueError, match="credit code"):
        numbers.type_code("not a code", 1)
    assert not numbers.is_type_code(issuer + "01")


def test_grant_codes_are_unambiguous_random_and_hashed_whatever_the_spelling() -> None:
    codes = {numbers.new_grant_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
        assert not set(code) & set("01IOL")
        assert numbers.is_grant_code(code)
        digest = numbers.grant_code_hash(code)
        assert re.fullmatch(r"[0-9a-f]{64}", digest) and code not in digest
        assert numbers.grant_code_hash(code.lower().replace("-", " ")) == digest
    assert not numbers.is_grant_code("ABCD-EFGH-JKM")
    assert not numbers.is_grant_code("ABCD-EFGH-JKM1")


@given(text=st.text(max_size=40))
def test_parsing_arbitrary_text_raises_only_invalid_identifier(text: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        numbers.parse_certificate_number(text)


@given(org=orgs, serial=serials, draws=st.lists(st.integers(0, 10**12 - 1), min_size=1, max_size=5))
def test_a_number_maker_gives_what_certificate_number_gives(org: Org, serial: int, draws: list[int]) -> None:
    issuer = numbers.issuer_credit_code(org)
    type_code = numbers.type_code(issuer, serial)
    maker = numbers.NumberMaker(type_code=type_code, issuer_credit_code=issuer.lower())
    serials_drawn = iter(draws)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(numbers.secrets, "randbelow", lambda _n: next(serials_drawn))
        made = [maker.new() for _ in draws]
    assert made == [
        numbers.certificate_number(type_code=type_code, issuer_credit_code=issuer, serial=f"{d:012d}")
        for d in draws
    ]


def test_a_number_maker_checks_its_parts_once() -> None:
    with pytest.raises(ValueError, match="type code"):
        numbers.NumberMaker(type_code="11330100MB1A2B3C4D", issuer_credit_code="11330100MB1A2B3C4D")
