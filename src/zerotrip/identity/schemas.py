"""Identity input and output shapes for the API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from zerotrip.common.checks import InvalidIdentifier, is_division_code, parse_resident_id, parse_uscc


def _resident_id(value: str) -> str:
    try:
        return parse_resident_id(value).value
    except InvalidIdentifier as exc:
        raise ValueError(f"not a valid resident ID number: {exc.reason}") from exc


def _uscc(value: str) -> str:
    try:
        return parse_uscc(value).value
    except InvalidIdentifier as exc:
        raise ValueError(f"not a valid unified social credit code: {exc.reason}") from exc


def _division(value: str) -> str:
    if not is_division_code(value):
        raise ValueError("not a GB/T 2260 administrative division code")
    return value


class PersonCreate(BaseModel):
    resident_id: str = Field(description="公民身份号码 (GB 11643), 18 characters, checked.")
    name: str = Field(min_length=1, max_length=60)
    sex: Literal["male", "female"] | None = Field(None, description="Must agree with the ID number if given.")
    birth_date: date | None = Field(None, description="Must agree with the ID number if given.")
    phone: str | None = Field(None, pattern=r"^1[3-9]\d{9}$")
    division_code: str = Field(description="Where the person lives (GB/T 2260).")
    address: str | None = Field(None, max_length=200)
    household_no: str | None = Field(None, max_length=20)
    assurance_level: int = Field(
        1, ge=1, le=4, description="Real-name assurance level, 1 (self-asserted) to 4."
    )

    _check_id = field_validator("resident_id")(_resident_id)
    _check_division = field_validator("division_code")(_division)


class PersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    resident_id: str
    name: str
    sex: str
    birth_date: date
    phone: str | None
    division_code: str
    address: str | None
    household_no: str | None
    assurance_level: int


class EnterpriseCreate(BaseModel):
    uscc: str = Field(description="统一社会信用代码 (GB 32100), 18 characters, checked.")
    name: str = Field(min_length=1, max_length=120)
    legal_representative_resident_id: str
    division_code: str
    address: str | None = Field(None, max_length=200)
    established_on: date | None = None

    _check_uscc = field_validator("uscc")(_uscc)
    _check_rep = field_validator("legal_representative_resident_id")(_resident_id)
    _check_division = field_validator("division_code")(_division)


class EnterpriseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    uscc: str
    name: str
    legal_representative_id: uuid.UUID
    division_code: str
    address: str | None
    established_on: date | None


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    kind: str
    code: str
    name: str
    name_en: str | None
    division_code: str
    path: str


class MembershipCreate(BaseModel):
    login_name: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=60)
    role: str | None = None
    title: str | None = Field(None, max_length=60)


class MembershipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: uuid.UUID
    org_id: int
    role: str | None
    title: str | None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    scope: str


class MeRead(BaseModel):
    kind: str
    name: str
    person_id: uuid.UUID | None = None
    client_id: str | None = None
    scopes: list[str] = []
    roles: list[dict[str, object]] = []
