"""Certificates input and output shapes shared by the actions, the API and the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

FieldType = Literal["text", "date", "integer", "decimal", "boolean", "resident_id", "uscc", "division_code"]
HolderKind = Literal["person", "enterprise"]
Status = Literal["valid", "suspended", "revoked"]

# Claim names the credential itself uses; a type's fields may not take them.
RESERVED_CLAIMS = frozenset(
    {
        "iss",
        "sub",
        "aud",
        "vct",
        "jti",
        "iat",
        "nbf",
        "exp",
        "status",
        "cnf",
        "_sd",
        "_sd_alg",
        "issuer_name",
        "type_name",
        "holder_name",
        "holder_id",
    }
)
# Field types that always carry personal data: they can only travel in a disclosure.
PERSONAL_TYPES = frozenset({"resident_id"})


class CertificateField(BaseModel):
    """One field of a certificate type, in display order."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="Claim name in the credential.")
    label: str = Field(min_length=1, max_length=60, description="Chinese label printed on the certificate.")
    label_en: str = Field(min_length=1, max_length=120)
    type: FieldType = "text"
    required: bool = True
    disclosable: bool = Field(
        True,
        description=(
            "Selectively disclosable (the holder chooses whether to show it). A field that is not is in the"
            " always-disclosed part of the credential, so it must hold nothing personal."
        ),
    )
    options: list[str] | None = Field(None, description="The only values a text field may take.")

    @model_validator(mode="after")
    def _consistent(self) -> CertificateField:
        if self.name in RESERVED_CLAIMS:
            raise ValueError(f"{self.name} is a claim the credential itself uses")
        if self.type in PERSONAL_TYPES and not self.disclosable:
            raise ValueError(f"{self.name}: a {self.type} field is personal and must be disclosable")
        if self.options is not None and (self.type != "text" or not self.options):
            raise ValueError(f"{self.name}: options are a non-empty list for a text field")
        return self


