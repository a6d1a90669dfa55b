"""E-certificate materials fetched from the applicant's wallet (卡包) with their consent.

A material whose source is a certificate type is not uploaded when the applicant holds a valid certificate
of that type: the preview lists the applicant's certificates of the type (the issuer, number, issue date,
status, and the fields that will be used), each revoked, suspended or expired one with the reason it cannot
be used; on consent the chosen certificate (by default the newest valid one) is used as evidence through
the certificates context (``certificates.evidence.use_as_evidence``): a use grant to the one-stop service
platform for this application's purpose, used at once, its presentation verified online. What the
verification established is stored on the evidence: which certificate (number, type, issuer, the key that
signed it), its status at the time, and the fields used, as one record, so the form is prefilled from the
fields the item maps (locked, with the certificate and its issue date as source) and instant-approval rules
can read them like any fetched data.

Only the applicant's own certificates are offered and used: an application for a person uses that
person's, one for an enterprise the enterprise's, never a relative's or anyone else's. With no valid
certificate of the type the material becomes an upload (and a person reviews it), as a declined one does;
a declined material is never read. Bundles (``bundle_evidence.py``) use the same ``attach`` for their
parts. Actions add and flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.certificates import evidence as certificates_evidence
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.services import evidence as evidence_source
from zerotrip.services.application_schemas import (
    FieldTitleRead,
    MaterialPreview,
    UsedCertificateRead,
    WalletCertificateOption,
)
from zerotrip.services.models import Application, Evidence

ATTACHED = "services.application.certificate_attached"
NO_CERTIFICATE = "no certificate of this type is in your wallet"
NONE_VALID = "no certificate of this type in your wallet is valid (revoked, suspended or expired)"
REFUSALS = {
    "revoked": "revoked by its issuer: it can no longer be used",
    "suspended": "suspended by its issuer: it cannot be used until reinstated",
    "expired": "past its validity: it can no longer be used",
}


@dataclass(frozen=True)
class WalletAccess:
    """What reading the wallet needs beyond the services settings: the key store and the deployment's
    settings (to make and verify the presentation), and the certificate the applicant chose for each
    material position (by default the newest valid one)."""

    keys: KeyStore
    settings: Settings
    chosen: Mapping[int, str] = field(default_factory=dict)


def _holder(application: Application) -> tuple[str, str]:
    return application.applicant_kind, application.applicant_key


def preview_material(
    db: Session,
    *,
    actor: Actor,
    application: Application,
    ev: Evidence,
    preview: MaterialPreview,
    now: datetime,
) -> MaterialPreview:
    """The preview of one certificate material: the type, its issuer and the fields used, and either the
    certificate attached or the applicant's certificates of the type to choose from. Reads no certificate's
    values."""
    outline = certificates_evidence.outline(db, ev.source_ref or "", list(ev.source_fields))
    used = used_certificate(ev)
    held = (
        []
        if used is not None or ev.consent == "declined"
        else certificates_evidence.certificates_for(
            db,
            actor=actor,
            holder_kind=application.applicant_kind,
            holder_key=application.applicant_key,
            type_code=ev.source_ref or "",
            now=now,
        )
    )
    options = [
        WalletCertificateOption(
            number=c.number,
            issuer_name=c.issuer_name,
            issued_at=c.issued_at,
            valid_until=c.valid_until,
            status=c.status,
            is_usable=c.is_usable,
            refusal=REFUSALS.get(c.status),
        )
        for c in held
    ]
    usable = [o.number for o in options if o.is_usable]
    return preview.model_copy(
        update={
            "resource_code": ev.source_ref,
            "resource_title": outline.name if outline else ev.source_ref,
            "department": outline.issuer_name if outline else None,
            "fields": [FieldTitleRead(name=f.name, title=f.label) for f in outline.fields] if outline else [],
            "is_available": used is not None or bool(usable),
            "certificates": options,
            "suggested_certificate": usable[0] if usable else None,
            "certificate": used,
        }
    )


def attach(
    db: Session,
    *,
    actor: Actor,
    application: Application,
    ev: Evidence,
    wallet: WalletAccess,
    purpose: str,
    now: datetime,
) -> bool:
    """Use the applicant's chosen (or newest valid) certificate of the material's type as its evidence,
    after their consent: verified, recorded in the holder's use record, stored with which certificate it
    was and its status, the form prefilled from the fields the item maps, audited on the application.
    Without a valid certificate the material is to be uploaded (False). Raises CertificateNotFound (a
    chosen number that is not the applicant's own certificate of this type), CertificateRevoked,
    CertificateSuspended, CertificateExpired, CertificateNotVerified (a chosen certificate that cannot be
    used)."""
    holder_kind, holder_key = _holder(application)
    number = wallet.chosen.get(ev.position)
    if number is None:
        held = certificates_evidence.certificates_for(
            db,
            actor=actor,
            holder_kind=holder_kind,
            holder_key=holder_key,
            type_code=ev.source_ref or "",
            now=now,
        )
        number = next((c.number for c in held if c.is_usable), None)
        if number is None:
            ev.state, ev.note = "unavailable", NONE_VALID if held else NO_CERTIFICATE
            return False
    used = certificates_evidence.use_as_evidence(
        db,
        actor=actor,
        keys=wallet.keys,
        settings=wallet.settings,
        number=number,
        holder_kind=holder_kind,
        holder_key=holder_key,
        type_code=ev.source_ref or "",
        fields=list(ev.source_fields),
        user=evidence_source.CONSUMER_NAME,
        purpose=purpose,
        reason=f"办理{application.number}",  # the use record names the application
        now=now,
    )
    ev.state, ev.note = "fetched", None
    ev.values = _values(used)
    ev.source_org_name = used.issuer_name[:120]
    ev.source_updated_at = used.issued_at
    ev.fetched_at = now
    record_event(
        db,
        actor=actor.principal,
        action=ATTACHED,
        subject_type="service_application",
        subject_id=application.number,
        data={
            "material": ev.position,
            "number": used.number,
            "type": used.certificate_type,
            "issuer": used.issuer_org_code,
            "kid": used.kid,
            "status": used.status,
            "grant_id": used.grant_id,
            "fields": sorted(used.claims),
        },
    )
    return True


def _values(used: certificates_evidence.UsedCertificate) -> dict[str, Any]:
    """The evidence's values: which certificate, and its fields as one record (as datahub reads store
    them, so prefilling and rules read both alike)."""
    return {
        "certificate": {
            "number": used.number,
            "type": used.certificate_type,
            "type_name": used.type_name,
            "issuer_name": used.issuer_name,
            "issuer_org_code": used.issuer_org_code,
            "kid": used.kid,
            "issued_at": used.issued_at.isoformat(),
            "valid_until": used.valid_until.isoformat() if used.valid_until else None,
            "status": used.status,
            "verified_at": used.verified_at.isoformat(),
            "grant_id": used.grant_id,
            "labels": used.labels,
        },
        "records": [
            {
                "fields": {name: {"value": value, "masked": False} for name, value in used.claims.items()},
                "updated_at": used.issued_at.isoformat(),
                "version": 1,
            }
        ],
    }


def used_certificate(ev: Evidence) -> UsedCertificateRead | None:
    """The certificate attached as a material's evidence, as stored at consent; None when none is."""
    if ev.source_kind != "certificate" or ev.state != "fetched" or not ev.values:
        return None
    found = ev.values.get("certificate")
    if not isinstance(found, dict):
        return None
    records = ev.values.get("records") or [{}]
    cells = records[0].get("fields", {})
    labels = found.get("labels") or {}
    return UsedCertificateRead(
        number=found["number"],
        certificate_type=found["type"],
        type_name=found["type_name"],
        issuer_name=found["issuer_name"],
        kid=found["kid"],
        issued_at=found["issued_at"],
        valid_until=found.get("valid_until"),
        status=found["status"],
        verified_at=found["verified_at"],
        fields=[FieldTitleRead(name=name, title=labels.get(name, name)) for name in cells if name in labels],
        values={name: cell.get("value") for name, cell in cells.items()},
    )


def field_titles(ev: Evidence) -> dict[str, str]:
    """The labels of the certificate's fields used, as the certificate prints them."""
    found = (ev.values or {}).get("certificate") or {}
    labels = found.get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def form_label(ev: Evidence) -> str | None:
    """A prefilled field's source: the certificate type and its issuer."""
    found = (ev.values or {}).get("certificate") or {}
    if not found:
        return None
    return f"{found.get('type_name', '')}（{found.get('issuer_name', '')}）"[:120]
