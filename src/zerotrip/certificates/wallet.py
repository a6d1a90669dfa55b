"""The holder's wallet (卡包): the certificates a signed-in citizen holds, one opened with its labelled
fields, its PDF and QR, and presentations (亮证) that show only the fields the holder chose.

Who holds what is ``queries.holdings``, the rule the issuers' reads share: the citizen, the enterprises
they represent as its legal representative, and their minor children (under 18, the Civil Code's
guardianship of minors, art. 27) as recorded in household registration, so a parent sees and shows a
newborn's birth medical certificate. Anyone else, another citizen included, is told the certificate does
not exist (CertificateNotFound, 404), so the answer says nothing about other people's certificates; staff
and API clients have no wallet (NotYourRecord, 403).

A presentation is made with the holder key named in the certificate's ``cnf`` (the custodial wallet
derives it, ``signing.holder_private_key``), so a guardian's presentation of a child's certificate is bound
to the child's key like any other. Presentations are not stored; each is audited as
``certificates.certificate.presented`` naming the fields shown, never their values.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.certificates import numbers, pdf, qr, sdjwt, signing
from zerotrip.certificates.errors import (
    CertificateExpired,
    CertificateNotFound,
    CertificateRevoked,
    CertificateSuspended,
)
from zerotrip.certificates.models import Certificate, CertificateType
from zerotrip.certificates.queries import holdings
from zerotrip.certificates.schemas import (
    DEFAULT_AUDIENCE,
    HolderRelation,
    PresentationRead,
    WalletCertificateRead,
    WalletField,
    WalletItem,
    WalletPage,
    WalletStatus,
)
from zerotrip.certificates.types import Department, type_fields
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

PRESENTED = "certificates.certificate.presented"
MAX_AUDIENCE = 200
HOLDER_SUBJECTS = {"person": "person", "enterprise": "enterprise"}


# -- who holds what ----------------------------------------------------------------------------------------


def get_held_certificate(db: Session, *, actor: Actor, number: str, now: datetime) -> Certificate:
    """A certificate the signed-in citizen holds (or acts for). Raises NotYourRecord (not a citizen) and
    CertificateNotFound (no such number, or someone else's: the two are not told apart)."""
    return held_certificate(db, actor=actor, number=number, now=now)[0]


def held_certificate(
    db: Session, *, actor: Actor, number: str, now: datetime
) -> tuple[Certificate, HolderRelation]:
    """As ``get_held_certificate``, with why the citizen holds it."""
    held = {(h.holder_kind, h.holder_key): h.relation for h in holdings(db, actor, now=now)}
    certificate = db.scalar(
        select(Certificate).where(Certificate.number == numbers.normalise_certificate_number(number))
    )
    relation = held.get((certificate.holder_kind, certificate.holder_key)) if certificate else None
    if certificate is None or relation is None:
        raise CertificateNotFound()
    return certificate, relation


def wallet_status(certificate: Certificate, *, now: datetime) -> WalletStatus:
    """What the holder is shown: revoked and suspended first, then expired past ``valid_until``."""
    if certificate.status in ("revoked", "suspended"):
        return "revoked" if certificate.status == "revoked" else "suspended"
    if certificate.valid_until is not None and now >= certificate.valid_until:
        return "expired"
    return "valid"


def check_usable(certificate: Certificate, *, now: datetime) -> None:
    """Refuse to show or hand out a certificate that would not verify. Raises CertificateRevoked,
    CertificateSuspended, CertificateExpired."""
    status = wallet_status(certificate, now=now)
    if status == "revoked":
        raise CertificateRevoked("a revoked certificate can no longer be shown or used")
    if status == "suspended":
        raise CertificateSuspended("the issuer has suspended this certificate")
    if status == "expired":
        raise CertificateExpired("the certificate is past its validity")


# -- listing and opening -----------------------------------------------------------------------------------


def list_wallet(db: Session, *, actor: Actor, now: datetime, page: int = 1, per_page: int = 20) -> WalletPage:
    """The certificates the signed-in citizen holds or acts for, newest first, each with the status the
    holder sees (expired shown as expired). Raises NotYourRecord for anyone but a citizen."""
    held = holdings(db, actor, now=now)
    relations = {(h.holder_kind, h.holder_key): h.relation for h in held}
    condition = or_(
        *(
            and_(Certificate.holder_kind == h.holder_kind, Certificate.holder_key == h.holder_key)
            for h in held
        )
    )
    total = db.scalar(select(func.count()).select_from(Certificate).where(condition)) or 0
    rows = list(
        db.scalars(
            select(Certificate)
            .where(condition)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    types = _types(db, {c.type_id for c in rows})
    orgs = _orgs(db, {c.issuer_org_id for c in rows})
    items = [
        _item(c, types[c.type_id], orgs[c.issuer_org_id], relations[(c.holder_kind, c.holder_key)], now=now)
        for c in rows
    ]
    return WalletPage(items=items, total=total, page=page, per_page=per_page)


def open_certificate(db: Session, *, actor: Actor, number: str, now: datetime) -> WalletCertificateRead:
    """One held certificate with its fields labelled in the type's order (holder name and ID first), its
    issuer, number, validity and status. Raises NotYourRecord, CertificateNotFound."""
    certificate, relation = held_certificate(db, actor=actor, number=number, now=now)
    return certificate_view(db, certificate, relation=relation, now=now)


def certificate_view(
    db: Session, certificate: Certificate, *, relation: HolderRelation, now: datetime
) -> WalletCertificateRead:
    """The wallet's view of one certificate (for callers that already checked who is asking)."""
    ctype = db.get(CertificateType, certificate.type_id)
    assert ctype is not None  # a foreign key guarantees it
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    item = _item(certificate, ctype, org, relation, now=now)
    return WalletCertificateRead(
        **item.model_dump(),
        holder_key=certificate.holder_key,
        fields=labelled_fields(ctype, certificate),
        status_reason=certificate.status_reason,
        status_changed_at=certificate.status_changed_at,
        token=certificate.token,
    )


def holder_labels(holder_kind: str) -> dict[str, tuple[str, str]]:
    """Labels (Chinese, English) of the two holder fields every certificate carries."""
    if holder_kind == "person":
        return {"holder_name": ("持证人", "Holder"), "holder_id": ("公民身份号码", "Resident ID number")}
    return {
        "holder_name": ("持证单位", "Holding enterprise"),
        "holder_id": ("统一社会信用代码", "Unified social credit code"),
    }


def labelled_fields(ctype: CertificateType, certificate: Certificate) -> list[WalletField]:
    """Holder name and ID, then the type's fields that have a value, in display order."""
    labels = holder_labels(certificate.holder_kind)
    shown = [
        WalletField(name=name, label=zh, label_en=en, value=value, disclosable=True)
        for name, (zh, en), value in (
            ("holder_name", labels["holder_name"], certificate.holder_name),
            ("holder_id", labels["holder_id"], certificate.holder_key),
        )
    ]
    shown += [
        WalletField(
            name=f.name,
            label=f.label,
            label_en=f.label_en,
            value=certificate.claims[f.name],
            disclosable=f.disclosable,
        )
        for f in type_fields(ctype)
        if f.name in certificate.claims
    ]
    return shown


def disclosable_fields(certificate: Certificate) -> list[str]:
    """The fields the holder may choose to show or grant: the disclosures the issued token carries (the
    holder's name and ID and the type's disclosable fields that have a value), in the token's order."""
    return list(sdjwt.disclosures(certificate.token))


def _item(
    c: Certificate, ctype: CertificateType, org: Department, relation: HolderRelation, *, now: datetime
) -> WalletItem:
    return WalletItem(
        number=c.number,
        certificate_type=ctype.code,
        type_name=ctype.name,
        issuer_org_code=org.code,
        issuer_name=org.name,
        holder_kind=c.holder_kind,
        holder_name=c.holder_name,
        relation=relation,
        issued_at=c.issued_at,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        status=wallet_status(c, now=now),
    )


def _types(db: Session, ids: set[int]) -> dict[int, CertificateType]:
    if not ids:
        return {}
    return {t.id: t for t in db.scalars(select(CertificateType).where(CertificateType.id.in_(ids)))}


def _orgs(db: Session, ids: set[int]) -> dict[int, Department]:
    return {i: identity_queries.get_organisation(db, i) for i in ids}


# -- the PDF and the QR of the full certificate ------------------------------------------------------------


@dataclass(frozen=True)
class CertificateFile:
    """A held certificate's PDF, with the name to save it under."""

    filename: str  # 结婚证-<number>.pdf
    ascii_filename: str  # certificate-<number>.pdf, for clients that cannot read the other
    content: bytes


# Field types that identify someone: the first to leave a QR that cannot hold every field.
_IDENTIFYING_TYPES = frozenset({"resident_id", "uscc"})


def certificate_qr_payload(db: Session, certificate: Certificate, *, settings: Settings) -> str:
    """What the certificate's own QR holds, as on its PDF: the verify page with the issued token (every
    disclosure, no key binding) in the fragment.

    A certificate with many fields (a birth medical certificate: about 3,600 bytes) does not fit in one QR
    code (2,953 bytes at most). Its QR then carries the same token with fewer disclosures, a plain
    selective presentation that verifies like the whole: identity numbers leave first (the holder's ID,
    then ID fields such as the parents'), then fields from the end of the display order, until it fits.
    The PDF still embeds the whole token, so uploading the PDF verifies every field."""
    public_url = settings.web.public_url
    payload = qr.qr_payload(public_url, certificate.token)
    if len(payload.encode("utf-8")) <= qr.MAX_PAYLOAD_BYTES:
        return payload
    keep = _qr_priority(db, certificate)
    while keep:
        keep.pop()
        shorter = sdjwt.present(
            certificate.token,
            disclose=keep,
            holder_key=None,
            audience="",
            nonce="",
            now=certificate.issued_at,
        )
        payload = qr.qr_payload(public_url, shorter)
        if len(payload.encode("utf-8")) <= qr.MAX_PAYLOAD_BYTES:
            break
    return payload


def _qr_priority(db: Session, certificate: Certificate) -> list[str]:
    """The token's disclosures, most wanted in a QR first: the holder's name, the type's fields in display
    order, and identifying numbers last (the holder's ID at the very end)."""
    ctype = db.get(CertificateType, certificate.type_id)
    assert ctype is not None  # a foreign key guarantees it
    present = set(disclosable_fields(certificate))
    fields = [f for f in type_fields(ctype) if f.name in present]
    plain = [f.name for f in fields if f.type not in _IDENTIFYING_TYPES]
    identifying = [f.name for f in fields if f.type in _IDENTIFYING_TYPES]
    ordered = ["holder_name", *plain, *reversed(identifying), "holder_id"]
    return [name for name in ordered if name in present]


def certificate_qr(db: Session, *, actor: Actor, settings: Settings, number: str, now: datetime) -> str:
    """The QR text of a held certificate (``qr.svg``/``qr.png`` draw it), as printed on its PDF. Raises
    NotYourRecord, CertificateNotFound."""
    certificate = get_held_certificate(db, actor=actor, number=number, now=now)
    return certificate_qr_payload(db, certificate, settings=settings)


def pdf_value(value: object) -> str:
    """A field value as printed (booleans in Chinese)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def pdf_view(db: Session, certificate: Certificate, *, settings: Settings) -> pdf.CertificatePdfView:
    """The PDF's view-model of a certificate as issued: every field, labelled, and the full token in the
    QR and the attachment (the paper copy of what the holder holds; checks are the caller's)."""
    ctype = db.get(CertificateType, certificate.type_id)
    assert ctype is not None  # a foreign key guarantees it
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    return pdf.CertificatePdfView(
        type_name=ctype.name,
        type_name_en=ctype.name_en,
        number=certificate.number,
        issuer_name=org.name,
        holder_name=certificate.holder_name,
        fields=[(f.label, pdf_value(f.value)) for f in labelled_fields(ctype, certificate)],
        issued_at=certificate.issued_at,
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        token=certificate.token,
        qr_data=certificate_qr_payload(db, certificate, settings=settings),
    )


def certificate_pdf(
    db: Session, *, actor: Actor, settings: Settings, number: str, now: datetime
) -> CertificateFile:
    """The PDF of a held certificate (any status: the holder may keep a copy of a revoked one too, and a
    verifier is told it is revoked). Raises NotYourRecord, CertificateNotFound, pdf_font.CertificateFontError
    (no CJK font installed: an operator's matter)."""
    certificate = get_held_certificate(db, actor=actor, number=number, now=now)
    view = pdf_view(db, certificate, settings=settings)
    content = pdf.render_certificate_pdf(view, font_path=settings.certificates.pdf_font)
    return CertificateFile(
        filename=f"{view.type_name}-{certificate.number}.pdf",
        ascii_filename=f"certificate-{certificate.number}.pdf",
        content=content,
    )


# -- presenting (亮证) ------------------------------------------------------------------------------------


def check_fields(certificate: Certificate, fields: Sequence[str], *, pointer: str = "fields") -> list[str]:
    """The chosen field names, deduplicated in the order given; each must be one of the certificate's
    disclosable fields. Raises ValidationFailed naming the field."""
    available = set(disclosable_fields(certificate))
    chosen: list[str] = []
    for name in fields:
        if name not in available:
            raise ValidationFailed.field(
                pointer, f"{name!r} is not a field of this certificate the holder can choose to show"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def make_presentation(
    certificate: Certificate,
    *,
    keys: KeyStore,
    fields: Sequence[str],
    audience: str,
    now: datetime,
    presentation_ttl_seconds: int,
    public_url: str,
) -> PresentationRead:
    """Sign a presentation of ``certificate`` (checks are the caller's): only ``fields`` are disclosed, and
    a KB-JWT for ``audience`` with a random nonce is signed with the holder key the certificate names. The
    QR text is the public verify page with the presentation in the fragment (``qr.qr_payload``)."""
    nonce = secrets.token_urlsafe(16)
    token = sdjwt.present(
        certificate.token,
        disclose=fields,
        holder_key=signing.holder_private_key(keys, certificate.holder_key),
        audience=audience,
        nonce=nonce,
        now=now,
    )
    # The KB-JWT carries whole seconds: the lifetime is counted from what a verifier will read.
    presented_at = datetime.fromtimestamp(int(now.timestamp()), now.tzinfo)
    return PresentationRead(
        number=certificate.number,
        token=token,
        qr_payload=qr.qr_payload(public_url, token),
        fields=list(fields),
        audience=audience,
        nonce=nonce,
        presented_at=presented_at,
        expires_at=presented_at + timedelta(seconds=presentation_ttl_seconds),
    )


def present_certificate(
    db: Session,
    *,
    actor: Actor,
    keys: KeyStore,
    settings: Settings,
    number: str,
    fields: Sequence[str],
    audience: str | None,
    now: datetime,
) -> PresentationRead:
    """亮证: a short-lived presentation of a held certificate that discloses only ``fields`` (the holder's
    choice among the disclosable ones), bound to the holder key by a KB-JWT for ``audience`` (default
    ``zerotrip-verify``) with a random nonce. Verifiers accept it for
    ``certificates.presentation_ttl_seconds``. Audited with the fields' names, never their values.

    Raises NotYourRecord, CertificateNotFound, CertificateRevoked, CertificateSuspended, CertificateExpired,
    ValidationFailed (a field the certificate cannot disclose, an empty or overlong audience).
    """
    certificate, relation = held_certificate(db, actor=actor, number=number, now=now)
    check_usable(certificate, now=now)
    chosen = check_fields(certificate, fields)
    aud = DEFAULT_AUDIENCE if audience is None else audience.strip()
    if not aud or len(aud) > MAX_AUDIENCE:
        raise ValidationFailed.field("audience", f"name who it is for in 1 to {MAX_AUDIENCE} characters")
    presentation = make_presentation(
        certificate,
        keys=keys,
        fields=chosen,
        audience=aud,
        now=now,
        presentation_ttl_seconds=settings.certificates.presentation_ttl_seconds,
        public_url=settings.web.public_url,
    )
    record_event(
        db,
        actor=actor.principal,
        action=PRESENTED,
        subject_type=HOLDER_SUBJECTS[certificate.holder_kind],
        subject_id=certificate.holder_key,
        data={
            "number": certificate.number,
            "fields": chosen,
            "audience": aud,
            "relation": relation,
            "expires_at": presentation.expires_at.isoformat(),
        },
    )
    return presentation
