"""Input and output shapes of the staff workflow, supplement requests (补正) and ratings (好差评), shared by
the actions, the API and the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

QueueStatus = Literal["submitted", "accepted", "in_review", "supplement", "approved", "refused", "withdrawn"]
RatingTag = Literal[
    "convenient",
    "fast",
    "courteous",
    "clear_guide",
    "too_many_materials",
    "extra_trips",
    "slow",
    "unclear_guide",
    "discourteous",
]


# -- staff moves ------------------------------------------------------------------------------------------


class NoteRequest(BaseModel):
    note: str = Field("", max_length=2000, description="The reviewer's note, kept on the transition.")


class ReviewRequest(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="The review's opinion (审查意见).")


class SupplementItemSpec(BaseModel):
    material: int | None = Field(
        None, description="Position of the material to send again; none for anything else missing."
    )
    detail: str = Field(min_length=1, max_length=1000, description="What is missing or wrong, and why.")


class SupplementRequestCreate(BaseModel):
    """Everything missing, at once (一次性告知)."""

    items: list[SupplementItemSpec] = Field(min_length=1, max_length=50)
    note: str = Field("", max_length=2000)


class ApproveRequest(BaseModel):
    decision_text: str = Field(
        "", max_length=2000, description="The decision's wording; none: the standard wording."
    )


class RefuseRequest(BaseModel):
    reasons: list[str] = Field(min_length=1, max_length=20, description="Why, one reason per entry.")


# -- the applicant's answers --------------------------------------------------------------------------------


class SupplementAnswer(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class RatingCreate(BaseModel):
    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied).")
    comment: str = Field("", max_length=1000)
    tags: list[RatingTag] = Field(default_factory=list, max_length=9)


class RectificationCreate(BaseModel):
    answer: str = Field(min_length=1, max_length=4000, description="What the department found and changed.")


# -- reading ----------------------------------------------------------------------------------------------


class StepRead(BaseModel):
    kind: Literal["accept", "review", "decide", "issue"]
    name: str
    presence: Literal["none", "onsite", "inspection"]
    is_current: bool
    is_done: bool


class SupplementItemRead(BaseModel):
    position: int
    material: int | None
    material_name: str | None
    detail: str
    answer_text: str | None
    upload_name: str | None
    upload_type: str | None
    upload_size: int | None
    answered_at: datetime | None


class SupplementRequestRead(BaseModel):
    sequence: int
    note: str
    requested_at: datetime
    requested_by: str
    resubmitted_at: datetime | None
    paused_working_days: int | None
    items: list[SupplementItemRead]


class RatingRead(BaseModel):
    score: int
    comment: str
    tags: list[RatingTag]
    rated_at: datetime
    is_bad: bool
    rectification: str | None
    rectified_at: datetime | None


class WorkflowRead(BaseModel):
    """Where the application stands in its office's workflow and against its deadline."""

    office: str
    steps: list[StepRead]
    current_step: str | None
    accepted_at: datetime | None
    due_at: datetime | None
    is_overdue: bool
    is_paused: bool
    paused_working_days: int
    escalated_at: datetime | None
    escalated_to: str | None
    refusal_reasons: list[str] | None
    supplements: list[SupplementRequestRead]
    rating: RatingRead | None
    can_rate: bool


class QueueEntry(BaseModel):
    number: str
    item_code: str
    item_name: str
    applicant_name: str
    office: str
    status: QueueStatus
    current_step: str | None
    submitted_at: datetime | None
    due_at: datetime | None
    is_overdue: bool
    is_escalated: bool


class QueuePage(BaseModel):
    items: list[QueueEntry]
    total: int
    page: int
    per_page: int


class DepartmentRatings(BaseModel):
    department_id: int
    department: str
    ratings: int
    average: float
    bad: int
    bad_rectified: int
    rectified_share: float | None = Field(description="Bad ratings answered, as a share of bad ratings.")


class RatingSummary(BaseModel):
    departments: list[DepartmentRatings]
    ratings: int
    average: float | None
