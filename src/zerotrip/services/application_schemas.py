"""Input and output shapes of applications (办件), shared by the actions, the API and the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from zerotrip.services.bundle_rules import CombinedStatus, PartStatus
from zerotrip.services.rules import RuleSetSpec
from zerotrip.services.workflow_schemas import WorkflowRead

ApplicationStatus = Literal[
    "draft", "submitted", "accepted", "in_review", "supplement", "approved", "refused", "withdrawn"
]
EvidenceState = Literal["pending", "fetched", "unavailable", "uploaded", "pledged", "attached", "onsite"]
USCC = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


class ApplicationStart(BaseModel):
    item_code: str = Field(min_length=3, max_length=60)
    enterprise_uscc: str | None = Field(
        None,
        pattern=USCC,
        description="Apply for this enterprise (you must be its legal representative); none: for yourself.",
    )


class ConsentRequest(BaseModel):
    materials: list[int] | None = Field(
        None,
        description="Positions of the materials to fetch; none means every material still waiting for "
        "consent.",
    )
    certificates: dict[int, str] = Field(
        {},
        description="For e-certificate materials: material position → the number of the certificate in your "
        "wallet to use (by default the newest valid one the preview suggests).",
    )


class SubmitRequest(BaseModel):
    pledge: bool = Field(
        False, description="The applicant signs the item's commitments (告知承诺); required when it has any."
    )
    human_review: bool = Field(
        False, description="Have a person decide instead of the instant-approval rules (PIPL art. 24)."
    )


class WithdrawRequest(BaseModel):
    reason: str = Field("", max_length=500)


# -- reading ----------------------------------------------------------------------------------------------


class FieldTitleRead(BaseModel):
    name: str
    title: str


WalletStatus = Literal["valid", "expired", "suspended", "revoked"]


class WalletCertificateOption(BaseModel):
    """One of the applicant's certificates of a material's type, before consent (no field values)."""

    number: str
    issuer_name: str
    issued_at: datetime
    valid_until: datetime | None
    status: WalletStatus
    is_usable: bool
    refusal: str | None = Field(None, description="Why it cannot be used (revoked, suspended, expired).")


class UsedCertificateRead(BaseModel):
    """The certificate used as a material's evidence, as verified at consent."""

    number: str
    certificate_type: str
    type_name: str
    issuer_name: str
    kid: str = Field(description="The issuer's key that signed it.")
    issued_at: datetime
    valid_until: datetime | None
    status: str = Field(description="The verification's verdict at consent: valid.")
    verified_at: datetime
    fields: list[FieldTitleRead] = Field(description="The fields used, labelled.")
    values: dict[str, Any] = Field(description="The values of the fields used (holder's name and ID too).")


class MaterialPreview(BaseModel):
    """One material before anything is read: what will be fetched from whom, and why."""

    position: int
    name: str
    source_kind: str
    state: EvidenceState
    consent: Literal["given", "declined"] | None
    resource_code: str | None = None
    resource_title: str | None = None
    department: str | None = Field(None, description="The department that holds the data (一数一源).")
    exists_only: bool = Field(False, description="Only whether a record about you exists is asked.")
    fields: list[FieldTitleRead] = []
    is_available: bool = Field(
        True, description="False when the platform may not read it: upload the material instead."
    )
    commitment: str | None = None
    certificates: list[WalletCertificateOption] = Field(
        [], description="E-certificate materials: your certificates of the type, newest first."
    )
    suggested_certificate: str | None = Field(
        None, description="E-certificate materials: the one used unless you choose another."
    )
    certificate: UsedCertificateRead | None = Field(
        None, description="E-certificate materials: the certificate attached after your consent."
    )


class EvidencePreview(BaseModel):
    number: str
    consumer: str = Field(description="Who reads: the one-stop service platform.")
    purpose: str = Field(description="The purpose every read names (the grants are for this purpose).")
    legal_basis: str
    materials: list[MaterialPreview]


class EvidenceRead(BaseModel):
    position: int
    name: str
    is_required: bool
    is_deferrable: bool
    source_kind: str
    source_ref: str | None
    state: EvidenceState
    consent: Literal["given", "declined"] | None
    values: dict[str, Any] | None = Field(description="What was fetched (an exists? answer or records).")
    department: str | None = Field(description="Provenance: the department that holds the data.")
    source_updated_at: datetime | None = Field(description="Provenance: when it last updated that data.")
    fetched_at: datetime | None
    upload_name: str | None
    upload_type: str | None
    upload_size: int | None
    note: str | None
    needs_upload: bool
    certificate: UsedCertificateRead | None = Field(
        None, description="The e-certificate from the applicant's wallet used as this material's evidence."
    )


class FormFieldRead(BaseModel):
    name: str
    label: str
    value: Any
    source: Literal["datahub", "certificate", "identity", "applicant"]
    source_label: str | None
    source_date: datetime | None
    is_locked: bool


class RuleOutcomeRead(BaseModel):
    rule: dict[str, Any]
    passed: bool
    actual: Any
    reason: Literal["", "failed", "missing", "masked", "incomparable"]


class TransitionRead(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    by: str
    reason: str | None
    step: str | None = Field(None, description="The workflow step it concerns.")


class BundlePartOverviewRead(BaseModel):
    """One part of the bundle an application belongs to, as every part's reader may see it: which
    department has it and where it stands, nothing of what it holds."""

    position: int
    item_code: str
    item_name: str
    department: str
    status: PartStatus
    needs: list[int] = Field(description="Positions of the parts whose results this part needs first.")
    submitted_at: datetime | None
    decided_at: datetime | None
    is_this: bool = Field(description="Whether this part is the application being read.")


class BundleOverviewRead(BaseModel):
    """The bundle (一件事) an application is a part of: its one status and every part's department and
    status, so a department sees what the others are doing with the same applicant's matter."""

    number: str
    bundle_code: str
    bundle_name: str
    status: CombinedStatus
    submitted_at: datetime | None
    parts: list[BundlePartOverviewRead]


class ApplicationRead(BaseModel):
    number: str
    item_code: str
    item_name: str
    department: str
    applicant_kind: Literal["person", "enterprise"]
    applicant_name: str
    division_code: str
    status: ApplicationStatus
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_text: str | None
    review_reason: str | None
    result_certificate_number: str | None
    rule_set_version: int | None
    rule_results: list[RuleOutcomeRead] | None
    evidence: list[EvidenceRead]
    form: list[FormFieldRead]
    transitions: list[TransitionRead]
    workflow: WorkflowRead | None = Field(
        None, description="Where it stands in its office's workflow (none for a draft)."
    )
    bundle: BundleOverviewRead | None = Field(
        None,
        description="The bundle (一件事) it is a part of, with the other parts' departments and statuses.",
    )


class ApplicationSummary(BaseModel):
    number: str
    item_code: str
    item_name: str
    applicant_name: str
    status: ApplicationStatus
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    result_certificate_number: str | None


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    total: int
    page: int
    per_page: int


class RuleSetRead(RuleSetSpec):
    item_code: str
    version: int
    defined_by: str
    defined_at: datetime