class CertificateTypeSpec(BaseModel):
    """What the platform operator says about a certificate type (证照目录 entry)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,59}$", description="Stable name in URLs and the vct.")
    type_code: str | None = Field(
        None,
        description=(
            "GB/T 36902 type code (the defining body's credit code and a three-digit serial). Unset: derived"
            " from the issuing department's credit code."
        ),
    )
    name: str = Field(min_length=1, max_length=80)
    name_en: str = Field(min_length=1, max_length=120)
    issuer_org_code: str | None = Field(
        None, description="Code of the issuing department; unset means any department may issue it."
    )
    holder_kind: HolderKind
    fields: list[CertificateField] = Field(min_length=1, max_length=60)
    validity_days: int | None = Field(None, ge=1, le=36_500, description="Unset: valid until revoked.")
    template: str = Field("standard", pattern=r"^[a-z][a-z0-9-]{0,39}$")

    @model_validator(mode="after")
    def _unique(self) -> CertificateTypeSpec:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError("field names must be unique")
        return self


class CertificateTypeRead(BaseModel):
    code: str
    type_code: str
    name: str
    name_en: str
    issuer_org_code: str | None
    issuer_name: str | None
    holder_kind: HolderKind
    fields: list[CertificateField]
    validity_days: int | None
    template: str
    is_active: bool
    vct: str = Field(description="The type's URL, the `vct` of its credentials.")


class CertificateIssue(BaseModel):
    """A request to issue one certificate."""

    certificate_type: str = Field(description="The certificate type's `code`, e.g. `marriage-certificate`.")
    holder_key: str = Field(description="The holder's resident ID number, or an enterprise's credit code.")
    claims: dict[str, Any] = Field(description="The type's field values by field name.")
    issuer_org_code: str | None = Field(
        None,
        description=(
            "The issuing department, for types any department may issue; a department system issues as its"
            " own department."
        ),
    )
    source_ref: str | None = Field(None, max_length=120, description="What caused the issue (free text).")


# The largest batch one request may issue (``certificates.actions.MAX_BATCH``).
MAX_BATCH_ITEMS = 1000


class CertificateBatchItem(BaseModel):
    holder_key: str = Field(description="The holder's resident ID number, or an enterprise's credit code.")
    claims: dict[str, Any] = Field(description="The type's field values by field name.")


class CertificateBatchIssue(BaseModel):
    """A request to issue many certificates of one type (a department system issuing in bulk)."""

    certificate_type: str = Field(description="The certificate type's `code`.")
    items: list[CertificateBatchItem] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)
    issuer_org_code: str | None = Field(
        None, description="The issuing department, for types any department may issue (as for one issue)."
    )
    source_ref: str | None = Field(None, max_length=120, description="What caused the batch (free text).")


class BatchIssued(BaseModel):
    index: int = Field(description="The item's position in the request's `items`.")
    number: str
    holder_key: str
    holder_name: str
    valid_until: datetime | None
    token: str = Field(description="The issued SD-JWT VC with every disclosure.")


class BatchRejected(BaseModel):
    index: int = Field(description="The item's position in the request's `items`.")
    errors: list[dict[str, str]] = Field(description="`{detail, pointer}` for each reason (`#/items/<i>/…`).")


class CertificateBatchRead(BaseModel):
    certificate_type: str
    issuer_org_code: str
    issued: list[BatchIssued]
    rejected: list[BatchRejected]


class StatusChange(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class CertificateRead(BaseModel):
    number: str
    certificate_type: str
    type_name: str
    issuer_org_code: str
    issuer_name: str
    holder_kind: HolderKind
    holder_key: str
    holder_name: str
    claims: dict[str, Any]
    token: str = Field(description="The issued SD-JWT VC with every disclosure.")
    kid: str
    algorithm: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status: Status
    status_reason: str | None
    status_changed_at: datetime | None
    status_list_uri: str
    status_index: int
    source: str
    source_ref: str | None


class CertificateSummary(BaseModel):
    number: str
    certificate_type: str
    type_name: str
    issuer_org_code: str
    holder_kind: HolderKind
    holder_key: str
    holder_name: str
    issued_at: datetime
    valid_until: datetime | None
    status: Status


class CertificatePage(BaseModel):
    items: list[CertificateSummary]
    total: int
    page: int
    per_page: int


class NoRealEstateProofRequest(BaseModel):
    resident_id: str | None = Field(
        None, description="Whose proof; a citizen asks for their own and may leave this out."
    )


class VerifyRequest(BaseModel):
    token: str = Field(
        min_length=1,
        max_length=200_000,
        description="An SD-JWT VC or presentation, or the text of a certificate QR code.",
    )


class VerdictRead(BaseModel):
    ok: bool
    code: str = Field(description="valid, malformed, unknown_issuer, bad_signature, … (docs/certificates.md)")
    message: str
    number: str | None
    certificate_type: str | None = Field(
        description="The type's code, from the credential's vct, when known."
    )
    issuer: str | None
    issuer_name: str | None
    claims: dict[str, Any] = Field(description="The claims the credential or presentation disclosed.")
    valid_from: datetime | None
    valid_until: datetime | None
    is_status_checked: bool


# -- the holder's side: the wallet (卡包) and presentations (亮证) -------------------------------------------

# What the holder sees: a certificate past its ``valid_until`` shows as expired whatever its status.
WalletStatus = Literal["valid", "expired", "suspended", "revoked"]
# Why the signed-in citizen holds it: their own, an enterprise they represent, a minor child of theirs.
HolderRelation = Literal["self", "enterprise", "guardian"]
DEFAULT_AUDIENCE = "zerotrip-verify"


class WalletItem(BaseModel):
    number: str
    certificate_type: str
    type_name: str
    issuer_org_code: str
    issuer_name: str
    holder_kind: HolderKind
    holder_name: str
    relation: HolderRelation
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status: WalletStatus


class WalletPage(BaseModel):
    items: list[WalletItem]
    total: int
    page: int
    per_page: int


class WalletField(BaseModel):
    """One field of a held certificate, labelled, in the type's display order."""

    name: str
    label: str
    label_en: str
    value: Any
    disclosable: bool = Field(description="Whether the holder chooses to show it (else always shown).")


class WalletCertificateRead(WalletItem):
    holder_key: str
    fields: list[WalletField]
    status_reason: str | None
    status_changed_at: datetime | None
    token: str = Field(description="The issued SD-JWT VC with every disclosure (the holder's own copy).")


