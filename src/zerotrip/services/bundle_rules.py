"""Bundles (一件事) as pure rules: the order parts run in, when a waiting part may start, the one status the
applicant sees, and the trip count of the whole bundle. No database, no clock.

**Order.** A bundle lists items of several departments. A part *needs* another part when its item asks for
the other item's result (a ``prior_result`` material naming it). Parts run in dependency order: a part
starts (is submitted to its department) once every part it needs is approved; a part whose needed part is
refused or withdrawn can never start, so it is withdrawn too (``blocked``). Needs must not form a cycle.

**The combined status** of a bundle application, from its own state (the applicant's draft, submitted,
withdrawn) and its parts' statuses:

- ``draft`` / ``withdrawn``: the applicant's own state of the bundle, whatever the parts are;
- ``action_needed``: some part asks the applicant for a supplement (补正) and not every part is decided;
- ``in_progress``: some part is not yet decided (waiting for its inputs, or with its department);
- ``done``: every part is approved;
- ``partly_refused``: every part is decided, some approved and some refused (or withdrawn);
- ``refused``: every part is decided and none is approved.

**Trips.** Zhejiang's rules count "related items submitted together" as one matter: a bundle is applied
for once, and when any part needs the applicant at acceptance (applied for only at a counter, an original
shown, a signature), every part is accepted at that one counter visit (一窗受理). Each part's later visits
(collecting a paper licence after its review) stay its own: the departments decide on different days. So
the bundle's trips are one acceptance visit if any part has one, plus every part's visits after acceptance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from zerotrip.services.trips import Band, Item, Reason, StepKind, band_of, count_trips

BundleState = Literal["draft", "submitted", "withdrawn"]
BUNDLE_STATES = ("draft", "submitted", "withdrawn")
CombinedStatus = Literal[
    "draft", "in_progress", "action_needed", "done", "partly_refused", "refused", "withdrawn"
]
COMBINED_STATUSES = (
    "draft",
    "in_progress",
    "action_needed",
    "done",
    "partly_refused",
    "refused",
    "withdrawn",
)
# A part's status as the applicant sees it: its application's, or "waiting" for the parts it needs.
PartStatus = Literal[
    "draft",
    "waiting",
    "submitted",
    "accepted",
    "in_review",
    "supplement",
    "approved",
    "refused",
    "withdrawn",
]
DECIDED = frozenset({"approved", "refused", "withdrawn"})


class CyclicNeeds(ValueError):
    """Parts need each other's results in a circle, so none of them could ever start."""


def run_order(needs: Mapping[str, frozenset[str]]) -> list[str]:
    """The parts (by key) in an order where each comes after every part it needs; among parts free at the
    same time, the order given. ``needs`` maps each part to the parts it needs (keys of ``needs``; others
    are ignored: results from outside the bundle are the applicant's earlier applications). Raises
    CyclicNeeds."""
    pending = {key: {n for n in wanted if n in needs and n != key} for key, wanted in needs.items()}
    ordered: list[str] = []
    while pending:
        ready = [key for key, wanted in pending.items() if not wanted]
        if not ready:
            raise CyclicNeeds(f"these parts need each other's results: {', '.join(sorted(pending))}")
        for key in ready:
            ordered.append(key)
            del pending[key]
        for wanted in pending.values():
            wanted.difference_update(ready)
    return ordered


def critical_days(needs: Mapping[str, frozenset[str]], days: Mapping[str, int]) -> int:
    """The working days from applying to the last result when each part takes ``days`` and starts when
    the parts it needs are done: the longest chain. Raises CyclicNeeds."""
    finished: dict[str, int] = {}
    for key in run_order(needs):
        start = max((finished[n] for n in needs[key] if n in finished), default=0)
        finished[key] = start + days[key]
    return max(finished.values(), default=0)


Readiness = Literal["ready", "waiting", "blocked"]


def readiness(needed_statuses: Sequence[str]) -> Readiness:
    """Whether a part that needs parts with these statuses may start now (all approved), must wait, or
    never can (one of them was refused or withdrawn)."""
    if any(s in DECIDED and s != "approved" for s in needed_statuses):
        return "blocked"
    if all(s == "approved" for s in needed_statuses):
        return "ready"
    return "waiting"


def part_status(application_status: str, *, bundle_state: str) -> PartStatus:
    """What the applicant is shown for one part: a draft part of a submitted bundle is waiting for the
    parts it needs (the bundle submits every part whose inputs exist)."""
    if application_status == "draft" and bundle_state == "submitted":
        return "waiting"
    return application_status  # type: ignore[return-value]


def combined_status(bundle_state: str, part_statuses: Sequence[str]) -> CombinedStatus:
    """The one status of a bundle application (the rule in this module's docstring)."""
    if bundle_state in ("draft", "withdrawn"):
        return bundle_state  # type: ignore[return-value]
    if not all(s in DECIDED for s in part_statuses):
        return "action_needed" if "supplement" in part_statuses else "in_progress"
    approved = sum(1 for s in part_statuses if s == "approved")
    if approved == len(part_statuses):
        return "done"
    return "partly_refused" if approved else "refused"


# -- trips ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartVisit:
    """A visit of the bundle: the parts it serves (all of them, for the shared acceptance visit) and why."""

    parts: tuple[str, ...]  # item codes
    steps: tuple[StepKind, ...]
    reasons: tuple[Reason, ...]
    is_acceptance: bool


@dataclass(frozen=True, slots=True)
class BundleTrips:
    visits: tuple[PartVisit, ...]
    separately: int  # the trips of the parts applied for one by one

    @property
    def trips(self) -> int:
        return len(self.visits)

    @property
    def band(self) -> Band:
        return band_of(self.trips)


def count_bundle_trips(items: Sequence[Item]) -> BundleTrips:
    """The visits the whole bundle needs (the rule in this module's docstring)."""
    counts = [(item, count_trips(item)) for item in items]
    at_acceptance = [(item, v) for item, c in counts for v in c.visits if "accept" in v.steps]
    visits: list[PartVisit] = []
    if at_acceptance:
        visits.append(
            PartVisit(
                parts=tuple(dict.fromkeys(item.code for item, _ in at_acceptance)),
                steps=tuple(dict.fromkeys(step for _, v in at_acceptance for step in v.steps)),
                reasons=tuple(r for _, v in at_acceptance for r in v.reasons),
                is_acceptance=True,
            )
        )
    visits.extend(
        PartVisit(parts=(item.code,), steps=v.steps, reasons=v.reasons, is_acceptance=False)
        for item, c in counts
        for v in c.visits
        if "accept" not in v.steps
    )
    return BundleTrips(tuple(visits), separately=sum(c.trips for _, c in counts))
