"""The pure rules of bundles: the run order, when a waiting part may start, the one status (every
combination of part statuses against an independent reading of the rule), the promised time to the last
result, and the trips of the whole bundle (properties over random parts)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerotrip.services.bundle_rules import (
    COMBINED_STATUSES,
    CyclicNeeds,
    combined_status,
    count_bundle_trips,
    critical_days,
    part_status,
    readiness,
    run_order,
)
from zerotrip.services.trips import Item, Material, Source, Step, count_trips

STATUSES = ("draft", "submitted", "accepted", "in_review", "supplement", "approved", "refused", "withdrawn")
NEWBORN = {
    "certificate": frozenset(),
    "registration": frozenset({"certificate"}),
    "insurance": frozenset({"registration"}),
    "card": frozenset({"registration", "insurance"}),
}


def test_parts_run_after_the_parts_they_need_and_cycles_are_refused() -> None:
    assert run_order(NEWBORN) == ["certificate", "registration", "insurance", "card"]
    # Listed in any order, the order they run in is the same; parts free together keep the listed order.
    assert run_order(dict(reversed(NEWBORN.items()))) == ["certificate", "registration", "insurance", "card"]
    change = {"market": frozenset(), "tax": frozenset({"market"}), "fund": frozenset({"market"})}
    assert run_order(change) == ["market", "tax", "fund"]
    # A result from outside the bundle (an earlier application of the applicant's) orders nothing.
    assert run_order({"a": frozenset({"elsewhere"}), "b": frozenset({"a"})}) == ["a", "b"]
    with pytest.raises(CyclicNeeds, match="a, b"):
        run_order({"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset()})


@given(st.lists(st.sets(st.integers(0, 7)), min_size=1, max_size=8))
def test_the_run_order_puts_every_part_after_what_it_needs(raw: list[set[int]]) -> None:
    # Only needs on earlier parts: no cycle is possible.
    needs = {str(i): frozenset(str(n) for n in wanted if n < i) for i, wanted in enumerate(raw)}
    order = run_order(needs)
    assert sorted(order) == sorted(needs)
    where = {key: index for index, key in enumerate(order)}
    assert all(where[n] < where[key] for key, wanted in needs.items() for n in wanted)


def test_a_waiting_part_starts_when_all_it_needs_is_approved_and_never_after_a_refusal() -> None:
    assert readiness([]) == "ready"
    assert readiness(["approved", "approved"]) == "ready"
    assert readiness(["approved", "in_review"]) == "waiting"
    assert readiness(["approved", "draft"]) == "waiting"
    assert readiness(["refused", "in_review"]) == "blocked"
    assert readiness(["approved", "withdrawn"]) == "blocked"


def test_a_draft_part_of_a_submitted_bundle_is_shown_as_waiting() -> None:
    assert part_status("draft", bundle_state="submitted") == "waiting"
    assert part_status("draft", bundle_state="draft") == "draft"
    assert part_status("in_review", bundle_state="submitted") == "in_review"


def oracle(state: str, parts: tuple[str, ...]) -> str:
    """The combined status, read straight off the table in docs/services.md."""
    if state != "submitted":
        return state
    decided = [p for p in parts if p in ("approved", "refused", "withdrawn")]
    if len(decided) < len(parts):
        return "action_needed" if any(p == "supplement" for p in parts) else "in_progress"
    approved = parts.count("approved")
    return "done" if approved == len(parts) else "partly_refused" if approved else "refused"


def test_the_one_status_for_every_combination_of_three_parts() -> None:
    seen = set()
    for state in ("draft", "submitted", "withdrawn"):
        for parts in itertools.product(STATUSES, repeat=3):
            status = combined_status(state, parts)
            assert status == oracle(state, parts), (state, parts)
            seen.add(status)
    assert seen == set(COMBINED_STATUSES)


def test_the_one_status_in_the_newborn_bundles_life() -> None:
    steps = [
        (("submitted", "draft", "draft", "draft"), "in_progress"),
        (("approved", "submitted", "draft", "draft"), "in_progress"),
        (("approved", "supplement", "draft", "draft"), "action_needed"),
        (("approved", "approved", "approved", "in_review"), "in_progress"),
        (("approved", "approved", "approved", "approved"), "done"),
        (("approved", "refused", "withdrawn", "withdrawn"), "partly_refused"),
        (("refused", "withdrawn", "withdrawn", "withdrawn"), "refused"),
    ]
    for parts, expected in steps:
        assert combined_status("submitted", parts) == expected, parts


def test_the_promised_time_to_the_last_result_is_the_longest_chain() -> None:
    days = {"certificate": 1, "registration": 1, "insurance": 1, "card": 10}
    assert critical_days(NEWBORN, days) == 13
    change = {"market": frozenset(), "tax": frozenset({"market"}), "fund": frozenset({"market"})}
    assert critical_days(change, {"market": 1, "tax": 0, "fund": 1}) == 2
    assert critical_days({"a": frozenset(), "b": frozenset()}, {"a": 3, "b": 5}) == 5


# -- trips ------------------------------------------------------------------------------------------------


def item(
    code: str, *, channels: tuple[str, ...] = ("online",), onsite: bool = False, collect: bool = False
) -> Item:
    materials = (Material("原件", Source("onsite")),) if onsite else (Material("表", Source("upload")),)
    issue = Step("issue", "onsite", "领证") if collect else Step("issue")
    return Item(
        code=code,
        name=code,
        department="部门",
        level="county",
        channels=frozenset(channels),
        promised_days=5,
        materials=materials,
        steps=(Step("accept"), Step("review"), Step("decide"), issue),
    )


def test_the_bundle_is_accepted_in_one_visit_and_later_visits_stay_each_parts() -> None:
    online = count_bundle_trips([item("a"), item("b")])
    assert (online.trips, online.band, online.separately) == (0, "zero", 0)
    counter = count_bundle_trips([item("a", channels=("window",)), item("b", onsite=True), item("c")])
    assert (counter.trips, counter.separately) == (1, 2)
    assert counter.visits[0].is_acceptance and counter.visits[0].parts == ("a", "b")
    collecting = count_bundle_trips([item("a", onsite=True, collect=True), item("b", collect=True)])
    # One acceptance visit for a, then a's and b's licences are collected on their own days.
    assert (collecting.trips, collecting.separately) == (3, 3)
    assert [v.parts for v in collecting.visits] == [("a",), ("a",), ("b",)]


@st.composite
def parts(draw: st.DrawFn) -> list[Item]:
    count = draw(st.integers(1, 5))
    return [
        item(
            f"p{n}",
            channels=draw(st.sampled_from([("online",), ("window",), ("online", "window"), ("mail",)])),
            onsite=draw(st.booleans()),
            collect=draw(st.booleans()),
        )
        for n in range(count)
    ]


@given(parts())
def test_a_bundle_never_needs_more_trips_than_its_parts_one_by_one_and_at_most_one_to_apply(
    items: list[Item],
) -> None:
    whole = count_bundle_trips(items)
    single = [count_trips(i).trips for i in items]
    assert whole.separately == sum(single)
    assert max(single) <= whole.trips <= whole.separately
    assert sum(1 for v in whole.visits if v.is_acceptance) <= 1
    # Only the visits at acceptance are shared: what remains is every part's own later visits.
    later = sum(1 for i in items for v in count_trips(i).visits if "accept" not in v.steps)
    assert whole.trips == later + (1 if any(v.is_acceptance for v in whole.visits) else 0)
