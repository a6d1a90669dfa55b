"""The workflow of an application, as a table (pure): which move is allowed from which status at which
step, where it leads, and the clock.

An item's steps are accept → any reviews → decide → issue (``trips.step_order_problem`` keeps them so).
An application carries a copy of them and the index of the one it is at:

====================  ==================================  ==========================  ===================
move                  from                                at step                     to
====================  ==================================  ==========================  ===================
submit                draft                               (accept)                    submitted
refer                 submitted (instant approval)        accept → the next step      in_review
accept                submitted                           accept → the next step      accepted
complete_review       accepted, in_review                 review → the next step      in_review
approve               accepted, in_review                 decide → issue              approved
approve_instantly     submitted (instant approval)        accept → issue              approved
refuse                submitted, accepted, in_review      any                         refused
request_supplement    submitted, accepted, in_review      any (stays)                 supplement
resubmit              supplement                          (stays)                     where it was
withdraw              draft, submitted, accepted,         any                         withdrawn
                      in_review, supplement
====================  ==================================  ==========================  ===================

The clock: the promised time limit (working days) runs from submission; it stands still while a
supplement request waits for the applicant, and the deadline moves by the working days it stood still.
An application with the department (submitted, accepted, in review) past its deadline is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from zerotrip.common.clock import CHINA
from zerotrip.common.workdays import WorkCalendar
from zerotrip.config import Settings

Move = Literal[
    "submit",
    "refer",
    "accept",
    "complete_review",
    "approve",
    "approve_instantly",
    "refuse",
    "request_supplement",
    "resubmit",
    "withdraw",
]
MOVES: tuple[Move, ...] = (
    "submit",
    "refer",
    "accept",
    "complete_review",
    "approve",
    "approve_instantly",
    "refuse",
    "request_supplement",
    "resubmit",
    "withdraw",
)
# With the department, its clock running.
OPEN_STATUSES = ("submitted", "accepted", "in_review")
FINAL_STATUSES = ("approved", "refused", "withdrawn")
# Completed: decided either way (a withdrawn application is not rated).
COMPLETED_STATUSES = ("approved", "refused")
# Moves staff make (the rest are the applicant's, or the platform's instant approval).
STAFF_MOVES: tuple[Move, ...] = ("accept", "complete_review", "approve", "refuse", "request_supplement")


@dataclass(frozen=True)
class Rule:
    """Where a move may start (statuses, and the kind of the current step, None for any) and where it
    leads (a status, or None: back to where the application was before the supplement request)."""

    sources: tuple[str, ...]
    step_kinds: tuple[str, ...] | None
    target: str | None
    advances_to: Literal["next", "issue"] | None = None  # the step the application is at afterwards


RULES: dict[Move, Rule] = {
    "submit": Rule(("draft",), None, "submitted"),
    "refer": Rule(("submitted",), ("accept",), "in_review", advances_to="next"),
    "accept": Rule(("submitted",), ("accept",), "accepted", advances_to="next"),
    "complete_review": Rule(("accepted", "in_review"), ("review",), "in_review", advances_to="next"),
    "approve": Rule(("accepted", "in_review"), ("decide",), "approved", advances_to="issue"),
    "approve_instantly": Rule(("submitted",), ("accept",), "approved", advances_to="issue"),
    "refuse": Rule(OPEN_STATUSES, None, "refused"),
    "request_supplement": Rule(OPEN_STATUSES, None, "supplement"),
    "resubmit": Rule(("supplement",), None, None),
    "withdraw": Rule(("draft", "supplement", *OPEN_STATUSES), None, "withdrawn"),
}


def why_not(move: Move, status: str, step_kind: str | None) -> str | None:
    """Why ``move`` cannot be made from ``status`` at a step of ``step_kind`` (None when it can)."""
    rule = RULES[move]
    if status not in rule.sources:
        return f"a {status} application cannot be {_PAST[move]}"
    if rule.step_kinds is not None and step_kind not in rule.step_kinds:
        wanted = " or ".join(rule.step_kinds)
        return f"the application is at its {step_kind or 'no'} step, not {wanted}"
    return None


def target_of(move: Move, *, resume_status: str | None = None) -> str:
    """The status ``move`` leads to; a resubmission returns to where the supplement request found it."""
    target = RULES[move].target
    if target is not None:
        return target
    if resume_status not in OPEN_STATUSES:
        raise ValueError("a resubmission needs the status the supplement request interrupted")
    assert resume_status is not None
    return resume_status


def step_after(move: Move, steps: list[dict[str, str]], index: int) -> int:
    """The index of the step the application is at after ``move`` from the step at ``index``: the next
    one, the issue step, or the same; never past the last."""
    advances_to = RULES[move].advances_to
    if advances_to == "issue":
        return next((i for i in range(index + 1, len(steps)) if steps[i]["kind"] == "issue"), len(steps) - 1)
    if advances_to == "next":
        return min(index + 1, len(steps) - 1)
    return index


_PAST: dict[Move, str] = {
    "submit": "submitted",
    "refer": "referred to a person",
    "accept": "accepted",
    "complete_review": "reviewed",
    "approve": "approved",
    "approve_instantly": "approved at once",
    "refuse": "refused",
    "request_supplement": "sent back for a supplement",
    "resubmit": "resubmitted",
    "withdraw": "withdrawn",
}


# -- the clock --------------------------------------------------------------------------------------------


def calendar_of(settings: Settings) -> WorkCalendar:
    """The deployment's one working-day calendar (its holidays are configured with the datahub's, which
    counts share-request deadlines in the same days)."""
    return WorkCalendar.of(
        holidays=settings.datahub.holidays, working_weekend_days=settings.datahub.working_weekend_days
    )


def is_overdue(status: str, due_at: datetime | None, *, now: datetime) -> bool:
    """With the department past its deadline (a paused or decided application never is)."""
    return status in OPEN_STATUSES and due_at is not None and due_at <= now


def paused_days(calendar: WorkCalendar, paused_at: datetime, resumed_at: datetime) -> int:
    """Working days the clock stood still: those after the day it stopped, up to the day it ran again
    (China time), so a supplement answered the same day costs the department nothing."""
    return calendar.working_days_between(
        paused_at.astimezone(CHINA).date(), resumed_at.astimezone(CHINA).date()
    )
