"""Issuing certificates and changing their status; verifying one online. Never commits.

A certificate is issued by staff holding the certificate issuer role over the issuing department, by that
department's own system (an API client with the ``certificates.issue`` scope), or by the platform for
another context (a system actor naming what caused the issue, such as an application number). The values
are held to the type's fields, the holder must be registered in identity, and the credential is signed
with the issuing department's current key. Status changes (suspend, reinstate, revoke) are made by the
same people, always with a reason, and show in the published status list at once. Each change is audited
in the same transaction with the holder as the event's subject.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.certificates import numbers, queries, sdjwt, signing, trust, urls, verify
from zerotrip.certificates.errors import (
    CertificateNotFound,
    CertificateRevoked,
    CertificateStatusConflict,
    CertificateTypeNotFound,
    GatewayConsumerMissing,
    IssuingNotAllowed,
    RealEstateOnRecord,
)
from zerotrip.certificates.models import Certificate, CertificateType, StatusList
from zerotrip.certificates.permissions import ISSUE_SCOPE, can_issue_for, lacks_issue_scope
from zerotrip.certificates.types import (
    NO_REAL_ESTATE,
    Department,
    check_claims,
    get_certificate_type,
    type_fields,
)
from zerotrip.common import clock
from zerotrip.common.checks import InvalidIdentifier, parse_resident_id, parse_uscc
from zerotrip.config import DatahubSettings, Settings
from zerotrip.datahub import gateway, sharing
from zerotrip.datahub.errors import NoGrant
from zerotrip.identity import auth as identity_auth
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import NotYourRecord, ScopeNotGranted
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

ISSUED = "certificates.certificate.issued"
SUSPENDED = "certificates.certificate.suspended"
REINSTATED = "certificates.certificate.reinstated"
REVOKED = "certificates.certificate.revoked"
VERIFIED = "certificates.certificate.verified"

SOURCES = {"staff": "staff", "client": "api", "system": "context"}
HOLDER_SUBJECTS = {"person": "person", "enterprise": "enterprise"}
# Random indices are drawn until a list is this full; past it, a free one is picked from the complement.
_RANDOM_FILL = 0.75
_ATTEMPTS = 8

# The no-real-estate proof (无房证明) asks the real-estate register, through the gateway, as the natural
# resources department's certificates system holding a grant on the register's subject field.
REAL_ESTATE_RESOURCE = "330000-land.real-estate"
REAL_ESTATE_OWNER = "330000-land"
GATEWAY_CLIENT_NAME = "电子证照系统"
REAL_ESTATE_PURPOSE = "出具无房证明（电子证照）"
REAL_ESTATE_LEGAL_BASIS = "《不动产登记暂行条例》第二十七条；《浙江省公共数据条例》"
REAL_ESTATE_SCOPE = "浙江省不动产登记信息"
REAL_ESTATE_RESULT = "无不动产登记记录"


# -- issuing ----------------------------------------------------------------------------------------------


def issue_certificate(
    db: Session,
    *,
    actor: Actor,
    certificate_type: str,
    holder_key: str,
    claims: Mapping[str, Any],
    keys: KeyStore,
    settings: Settings,
    issuer_org_code: str | None = None,
    source_ref: str | None = None,
) -> Certificate:
    """Issue one certificate of ``certificate_type`` to the holder (resident ID number or credit code).

    The issuing department is the type's; a type any department may issue takes ``issuer_org_code`` (a
    department system issues as its own department). Staff issue as ``staff``, department systems as
    ``api``, the platform for another context as ``context`` and must say what caused it in
    ``source_ref``. The credential gets a random free entry of the newest status list and a random number.

    Raises CertificateTypeNotFound, OrganisationNotFound, ScopeNotGranted (a client without
    ``certificates.issue``), IssuingNotAllowed (another department's type, no issuer role), and
    ValidationFailed naming the field (unknown holder, bad values, missing ``source_ref``).
    """
    ctype = get_certificate_type(db, certificate_type)
    if not ctype.is_active:
        raise CertificateTypeNotFound(f"the certificate type {certificate_type!r} is withdrawn")
    org = _issuing_department(db, actor=actor, ctype=ctype, issuer_org_code=issuer_org_code)
    _check_may_issue(actor, org)
    if actor.kind == "system" and not (source_ref or "").strip():
        raise ValidationFailed.field("source_ref", "say what caused this certificate (an application number)")
    holder_kind = ctype.holder_kind
    key, holder_name = _holder(db, holder_kind=holder_kind, holder_key=holder_key)
    values = check_claims(type_fields(ctype), claims)
    return _issue(
        db,
        actor=actor,
        ctype=ctype,
        org=org,
        holder_key=key,
        holder_name=holder_name,
        values=values,
        keys=keys,
        settings=settings,
        source=SOURCES[actor.kind],
        source_ref=(source_ref or "").strip() or None,
    )


def _issuing_department(
    db: Session, *, actor: Actor, ctype: CertificateType, issuer_org_code: str | None
) -> Department:
    if ctype.issuer_org_id is not None:
        org: Department = identity_queries.get_organisation(db, ctype.issuer_org_id)
        if issuer_org_code is not None and issuer_org_code != org.code:
            raise IssuingNotAllowed(f"{ctype.name} is issued by {org.name} only")
        return org
    code = issuer_org_code
    if code is None and actor.kind == "client" and actor.client_org_id is not None:
        code = identity_queries.get_organisation(db, actor.client_org_id).code
    if code is None:
        raise ValidationFailed.field("issuer_org_code", "name the issuing department")
    found = identity_queries.find_organisation_by_code(db, code)
    if found is None:
        raise ValidationFailed.field("issuer_org_code", f"no organisation has the code {code}")
    if found.kind != "department":
        raise ValidationFailed.field("issuer_org_code", "certificates are issued by departments")
    return found


def _check_may_issue(actor: Actor, org: Department) -> None:
    if lacks_issue_scope(actor):
        raise ScopeNotGranted(f"this needs the {ISSUE_SCOPE} scope", required_scope=ISSUE_SCOPE)
    if not can_issue_for(actor, org_id=org.id, org_path=org.path):
        raise IssuingNotAllowed(f"this needs the certificate issuer role at {org.name}")


def _holder(db: Session, *, holder_kind: str, holder_key: str) -> tuple[str, str]:
    """The normalised holder key and the holder's registered name. Raises ValidationFailed."""
    if holder_kind == "person":
        try:
            resident_id = parse_resident_id(holder_key).value
        except InvalidIdentifier as exc:
            raise ValidationFailed.field(
                "holder_key", f"not a valid resident ID number: {exc.reason}"
            ) from exc
        person = identity_queries.find_person_by_resident_id(db, resident_id)
        if person is None:
            raise ValidationFailed.field("holder_key", "no registered person has this resident ID number")
        return resident_id, person.name
    try:
        uscc = parse_uscc(holder_key).value
    except InvalidIdentifier as exc:
        raise ValidationFailed.field(
            "holder_key", f"not a valid unified social credit code: {exc.reason}"
        ) from exc
    enterprise = identity_queries.find_enterprise_by_uscc(db, uscc)
    if enterprise is None:
        raise ValidationFailed.field("holder_key", "no registered enterprise has this credit code")
    return uscc, enterprise.name


def _issue(
    db: Session,
    *,
    actor: Actor,
    ctype: CertificateType,
    org: Department,
    holder_key: str,
    holder_name: str,
    values: dict[str, Any],
    keys: KeyStore,
    settings: Settings,
    source: str,
    source_ref: str | None,
) -> Certificate:
    """Sign and store; the checks are the caller's."""
    now = clock.now()
    public_url = settings.web.public_url
    valid_until = now + timedelta(days=ctype.validity_days) if ctype.validity_days else None
    credit_code = numbers.issuer_credit_code(org)
    key = signing.issuer_signing_key(keys, org.id, algorithm=settings.certificates.algorithm)
    holder_jwk = signing.public_jwk(signing.holder_private_key(keys, holder_key))
    fields = {f.name: f for f in type_fields(ctype)}
    disclosable = {"holder_name": holder_name, "holder_id": holder_key}
    disclosable |= {name: value for name, value in values.items() if fields[name].disclosable}
    always = {name: value for name, value in values.items() if not fields[name].disclosable}
    db.flush()  # what is pending belongs to the caller: a clash below must only undo the certificate
    for attempt in range(_ATTEMPTS):
        status_list, index = _free_status_entry(db, settings=settings, now=now)
        number = numbers.new_certificate_number(type_code=ctype.type_code, issuer_credit_code=credit_code)
        claims: dict[str, Any] = {
            "iss": urls.issuer_url(public_url, credit_code),
            "vct": urls.type_url(public_url, ctype.code),
            "jti": number,
            "iat": now,
            "nbf": now,
            **({"exp": valid_until} if valid_until is not None else {}),
            "status": {
                "status_list": {"idx": index, "uri": urls.status_list_uri(public_url, status_list.id)}
            },
            "issuer_name": org.name,
            "type_name": ctype.name,
            **always,
        }
        token = sdjwt.issue(key=key, claims=claims, disclosable=disclosable, holder_public_jwk=holder_jwk)
        certificate = Certificate(
            number=number,
            type_id=ctype.id,
            issuer_org_id=org.id,
            holder_kind=ctype.holder_kind,
            holder_key=holder_key,
            holder_name=holder_name,
            claims=values,
            token=token,
            kid=key.kid,
            algorithm=key.algorithm,
            issued_at=now,
            valid_from=now,
            valid_until=valid_until,
            status="valid",
            status_list_id=status_list.id,
            status_index=index,
            source=source,
            source_ref=source_ref,
            issued_by=actor.principal,
        )
        try:
            # A clash on the number or the status entry (another transaction drew the same) is redrawn.
            with db.begin_nested():
                db.add(certificate)
                db.flush()
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        break
    db.execute(update(StatusList).where(StatusList.id == status_list.id).values(used=StatusList.used + 1))
    record_event(
        db,
        actor=actor.principal,
        action=ISSUED,
        subject_type=HOLDER_SUBJECTS[ctype.holder_kind],
        subject_id=holder_key,
        data={
            "number": certificate.number,
            "type": ctype.code,
            "issuer_org_id": org.id,
            "kid": key.kid,
            "source": source,
            "source_ref": source_ref,
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
    )
    return certificate


def _free_status_entry(db: Session, *, settings: Settings, now: datetime) -> tuple[StatusList, int]:
    """A random free index of the newest status list (herd privacy: neighbours in a list say nothing
    about each other's issue order); a full list starts a new one."""
    # ``used`` moves in SQL (here and in other transactions), so the row is read afresh.
    status_list = db.scalar(
        select(StatusList).order_by(StatusList.id.desc()).limit(1).execution_options(populate_existing=True)
    )
    if status_list is None or status_list.used >= status_list.size:
        status_list = StatusList(
            bits=2, size=settings.certificates.status_list_size, used=0, created_at=now, updated_at=now
        )
        db.add(status_list)
        db.flush()  # the id is part of every credential's status URI
    if status_list.used < status_list.size * _RANDOM_FILL:
        # The insert's unique constraint catches the rare clash, and the caller redraws.
        return status_list, secrets.randbelow(status_list.size)
    taken = set(
        db.scalars(select(Certificate.status_index).where(Certificate.status_list_id == status_list.id))
    )
    free = [i for i in range(status_list.size) if i not in taken]
    if not free:  # ``used`` lagged behind (it cannot run ahead): start a new list
        status_list.used = status_list.size
        db.flush()
        return _free_status_entry(db, settings=settings, now=now)
    return status_list, secrets.choice(free)


# -- the no-real-estate proof (无房证明) -----------------------------------------------------------------


@dataclass(frozen=True)
class ProofOutcome:
    """What asking for a no-real-estate proof came to. The register was asked either way and that read is
    audited, so the edge commits before ``raise_for_refusal`` shows a refusal."""

    certificate: Certificate | None

    def raise_for_refusal(self) -> Certificate:
        """The certificate, or RealEstateOnRecord when the register holds a record for the person."""
        if self.certificate is None:
            raise RealEstateOnRecord()
        return self.certificate


def issue_no_real_estate_proof(
    db: Session,
    *,
    actor: Actor,
    keys: KeyStore,
    settings: Settings,
    resident_id: str | None = None,
    source_ref: str | None = None,
) -> ProofOutcome:
    """A signed negative proof that the province's real-estate register holds nothing for the person,
    valid for the type's 30 days. A citizen asks for their own (``resident_id`` may be left out); an
    issuer of the natural resources department asks for anyone.

    The register is asked once, through the datahub gateway's exists? query, as the department's
    certificates system under its grant (so the person's data-use log shows the check). When it holds a
    record, no certificate is issued and the outcome says so.

    Raises NotYourRecord (a citizen asking for someone else), ScopeNotGranted, IssuingNotAllowed,
    ValidationFailed (no or a bad resident ID, a person not registered), GatewayConsumerMissing (the
    certificates system holds no live grant), CertificateTypeNotFound. ``source_ref`` is what caused an
    issue by anyone but the citizen (required of the platform acting for another context).
    """
    ctype = get_certificate_type(db, NO_REAL_ESTATE)
    assert ctype.issuer_org_id is not None  # the demo catalogue defines it with its department
    org = identity_queries.get_organisation(db, ctype.issuer_org_id)
    if actor.kind == "citizen":
        person = identity_queries.get_own_person(db, actor)
        if resident_id is not None and resident_id.strip().upper() != person.resident_id:
            raise NotYourRecord("a citizen asks for their own proof")
        resident_id = person.resident_id
        source, source_ref = "context", "citizen self-service"
    else:
        _check_may_issue(actor, org)
        if not resident_id:
            raise ValidationFailed.field("resident_id", "name the person the proof is for")
        if actor.kind == "system" and not (source_ref or "").strip():
            raise ValidationFailed.field("source_ref", "say what caused this certificate")
        source, source_ref = SOURCES.get(actor.kind, "staff"), (source_ref or "").strip() or None
    key, holder_name = _holder(db, holder_kind="person", holder_key=resident_id)
    consumer = gateway_consumer(db)
    try:
        holds_any = gateway.exists(
            db,
            actor=consumer,
            resource_code=REAL_ESTATE_RESOURCE,
            subject_key=key,
            purpose=REAL_ESTATE_PURPOSE,
            on_behalf_of=actor.principal,
        )
    except NoGrant as exc:
        raise GatewayConsumerMissing(
            f"the certificates system holds no live grant on {REAL_ESTATE_RESOURCE} for this purpose"
        ) from exc
    if holds_any:
        return ProofOutcome(certificate=None)
    today = clock.now_in_china().date()
    values = check_claims(
        type_fields(ctype),
        {"result": REAL_ESTATE_RESULT, "scope": REAL_ESTATE_SCOPE, "checked_on": today.isoformat()},
    )
    certificate = _issue(
        db,
        actor=actor,
        ctype=ctype,
        org=org,
        holder_key=key,
        holder_name=holder_name,
        values=values,
        keys=keys,
        settings=settings,
        source=source,
        source_ref=source_ref,
    )
    return ProofOutcome(certificate=certificate)


def gateway_consumer(db: Session) -> Actor:
    """The natural resources department's certificates system, as the gateway's consumer. Raises
    GatewayConsumerMissing when it is not registered."""
    owner = identity_queries.find_organisation_by_code(db, REAL_ESTATE_OWNER)
    client = (
        identity_queries.find_api_client(db, org_id=owner.id, name=GATEWAY_CLIENT_NAME)
        if owner is not None
        else None
    )
    if client is None:
        raise GatewayConsumerMissing(f"{GATEWAY_CLIENT_NAME} is not registered at {REAL_ESTATE_OWNER}")
    return Actor(
        kind="client",
        name=client.name,
        client_id=client.client_id,
        client_org_id=client.org_id,
        scopes=frozenset(client.scopes),
    )


def set_up_gateway_consumer(db: Session, *, actor: Actor, settings: DatahubSettings) -> Actor:
    """Register the certificates system at the natural resources department and have its steward grant
    it the real-estate register's subject field for the no-real-estate proof. ``actor`` must be a
    platform administrator over the department (who may also decide the department's share requests).
    Returns the consumer. Raises OrganisationNotFound, NotAllowed, NotSteward, ResourceNotFound."""
    owner = identity_queries.find_organisation_by_code(db, REAL_ESTATE_OWNER)
    if owner is None:
        raise GatewayConsumerMissing(f"there is no department {REAL_ESTATE_OWNER}")
    existing = identity_queries.find_api_client(db, org_id=owner.id, name=GATEWAY_CLIENT_NAME)
    if existing is None:
        identity_auth.register_api_client(
            db, actor=actor, org_id=owner.id, name=GATEWAY_CLIENT_NAME, scopes=[ISSUE_SCOPE]
        )
        db.flush()
    consumer = gateway_consumer(db)
    request = sharing.request_share(
        db,
        actor=consumer,
        resource_code=REAL_ESTATE_RESOURCE,
        fields=["holder_id"],
        purpose=REAL_ESTATE_PURPOSE,
        legal_basis=REAL_ESTATE_LEGAL_BASIS,
        settings=settings,
    )
    if request.status == "pending":
        sharing.approve_share_request(db, actor=actor, number=request.number, settings=settings)
    return consumer


# -- status changes ---------------------------------------------------------------------------------------


def suspend_certificate(db: Session, *, actor: Actor, number: str, reason: str) -> Certificate:
    """Suspend a valid certificate (it fails verification as suspended until reinstated).

    The issuing department's issuers do this, with a reason; the audit event names the holder as its
    subject and is, until messaging exists, the holder's notification. Raises CertificateNotFound,
    ScopeNotGranted, IssuingNotAllowed, CertificateRevoked, CertificateStatusConflict, ValidationFailed.
    """
    return _change_status(db, actor=actor, number=number, reason=reason, to="suspended", action=SUSPENDED)


def reinstate_certificate(db: Session, *, actor: Actor, number: str, reason: str) -> Certificate:
    """Make a suspended certificate valid again. Same people, rules, event and problems as suspending."""
    return _change_status(db, actor=actor, number=number, reason=reason, to="valid", action=REINSTATED)


def revoke_certificate(db: Session, *, actor: Actor, number: str, reason: str) -> Certificate:
    """Revoke a valid or suspended certificate for good (a correction is a new certificate). Same people,
    rules, event and problems as suspending; a revoked certificate cannot be revoked again."""
    return _change_status(db, actor=actor, number=number, reason=reason, to="revoked", action=REVOKED)


_ALLOWED_FROM = {"suspended": ("valid",), "valid": ("suspended",), "revoked": ("valid", "suspended")}


def _change_status(
    db: Session, *, actor: Actor, number: str, reason: str, to: str, action: str
) -> Certificate:
    if not reason.strip():
        raise ValidationFailed.field("reason", "a status change states its reason")
    certificate = db.scalar(
        select(Certificate)
        .where(Certificate.number == numbers.normalise_certificate_number(number))
        .with_for_update()
    )
    if certificate is None:
        raise CertificateNotFound()
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    _check_may_issue(actor, org)
    if certificate.status == "revoked":
        raise CertificateRevoked("revocation is final")
    if certificate.status not in _ALLOWED_FROM[to]:
        raise CertificateStatusConflict(f"the certificate is {certificate.status}")
    now = clock.now()
    previous = certificate.status
    certificate.status = to
    certificate.status_reason = reason.strip()
    certificate.status_changed_at = now
    _touch_status_list(db, certificate.status_list_id, now)
    record_event(
        db,
        actor=actor.principal,
        action=action,
        subject_type=HOLDER_SUBJECTS[certificate.holder_kind],
        subject_id=certificate.holder_key,
        data={
            "number": certificate.number,
            "issuer_org_id": certificate.issuer_org_id,
            "from": previous,
            "to": to,
            "reason": certificate.status_reason,
        },
    )
    return certificate


def _touch_status_list(db: Session, list_id: int, now: datetime) -> None:
    """Move the list's ``updated_at`` strictly forward, so a published list cached under the old value is
    never served again (even when the clock stands still, as in tests, or two changes share an instant)."""
    status_list = db.scalar(select(StatusList).where(StatusList.id == list_id).with_for_update())
    assert status_list is not None  # a foreign key guarantees it
    status_list.updated_at = max(now, status_list.updated_at + timedelta(microseconds=1))


# -- online verification ----------------------------------------------------------------------------------


def verify_online(
    db: Session,
    *,
    actor: Actor,
    token: str,
    keys: KeyStore,
    settings: Settings,
    now: datetime,
    cache: queries.PublishedCache | None = None,
) -> verify.Verdict:
    """Verify a certificate, a presentation or the text of a certificate QR against this deployment's
    trust list, with status read from this platform's own records (a status list elsewhere is
    unavailable). Anyone may ask, anonymously too; every verification is audited with its result, under
    the holder as subject when the number is one of this platform's."""
    text = verify.extract_token(token)
    known = _trust(db, keys=keys, settings=settings, cache=cache, token=text)
    public_url = settings.web.public_url

    def status(uri: str, index: int) -> int:
        list_id = urls.parse_status_list_uri(public_url, uri)
        if list_id is None:
            raise verify.StatusUnavailable(f"{uri} is not a status list of this platform")
        return queries.status_at(db, list_id=list_id, index=index)

    verdict = verify.verify_token(
        text,
        trust=known,
        status=status,
        now=now,
        presentation_ttl_seconds=settings.certificates.presentation_ttl_seconds,
    )
    certificate = queries.find_certificate(db, verdict.number) if verdict.number else None
    record_event(
        db,
        actor=actor.principal,
        action=VERIFIED,
        subject_type=HOLDER_SUBJECTS[certificate.holder_kind] if certificate else "certificate",
        subject_id=certificate.holder_key if certificate else (verdict.number or "-")[:100],
        data={
            "result": verdict.code,
            "number": verdict.number,
            "issuer": verdict.issuer,
            "key_bound": verdict.key_bound,
            "disclosed": sorted(verdict.claims),
        },
    )
    return verdict


def _trust(
    db: Session,
    *,
    keys: KeyStore,
    settings: Settings,
    cache: queries.PublishedCache | None,
    token: str,
) -> trust.TrustList:
    """The deployment's trust list, from the cache unless the token names a key it lacks that really
    signed one of this platform's certificates (a new department, a rotation): then it is rebuilt. A
    forged kid never forces a rebuild, so it cannot be used to make the server reload its keys."""
    cached = cache.trust_list() if cache is not None else None
    if cached is not None:
        try:
            parsed = sdjwt.parse(token)
        except sdjwt.MalformedSdJwt:
            return cached
        if parsed.kid in cached:
            return cached
        number = parsed.payload.get("jti")
        certificate = queries.find_certificate(db, number) if isinstance(number, str) else None
        if certificate is None or certificate.kid != parsed.kid:
            return cached
    built = trust.TrustList.from_jwks(queries.trust_list_jwks(db, keys=keys, settings=settings))
    if cache is not None:
        cache.keep_trust_list(built)
    return built
