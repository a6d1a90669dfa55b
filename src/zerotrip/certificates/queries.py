"""Certificates reads: ``get_*`` raises NotFound, ``find_*`` returns None, ``list_*``/``search_*`` page.

Who holds what (the one rule the issuers' reads, the wallet and use grants share), the issuer side (one
certificate by number, the issuers' search), what the platform publishes for verifiers (the trust list,
issuer metadata, status list tokens, type metadata), and the shaping of rows into the API's schemas.
Published artefacts that cost a signature or a scan are kept in a ``PublishedCache`` per process (the API
keeps one on the application).

Who holds what. There are no enterprise accounts: an enterprise's legal representative signs in as a
citizen and acts for it. A parent acts for a minor child (under 18, the Civil Code's guardianship of
minors, art. 27) as recorded in household registration (``identity_queries.list_relatives``), until the
day before the child's 18th birthday in China.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.certificates import numbers, signing, statuslist, trust, urls
from zerotrip.certificates.errors import (
    CertificateNotFound,
    IssuerNotFound,
    IssuingNotAllowed,
    StatusListNotFound,
)
from zerotrip.certificates.models import Certificate, CertificateType, StatusList
from zerotrip.certificates.permissions import (
    can_issue_for,
    can_oversee,
    issuer_org_ids,
    lacks_issue_scope,
)
from zerotrip.certificates.schemas import (
    CertificateRead,
    CertificateSummary,
    CertificateTypeRead,
    HolderRelation,
)
from zerotrip.certificates.types import Department, get_certificate_type, type_fields
from zerotrip.certificates.verify import StatusUnavailable
from zerotrip.common import clock
from zerotrip.common.checks import InvalidIdentifier, parse_resident_id, parse_uscc
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import OrganisationNotFound, ScopeNotGranted
from zerotrip.keys import KeyStore
from zerotrip.problems import NotAllowed, ValidationFailed

STATUS_CODES = {"valid": statuslist.VALID, "revoked": statuslist.INVALID, "suspended": statuslist.SUSPENDED}


# -- who holds what ----------------------------------------------------------------------------------------

ADULT_AGE = 18


@dataclass(frozen=True)
class Holding:
    """One holder the signed-in citizen acts for."""

    holder_kind: str
    holder_key: str
    relation: HolderRelation


def holdings(db: Session, actor: Actor, *, now: datetime) -> list[Holding]:
    """The holders whose certificates the citizen holds or acts for: themself, the enterprises they
    represent, and their children under 18 on ``now``'s date in China. Raises NotYourRecord for anyone but
    a citizen."""
    person = identity_queries.get_own_person(db, actor)  # raises NotYourRecord for non-citizens
    found = [Holding("person", person.resident_id, "self")]
    found += [
        Holding("enterprise", e.uscc, "enterprise")
        for e in identity_queries.list_represented_enterprises(db, person.id)
    ]
    today = now.astimezone(clock.CHINA).date()
    found += [
        Holding("person", relative.resident_id, "guardian")
        for kind, relative in identity_queries.list_relatives(db, person.id)
        if kind == "child" and _age(relative.birth_date, today) < ADULT_AGE
    ]
    return found


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def relation_to(
    db: Session, actor: Actor, certificate: Certificate, *, now: datetime
) -> HolderRelation | None:
    """Why the actor may act as the certificate's holder on ``now``, or None when they may not (anyone but
    a citizen too)."""
    if actor.kind != "citizen" or actor.person_id is None:
        return None
    for holding in holdings(db, actor, now=now):
        if (holding.holder_kind, holding.holder_key) == (certificate.holder_kind, certificate.holder_key):
            return holding.relation
    return None


def is_holder(db: Session, actor: Actor, certificate: Certificate, *, now: datetime) -> bool:
    """Whether the signed-in citizen holds the certificate or acts for its holder on ``now``: as its
    holder, the legal representative of the enterprise that holds it, or the parent of a minor holder."""
    return relation_to(db, actor, certificate, now=now) is not None


# -- one certificate ---------------------------------------------------------------------------------------


def find_certificate(db: Session, number: str) -> Certificate | None:
    """By number, without asking who wants it (for actions that check the actor themselves)."""
    return db.scalar(
        select(Certificate).where(Certificate.number == numbers.normalise_certificate_number(number))
    )


def get_certificate(db: Session, *, actor: Actor, number: str, now: datetime | None = None) -> Certificate:
    """A certificate as its issuing department, its holder (or whoever acts for the holder, as in the
    wallet) or the platform operator sees it; anyone else is told it does not exist. ``now`` (the clock's
    by default) decides whether a child is still a minor. Raises CertificateNotFound."""
    certificate = find_certificate(db, number)
    if certificate is None or not can_read(db, actor, certificate, now=clock.now() if now is None else now):
        raise CertificateNotFound()
    return certificate


def can_read(db: Session, actor: Actor, certificate: Certificate, *, now: datetime) -> bool:
    """The issuing department's issuers, the holder and whoever acts for the holder (``is_holder``), and
    the platform operator."""
    if actor.kind == "citizen":
        return is_holder(db, actor, certificate, now=now)
    if can_oversee(actor):
        return True
    if actor.kind in ("staff", "client"):
        org = identity_queries.get_organisation(db, certificate.issuer_org_id)
        return can_issue_for(actor, org_id=org.id, org_path=org.path)
    return False


# -- the issuers' search -----------------------------------------------------------------------------------


def search_issued(
    db: Session,
    *,
    actor: Actor,
    issuer_org_code: str | None = None,
    certificate_type: str | None = None,
    holder_key: str | None = None,
    status: str | None = None,
    number: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Certificate], int]:
    """Certificates a department issued, newest first. An issuer searches their own departments (or the
    one named, which they must issue for); a department system its own department; the platform operator
    everything. Raises ScopeNotGranted, IssuingNotAllowed, NotAllowed (anyone else), CertificateTypeNotFound,
    ValidationFailed (a holder key that is neither a resident ID nor a credit code)."""
    if lacks_issue_scope(actor):
        raise ScopeNotGranted("this needs the certificates.issue scope", required_scope="certificates.issue")
    query = select(Certificate)
    if issuer_org_code is not None:
        org = identity_queries.find_organisation_by_code(db, issuer_org_code)
        if org is None:
            raise ValidationFailed.field("issuer", f"no organisation has the code {issuer_org_code}")
        if not (can_oversee(actor) or can_issue_for(actor, org_id=org.id, org_path=org.path)):
            raise IssuingNotAllowed(f"you do not issue certificates for {org.name}")
        query = query.where(Certificate.issuer_org_id == org.id)
    elif not can_oversee(actor):
        own = issuer_org_ids(actor)
        if not own:
            raise NotAllowed("searching issued certificates is for their issuers and the platform operator")
        query = query.where(Certificate.issuer_org_id.in_(sorted(own)))
    if certificate_type is not None:
        query = query.where(Certificate.type_id == get_certificate_type(db, certificate_type).id)
    if holder_key is not None:
        query = query.where(Certificate.holder_key == _holder_key(holder_key))
    if status is not None:
        query = query.where(Certificate.status == status)
    if number is not None:
        query = query.where(Certificate.number == numbers.normalise_certificate_number(number))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def _holder_key(text: str) -> str:
    try:
        return parse_resident_id(text).value
    except InvalidIdentifier:
        pass
    try:
        return parse_uscc(text).value
    except InvalidIdentifier as exc:
        raise ValidationFailed.field(
            "holder", "not a resident ID number or a unified social credit code"
        ) from exc


# -- shaping -----------------------------------------------------------------------------------------------


def certificate_reads(
    db: Session, certificates: list[Certificate], *, settings: Settings
) -> list[CertificateRead]:
    types = _types(db, {c.type_id for c in certificates})
    orgs = _orgs(db, {c.issuer_org_id for c in certificates})
    return [
        CertificateRead(
            number=c.number,
            certificate_type=types[c.type_id].code,
            type_name=types[c.type_id].name,
            issuer_org_code=orgs[c.issuer_org_id].code,
            issuer_name=orgs[c.issuer_org_id].name,
            holder_kind=c.holder_kind,
            holder_key=c.holder_key,
            holder_name=c.holder_name,
            claims=dict(c.claims),
            token=c.token,
            kid=c.kid,
            algorithm=c.algorithm,
            issued_at=c.issued_at,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            status=c.status,
            status_reason=c.status_reason,
            status_changed_at=c.status_changed_at,
            status_list_uri=urls.status_list_uri(settings.web.public_url, c.status_list_id),
            status_index=c.status_index,
            source=c.source,
            source_ref=c.source_ref,
        )
        for c in certificates
    ]


def certificate_summaries(db: Session, certificates: list[Certificate]) -> list[CertificateSummary]:
    types = _types(db, {c.type_id for c in certificates})
    orgs = _orgs(db, {c.issuer_org_id for c in certificates})
    return [
        CertificateSummary(
            number=c.number,
            certificate_type=types[c.type_id].code,
            type_name=types[c.type_id].name,
            issuer_org_code=orgs[c.issuer_org_id].code,
            holder_kind=c.holder_kind,
            holder_key=c.holder_key,
            holder_name=c.holder_name,
            issued_at=c.issued_at,
            valid_until=c.valid_until,
            status=c.status,
        )
        for c in certificates
    ]


def type_reads(db: Session, rows: list[CertificateType], *, settings: Settings) -> list[CertificateTypeRead]:
    orgs = _orgs(db, {r.issuer_org_id for r in rows if r.issuer_org_id is not None})
    return [
        CertificateTypeRead(
            code=r.code,
            type_code=r.type_code,
            name=r.name,
            name_en=r.name_en,
            issuer_org_code=orgs[r.issuer_org_id].code if r.issuer_org_id is not None else None,
            issuer_name=orgs[r.issuer_org_id].name if r.issuer_org_id is not None else None,
            holder_kind=r.holder_kind,
            fields=type_fields(r),
            validity_days=r.validity_days,
            template=r.template,
            is_active=r.is_active,
            vct=urls.type_url(settings.web.public_url, r.code),
        )
        for r in rows
    ]


def _types(db: Session, ids: set[int]) -> dict[int, CertificateType]:
    if not ids:
        return {}
    return {t.id: t for t in db.scalars(select(CertificateType).where(CertificateType.id.in_(ids)))}


def _orgs(db: Session, ids: set[int]) -> dict[int, Department]:
    return {i: identity_queries.get_organisation(db, i) for i in ids}


# -- type metadata (the vct URL) ---------------------------------------------------------------------------


def type_metadata(db: Session, code: str, *, settings: Settings) -> dict[str, Any]:
    """SD-JWT VC Type Metadata for a type: names and claim labels in Chinese and English, and which claims
    are selectively disclosable. Raises CertificateTypeNotFound."""
    row = get_certificate_type(db, code)
    zh, en = "zh-CN", "en"
    holder = "持证人" if row.holder_kind == "person" else "持证单位"
    holder_en = "Holder" if row.holder_kind == "person" else "Holding enterprise"
    holder_id = "公民身份号码" if row.holder_kind == "person" else "统一社会信用代码"
    holder_id_en = "Resident ID number" if row.holder_kind == "person" else "Unified social credit code"
    claims: list[dict[str, Any]] = [
        _claim("holder_name", holder, holder_en, sd=True),
        _claim("holder_id", holder_id, holder_id_en, sd=True),
    ]
    claims += [_claim(f.name, f.label, f.label_en, sd=f.disclosable) for f in type_fields(row)]
    return {
        "vct": urls.type_url(settings.web.public_url, row.code),
        "name": row.name,
        "description": row.name_en,
        "display": [
            {"locale": zh, "lang": zh, "name": row.name},
            {"locale": en, "lang": en, "name": row.name_en},
        ],
        "claims": claims,
    }


def _claim(name: str, label: str, label_en: str, *, sd: bool) -> dict[str, Any]:
    return {
        "path": [name],
        "display": [
            {"locale": "zh-CN", "lang": "zh-CN", "label": label},
            {"locale": "en", "lang": "en", "label": label_en},
        ],
        "sd": "always" if sd else "never",
    }


# -- the trust list and issuer metadata --------------------------------------------------------------------


def trust_list_jwks(db: Session, *, keys: KeyStore, settings: Settings) -> dict[str, Any]:
    """This deployment's trust list: every key, current and retired, of every department that has an
    issuer key, and the platform's status-list keys."""
    public_url = settings.web.public_url
    # The status-list key is made on first use; a verifier fetching the list first must still find it.
    signing.status_signing_key(keys, algorithm=settings.certificates.algorithm)
    issuers = []
    for org_id in signing.issuer_org_ids(keys):
        org = _find_org(db, org_id)
        if org is not None:
            issuers.append((org.id, urls.issuer_url(public_url, numbers.issuer_credit_code(org)), org.name))
    return trust.deployment_jwks(keys, issuers=issuers, platform_iss=urls.platform_issuer(public_url))


