"""Datahub input and output shapes shared by the actions, the API and the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FieldName = Field(
    pattern=r"^[a-z][a-z0-9_]{0,59}$", description="Lower-case identifier used in files and APIs."
)


class FieldSpec(BaseModel):
    name: str = FieldName
    title: str = Field(min_length=1, max_length=120)
    type: Literal["string", "integer", "decimal", "date", "datetime", "boolean"] = "string"
    description: str = ""
    grade: int = Field(1, ge=1, le=4, description="1 general, 2 sensitive, 3 important, 4 core.")
    is_required: bool = False
    is_unique: bool = False
    pattern: str | None = Field(
        None, max_length=200, description="A regular expression the whole value matches."
    )
    enumeration: list[str] | None = None
    check_kind: Literal["resident_id", "uscc", "division_code"] | None = None
    reference: str | None = Field(None, description="RESOURCE_CODE.FIELD that every value must exist in.")
    max_age_days: int | None = Field(None, ge=1, description="Freshness rule for date and datetime fields.")


class ResourceSpec(BaseModel):
    """Everything a steward says about a resource; the same shape creates and updates it."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{2,79}$")
    owner_org_id: int
    title: str = Field(min_length=1, max_length=120)
    title_en: str | None = Field(None, max_length=160)
    description: str = ""
    subject_kind: Literal["resident_id", "uscc", "division_code", "none"]
    subject_field: str | None = None
    key_fields: list[str] | None = Field(None, description="Default: the subject field.")
    region_field: str | None = Field(None, description="Division-code field for return feeds.")
    share_type: Literal["unconditional", "conditional", "none"]
    open_type: Literal["open", "restricted", "closed"] = "closed"
    update_frequency: Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
    legal_basis: str = Field(min_length=1)
    contact: str = Field(min_length=1, max_length=200)
    keywords: list[str] = []
    fields: list[FieldSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ResourceSpec:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError("field names must be unique")
        if self.subject_kind == "none":
            if self.subject_field is not None:
                raise ValueError("a resource without a subject has no subject_field")
        elif self.subject_field not in names:
            raise ValueError("subject_field must name one of the fields")
        keys = self.key_fields or ([self.subject_field] if self.subject_field else [])
        if not keys:
            raise ValueError("key_fields is needed when the resource has no subject")
        if any(k not in names for k in keys):
            raise ValueError("key_fields must name fields of the resource")
        if self.region_field is not None and self.region_field not in names:
            raise ValueError("region_field must name one of the fields")
        return self

    @property
    def effective_key_fields(self) -> list[str]:
        return self.key_fields or ([self.subject_field] if self.subject_field else [])


class FieldRead(FieldSpec):
    model_config = ConfigDict(from_attributes=True)

    share_type: str = Field(description="How this field may be shared, given its grade.")
    open_type: str = Field(description="How this field may be opened, given its grade.")


class ResourceRead(BaseModel):
    code: str
    owner_org_id: int
    owner_name: str
    title: str
    title_en: str | None
    description: str
    subject_kind: str
    subject_field: str | None
    key_fields: list[str]
    region_field: str | None
    share_type: str
    open_type: str
    grade: int
    update_frequency: str
    legal_basis: str
    contact: str
    keywords: list[str]
    version: int
    updated_at: datetime
    data_updated_at: datetime | None
    fields: list[FieldRead]


class ResourceSummary(BaseModel):
    code: str
    title: str
    owner_name: str
    grade: int
    share_type: str
    open_type: str
    version: int
    updated_at: datetime


class ResourcePage(BaseModel):
    items: list[ResourceSummary]
    total: int
    page: int
    per_page: int
