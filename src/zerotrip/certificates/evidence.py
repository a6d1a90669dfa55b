"""A held certificate as evidence for one of the holder's own matters on the platform (用证 by a context).

When a citizen applies for a service whose material is a certificate type, the services context asks here
which certificates of that type the applicant holds (``certificates_for``: every one, with the status the
holder sees, so a revoked or expired one is shown and refused with its reason), and, once the citizen has
consented, uses the chosen one (``use_as_evidence``).

Using it goes through the holder's own use grants and uses, so it shows in the wallet's use record like any
other use: the citizen (signed in, and the holder itself: never someone they merely act for, so another
person's certificate can never serve someone else's matter) grants the platform the material's fields for
the matter's purpose for one day; the platform uses the grant at once and receives a key-bound presentation
of those fields alone; the presentation is verified online (the issuer's signature against the trust list,
the disclosures, the holder's key binding, validity and the status list), and what is returned is what
that verification established. Each step writes its own audit event (grant, use, verification). The grant's
code is never shown to anyone: the use is the platform's, at the holder's request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.certificates import grants, wallet
from zerotrip.certificates.errors import (
    CertificateExpired,
    CertificateNotFound,
    CertificateNotVerified,
    CertificateRevoked,
    CertificateSuspended,
)
from zerotrip.certificates.models import Certificate, CertificateType
from zerotrip.certificates.online import verify_online
from zerotrip.certificates.queries import holdings
from zerotrip.certificates.schemas import WalletStatus
from zerotrip.certificates.types import find_certificate_type, type_fields
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore

HOLDER_FIELDS = ("holder_name", "holder_id")
# How long the grant behind a use as evidence lasts (the use is immediate; the grant is the holder's record).
GRANT_DAYS = 1


@dataclass(frozen=True)
class EvidenceField:
    name: str
    label: str
    label_en: str


@dataclass(frozen=True)
class TypeOutline:
    """A certificate type as an applicant is shown it before consenting: its name, issuer, the fields used."""

    code: str
    name: str
    name_en: str
    issuer_name: str | None  # None: a type any department issues
    fields: tuple[EvidenceField, ...]


@dataclass(frozen=True)
class HeldCertificate:
    """One certificate of the wanted type the holder has, with the status the holder sees."""

    number: str
    issuer_name: str
    issued_at: datetime
    valid_until: datetime | None
    status: WalletStatus

    @property
    def is_usable(self) -> bool:
        return self.status == "valid"


@dataclass(frozen=True)
class UsedCertificate:
    """What using a certificate as evidence established, from the verified presentation."""

    number: str
    certificate_type: str
    type_name: str
    issuer_name: str
    issuer_org_code: str
    kid: str
    issued_at: datetime
    valid_until: datetime | None
    status: str  # the verification's verdict: "valid"
    verified_at: datetime
    grant_id: int
    claims: dict[str, Any]  # the disclosed fields, as the verification read them
    labels: dict[str, str]  # field name → its Chinese label


def outline(db: Session, type_code: str, fields: Sequence[str]) -> TypeOutline | None:
    """The type ``type_code`` and the fields a material uses (labelled; all disclosable ones when it names
    none); None when there is no such type."""
    ctype = find_certificate_type(db, type_code)
    if ctype is None:
        return None
    issuer = identity_queries.get_organisation(db, ctype.issuer_org_id).name if ctype.issuer_org_id else None
    return TypeOutline(
        code=ctype.code,
        name=ctype.name,
        name_en=ctype.name_en,
        issuer_name=issuer,
        fields=tuple(
            EvidenceField(f.name, f.label, f.label_en)
            for f in type_fields(ctype)
            if f.disclosable and (not fields or f.name in fields)
        ),
    )


def certificates_for(
    db: Session, *, actor: Actor, holder_kind: str, holder_key: str, type_code: str, now: datetime
) -> list[HeldCertificate]:
    """The certificates of ``type_code`` held by ``holder_kind``/``holder_key``, newest first, each with
    its status on ``now``; empty when the signed-in citizen may not act as that holder (anyone but a
    citizen: NotYourRecord)."""
    if not any(
        (h.holder_kind, h.holder_key) == (holder_kind, holder_key) for h in holdings(db, actor, now=now)
    ):
        return []
    rows = list(
        db.scalars(
            select(Certificate)
            .join(CertificateType, CertificateType.id == Certificate.type_id)
            .where(
                CertificateType.code == type_code,
                Certificate.holder_kind == holder_kind,
                Certificate.holder_key == holder_key,
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )
    names = {i: identity_queries.get_organisation(db, i).name for i in {c.issuer_org_id for c in rows}}
    return [
        HeldCertificate(
            number=c.number,
            issuer_name=names[c.issuer_org_id],
            issued_at=c.issued_at,
            valid_until=c.valid_until,
            status=wallet.wallet_status(c, now=now),
        )
        for c in rows
    ]


def use_as_evidence(
    db: Session,
    *,
    actor: Actor,
    keys: KeyStore,
    settings: Settings,
    number: str,
    holder_kind: str,
    holder_key: str,
    type_code: str,
    fields: Sequence[str],
    user: str,
    purpose: str,
    reason: str,
    now: datetime,
) -> UsedCertificate:
    """Use the certificate ``number`` of the signed-in citizen's own as evidence for ``user``'s handling of
    their matter: a one-day grant of ``fields`` (all disclosable ones when empty) and the holder's name and
    ID for ``purpose``, used at once with ``reason``, and the presentation verified online.

    The certificate must be of ``type_code`` and held by exactly ``holder_kind``/``holder_key`` (the
    matter's applicant), whom the citizen may act for. Raises NotYourRecord, CertificateNotFound (no such
    number, someone else's, another type: not told apart), CertificateRevoked, CertificateSuspended,
    CertificateExpired, CertificateNotVerified (the presentation did not verify: the verdict says why).
    """
    certificate, _ = wallet.held_certificate(db, actor=actor, number=number, now=now)
    ctype = db.get(CertificateType, certificate.type_id)
    assert ctype is not None  # a foreign key guarantees it
    if (certificate.holder_kind, certificate.holder_key) != (
        holder_kind,
        holder_key,
    ) or ctype.code != type_code:
        raise CertificateNotFound()
    wallet.check_usable(certificate, now=now)
    available = wallet.disclosable_fields(certificate)
    wanted = [name for name in available if name in HOLDER_FIELDS or not fields or name in fields]
    grant, code = grants.create_use_grant(
        db,
        actor=actor,
        settings=settings,
        number=certificate.number,
        audience=user,
        audience_kind="department",
        fields=wanted,
        purpose=purpose,
        days=GRANT_DAYS,
        now=now,
    )
    used = grants.use_certificate(
        db, actor=actor, keys=keys, settings=settings, code=code, used_by=user, reason=reason, now=now
    )
    verdict = verify_online(db, actor=actor, token=used.presentation, keys=keys, settings=settings, now=now)
    if verdict.code == "revoked":
        raise CertificateRevoked(verdict.detail)
    if verdict.code == "suspended":
        raise CertificateSuspended(verdict.detail)
    if verdict.code == "expired":
        raise CertificateExpired(verdict.detail)
    if not verdict.ok or not verdict.key_bound or verdict.number != certificate.number:
        raise CertificateNotVerified(f"{verdict.code}: {verdict.detail}")
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    labels = {f.name: f.label for f in wallet.labelled_fields(ctype, certificate)}
    return UsedCertificate(
        number=certificate.number,
        certificate_type=ctype.code,
        type_name=ctype.name,
        issuer_name=org.name,
        issuer_org_code=org.code,
        kid=verdict.kid or certificate.kid,
        issued_at=certificate.issued_at,
        valid_until=certificate.valid_until,
        status=verdict.code,
        verified_at=now,
        grant_id=grant.id,
        claims={name: verdict.claims[name] for name in wanted if name in verdict.claims},
        labels={name: labels.get(name, name) for name in wanted},
    )