def issuer_metadata(db: Session, *, credit_code: str, keys: KeyStore, settings: Settings) -> dict[str, Any]:
    """SD-JWT VC issuer metadata (``/.well-known/jwt-vc-issuer/issuers/{credit code}``): the issuer and its
    keys. Raises IssuerNotFound for a code no department with keys carries."""
    public_url = settings.web.public_url
    iss = urls.issuer_url(public_url, credit_code.strip().upper())
    for org_id in signing.issuer_org_ids(keys):
        org = _find_org(db, org_id)
        if org is not None and urls.issuer_url(public_url, numbers.issuer_credit_code(org)) == iss:
            jwks = trust.build_jwks((key, iss, org.name) for key in signing.issuer_keys(keys, org.id))
            return {"issuer": iss, "jwks": jwks}
    raise IssuerNotFound()


def _find_org(db: Session, org_id: int) -> Department | None:
    try:
        return identity_queries.get_organisation(db, org_id)
    except OrganisationNotFound:
        return None  # a key left from an organisation that no longer exists


# -- status ------------------------------------------------------------------------------------------------


def get_status_list(db: Session, list_id: int) -> StatusList:
    status_list = db.get(StatusList, list_id)
    if status_list is None:
        raise StatusListNotFound()
    return status_list


def status_entries(db: Session, list_id: int) -> list[tuple[int, int]]:
    """The list's entries that are not VALID, as ``(index, status)``."""
    rows = db.execute(
        select(Certificate.status_index, Certificate.status).where(
            Certificate.status_list_id == list_id, Certificate.status != "valid"
        )
    ).all()
    return [(index, STATUS_CODES[status]) for index, status in rows]


