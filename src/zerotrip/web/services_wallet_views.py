"""View-models of e-certificate materials on the applying and review pages: before consent, the applicant's
certificates of the type to choose from (revoked, suspended and expired ones shown with why they cannot be
used); after it, the certificate attached as evidence, as the applicant and the reviewing staff see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zerotrip.certificates.errors import (
    CertificateExpired,
    CertificateNotFound,
    CertificateNotVerified,
    CertificateRevoked,
    CertificateSuspended,
)
from zerotrip.problems import Problem
from zerotrip.services.application_schemas import (
    ApplicationRead,
    EvidencePreview,
    MaterialPreview,
    UsedCertificateRead,
)
from zerotrip.services.bundle_schemas import PartCertificatePreview
from zerotrip.web.datahub_text import Detail, ProblemView, Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import china_date, china_time

STATUS_LABELS = {
    "valid": N_("Valid"),
    "revoked": N_("Revoked"),
    "suspended": N_("Suspended"),
    "expired": N_("Expired"),
}
REFUSALS = {
    "revoked": N_("Revoked by its issuer: it can no longer be used."),
    "suspended": N_("Suspended by its issuer: it cannot be used until it is reinstated."),
    "expired": N_("Past its validity: it can no longer be used."),
}
NO_VALID_CERTIFICATE = N_("No valid certificate of this type is in your wallet")
CANNOT_USE = N_("This certificate cannot be used")
# Why a chosen certificate was refused at consent, by the problem that refused it.
PROBLEMS: dict[type[Problem], str] = {
    CertificateRevoked: N_(
        "The issuing department has revoked this certificate. Choose another or upload the material."
    ),
    CertificateSuspended: N_(
        "The issuing department has suspended this certificate. Choose another or upload the material."
    ),
    CertificateExpired: N_("This certificate is past its validity. Choose another or upload the material."),
    CertificateNotFound: N_("Only your own certificates of the type asked for can be used."),
    CertificateNotVerified: N_("The certificate did not verify. Upload the material instead."),
}
REFUSED: tuple[type[Problem], ...] = tuple(PROBLEMS)


@dataclass(frozen=True)
class CertificateOptionView:
    number: str
    issuer: str
    issued_on: str
    valid_until: str
    status_label: str  # an English msgid
    is_usable: bool
    refusal: str | None  # an English msgid


@dataclass(frozen=True)
class UsedCertificateView:
    number: str
    type_name: str
    issuer: str
    issued_on: str
    valid_until: str
    status_label: str  # an English msgid: the status the verification found at consent
    kid: str
    verified_at: str
    fields: tuple[tuple[str, str], ...]  # (label, value) of the fields used


@dataclass(frozen=True)
class CertificateMaterialView:
    position: int
    name: str
    type_name: str
    issuer: str
    fields: tuple[str, ...]  # the labels of the fields used
    state: str
    consent: str | None
    is_available: bool
    certificates: tuple[CertificateOptionView, ...]
    suggested: str | None
    used: UsedCertificateView | None
    part: str = ""  # in a bundle: the part's item name
    part_position: int | None = None

    @property
    def is_waiting(self) -> bool:
        return self.consent is None and self.state == "pending"

    @property
    def anchor(self) -> str:
        """The card's id suffix: the position, with the part's in a bundle."""
        return str(self.position) if self.part_position is None else f"{self.part_position}-{self.position}"


def used_view(found: UsedCertificateRead) -> UsedCertificateView:
    return UsedCertificateView(
        number=found.number,
        type_name=found.type_name,
        issuer=found.issuer_name,
        issued_on=china_date(found.issued_at),
        valid_until=china_date(found.valid_until),
        status_label=STATUS_LABELS.get(found.status, found.status),
        kid=found.kid,
        verified_at=china_time(found.verified_at),
        fields=tuple(
            (f.title, "" if found.values.get(f.name) is None else str(found.values[f.name]))
            for f in found.fields
        ),
    )


def _options(m: MaterialPreview) -> tuple[CertificateOptionView, ...]:
    return tuple(
        CertificateOptionView(
            number=c.number,
            issuer=c.issuer_name,
            issued_on=china_date(c.issued_at),
            valid_until=china_date(c.valid_until),
            status_label=STATUS_LABELS[c.status],
            is_usable=c.is_usable,
            refusal=REFUSALS.get(c.status),
        )
        for c in m.certificates
    )


def part_materials(previews: Sequence[PartCertificatePreview]) -> tuple[CertificateMaterialView, ...]:
    """A bundle's parts' e-certificate materials, from its preview."""
    return tuple(
        CertificateMaterialView(
            position=p.material.position,
            name=p.material.name,
            type_name=p.material.resource_title or p.material.resource_code or "",
            issuer=p.material.department or "",
            fields=tuple(f.title for f in p.material.fields),
            state=p.material.state,
            consent=p.material.consent,
            is_available=p.material.is_available,
            certificates=_options(p.material),
            suggested=p.material.suggested_certificate,
            used=used_view(p.material.certificate) if p.material.certificate else None,
            part=p.part,
            part_position=p.part_position,
        )
        for p in previews
    )


def certificate_materials(
    read: ApplicationRead, preview: EvidencePreview | None
) -> tuple[CertificateMaterialView, ...]:
    """The application's e-certificate materials, with the preview's choices while it is a draft."""
    by_position = {m.position: m for m in preview.materials} if preview else {}
    shown = []
    for ev in read.evidence:
        if ev.source_kind != "certificate":
            continue
        m = by_position.get(ev.position)
        shown.append(
            CertificateMaterialView(
                position=ev.position,
                name=ev.name,
                type_name=(m.resource_title if m else None) or ev.source_ref or "",
                issuer=(m.department if m else None) or ev.department or "",
                fields=tuple(f.title for f in m.fields) if m else (),
                state=ev.state,
                consent=ev.consent,
                is_available=m.is_available if m else ev.certificate is not None,
                certificates=_options(m) if m else (),
                suggested=m.suggested_certificate if m else None,
                used=used_view(ev.certificate) if ev.certificate else None,
            )
        )
    return tuple(shown)


def refused(found: Problem) -> ProblemView:
    """A chosen certificate refused at consent, said plainly."""
    msgid = next((text for kind, text in PROBLEMS.items() if isinstance(found, kind)), found.title)
    return ProblemView(title=CANNOT_USE, details=(Detail(None, Text(msgid)),))
