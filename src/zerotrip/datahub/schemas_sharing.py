"""Input and output shapes of sharing, the gateway, the data-use log and objections.

The gateway's shapes are its public contract: department systems get them as JSON, and zerotrip's own
services and booking contexts get the same objects in-process.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

MAX_BATCH = 100  # subjects in one gateway lookup

# -- share requests and grants ----------------------------------------------------------------------


class ShareRequestCreate(BaseModel):
    resource_code: str = Field(max_length=80)
    fields: list[str] = Field(min_length=1, max_length=200, description="Names of the fields asked for.")
    purpose: str = Field(
        min_length=1,
        max_length=200,
        description="What the data will be used for; every gateway call must name this same purpose.",
    )
    legal_basis: str = Field(min_length=1, max_length=2000)
    is_clear_requested: bool = Field(
        False, description="Ask for grade 2 and 3 values unmasked (always needs the steward's approval)."
    )


class ShareRequestRefusal(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why the request is refused.")


class GrantRevocation(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class GrantRead(BaseModel):
    id: uuid.UUID
    request_number: str | None
    resource_code: str
    consumer_client_id: str
    fields: list[str]
    purpose: str
    is_clear: bool
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    is_live: bool


class ShareRequestRead(BaseModel):
    number: str
    resource_code: str
    resource_title: str
    consumer_client_id: str
    consumer_org_id: int
    fields: list[str]
    purpose: str
    legal_basis: str
    is_clear_requested: bool
    status: Literal["pending", "approved", "refused", "withdrawn"]
    requested_at: datetime
    due_at: datetime | None
    decided_at: datetime | None
    reason: str | None
    is_overdue: bool
    is_escalated: bool
    grants: list[GrantRead]


class ShareRequestPage(BaseModel):
    items: list[ShareRequestRead]
    total: int
    page: int
    per_page: int


# -- the gateway ------------------------------------------------------------------------------------


class LookupQuery(BaseModel):
    subjects: list[str] = Field(
        min_length=1, max_length=MAX_BATCH, description="Subject keys: resident IDs or credit codes."
    )
    fields: list[str] | None = Field(None, description="Fields wanted; none means every granted field.")
    purpose: str = Field(min_length=1, max_length=200, description="Must equal the grant's purpose.")
    on_behalf_of: str | None = Field(
        None, max_length=120, description="The staff member or application the call is made for."
    )


class ExistsQuery(BaseModel):
    subject: str = Field(min_length=1, max_length=40)
    purpose: str = Field(min_length=1, max_length=200)
    on_behalf_of: str | None = Field(None, max_length=120)


class FieldValue(BaseModel):
    value: Any
    masked: bool


class RecordView(BaseModel):
    """One record as a consumer may see it, with provenance: who holds the source and how fresh it is."""

    fields: dict[str, FieldValue]
    source: str = Field(description="Name of the department that owns the data (一数一源).")
    updated_at: datetime
    version: int


class SubjectResult(BaseModel):
    subject: str
    records: list[RecordView]


class LookupResult(BaseModel):
    resource_code: str
    purpose: str
    results: list[SubjectResult]


class ExistsResult(BaseModel):
    exists: bool


# -- the data-use log -------------------------------------------------------------------------------


class FieldTitle(BaseModel):
    name: str
    title: str


class DataUse(BaseModel):
    at: datetime
    kind: Literal["read", "checked"]
    consumer_name: str
    consumer_org_name: str
    resource_code: str
    resource_title: str
    fields: list[FieldTitle]
    purpose: str
    on_behalf_of: str | None


# -- objections -------------------------------------------------------------------------------------


class ObjectionCreate(BaseModel):
    resource_code: str = Field(max_length=80)
    key: dict[str, str] = Field(description="The record's key fields and their values.")
    field: str = Field(max_length=60, description="The field whose value is wrong.")
    claim: str = Field(min_length=1, max_length=2000, description="What is wrong.")
    proposed_value: str | None = Field(None, max_length=200)
    evidence: str | None = Field(None, max_length=4000)


class ObjectionAnswer(BaseModel):
    outcome: Literal["corrected", "rejected"]
    answer: str = Field(min_length=1, max_length=2000)
    corrected_value: Any = Field(
        None, description="The right value (default: the proposed value) when the outcome is corrected."
    )


class ObjectionRead(BaseModel):
    number: str
    resource_code: str
    resource_title: str
    record: dict[str, Any] = Field(description="The record's key fields.")
    field: str
    field_title: str
    claim: str
    proposed_value: str | None
    status: Literal["open", "corrected", "rejected"]
    raised_at: datetime
    due_at: datetime
    is_overdue: bool
    answer: str | None
    answered_at: datetime | None
    corrected_version: int | None


class ConsumerToTell(BaseModel):
    client_id: str
    name: str
    org_name: str
    last_read_at: datetime


class ObjectionAnswered(BaseModel):
    objection: ObjectionRead
    consumers_to_tell: list[ConsumerToTell]