def status_at(db: Session, *, list_id: int, index: int) -> int:
    """The status code at one entry, read from the certificates themselves (an unused entry is VALID).
    Raises StatusUnavailable for a list that does not exist or an index outside it."""
    status_list = db.get(StatusList, list_id)
    if status_list is None:
        raise StatusUnavailable(f"status list {list_id} does not exist")
    if not 0 <= index < status_list.size:
        raise StatusUnavailable(f"index {index} is outside status list {list_id}")
    status = db.scalar(
        select(Certificate.status).where(
            Certificate.status_list_id == list_id, Certificate.status_index == index
        )
    )
    return STATUS_CODES[status] if status is not None else statuslist.VALID


def status_list_token(
    db: Session,
    *,
    list_id: int,
    keys: KeyStore,
    settings: Settings,
    now: datetime,
    cache: PublishedCache | None = None,
) -> str:
    """The signed ``statuslist+jwt`` of one list. With a cache, a token is signed again only when the
    list's ``updated_at`` moves or half its ``ttl`` has passed. Raises StatusListNotFound."""
    status_list = get_status_list(db, list_id)
    ttl = settings.certificates.status_list_ttl_seconds
    cache_key = (list_id, status_list.updated_at)
    if cache is not None:
        hit = cache.status_token(cache_key, now=now, max_age=timedelta(seconds=ttl / 2))
        if hit is not None:
            return hit
    token = statuslist.status_list_token(
        key=signing.status_signing_key(keys, algorithm=settings.certificates.algorithm),
        uri=urls.status_list_uri(settings.web.public_url, list_id),
        bits=status_list.bits,
        size=status_list.size,
        entries=status_entries(db, list_id),
        now=now,
        ttl_seconds=ttl,
    )
    if cache is not None:
        cache.keep_status_token(cache_key, token, now=now)
    return token


# -- the per-process cache ---------------------------------------------------------------------------------


@dataclass
class PublishedCache:
    """Status list tokens by (list id, updated_at), and the deployment's parsed trust list. Thread-safe;
    one per process (the API keeps it on the application)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _status: dict[tuple[int, datetime], tuple[str, datetime]] = field(default_factory=dict)
    _trust: trust.TrustList | None = None

    def status_token(self, key: tuple[int, datetime], *, now: datetime, max_age: timedelta) -> str | None:
        with self._lock:
            hit = self._status.get(key)
        if hit is None or now - hit[1] > max_age or now < hit[1]:
            return None
        return hit[0]

    def keep_status_token(self, key: tuple[int, datetime], token: str, *, now: datetime) -> None:
        with self._lock:
            # Only the newest version of each list is worth keeping.
            for old in [k for k in self._status if k[0] == key[0]]:
                del self._status[old]
            self._status[key] = (token, now)

    def trust_list(self) -> trust.TrustList | None:
        with self._lock:
            return self._trust

    def keep_trust_list(self, value: trust.TrustList) -> None:
        with self._lock:
            self._trust = value
