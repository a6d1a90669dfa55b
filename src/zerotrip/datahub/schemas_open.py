"""Input and output shapes of the open data API and the return feeds (public contracts)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class OpenFieldRead(BaseModel):
    name: str
    title: str
    type: str
    description: str
    open_type: Literal["open", "restricted"] = Field(description="How this field is opened, given its grade.")
    is_masked: bool = Field(
        description="Values arrive desensitised (grade 2 and 3 fields of restricted data)."
    )


class OpenResourceSummary(BaseModel):
    code: str
    title: str
    title_en: str | None
    owner_name: str
    open_type: Literal["open", "restricted"]
    update_frequency: str
    keywords: list[str]
    data_updated_at: datetime | None


class OpenResourcePage(BaseModel):
    items: list[OpenResourceSummary]
    total: int
    page: int
    per_page: int


class OpenResourceRead(OpenResourceSummary):
    description: str
    contact: str
    legal_basis: str
    updated_at: datetime
    fields: list[OpenFieldRead]
    has_access: bool = Field(
        description="Whether this caller may read the records (always for open resources; restricted ones "
        "need an API client with an approved application)."
    )
    links: dict[str, str] = Field(description="Addresses of the records, the CSV and the JSON download.")


class OpenRecordPage(BaseModel):
    fields: list[str] = Field(description="The visible fields, in catalogue order.")
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


class OpenApplicationCreate(BaseModel):
    purpose: str = Field(min_length=1, max_length=2000, description="What the data will be used for.")


class OpenApplicationDecision(BaseModel):
    approve: bool
    reason: str | None = Field(None, max_length=2000, description="Required when refusing.")


class OpenApplicationRead(BaseModel):
    id: uuid.UUID
    resource_code: str
    client_id: str
    applicant: str
    purpose: str
    status: Literal["pending", "approved", "refused"]
    applied_at: datetime
    decided_at: datetime | None
    reason: str | None


class FeedItemRead(BaseModel):
    cursor: str
    operation: Literal["upsert", "delete"]
    record_key: str
    version: int
    data: dict[str, Any] = Field(description="The fields the caller's grants cover; empty for a deletion.")
    changed_at: datetime


class FeedPageRead(BaseModel):
    items: list[FeedItemRead]
    next_cursor: str = Field(description="Pass as `after` to resume; unchanged when nothing was new.")
    has_more: bool
    region: str | None
