"""Input and output shapes of bundles (一件事): the guide's bundle, and a citizen's bundle application."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from zerotrip.services.application_schemas import USCC, FieldTitleRead, FormFieldRead, MaterialPreview
from zerotrip.services.bundle_rules import CombinedStatus, PartStatus
from zerotrip.services.schemas import ITEM_CODE, DepartmentRef, LifeEvent, ReasonRead, SourceSpec

BUNDLE_NUMBER_PREFIX = "YJ"  # 一件事


class BundleSpec(BaseModel):
    """What the guide says about a bundle; the same shape defines and revises it. The parts' order is the
    guide's; the order they run in follows from which part needs which other part's result."""

    code: str = Field(pattern=ITEM_CODE, description="The bundle's code.")
    name: str = Field(min_length=1, max_length=120, description="e.g. 出生“一件事”.")
    name_en: str | None = Field(None, max_length=200)
    life_event: LifeEvent
    description: str = Field(min_length=1, description="What the life event covers, for the guide.")
    conditions: str = Field("", description="Who may apply and on what conditions.")
    parts: list[str] = Field(
        min_length=2, max_length=20, description="The codes of the bundle's service items, in guide order."
    )
    subject_register: str | None = Field(
        None,
        max_length=80,
        description="The datahub register (resource code) whose records are the life event's subject, one "
        "record each (出生“一件事”: the births register): a part must read fields of it. When it holds "
        "several records about the applicant (twins, a second child), the applicant chooses which one the "
        "application is about before it is handed to the parts.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> BundleSpec:
        if len(set(self.parts)) != len(self.parts):
            raise ValueError("a bundle lists each item once")
        return self


# -- the guide --------------------------------------------------------------------------------------------


class BundlePartRead(BaseModel):
    position: int
    item_code: str
    item_name: str
    department: DepartmentRef
    level: str
    promised_days: int
    trips: int
    needs: list[int] = Field(description="Positions of the parts whose results this part needs first.")


class BundleMaterialRead(BaseModel):
    """A material of the bundle's one set: a datahub source read once for every part that asks for it, or
    one part's own material. A part's result that feeds a later part is listed under ``passed_on``."""

    name: str
    source: SourceSpec
    parts: list[int] = Field(description="Positions of the parts that use it.")
    needs_visit: bool


class PassedOnRead(BaseModel):
    name: str
    from_part: int
    to_part: int


class PartVisitRead(BaseModel):
    parts: list[str] = Field(description="The item codes of the parts this visit serves.")
    steps: list[str]
    reasons: list[ReasonRead]
    is_acceptance: bool


class BundleTripsRead(BaseModel):
    trips: int = Field(description="Visits in person for the whole bundle, with complete materials.")
    band: Literal["zero", "one", "more"]
    separately: int = Field(description="The parts' trips added up, as if applied for one by one.")
    visits: list[PartVisitRead]


class BundleRead(BaseModel):
    code: str
    name: str
    name_en: str | None
    life_event: str
    description: str
    conditions: str
    subject_register: str | None = Field(
        None, description="The register whose records are the subject: several mean a choice."
    )
    version: int
    updated_at: datetime
    parts: list[BundlePartRead]
    materials: list[BundleMaterialRead]
    passed_on: list[PassedOnRead]
    materials_separately: int = Field(description="How many materials the parts ask for one by one.")
    promised_days: int = Field(
        description="Working days from applying to the last result if every department keeps its promised "
        "time limit (the longest chain of parts that wait for each other)."
    )
    trips: BundleTripsRead


class BundleSummary(BaseModel):
    code: str
    name: str
    name_en: str | None
    life_event: str
    parts: int
    departments: list[str]
    trips: int
    band: Literal["zero", "one", "more"]


class BundlePage(BaseModel):
    items: list[BundleSummary]
    total: int


# -- applying ---------------------------------------------------------------------------------------------


class BundleStart(BaseModel):
    enterprise_uscc: str | None = Field(
        None,
        pattern=USCC,
        description="Apply for this enterprise (you must be its legal representative); none: for yourself.",
    )


class BundleConsent(BaseModel):
    sources: list[int] | None = Field(
        None, description="Positions of the sources to read; none means every source still waiting."
    )


class BundleSubmit(BaseModel):
    pledge: bool = Field(False, description="The applicant signs every part's commitments (告知承诺).")


class BundleWithdraw(BaseModel):
    reason: str = Field("", max_length=500)


SourceState = Literal["pending", "choosing", "fetched", "unavailable", "uploaded"]


class CandidateFieldRead(BaseModel):
    name: str
    title: str
    value: str | int | float | bool | None = Field(description="Masked when the gateway masked it.")
    masked: bool


class CandidateRead(BaseModel):
    """One record the bundle's subject register holds about the applicant (one child of several)."""

    record: int = Field(description="What to send as ``record`` to choose it.")
    fields: list[CandidateFieldRead]
    updated_at: datetime | None


