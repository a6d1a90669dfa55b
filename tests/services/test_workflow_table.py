"""The workflow table (pure): every move from every status at every step, and random walks through it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerotrip.services import workflow
from zerotrip.services.models import APPLICATION_STATUSES, RESUMABLE_STATUSES
from zerotrip.services.workflow import MOVES, RULES, Move

STEP_KINDS = (None, "accept", "review", "decide", "issue")
STEPS = [
    {"kind": "accept", "name": "受理", "presence": "none"},
    {"kind": "review", "name": "初审", "presence": "none"},
    {"kind": "review", "name": "复审", "presence": "none"},
    {"kind": "decide", "name": "决定", "presence": "none"},
    {"kind": "issue", "name": "办结", "presence": "none"},
]


def test_every_rule_names_real_statuses() -> None:
    assert set(RULES) == set(MOVES)
    for rule in RULES.values():
        assert set(rule.sources) <= set(APPLICATION_STATUSES)
        assert rule.target is None or rule.target in APPLICATION_STATUSES
    assert set(RESUMABLE_STATUSES) == set(workflow.OPEN_STATUSES)


@pytest.mark.parametrize(
    ("move", "status", "kind"), list(itertools.product(MOVES, APPLICATION_STATUSES, STEP_KINDS))
)
def test_a_move_is_allowed_exactly_from_its_sources_at_its_steps(
    move: Move, status: str, kind: str | None
) -> None:
    rule = RULES[move]
    allowed = status in rule.sources and (rule.step_kinds is None or kind in rule.step_kinds)
    assert (workflow.why_not(move, status, kind) is None) == allowed
    if status in workflow.FINAL_STATUSES:
        assert not allowed  # nothing leaves a decision or a withdrawal


def test_where_moves_lead() -> None:
    assert workflow.target_of("request_supplement") == "supplement"
    assert workflow.target_of("resubmit", resume_status="in_review") == "in_review"
    with pytest.raises(ValueError):
        workflow.target_of("resubmit", resume_status=None)
    assert workflow.step_after("accept", STEPS, 0) == 1
    assert workflow.step_after("complete_review", STEPS, 2) == 3
    assert workflow.step_after("approve", STEPS, 3) == 4
    assert workflow.step_after("approve_instantly", STEPS, 0) == 4
    assert workflow.step_after("request_supplement", STEPS, 1) == 1
    assert workflow.step_after("complete_review", STEPS, 4) == 4  # never past the last


@given(st.lists(st.sampled_from(MOVES), max_size=30))
def test_a_walk_of_allowed_moves_follows_accept_reviews_decide(moves: list[Move]) -> None:
    status, index, resume = "draft", None, None
    for move in moves:
        kind = STEPS[index]["kind"] if index is not None else None
        if workflow.why_not(move, status, kind) is not None:
            continue
        if move == "request_supplement":
            resume = status
        new = workflow.target_of(move, resume_status=resume)
        if index is not None:
            index = workflow.step_after(move, STEPS, index)
        if move == "submit":
            index = 0
        if new == "approved":
            # Approved only by the platform at once, or by staff after every review step.
            assert move == "approve_instantly" or kind == "decide"
            assert index == len(STEPS) - 1
        if new in ("accepted", "in_review", "supplement"):
            assert (index is not None and STEPS[index]["kind"] != "accept") or new == "supplement"
        status = new
        if status in workflow.FINAL_STATUSES:
            assert all(workflow.why_not(m, status, kind) is not None for m in MOVES)
            break


def test_overdue_only_while_with_the_office() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    assert workflow.is_overdue("in_review", now, now=now)
    assert not workflow.is_overdue("supplement", now, now=now)
    assert not workflow.is_overdue("approved", now, now=now)
    assert not workflow.is_overdue("submitted", None, now=now)
