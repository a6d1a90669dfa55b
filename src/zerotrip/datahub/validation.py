"""Checking one row against a resource's fields: pure and fast, so loads can run it a million times.

A row arrives as text (from CSV, XLSX, JSON) or as JSON values (from an API push) and leaves either as clean,
JSON-safe data or as a list of errors naming the field, the rule and the reason in plain English (pages
translate them). Clean values: strings stripped, integers as ``int``, decimals as the text of the normalised
number (``"120.5"``, never a float), dates as ``YYYY-MM-DD``, datetimes as ISO 8601 in China time, booleans
as ``bool``, identifiers normalised (a final ``x`` of a resident ID becomes ``X``), missing values as None.

Rules checked here: required, type, pattern (whole value), enumeration, check characters of IDs and codes,
freshness. Rules that need other rows (reference, uniqueness, duplicate keys) are checked by aggregation.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from zerotrip.common import clock
from zerotrip.common.checks import InvalidIdentifier, is_division_code, parse_resident_id, parse_uscc
from zerotrip.datahub.models import Field
from zerotrip.datahub.schemas import FieldSpec

RULES = (
    "required",
    "type",
    "pattern",
    "enumeration",
    "check_char",
    "freshness",
    "unknown_field",
    "reference",
    "unique",
    "duplicate_key",
)
_TRUE = frozenset({"true", "1", "yes", "y", "t", "是"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否"})
_INTEGER = re.compile(r"[+-]?[0-9]+")
_PLAIN_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]*))?")
_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
_MAX_INTEGER = 2**63 - 1
_MAX_DIGITS = 28  # the default decimal context's precision: normalising never rounds
_MAX_VALUE_SHOWN = 200


@dataclass(frozen=True)
class RowError:
    """Why a row was refused. ``field`` is None for errors about the whole row."""

    field: str | None
    rule: str
    reason: str
    value: str | None = None


class _Invalid(Exception):
    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True)
class FieldRule:
    """The parts of a catalogued field that validation needs."""

    name: str
    type: str = "string"
    is_required: bool = False
    pattern: str | None = None
    enumeration: tuple[str, ...] | None = None
    check_kind: str | None = None
    max_age_days: int | None = None

    @classmethod
    def of(cls, field: Field | FieldSpec) -> FieldRule:
        return cls(
            name=field.name,
            type=field.type,
            is_required=field.is_required,
            pattern=field.pattern,
            enumeration=tuple(field.enumeration) if field.enumeration is not None else None,
            check_kind=field.check_kind,
            max_age_days=field.max_age_days,
        )


class RowValidator:
    """Validates rows against fixed fields; build one per load (patterns compile once, ``now`` is fixed).

    ``required`` adds fields that must be present whatever the catalogue says (key and subject fields).
    """

    def __init__(
        self,
        fields: Iterable[Field | FieldSpec | FieldRule],
        *,
        required: Iterable[str] = (),
        now: datetime | None = None,
    ) -> None:
        self._now = (now or clock.now()).astimezone(clock.CHINA)
        self._today = self._now.date()
        extra = set(required)
        rules = [f if isinstance(f, FieldRule) else FieldRule.of(f) for f in fields]
        # Per field: name, whether required, the coercion, and what text takes (None: text is kept as it is;
        # the coercion itself for fields that are not text).
        self._steps: list[tuple[str, bool, Callable[[object], Any], Callable[[str], Any] | None]] = []
        for r in rules:
            coerce = self._coercer(r)
            from_text = self._text_checks(r) if r.type == "string" else coerce
            self._steps.append((r.name, r.is_required or r.name in extra, coerce, from_text))
        self._names = frozenset(r.name for r in rules)

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def validate(self, raw: Mapping[str, object]) -> tuple[dict[str, Any] | None, list[RowError]]:
        """The clean row and no errors, or None and every error found in the row."""
        errors: list[RowError] = []
        clean: dict[str, Any] = {}
        for name, is_required, coerce, from_text in self._steps:
            value = raw.get(name)
            if value.__class__ is str:
                value = value.strip()
                if value and from_text is not coerce:  # text into a text field: only its checks, if any
                    if from_text is None:
                        clean[name] = value
                        continue
                    try:
                        clean[name] = from_text(value)
                    except _Invalid as exc:
                        errors.append(RowError(name, exc.rule, exc.reason, shown(value)))
                    continue
                if not value:
                    value = None
            if value is None:
                if is_required:
                    errors.append(RowError(name, "required", "is required"))
                clean[name] = None
                continue
            try:
                clean[name] = coerce(value)
            except _Invalid as exc:
                errors.append(RowError(name, exc.rule, exc.reason, shown(value)))
        if len(raw) > len(self._steps) or not raw.keys() <= self._names:
            for name in sorted(str(k) for k in raw.keys() - self._names):
                errors.append(RowError(name, "unknown_field", "is not a field of this resource"))
        return (None, errors) if errors else (clean, errors)

    # --- coercion, one closure per field -------------------------------------------------------------------

    def _text_checks(self, rule: FieldRule) -> Callable[[str], Any] | None:
        """A text field's checks on a text value, which needs no conversion; None when it has none."""
        checks = self._checks(rule)
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]

        def check_all(value: str) -> Any:
            result: Any = value
            for check in checks:
                result = check(result)
            return result

        return check_all

    def _checks(self, rule: FieldRule) -> list[Callable[[Any], Any]]:
        checks: list[Callable[[Any], Any]] = []
        if rule.check_kind is not None:
            checks.append(self._identifier_check(rule.check_kind))
        if rule.pattern is not None:
            checks.append(_pattern_check(rule.pattern))
        if rule.enumeration is not None:
            checks.append(_enumeration_check(rule.enumeration))
        if rule.max_age_days is not None:
            checks.append(self._freshness_check(rule.type, rule.max_age_days))
        return checks

    def _coercer(self, rule: FieldRule) -> Callable[[object], Any]:
        base: Callable[[object], Any] = {
            "string": _to_string,
            "integer": _to_integer,
            "decimal": _to_decimal,
            "date": _to_date,
            "datetime": self._to_datetime,
            "boolean": _to_boolean,
        }[rule.type]
        checks = self._checks(rule)
        if not checks:
            return base

        def coerce(value: object) -> Any:
            result = base(value)
            for check in checks:
                result = check(result)
            return result

        return coerce

    def _identifier_check(self, kind: str) -> Callable[[str], str]:
        today = self._today
        births = _birth_dates_until(today) if kind == "resident_id" else frozenset()

        def check(value: str) -> str:
            # Nearly every value is a well-formed resident ID: accept it without building its parts. Anything
            # the shortcut does not accept goes through the full parse, which says what is wrong.
            if kind == "resident_id" and len(value) == 18 and value.isascii():
                head = value[:17]
                if head.isdigit() and value[6:14] in births:
                    last = "X" if value[17] == "x" else value[17]
                    if _ID_CHECK_BY_BASE13[int(head, 13) % 11] == last:
                        return head + last
            try:
                if kind == "resident_id":
                    return parse_resident_id(value, today=today).value
                if kind == "uscc":
                    return parse_uscc(value).value
            except InvalidIdentifier as exc:
                label = "resident ID number" if kind == "resident_id" else "unified social credit code"
                raise _Invalid("check_char", f"not a valid {label}: {exc.reason}") from exc
            if not is_division_code(value):
                raise _Invalid("check_char", "not a valid division code: must be 6 digits of a real region")
            return value

        return check

    def _freshness_check(self, type_: str, max_age_days: int) -> Callable[[str], str]:
        if type_ == "date":
            oldest = (self._today - timedelta(days=max_age_days)).isoformat()
            today = self._today.isoformat()

            def check_date(value: str) -> str:
                if value > today:
                    raise _Invalid("freshness", "is in the future")
                if value < oldest:
                    raise _Invalid("freshness", f"is older than {max_age_days} days")
                return value

            return check_date
        now = self._now
        oldest_instant = now - timedelta(days=max_age_days)

        def check_datetime(value: str) -> str:
            instant = datetime.fromisoformat(value)
            if instant > now:
                raise _Invalid("freshness", "is in the future")
            if instant < oldest_instant:
                raise _Invalid("freshness", f"is older than {max_age_days} days")
            return value

        return check_datetime

    def _to_datetime(self, value: object) -> str:
        wrong = _Invalid("type", "must be a date and time written YYYY-MM-DDTHH:MM:SS")
        if isinstance(value, datetime):
            instant = value
        elif isinstance(value, str):
            text = value.replace("/", "-", 2) if value[:4].isdigit() else value
            try:
                instant = datetime.fromisoformat(text)
            except ValueError:
                raise wrong from None
        else:
            raise wrong
        if instant.tzinfo is None:  # a time without a zone is a time in China
            instant = instant.replace(tzinfo=clock.CHINA)
        try:
            return instant.astimezone(clock.CHINA).isoformat()
        except OverflowError:  # the first and last days of the calendar, shifted across zones
            raise _Invalid("type", "is out of range") from None


