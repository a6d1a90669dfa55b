"""Instant-approval rules: their two shapes, the facts worked out from fetched evidence, and judging."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from zerotrip.services import rules
from zerotrip.services.rules import MASKED, FactRule, Fetched, FieldRule, RuleSetSpec


def test_rules_are_parsed_from_data_in_either_shape() -> None:
    spec = RuleSetSpec.model_validate(
        {
            "rules": [
                {"fact": "real-estate.exists", "expect": False},
                {"field": "contributions.month.consecutive_months", "op": ">=", "value": 3},
                {"field": "accounts.status", "op": "in", "value": ["正常", "缓缴"]},
            ]
        }
    )
    assert [type(r) for r in spec.rules] == [FactRule, FieldRule, FieldRule]
    for bad in (
        {"rules": []},
        {"rules": [{"fact": "real-estate.exists"}]},
        {"rules": [{"field": "a.b", "op": "~", "value": 1}]},
        {"rules": [{"fact": "Not A Name", "expect": True}]},
        {"rules": [{"fact": "a.exists", "expect": True, "extra": 1}]},
    ):
        with pytest.raises(ValidationError):
            RuleSetSpec.model_validate(bad)


def test_facts_of_an_exists_question_a_single_record_and_several() -> None:
    facts = rules.facts_from(
        [
            Fetched(alias="real-estate", is_exists=True, exists=False),
            Fetched(
                alias="accounts",
                is_exists=False,
                records=[{"status": "正常", "balance": "1200.50", "account_no": MASKED}],
                fields=("status", "balance", "account_no"),
            ),
            Fetched(
                alias="contributions",
                is_exists=False,
                records=[{"month": m} for m in ("2026-08", "2026-10", "2026-09", "2026-06")],
                fields=("month",),
            ),
        ]
    )
    assert facts["real-estate.exists"] is False
    assert "real-estate.records" not in facts
    assert (facts["accounts.exists"], facts["accounts.records"], facts["accounts.status"]) == (
        True,
        1,
        "正常",
    )
    assert facts["accounts.account_no"] is MASKED and facts["accounts.account_no.latest"] is MASKED
    assert facts["contributions.records"] == 4
    assert "contributions.month" not in facts  # several records: no single value
    assert facts["contributions.month.latest"] == "2026-10"
    assert facts["contributions.month.consecutive_months"] == 3  # 08, 09, 10; 07 is missing
    assert "accounts.status.consecutive_months" not in facts


def test_no_records_is_a_fact_too() -> None:
    facts = rules.facts_from([Fetched(alias="contributions", is_exists=False, fields=("month",))])
    assert facts == {"contributions.exists": False, "contributions.records": 0}


def test_judging() -> None:
    facts = {"a.exists": False, "a.n": "12000.00", "a.s": "正常", "a.m": MASKED, "a.k": 5}
    cases = [
        (FactRule(fact="a.exists", expect=False), True, ""),
        (FactRule(fact="a.exists", expect=True), False, "failed"),
        (FactRule(fact="b.exists", expect=False), False, "missing"),
        (FactRule(fact="a.s", expect=True), False, "incomparable"),
        (FieldRule(field="a.n", op=">=", value=12000), True, ""),
        (FieldRule(field="a.n", op=">", value=12000), False, "failed"),
        (FieldRule(field="a.n", op="==", value=12000.0), True, ""),
        (FieldRule(field="a.s", op="==", value="正常"), True, ""),
        (FieldRule(field="a.s", op="!=", value="正常"), False, "failed"),
        (FieldRule(field="a.s", op="in", value=["封存", "正常"]), True, ""),
        (FieldRule(field="a.s", op="not_in", value=["封存", "正常"]), False, "failed"),
        (FieldRule(field="a.s", op=">", value=3), False, "incomparable"),
        (FieldRule(field="a.s", op="in", value="正常"), False, "incomparable"),
        (FieldRule(field="a.exists", op="<", value=True), False, "incomparable"),
        (FieldRule(field="a.m", op="==", value="x"), False, "masked"),
        (FieldRule(field="a.k", op="<=", value=5), True, ""),
        (FieldRule(field="a.k", op="<", value=5), False, "failed"),
    ]
    outcomes = rules.evaluate([rule for rule, _, _ in cases], facts)
    assert [(o.passed, o.reason) for o in outcomes] == [(passed, reason) for _, passed, reason in cases]
    assert not rules.all_pass(outcomes) and not rules.all_pass([])
    assert rules.all_pass(outcomes[:1])
    assert outcomes[14].as_dict()["actual"] is None  # a masked value is not repeated


def months(indices: set[int]) -> list[str]:
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in sorted(indices)]


@given(st.sets(st.integers(min_value=2000 * 12, max_value=2100 * 12), min_size=1, max_size=60))
def test_consecutive_months_is_the_run_ending_at_the_latest(indices: set[int]) -> None:
    run = rules.consecutive_months(months(indices))
    latest = max(indices)
    assert run is not None and 1 <= run <= len(indices)
    assert all(latest - k in indices for k in range(run))
    assert latest - run not in indices


def test_consecutive_months_of_what_is_not_a_month() -> None:
    assert rules.consecutive_months(["2026-13"]) is None
    assert rules.consecutive_months(["2026-10", "正常"]) is None
    assert rules.consecutive_months([]) is None
    assert rules.consecutive_months(["2025-12", "2026-01", "2026-01"]) == 2  # across a year, repeated


def test_fact_names_cover_what_a_material_can_give() -> None:
    assert rules.fact_names("real-estate", is_exists=True, fields=[]) == ["real-estate.exists"]
    names = rules.fact_names("contributions", is_exists=False, fields=["month"])
    assert names == [
        "contributions.exists",
        "contributions.records",
        "contributions.month",
        "contributions.month.latest",
        "contributions.month.consecutive_months",
    ]
    assert rules.alias_of("330100-fund.contributions") == "contributions"
