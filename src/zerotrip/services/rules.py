"""Instant approval (秒批): rules written as data per item, and their evaluation on fetched evidence. Pure.

A rule set is a list of rules; an application is approved at once only when every rule passes on the data
the platform fetched through the datahub gateway, and nothing else (no upload, nothing typed in). Two shapes:

- ``{"fact": "real-estate.exists", "expect": false}``: a yes/no fact must have the expected answer;
- ``{"field": "contributions.month.consecutive_months", "op": ">=", "value": 3}``: a value compared.

Facts are named after the datahub resource a material reads (its code's last part, ``330000-land.real-estate``
→ ``real-estate``) and are worked out from what was fetched (``facts_from``):

- ``A.exists``: whether the resource holds any record about the applicant (an exists? material, or any
  record read);
- ``A.records``: how many records were read;
- ``A.F``: field F's value, when exactly one record was read;
- ``A.F.latest``: the greatest of F's values over the records (months and ISO dates sort as text);
- ``A.F.consecutive_months``: for F holding months (``2026-10``), how many consecutive months end at the
  latest one (a contribution record without gaps).

A rule whose fact is missing (consent declined, a masked value, several records for a single value) does
not pass; its outcome says why, so the person who reviews the application sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FACT_NAME = r"^[a-z0-9][a-z0-9\-]*(\.[a-z][a-z0-9_]*){1,2}$"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in"]
Scalar = str | int | float | bool


class FactRule(BaseModel):
    """A yes/no fact must have the expected answer."""

    model_config = ConfigDict(extra="forbid")
    fact: str = Field(pattern=FACT_NAME, description="A yes/no fact, e.g. real-estate.exists.")
    expect: bool
    label: str = Field("", max_length=200, description="What the rule means, as the applicant reads it.")


class FieldRule(BaseModel):
    """A fetched value compared with a constant."""

    model_config = ConfigDict(extra="forbid")
    field: str = Field(pattern=FACT_NAME, description="A value, e.g. accounts.status or A.F.latest.")
    op: Op
    value: Scalar | list[Scalar]
    label: str = Field("", max_length=200)


Rule = FactRule | FieldRule


class RuleSetSpec(BaseModel):
    """The rules of one item, all of which must pass for an instant approval."""

    rules: list[Rule] = Field(min_length=1, max_length=50)


def rule_name(rule: Rule) -> str:
    return rule.fact if isinstance(rule, FactRule) else rule.field


# -- facts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Masked:
    """A value the gateway masked: it cannot be judged."""


MASKED = Masked()


@dataclass(frozen=True)
class Fetched:
    """What was fetched for one material: an exists? answer, or the records read (field → value, with
    ``MASKED`` for a masked value)."""

    alias: str
    is_exists: bool
    exists: bool | None = None
    records: Sequence[Mapping[str, object]] = ()
    fields: Sequence[str] = field(default_factory=tuple)


def alias_of(resource_code: str) -> str:
    """``330100-fund.contributions`` → ``contributions``."""
    return resource_code.rsplit(".", 1)[-1]


def fact_names(alias: str, *, is_exists: bool, fields: Iterable[str]) -> list[str]:
    """The facts a material can give, whatever is fetched (to check rules when they are defined)."""
    if is_exists:
        return [f"{alias}.exists"]
    names = [f"{alias}.exists", f"{alias}.records"]
    for name in fields:
        names += [f"{alias}.{name}", f"{alias}.{name}.latest", f"{alias}.{name}.consecutive_months"]
    return names


def facts_from(fetched: Iterable[Fetched]) -> dict[str, object]:
    """Every fact the fetched evidence establishes; a fact it cannot establish is left out."""
    facts: dict[str, object] = {}
    for material in fetched:
        a = material.alias
        if material.is_exists:
            if material.exists is not None:
                facts[f"{a}.exists"] = material.exists
            continue
        records = list(material.records)
        facts[f"{a}.exists"] = bool(records)
        facts[f"{a}.records"] = len(records)
        for name in material.fields:
            values = [r.get(name) for r in records]
            if len(records) == 1:
                facts[f"{a}.{name}"] = values[0]
            present = [v for v in values if v is not None]
            if not present:
                continue
            if any(v is MASKED for v in present):
                facts[f"{a}.{name}.latest"] = MASKED
                continue
            facts[f"{a}.{name}.latest"] = max(str(v) for v in present)
            months = consecutive_months(str(v) for v in present)
            if months is not None:
                facts[f"{a}.{name}.consecutive_months"] = months
    return facts


def consecutive_months(values: Iterable[str]) -> int | None:
    """How many consecutive months end at the latest month among ``values`` (``YYYY-MM``); None when a
    value is not a month (or there are none)."""
    indices: set[int] = set()
    for value in values:
        match = _MONTH.match(value)
        if match is None:
            return None
        indices.add(int(match.group(1)) * 12 + int(match.group(2)) - 1)
    if not indices:
        return None
    month, run = max(indices), 0
    while month in indices:
        run += 1
        month -= 1
    return run


# -- evaluation -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One rule's verdict: ``reason`` is empty when it passed, else ``failed`` (the value does not meet
    it), ``missing`` (no such fact was fetched), ``masked`` or ``incomparable``."""

    rule: dict[str, Any]
    passed: bool
    actual: object
    reason: str

    def as_dict(self) -> dict[str, Any]:
        actual = None if self.actual is MASKED else self.actual
        return {"rule": self.rule, "passed": self.passed, "actual": actual, "reason": self.reason}