# The MOD 11-2 weights are 2^(17-i) mod 11 and 13 ≡ 2 (mod 11), so Σ digit·weight ≡ 2·int(first17, 13)
# (mod 11): one C call instead of a loop over 17 digits. Indexed by int(first17, 13) % 11.
_ID_CHECK_BY_BASE13 = tuple("10X98765432"[(2 * m) % 11] for m in range(11))


@lru_cache(maxsize=2)
def _birth_dates_until(today: date) -> frozenset[str]:
    """Every real birth date a resident ID may carry (from 1900-01-01 to ``today``), written YYYYMMDD."""
    last = f"{today.year:04d}{today.month:02d}{today.day:02d}"
    return frozenset(
        written
        for year in range(1900, today.year + 1)
        for month in range(1, 13)
        for day in range(1, monthrange(year, month)[1] + 1)
        if (written := f"{year}{month:02d}{day:02d}") <= last
    )


def shown(value: object) -> str:
    """A value as stored in a rejection (cut short: rejections are for reading, not for reloading)."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= _MAX_VALUE_SHOWN else text[: _MAX_VALUE_SHOWN - 1] + "…"


def _single(value: object) -> None:
    if isinstance(value, dict | list | tuple):
        raise _Invalid("type", "must be a single value, not a list or an object")


def _to_string(value: object) -> str:
    if isinstance(value, str):
        return value
    _single(value)
    if isinstance(value, bool):
        raise _Invalid("type", "must be text")
    return str(value)


def _to_integer(value: object) -> int:
    number: int | None = None
    if isinstance(value, str):
        number = int(value) if _INTEGER.fullmatch(value) else None
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif _is_whole(value):
        number = int(value)  # type: ignore[call-overload]
    if number is None:
        _single(value)
        raise _Invalid("type", "must be a whole number")
    if abs(number) > _MAX_INTEGER:
        raise _Invalid("type", "is too large")
    return number


def _is_whole(value: object) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return isinstance(value, float) and value.is_integer()


def _to_decimal(value: object) -> str:
    # Fast path for plain numbers such as "89.50", which is nearly every cell; the same result as below.
    if isinstance(value, str) and (plain := _PLAIN_DECIMAL.fullmatch(value)):
        sign, whole, fraction = plain.groups()
        if len(whole) + len(fraction or "") <= _MAX_DIGITS:
            whole, fraction = whole.lstrip("0") or "0", (fraction or "").rstrip("0")
            text = f"{whole}.{fraction}" if fraction else whole
            return sign + text if text != "0" else "0"
    if isinstance(value, bool):
        raise _Invalid("type", "must be a number")
    try:
        if isinstance(value, str):
            if not value.isascii():
                raise InvalidOperation
            number = Decimal(value.replace(",", "") if "," in value else value)
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        else:
            _single(value)
            raise InvalidOperation
    except InvalidOperation:
        raise _Invalid("type", "must be a number") from None
    if not number.is_finite():
        raise _Invalid("type", "must be a number")
    if not number:
        return "0"
    # Written out in full, 1E+999999999 would be a billion digits.
    if abs(number.adjusted()) > _MAX_DIGITS or len(number.as_tuple().digits) > _MAX_DIGITS:
        raise _Invalid("type", "is out of range")
    return format(number.normalize(), "f")


def _to_date(value: object) -> str:
    if isinstance(value, datetime):
        raise _Invalid("type", "must be a date written YYYY-MM-DD, without a time")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 10 and value[4] == value[7] == "-" and value.isascii():
        try:
            return date.fromisoformat(value).isoformat()  # the usual form, parsed in C
        except ValueError:
            pass
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        _single(value)
        raise _Invalid("type", "must be a date written YYYY-MM-DD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        raise _Invalid("type", "is not a real date") from None


def _to_boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower() if isinstance(value, str | int) else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    _single(value)
    raise _Invalid("type", "must be true or false")


def _pattern_check(pattern: str) -> Callable[[Any], Any]:
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if compiled.fullmatch(str(value)) is None:
            raise _Invalid("pattern", f"does not match the pattern {pattern}")
        return value

    return check


def _enumeration_check(allowed: Sequence[str]) -> Callable[[Any], Any]:
    choices = frozenset(allowed)
    listed = ", ".join(allowed)

    def check(value: Any) -> Any:
        if str(value) not in choices:
            raise _Invalid("enumeration", f"must be one of: {listed}")
        return value

    return check