class BundleChoice(BaseModel):
    record: int = Field(ge=0, description="The ``record`` of the candidate the application is about.")


class SourcePreview(BaseModel):
    """One source before anything is read: what will be fetched from whom, for which parts."""

    position: int
    name: str
    resource_code: str
    resource_title: str
    department: str | None = Field(None, description="The department that holds the data (一数一源).")
    exists_only: bool
    fields: list[FieldTitleRead]
    is_available: bool = Field(description="False when the platform may not read it: upload it instead.")
    state: SourceState
    consent: Literal["given", "declined"] | None
    parts: list[str] = Field(description="The names of the parts it is read for.")
    candidates: list[CandidateRead] = Field(
        [],
        description="While ``state`` is ``choosing``: the records the register holds about you, one of "
        "which you choose (``POST …/sources/{position}/choose``); resident ID numbers are masked.",
    )


class CommitmentRead(BaseModel):
    part: str
    name: str
    text: str


class PartCertificatePreview(BaseModel):
    """A part's e-certificate material: the applicant's certificates of its type (the suggested one is used
    on consent), or the one attached."""

    part: str = Field(description="The part's item name.")
    part_position: int
    material: MaterialPreview


class BundlePreview(BaseModel):
    number: str
    consumer: str = Field(description="Who reads: the one-stop service platform.")
    purpose: str = Field(description="The purpose every read names: this bundle.")
    legal_basis: str
    sources: list[SourcePreview]
    commitments: list[CommitmentRead]
    certificates: list[PartCertificatePreview] = Field(
        [], description="The parts' e-certificate materials, taken from your wallet on consent."
    )


class BundleSourceRead(BaseModel):
    position: int
    name: str
    resource_code: str
    fields: list[str]
    exists_only: bool
    state: SourceState
    consent: Literal["given", "declined"] | None
    department: str | None
    source_updated_at: datetime | None
    fetched_at: datetime | None
    upload_name: str | None
    note: str | None
    parts: list[int]


class UploadNeedRead(BaseModel):
    """A file the applicant sends: once for a source they declined or the platform cannot read (it goes to
    every part that reads it), or for one part's own material."""

    path: str = Field(
        description="Where to PUT it, below the bundle application: sources/N or parts/P/materials/M."
    )
    name: str
    parts: list[int]
    reason: Literal["declined", "unavailable", "asked"]
    upload_name: str | None


class BundleMemberRead(BaseModel):
    position: int
    item_code: str
    item_name: str
    department: str
    application_number: str
    status: PartStatus
    needs: list[int]
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_text: str | None
    result_certificate_number: str | None


class BundleApplicationRead(BaseModel):
    number: str
    bundle_code: str
    bundle_name: str
    applicant_kind: Literal["person", "enterprise"]
    applicant_name: str
    state: Literal["draft", "submitted", "withdrawn"]
    status: CombinedStatus = Field(
        description="The one status, combined from the parts' (see docs/services.md)."
    )
    created_at: datetime
    submitted_at: datetime | None
    pledged_at: datetime | None
    parts: list[BundleMemberRead]
    sources: list[BundleSourceRead]
    form: list[FormFieldRead] = Field(description="The one form: identity, then what was read, once each.")
    uploads: list[UploadNeedRead]


class BundleApplicationSummary(BaseModel):
    number: str
    bundle_code: str
    bundle_name: str
    applicant_name: str
    status: CombinedStatus
    parts: int
    approved: int
    created_at: datetime
    submitted_at: datetime | None


class BundleApplicationPage(BaseModel):
    items: list[BundleApplicationSummary]
    total: int
    page: int
    per_page: int