def evaluate(rules: Sequence[Rule], facts: Mapping[str, object]) -> list[Outcome]:
    """Each rule's outcome on ``facts``, in order."""
    return [_judge(rule, facts) for rule in rules]


def all_pass(outcomes: Sequence[Outcome]) -> bool:
    return bool(outcomes) and all(o.passed for o in outcomes)


def _judge(rule: Rule, facts: Mapping[str, object]) -> Outcome:
    described = rule.model_dump(mode="json")
    name = rule_name(rule)
    if name not in facts:
        return Outcome(described, False, None, "missing")
    actual = facts[name]
    if actual is MASKED:
        return Outcome(described, False, actual, "masked")
    if isinstance(rule, FactRule):
        if not isinstance(actual, bool):
            return Outcome(described, False, actual, "incomparable")
        return Outcome(described, actual is rule.expect, actual, "" if actual is rule.expect else "failed")
    try:
        passed = _compare(actual, rule.op, rule.value)
    except (TypeError, InvalidOperation):
        return Outcome(described, False, actual, "incomparable")
    return Outcome(described, passed, actual, "" if passed else "failed")


def _compare(actual: object, op: str, expected: Scalar | list[Scalar]) -> bool:
    if op in ("in", "not_in"):
        if not isinstance(expected, list):
            raise TypeError("in and not_in compare with a list")
        found = any(_equal(actual, e) for e in expected)
        return found if op == "in" else not found
    if isinstance(expected, list):
        raise TypeError("only in and not_in compare with a list")
    if op == "==":
        return _equal(actual, expected)
    if op == "!=":
        return not _equal(actual, expected)
    left, right = _ordered(actual, expected)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def _equal(actual: object, expected: Scalar) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float):
        try:
            return _number(actual) == _number(expected)
        except (TypeError, InvalidOperation):
            return False
    return str(actual) == expected


def _ordered(actual: object, expected: Scalar) -> tuple[Any, Any]:
    """Numbers compare as numbers (a decimal field arrives as text), anything else as text."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        raise TypeError("yes/no values are not ordered")
    if isinstance(expected, int | float):
        return _number(actual), _number(expected)
    if not isinstance(actual, str):
        raise TypeError("text compares with text")
    return actual, expected


def _number(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("not a number")
    return Decimal(str(value))
