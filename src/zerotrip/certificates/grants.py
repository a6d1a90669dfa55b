"""Use grants (用证授权) and uses (用证): the holder lets someone use one certificate, with chosen fields,
for a stated purpose, until a deadline; whoever holds the code receives an annotated, time-limited copy.

A grant is made by the holder (or whoever acts for the holder in the wallet: an enterprise's legal
representative, a minor's parent) for a certificate that is valid now. Its code is shown once and only its
SHA-256 is stored; the link handed out is ``{public_url}/certificates/use/{code}``. It lasts at most
``certificates.use_grant_max_days`` and never beyond the certificate's own validity.

A use needs only the code: an anonymous visitor, a department's staff or an API client states who is using
it and why, and receives a presentation of the granted fields alone, bound to the holder key with the
grant's audience as ``aud``, together with the note "仅供{audience}用于{purpose}，{deadline}前有效". The
holder's original credential never leaves the wallet. Each use is a ``certificates_use`` row and an audit
event in the same transaction, so the holder sees every use; withdrawn or expired grants and certificates
that are revoked, suspended or expired refuse. Before using it, whoever holds a code may see what it offers
(``get_use_grant_offer``: the type, the audience, the purpose and the fields' names, no values).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.certificates import numbers, queries, wallet
from zerotrip.certificates.errors import (
    UseGrantExpired,
    UseGrantNotFound,
    UseGrantWithdrawn,
)
from zerotrip.certificates.models import (
    AUDIENCE_KINDS,
    Certificate,
    CertificateType,
    CertificateUse,
    UseGrant,
)
from zerotrip.certificates.schemas import (
    CertificateUseRead,
    GrantedField,
    UsedCertificateRead,
    UseGrantCreated,
    UseGrantOffer,
    UseGrantPage,
    UseGrantRead,
    UseGrantState,
)
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

GRANTED = "certificates.use_grant.created"
WITHDRAWN = "certificates.use_grant.withdrawn"
USED = "certificates.certificate.used"
USE_PATH = "/certificates/use/"
MAX_AUDIENCE = 200
MAX_PURPOSE = 500
MAX_USED_BY = 200
MAX_REASON = 1000
_ATTEMPTS = 4


def use_link(public_url: str, code: str) -> str:
    """The link handed to the audience: ``{public_url}/certificates/use/{code}``."""
    return f"{public_url.rstrip('/')}{USE_PATH}{code}"


def grant_state(grant: UseGrant, *, now: datetime) -> UseGrantState:
    if grant.withdrawn_at is not None:
        return "withdrawn"
    return "expired" if now >= grant.expires_at else "active"


def use_note(*, audience: str, purpose: str, expires_at: datetime) -> str:
    """The annotation every copy carries, with the deadline in China time to the minute."""
    deadline = expires_at.astimezone(clock.CHINA)
    when = f"{deadline.year}年{deadline.month}月{deadline.day}日{deadline:%H:%M}"
    return f"仅供{audience}用于{purpose}，{when}前有效"


# -- the holder: granting, listing, withdrawing ------------------------------------------------------------


def create_use_grant(
    db: Session,
    *,
    actor: Actor,
    settings: Settings,
    number: str,
    audience: str,
    audience_kind: str,
    fields: Sequence[str],
    purpose: str,
    days: int,
    now: datetime,
) -> tuple[UseGrant, str]:
    """Let ``audience`` use the certificate's chosen ``fields`` for ``purpose`` for ``days`` days (capped
    by the certificate's own validity). Returns the grant and its code, which is shown this once.

    Raises NotYourRecord (not a citizen), CertificateNotFound (not the caller's), CertificateRevoked,
    CertificateSuspended, CertificateExpired, ValidationFailed naming the field (an audience, purpose or
    kind missing or too long, no fields or a field the certificate cannot disclose, days out of range).
    """
    certificate, _ = wallet.held_certificate(db, actor=actor, number=number, now=now)
    wallet.check_usable(certificate, now=now)
    audience = _text(audience, "audience", MAX_AUDIENCE)
    purpose = _text(purpose, "purpose", MAX_PURPOSE)
    if audience_kind not in AUDIENCE_KINDS:
        raise ValidationFailed.field("audience_kind", f"one of {', '.join(AUDIENCE_KINDS)}")
    if not fields:
        raise ValidationFailed.field("fields", "choose at least one field to grant")
    chosen = wallet.check_fields(certificate, fields)
    longest = settings.certificates.use_grant_max_days
    if not 1 <= days <= longest:
        raise ValidationFailed.field("days", f"a use grant lasts from 1 to {longest} days")
    expires_at = now + timedelta(days=days)
    if certificate.valid_until is not None:
        expires_at = min(expires_at, certificate.valid_until)
    db.flush()  # what is pending belongs to the caller: a code clash below must only undo the grant
    for attempt in range(_ATTEMPTS):
        code = numbers.new_grant_code()
        grant = UseGrant(
            certificate_id=certificate.id,
            code_hash=numbers.grant_code_hash(code),
            audience=audience,
            audience_kind=audience_kind,
            fields=chosen,
            purpose=purpose,
            created_at=now,
            expires_at=expires_at,
            created_by=actor.principal,
        )
        try:
            # 59 random bits make a clash all but impossible; one is redrawn rather than trusted never to be.
            with db.begin_nested():
                db.add(grant)
                db.flush()
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        break
    record_event(
        db,
        actor=actor.principal,
        action=GRANTED,
        subject_type=wallet.HOLDER_SUBJECTS[certificate.holder_kind],
        subject_id=certificate.holder_key,
        data={
            "number": certificate.number,
            "grant_id": grant.id,
            "audience": audience,
            "audience_kind": audience_kind,
            "fields": chosen,
            "purpose": purpose,
            "expires_at": expires_at.isoformat(),
        },
    )
    return grant, code


def _text(value: str, name: str, longest: int) -> str:
    text = (value or "").strip()
    if not text or len(text) > longest:
        raise ValidationFailed.field(name, f"1 to {longest} characters")
    return text


def _holder_condition(db: Session, actor: Actor, *, now: datetime) -> ColumnElement[bool]:
    """Certificates whose holder the citizen is or acts for. Raises NotYourRecord."""
    held = queries.holdings(db, actor, now=now)
    return or_(
        *(
            and_(Certificate.holder_kind == h.holder_kind, Certificate.holder_key == h.holder_key)
            for h in held
        )
    )


def get_use_grant(db: Session, *, actor: Actor, grant_id: int, now: datetime) -> UseGrant:
    """One of the caller's grants (of a certificate they hold or act for). Raises NotYourRecord,
    UseGrantNotFound (no such grant, or someone else's)."""
    grant = db.scalar(
        select(UseGrant)
        .join(Certificate, Certificate.id == UseGrant.certificate_id)
        .where(UseGrant.id == grant_id, _holder_condition(db, actor, now=now))
    )
    if grant is None:
        raise UseGrantNotFound()
    return grant


def withdraw_use_grant(db: Session, *, actor: Actor, grant_id: int, now: datetime) -> UseGrant:
    """End a grant at once: its code stops working. The holder (or whoever acts for them) does this.
    Raises NotYourRecord, UseGrantNotFound, UseGrantWithdrawn (already withdrawn)."""
    grant = get_use_grant(db, actor=actor, grant_id=grant_id, now=now)
    if grant.withdrawn_at is not None:
        raise UseGrantWithdrawn("the grant was already withdrawn")
    grant.withdrawn_at = now
    certificate = db.get(Certificate, grant.certificate_id)
    assert certificate is not None  # a foreign key guarantees it
    record_event(
        db,
        actor=actor.principal,
        action=WITHDRAWN,
        subject_type=wallet.HOLDER_SUBJECTS[certificate.holder_kind],
        subject_id=certificate.holder_key,
        data={"number": certificate.number, "grant_id": grant.id, "audience": grant.audience},
    )
    return grant


def list_use_grants(
    db: Session,
    *,
    actor: Actor,
    now: datetime,
    number: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> UseGrantPage:
    """The grants of every certificate the citizen holds or acts for (or of the one ``number``), newest
    first, each with its uses, newest first. Raises NotYourRecord, CertificateNotFound (``number`` not
    theirs)."""
    query = select(UseGrant).join(Certificate, Certificate.id == UseGrant.certificate_id)
    if number is not None:
        certificate = wallet.get_held_certificate(db, actor=actor, number=number, now=now)
        query = query.where(UseGrant.certificate_id == certificate.id)
    else:
        query = query.where(_holder_condition(db, actor, now=now))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.scalars(
            query.order_by(UseGrant.created_at.desc(), UseGrant.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return UseGrantPage(items=grant_reads(db, rows, now=now), total=total, page=page, per_page=per_page)


def grant_reads(db: Session, grants: Sequence[UseGrant], *, now: datetime) -> list[UseGrantRead]:
    """The holder's view of grants, with their uses (three queries whatever the number of grants)."""
    if not grants:
        return []
    certificates = {
        c.id: c
        for c in db.scalars(select(Certificate).where(Certificate.id.in_({g.certificate_id for g in grants})))
    }
    types = {
        t.id: t
        for t in db.scalars(
            select(CertificateType).where(CertificateType.id.in_({c.type_id for c in certificates.values()}))
        )
    }
    uses: dict[int, list[CertificateUseRead]] = {g.id: [] for g in grants}
    for use in db.scalars(
        select(CertificateUse)
        .where(CertificateUse.grant_id.in_(list(uses)))
        .order_by(CertificateUse.used_at.desc(), CertificateUse.id.desc())
    ):
        uses[use.grant_id].append(
            CertificateUseRead(used_at=use.used_at, used_by=use.used_by, reason=use.reason)
        )
    reads = []
    for g in grants:
        c = certificates[g.certificate_id]
        ctype = types[c.type_id]
        labels = {f.name: f.label for f in wallet.labelled_fields(ctype, c)}
        reads.append(
            UseGrantRead(
                id=g.id,
                number=c.number,
                certificate_type=ctype.code,
                type_name=ctype.name,
                holder_name=c.holder_name,
                audience=g.audience,
                audience_kind=g.audience_kind,
                fields=list(g.fields),
                field_labels=[labels.get(name, name) for name in g.fields],
                purpose=g.purpose,
                created_at=g.created_at,
                expires_at=g.expires_at,
                withdrawn_at=g.withdrawn_at,
                state=grant_state(g, now=now),
                uses=uses[g.id],
            )
        )
    return reads


def created_read(
    db: Session, grant: UseGrant, code: str, *, settings: Settings, now: datetime
) -> UseGrantCreated:
    """A new grant as the holder sees it once: with its code and link."""
    read = grant_reads(db, [grant], now=now)[0]
    return UseGrantCreated(**read.model_dump(), code=code, link=use_link(settings.web.public_url, code))


# -- using a certificate by code (用证) ------------------------------------------------------------------


def find_use_grant_by_code(db: Session, code: str) -> UseGrant | None:
    """The grant a code opens, whatever its state; None for a code no grant has."""
    if not numbers.is_grant_code(code):
        return None
    return db.scalar(select(UseGrant).where(UseGrant.code_hash == numbers.grant_code_hash(code)))


def _usable_grant(db: Session, code: str, *, now: datetime) -> tuple[UseGrant, Certificate]:
    """The grant a code opens and its certificate, when both can be used now. Raises UseGrantNotFound,
    UseGrantWithdrawn, UseGrantExpired, CertificateRevoked, CertificateSuspended, CertificateExpired."""
    grant = find_use_grant_by_code(db, code)
    if grant is None:
        raise UseGrantNotFound("no use grant has this code; check it with the holder")
    if grant.withdrawn_at is not None:
        raise UseGrantWithdrawn()
    if now >= grant.expires_at:
        raise UseGrantExpired(f"the grant ended at {grant.expires_at.isoformat()}")
    certificate = db.get(Certificate, grant.certificate_id)
    assert certificate is not None  # a foreign key guarantees it
    wallet.check_usable(certificate, now=now)
    return grant, certificate


def get_use_grant_offer(db: Session, *, code: str, now: datetime) -> UseGrantOffer:
    """What a code offers, for whoever holds it to see before using it: the certificate's type and
    issuer, the audience, the purpose, the granted fields by label and the deadline; no value of the
    certificate, not even the holder's name. Reads only and records nothing: the use is what is recorded.

    Raises UseGrantNotFound, UseGrantWithdrawn, UseGrantExpired, CertificateRevoked, CertificateSuspended,
    CertificateExpired: a code that could not be used says why before anyone states who they are.
    """
    grant, certificate = _usable_grant(db, code, now=now)
    ctype = db.get(CertificateType, certificate.type_id)
    assert ctype is not None  # a foreign key guarantees it
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    labels = {f.name: f for f in wallet.labelled_fields(ctype, certificate)}
    return UseGrantOffer(
        certificate_type=ctype.code,
        type_name=ctype.name,
        type_name_en=ctype.name_en,
        issuer_name=org.name,
        audience=grant.audience,
        audience_kind=grant.audience_kind,
        purpose=grant.purpose,
        fields=[
            GrantedField(
                name=name,
                label=labels[name].label if name in labels else name,
                label_en=labels[name].label_en if name in labels else name,
            )
            for name in grant.fields
        ],
        expires_at=grant.expires_at,
    )


def use_certificate(
    db: Session,
    *,
    actor: Actor,
    keys: KeyStore,
    settings: Settings,
    code: str,
    used_by: str,
    reason: str,
    now: datetime,
) -> UsedCertificateRead:
    """Use a certificate under a grant: anyone holding the code (anonymous too) says who is using it and
    why, and receives the granted fields as a fresh presentation for the grant's audience with the
    grant's note. The use is recorded and audited under the holder as subject.

    Raises ValidationFailed (``used_by`` or ``reason`` missing or too long), UseGrantNotFound (no grant
    has this code), UseGrantWithdrawn, UseGrantExpired, CertificateRevoked, CertificateSuspended,
    CertificateExpired.
    """
    used_by = _text(used_by, "used_by", MAX_USED_BY)
    reason = _text(reason, "reason", MAX_REASON)
    grant, certificate = _usable_grant(db, code, now=now)
    presentation = wallet.make_presentation(
        certificate,
        keys=keys,
        fields=grant.fields,
        audience=grant.audience,
        now=now,
        presentation_ttl_seconds=settings.certificates.presentation_ttl_seconds,
        public_url=settings.web.public_url,
    )
    db.add(CertificateUse(grant_id=grant.id, used_at=now, used_by=used_by, reason=reason))
    record_event(
        db,
        actor=actor.principal,
        action=USED,
        subject_type=wallet.HOLDER_SUBJECTS[certificate.holder_kind],
        subject_id=certificate.holder_key,
        data={
            "number": certificate.number,
            "grant_id": grant.id,
            "audience": grant.audience,
            "fields": list(grant.fields),
            "used_by": used_by,
            "reason": reason,
        },
    )
    ctype = db.get(CertificateType, certificate.type_id)
    assert ctype is not None
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    granted = set(grant.fields)
    return UsedCertificateRead(
        number=certificate.number,
        certificate_type=ctype.code,
        type_name=ctype.name,
        issuer_name=org.name,
        # The granted disclosures, and what the credential always shows (nothing personal by contract).
        fields=[
            f for f in wallet.labelled_fields(ctype, certificate) if f.name in granted or not f.disclosable
        ],
        valid_until=certificate.valid_until,
        audience=grant.audience,
        purpose=grant.purpose,
        note=use_note(audience=grant.audience, purpose=grant.purpose, expires_at=grant.expires_at),
        grant_expires_at=grant.expires_at,
        presentation=presentation.token,
        qr_payload=presentation.qr_payload,
        presented_at=presentation.presented_at,
        presentation_expires_at=presentation.expires_at,
    )
