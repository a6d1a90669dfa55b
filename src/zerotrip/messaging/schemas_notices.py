"""Input and output shapes of staff notices, roll-ups, report-back and the directory, shared by the
actions, the API and the pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from zerotrip.common.checks import is_division_code
from zerotrip.messaging.notices_targeting import ROLE_BITS

Priority = Literal["normal", "urgent", "emergency"]
NoticeStatus = Literal["draft", "pending_approval", "published", "rejected", "withdrawn"]
Missing = Literal["unread", "unacknowledged"]


class TargetSpec(BaseModel):
    """Who is to receive the notice: the staff of a unit's subtree, of a region (GB/T 2260 division code)
    within the publisher's subtree, or of a region within a unit's subtree; narrowed to some roles if
    ``roles`` is given. With neither a unit nor a region: the publisher's whole subtree."""

    org_id: int | None = Field(None, description="The unit whose whole subtree is reached.")
    division_code: str | None = Field(
        None, description="A region: units whose division code falls under it (330100: all of Hangzhou)."
    )
    roles: list[str] = Field(
        default_factory=list, max_length=len(ROLE_BITS), description="Only staff holding one of these roles."
    )

    @field_validator("division_code")
    @classmethod
    def _division(cls, value: str | None) -> str | None:
        if value is not None and not is_division_code(value):
            raise ValueError("not a GB/T 2260 administrative division code")
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in ROLE_BITS]
        if unknown:
            raise ValueError(f"unknown roles: {', '.join(unknown)}; roles are {', '.join(ROLE_BITS)}")
        return sorted(set(value))


class LinkSpec(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://[^\s]+$")


class FormFieldSpec(BaseModel):
    """One number every reached unit reports back (报送), such as people evacuated."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="Stable key of the field.")
    label: str = Field(min_length=1, max_length=60, description="What is asked, e.g. 转移人数.")
    unit: str | None = Field(None, max_length=10, description="The unit of the number, e.g. 人 or 个.")


class NoticeCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    priority: Priority = "normal"
    requires_ack: bool = Field(False, description="Recipients are asked to acknowledge, not only read.")
    targets: list[TargetSpec] = Field(min_length=1, max_length=50)
    links: list[LinkSpec] = Field(default_factory=list, max_length=20)
    form: list[FormFieldSpec] | None = Field(
        None, max_length=20, description="A report-back form every reached unit answers once."
    )
    remind_after_minutes: int | None = Field(
        None,
        ge=1,
        le=10_080,
        description="Remind those who have not read (or acknowledged) this long after publishing.",
    )
    publisher_org_id: int | None = Field(
        None,
        description="The unit the notice is published for; needed only when you publish for several.",
    )
    publish: bool = Field(
        False, description="Publish at once instead of keeping a draft (which takes attachments)."
    )

    @model_validator(mode="after")
    def _unique_form_keys(self) -> NoticeCreate:
        if self.form is not None:
            keys = [f.key for f in self.form]
            if len(keys) != len(set(keys)):
                raise ValueError("the form's field keys must be unique")
            if not keys:
                raise ValueError("a form needs at least one field")
        return self


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class TargetRead(BaseModel):
    scope_org_id: int
    label: str
    division_prefix: str
    roles: list[str]


class AttachmentRead(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str


class ReceiptState(BaseModel):
    """The caller's own read and acknowledgement of a notice."""

    read_at: datetime | None
    acked_at: datetime | None
    units: list[int] = Field(description="The caller's units the notice reached them in.")


class NoticeRead(BaseModel):
    id: int
    status: NoticeStatus
    priority: Priority
    title: str
    body: str
    requires_ack: bool
    links: list[LinkSpec]
    form: list[FormFieldSpec] | None
    remind_after_minutes: int | None
    targets: list[TargetRead]
    attachments: list[AttachmentRead]
    publisher_name: str
    publisher_org_id: int
    publisher_org_name: str
    is_province_wide: bool
    created_at: datetime
    published_at: datetime | None
    decided_by_name: str | None
    decided_at: datetime | None
    decision_reason: str | None
    withdrawn_at: datetime | None
    receipt: ReceiptState | None = Field(None, description="Yours, when the notice is addressed to you.")


class InboxItem(BaseModel):
    id: int
    title: str
    priority: Priority
    status: NoticeStatus
    requires_ack: bool
    has_form: bool
    publisher_org_name: str
    published_at: datetime
    read_at: datetime | None
    acked_at: datetime | None
    is_reminded: bool = Field(description="Unread (or unacknowledged) after a reminder went out.")


class InboxPage(BaseModel):
    items: list[InboxItem]
    total: int
    unread: int
    page: int
    per_page: int


class NoticeSummary(BaseModel):
    id: int
    title: str
    priority: Priority
    status: NoticeStatus
    publisher_name: str
    publisher_org_name: str
    created_at: datetime
    published_at: datetime | None


class NoticePage(BaseModel):
    items: list[NoticeSummary]
    total: int
    page: int
    per_page: int


class RollupUnit(BaseModel):
    """One unit's figures for a notice: its whole subtree, or (``own``) the staff of the unit itself."""

    org_id: int
    name: str
    kind: str
    recipients: int
    read: int
    acked: int
    read_pct: float = Field(description="Read as a percentage of recipients (0 when none).")
    acked_pct: float


class RollupRead(BaseModel):
    notice_id: int
    unit: RollupUnit
    own: RollupUnit | None = Field(None, description="The unit's own staff, outside its sub-units.")
    children: list[RollupUnit]
    headcount_as_of: datetime


class NonReader(BaseModel):
    account_id: uuid.UUID
    display_name: str
    org_id: int
    org_name: str


class NonReaderPage(BaseModel):
    missing: Missing
    items: list[NonReader]
    total: int
    page: int
    per_page: int


class ReportAnswerCreate(BaseModel):
    values: dict[str, int] = Field(description="A whole number from 0 up for every field of the form.")


class ReportAnswerRead(BaseModel):
    notice_id: int
    org_id: int
    org_name: str
    values: dict[str, int]
    answered_by_name: str
    answered_at: datetime
    amended_at: datetime | None
    revision: int


class ReportUnitSums(BaseModel):
    org_id: int
    name: str
    kind: str
    totals: dict[str, int]
    answered: int = Field(description="Units in this subtree that have answered.")
    expected: int = Field(description="Units in this subtree the notice reached.")


class ReportSums(BaseModel):
    notice_id: int
    form: list[FormFieldSpec]
    unit: ReportUnitSums
    own: ReportAnswerRead | None = Field(None, description="The unit's own answer, if it gave one.")
    children: list[ReportUnitSums]


class DirectoryEntry(BaseModel):
    account_id: uuid.UUID
    display_name: str
    org_id: int
    org_name: str
    org_kind: str
    division_code: str
    role: str | None
    title: str | None


class DirectoryPage(BaseModel):
    items: list[DirectoryEntry]
    total: int
    page: int
    per_page: int
