"""View-models of where an application stands in its office's workflow, shared by the applicant's status
page and the staff's application page: the steps, the deadline, the timeline, the supplement requests
with their answers, and the rating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from zerotrip.services.application_schemas import ApplicationRead
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import china_date, china_time
from zerotrip.web.services_text import PRESENCE_LABELS, RATING_TAG_LABELS, SCORE_LABELS

# A transition's ``to_status``, as the timeline says it (English msgids).
TIMELINE_LABELS = {
    "draft": N_("Draft started"),
    "submitted": N_("Submitted"),
    "accepted": N_("Accepted by the office"),
    "in_review": N_("Under review"),
    "supplement": N_("Supplement requested"),
    "approved": N_("Decided: approved"),
    "refused": N_("Decided: refused"),
    "withdrawn": N_("Withdrawn"),
}
RESUBMITTED = N_("Supplement answered and resubmitted")
REVIEW_DONE = N_("Review step done")
BY_LABELS = {"citizen": N_("Applicant"), "staff": N_("Staff"), "system": N_("The platform")}


@dataclass(frozen=True)
class StepRow:
    name: str
    presence_label: str  # an English msgid
    is_current: bool
    is_done: bool


@dataclass(frozen=True)
class TimelineRow:
    at: str
    label: str  # an English msgid
    step: str | None
    reason: str | None
    by_label: str  # an English msgid


@dataclass(frozen=True)
class SupplementItemRow:
    position: int
    material_name: str | None  # None: asks for something in words
    detail: str
    answer_text: str | None
    upload_name: str | None
    answered_at: str
    is_answered: bool

    @property
    def takes_file(self) -> bool:
        return self.material_name is not None


@dataclass(frozen=True)
class SupplementView:
    sequence: int
    note: str
    requested_at: str
    resubmitted_at: str
    paused_days: int | None
    items: tuple[SupplementItemRow, ...]
    is_open: bool

    @property
    def is_complete(self) -> bool:
        return all(i.is_answered for i in self.items)


@dataclass(frozen=True)
class RatingView:
    score: int
    comment: str
    tag_labels: tuple[str, ...]  # English msgids
    rated_at: str
    is_bad: bool
    rectification: str | None
    rectified_at: str


@dataclass(frozen=True)
class WorkflowPanel:
    office: str
    steps: tuple[StepRow, ...]
    current_step: str | None
    due_date: str  # the last working day of the promised time limit
    is_overdue: bool
    is_paused: bool
    paused_days: int
    escalated_to: str | None
    escalated_at: str
    refusal_reasons: tuple[str, ...]
    supplements: tuple[SupplementView, ...]
    rating: RatingView | None
    can_rate: bool
    timeline: tuple[TimelineRow, ...]

    @property
    def open_supplement(self) -> SupplementView | None:
        return next((s for s in self.supplements if s.is_open), None)

    @property
    def score_choices(self) -> tuple[tuple[int, str], ...]:
        return tuple(sorted(SCORE_LABELS.items(), reverse=True))

    @property
    def tag_choices(self) -> tuple[tuple[str, str], ...]:
        return tuple(RATING_TAG_LABELS.items())


def workflow_panel(read: ApplicationRead) -> WorkflowPanel | None:
    """None for a draft (it has no workflow yet)."""
    flow = read.workflow
    if flow is None:
        return None
    waiting = read.status == "supplement"
    supplements = tuple(
        SupplementView(
            sequence=s.sequence,
            note=s.note,
            requested_at=china_time(s.requested_at),
            resubmitted_at=china_time(s.resubmitted_at),
            paused_days=s.paused_working_days,
            items=tuple(
                SupplementItemRow(
                    position=i.position,
                    material_name=i.material_name,
                    detail=i.detail,
                    answer_text=i.answer_text,
                    upload_name=i.upload_name,
                    answered_at=china_time(i.answered_at),
                    is_answered=i.answered_at is not None,
                )
                for i in s.items
            ),
            is_open=waiting and s.resubmitted_at is None,
        )
        for s in flow.supplements
    )
    rating = flow.rating
    return WorkflowPanel(
        office=flow.office,
        steps=tuple(
            StepRow(
                name=s.name,
                presence_label=PRESENCE_LABELS[s.presence],
                is_current=s.is_current,
                is_done=s.is_done,
            )
            for s in flow.steps
        ),
        current_step=flow.current_step,
        # The deadline is the midnight that ends the last working day: show that day.
        due_date=china_date(flow.due_at - timedelta(seconds=1)) if flow.due_at else "",
        is_overdue=flow.is_overdue,
        is_paused=flow.is_paused,
        paused_days=flow.paused_working_days,
        escalated_to=flow.escalated_to,
        escalated_at=china_time(flow.escalated_at),
        refusal_reasons=tuple(flow.refusal_reasons or ()),
        supplements=supplements,
        rating=RatingView(
            score=rating.score,
            comment=rating.comment,
            tag_labels=tuple(RATING_TAG_LABELS[t] for t in rating.tags),
            rated_at=china_time(rating.rated_at),
            is_bad=rating.is_bad,
            rectification=rating.rectification,
            rectified_at=china_time(rating.rectified_at),
        )
        if rating is not None
        else None,
        can_rate=flow.can_rate,
        timeline=tuple(
            TimelineRow(
                at=china_time(t.at),
                label=_label(t.from_status, t.to_status),
                step=t.step,
                reason=t.reason,
                by_label=BY_LABELS.get(t.by.partition(":")[0], BY_LABELS["system"]),
            )
            for t in read.transitions
        ),
    )


def _label(previous: str | None, to: str) -> str:
    if previous == "supplement" and to != "withdrawn":
        return RESUBMITTED
    if previous == to == "in_review":
        return REVIEW_DONE
    return TIMELINE_LABELS[to]