class PresentationRequest(BaseModel):
    fields: list[str] = Field(
        max_length=64,
        description="The disclosable fields to show (e.g. `holder_name`, `result`); the rest stay hidden.",
    )
    audience: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description=f"Who the presentation is for (the KB-JWT `aud`); default `{DEFAULT_AUDIENCE}`.",
    )


class PresentationRead(BaseModel):
    number: str
    token: str = Field(description="SD-JWT with only the chosen disclosures and a KB-JWT by the holder key.")
    qr_payload: str = Field(description="The text of the QR code to show.")
    fields: list[str]
    audience: str
    nonce: str
    presented_at: datetime
    expires_at: datetime = Field(description="After this verifiers treat it as an expired presentation.")


# -- use grants (用证授权) and uses --------------------------------------------------------------------------

AudienceKind = Literal["department", "business", "person"]
# An active grant can be used; an expired or withdrawn one cannot (withdrawn wins when both).
UseGrantState = Literal["active", "expired", "withdrawn"]


class UseGrantCreate(BaseModel):
    audience: str = Field(
        min_length=1, max_length=200, description="Who may use it: a department, a business, a person."
    )
    audience_kind: AudienceKind
    fields: list[str] = Field(
        min_length=1, max_length=64, description="The disclosable fields the audience receives."
    )
    purpose: str = Field(min_length=1, max_length=500, description="What for (printed on every copy).")
    days: int = Field(ge=1, le=3650, description="How long, at most `certificates.use_grant_max_days`.")


class CertificateUseRead(BaseModel):
    used_at: datetime
    used_by: str
    reason: str


class UseGrantRead(BaseModel):
    id: int
    number: str
    certificate_type: str
    type_name: str
    holder_name: str
    audience: str
    audience_kind: AudienceKind
    fields: list[str]
    field_labels: list[str] = Field(description="The fields' Chinese labels, in the same order.")
    purpose: str
    created_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None
    state: UseGrantState
    uses: list[CertificateUseRead] = Field(description="Every use, newest first.")


class UseGrantCreated(UseGrantRead):
    code: str = Field(description="The access code, shown this once (only its hash is stored).")
    link: str = Field(description="`{public_url}/certificates/use/{code}`, to hand to the audience.")


class UseGrantPage(BaseModel):
    items: list[UseGrantRead]
    total: int
    page: int
    per_page: int


class CertificateUseRequest(BaseModel):
    code: str = Field(min_length=1, max_length=40, description="The code from the holder (hyphens optional).")
    used_by: str = Field(min_length=1, max_length=200, description="Who is using it (unit and person).")
    reason: str = Field(min_length=1, max_length=1000, description="Why (the matter it is used for).")


class GrantedField(BaseModel):
    """A field a use grant hands over, named but without its value."""

    name: str
    label: str
    label_en: str


class UseGrantOffer(BaseModel):
    """What a use-grant code offers before it is used: which certificate, for whom, what for, which fields
    and until when, and none of the certificate's values."""

    certificate_type: str
    type_name: str
    type_name_en: str
    issuer_name: str
    audience: str
    audience_kind: AudienceKind
    purpose: str
    fields: list[GrantedField] = Field(description="The granted fields, labelled, in the grant's order.")
    expires_at: datetime


class UsedCertificateRead(BaseModel):
    """What someone holding a use-grant code receives: an annotated, time-limited copy of the granted
    fields, never the holder's original credential."""

    number: str
    certificate_type: str
    type_name: str
    issuer_name: str
    fields: list[WalletField] = Field(description="The granted fields only, labelled.")
    valid_until: datetime | None = Field(description="The certificate's own validity.")
    audience: str
    purpose: str
    note: str = Field(description="仅供{audience}用于{purpose}，{deadline}前有效")
    grant_expires_at: datetime
    presentation: str = Field(
        description="SD-JWT of the granted fields with a KB-JWT whose `aud` is the grant's audience."
    )
    qr_payload: str
    presented_at: datetime
    presentation_expires_at: datetime = Field(
        description="Verifiers accept the presentation until then (`certificates.presentation_ttl_seconds`)."
    )
