"""Row validation: types coerce to JSON-safe values, every rule names the field, nothing ever raises."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerotrip.common.checks import make_resident_id, make_uscc
from zerotrip.datahub.validation import FieldRule, RowError, RowValidator

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in China
TODAY = date(2026, 6, 1)


def one(rule: FieldRule, value: object) -> tuple[object, list[RowError]]:
    clean, errors = RowValidator([rule], now=NOW).validate({rule.name: value})
    return (clean or {}).get(rule.name), errors


def error_of(rule: FieldRule, value: object) -> tuple[str, str]:
    _, errors = one(rule, value)
    assert len(errors) == 1, errors
    return errors[0].rule, errors[0].reason


@pytest.mark.parametrize(
    ("type_", "raw", "clean"),
    [
        ("string", "  西湖区 ", "西湖区"),
        ("string", 12, "12"),
        ("integer", "42", 42),
        ("integer", "-7", -7),
        ("integer", 42, 42),
        ("integer", Decimal("3.0"), 3),
        ("decimal", "120.50", "120.5"),
        ("decimal", "1,234.00", "1234"),
        ("decimal", "1E+2", "100"),
        ("decimal", "-0.000", "0"),
        ("decimal", 89.5, "89.5"),
        ("decimal", Decimal("0.10"), "0.1"),
        ("date", "2024-05-06", "2024-05-06"),
        ("date", "2024/5/6", "2024-05-06"),
        ("datetime", "2024-05-06 08:30:00", "2024-05-06T08:30:00+08:00"),
        ("datetime", "2024-05-06T00:30:00Z", "2024-05-06T08:30:00+08:00"),
        ("boolean", "是", True),
        ("boolean", "FALSE", False),
        ("boolean", 1, True),
        ("boolean", False, False),
    ],
)
def test_values_coerce_to_json_safe_forms(type_: str, raw: object, clean: object) -> None:
    value, errors = one(FieldRule("f", type=type_), raw)
    assert errors == [] and value == clean and type(value) is type(clean)


@pytest.mark.parametrize(
    ("type_", "raw", "reason"),
    [
        ("integer", "12.5", "must be a whole number"),
        ("integer", "１２", "must be a whole number"),
        ("integer", True, "must be a whole number"),
        ("integer", str(2**64), "is too large"),
        ("decimal", "abc", "must be a number"),
        ("decimal", "NaN", "must be a number"),
        ("decimal", "１２", "must be a number"),
        ("date", "2024-02-30", "is not a real date"),
        ("date", "06/05/2024", "must be a date written YYYY-MM-DD"),
        ("datetime", "soon", "must be a date and time written YYYY-MM-DDTHH:MM:SS"),
        ("boolean", "maybe", "must be true or false"),
        ("string", ["a"], "must be a single value, not a list or an object"),
        ("integer", {"a": 1}, "must be a single value, not a list or an object"),
    ],
)
def test_wrong_types_are_named(type_: str, raw: object, reason: str) -> None:
    assert error_of(FieldRule("f", type=type_), raw) == ("type", reason)


def test_required_fields_and_blank_text() -> None:
    validator = RowValidator(
        [FieldRule("a", is_required=True), FieldRule("b"), FieldRule("k")], required=["k"]
    )
    clean, errors = validator.validate({"a": "   ", "b": "", "k": None})
    assert clean is None
    assert [(e.field, e.rule) for e in errors] == [("a", "required"), ("k", "required")]
    clean, errors = validator.validate({"a": "x", "k": "1"})
    assert errors == [] and clean == {"a": "x", "b": None, "k": "1"}


def test_unknown_fields_are_refused() -> None:
    _, errors = RowValidator([FieldRule("a")]).validate({"a": "1", "column 4": "x"})
    assert errors == [RowError("column 4", "unknown_field", "is not a field of this resource")]


def test_pattern_matches_the_whole_value_and_enumeration_is_exact() -> None:
    pattern = FieldRule("month", pattern=r"\d{4}-\d{2}")
    assert one(pattern, "2026-05")[1] == []
    assert error_of(pattern, "2026-05x") == ("pattern", r"does not match the pattern \d{4}-\d{2}")
    usage = FieldRule("usage", enumeration=("住宅", "商业"))
    assert one(usage, " 商业 ")[0] == "商业"
    assert error_of(usage, "工业") == ("enumeration", "must be one of: 住宅, 商业")


def test_check_characters() -> None:
    good = make_resident_id(division_code="330106", birth_date=date(1990, 1, 1), sequence=12, sex="female")
    rule = FieldRule("id", check_kind="resident_id")
    assert one(rule, good.lower())[0] == good
    broken = good[:-1] + ("1" if good[-1] != "1" else "2")
    assert error_of(rule, broken) == (
        "check_char",
        "not a valid resident ID number: check character is wrong",
    )
    unborn = make_resident_id(division_code="330106", birth_date=date(2026, 6, 2), sequence=1, sex="male")
    assert error_of(rule, unborn)[1].endswith("birth date is in the future")
    uscc = FieldRule("code", check_kind="uscc")
    code = make_uscc(division_code="330100", serial=77)
    assert one(uscc, code.lower())[0] == code
    assert error_of(uscc, code[:-1] + ("0" if code[-1] != "0" else "1"))[0] == "check_char"
    division = FieldRule("d", check_kind="division_code")
    assert one(division, "330106")[1] == []
    assert error_of(division, "990000") == (
        "check_char",
        "not a valid division code: must be 6 digits of a real region",
    )


def test_freshness_of_dates_and_datetimes() -> None:
    on = FieldRule("on", type="date", max_age_days=30)
    assert one(on, (TODAY - timedelta(days=30)).isoformat())[1] == []
    assert one(on, TODAY.isoformat())[1] == []
    assert error_of(on, (TODAY - timedelta(days=31)).isoformat()) == ("freshness", "is older than 30 days")
    assert error_of(on, (TODAY + timedelta(days=1)).isoformat()) == ("freshness", "is in the future")
    at = FieldRule("at", type="datetime", max_age_days=1)
    assert one(at, "2026-06-01 11:59:00")[1] == []  # China time, one minute ago
    assert error_of(at, "2026-06-01 12:01:00") == ("freshness", "is in the future")
    assert error_of(at, "2026-05-31T03:59:00Z") == ("freshness", "is older than 1 days")


ANY_RULE = st.builds(
    FieldRule,
    name=st.just("f"),
    type=st.sampled_from(["string", "integer", "decimal", "date", "datetime", "boolean"]),
    is_required=st.booleans(),
    pattern=st.none() | st.just(r"[0-9A-Z]+"),
    enumeration=st.none() | st.just(("A", "B")),
    max_age_days=st.none() | st.integers(1, 1000),
)
ANY_VALUE = (
    st.none()
    | st.text(max_size=30)
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.booleans()
    | st.lists(st.integers(), max_size=2)
)


@given(ANY_RULE, ANY_VALUE)
def test_validation_never_raises_and_clean_values_are_json_safe(rule: FieldRule, value: object) -> None:
    if rule.max_age_days is not None and rule.type not in ("date", "datetime"):
        rule = FieldRule(rule.name, type=rule.type)
    clean, errors = RowValidator([rule], now=NOW).validate({"f": value})
    assert (clean is None) == bool(errors)
    if clean is not None:
        assert clean["f"] is None or type(clean["f"]) in (str, int, bool)


@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_integers_round_trip(number: int) -> None:
    assert one(FieldRule("n", type="integer"), str(number))[0] == number


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9))
def test_decimals_keep_their_value(number: Decimal) -> None:
    value, errors = one(FieldRule("n", type="decimal"), str(number))
    assert errors == [] and isinstance(value, str)
    assert Decimal(value) == number and "E" not in value
    assert one(FieldRule("n", type="decimal"), value)[0] == value  # normalised is a fixed point


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
    st.sampled_from(["male", "female"]),
)
def test_every_generated_resident_id_passes(born: date, sequence: int, sex: str) -> None:
    resident_id = make_resident_id(division_code="330106", birth_date=born, sequence=sequence, sex=sex)  # type: ignore[arg-type]
    assert one(FieldRule("id", check_kind="resident_id"), resident_id) == (resident_id, [])


@pytest.mark.parametrize(
    ("type_", "raw"),
    [
        ("decimal", "1E+999999999"),
        ("datetime", "9999-12-31T23:59:59-05:00"),
        ("datetime", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_values_at_the_edges_are_out_of_range(type_: str, raw: str) -> None:
    assert error_of(FieldRule("f", type=type_), raw) == ("type", "is out of range")
