"""Issuing certificates: one at a time or in batches, by staff, department systems or another context.
Never commits.

A certificate is issued by staff holding the certificate issuer role over the issuing department, by that
department's own system (an API client with the ``certificates.issue`` scope), or by the platform for
another context (a system actor naming what caused the issue, such as an application number). The values
are held to the type's fields, the holder must be registered in identity, and the credential is signed
with the issuing department's current key. Each issue is audited in the same transaction with the holder
as the event's subject.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy.orm import Session, make_transient_to_detached

from zerotrip.audit.actions import record_events
from zerotrip.certificates import numbers, sdjwt, signing, status_entries, urls
from zerotrip.certificates.errors import (
    CertificateStatusConflict,
    CertificateTypeNotFound,
    IssuingNotAllowed,
)
from zerotrip.certificates.models import Certificate, CertificateType
from zerotrip.certificates.permissions import ISSUE_SCOPE, can_issue_for, lacks_issue_scope
from zerotrip.certificates.schemas import MAX_BATCH_ITEMS, CertificateField
from zerotrip.certificates.types import DECISION_LETTER, Department, check_claims, get_certificate_type
from zerotrip.common import clock
from zerotrip.common.checks import InvalidIdentifier, parse_resident_id, parse_uscc
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import ScopeNotGranted
from zerotrip.keys import KeyStore, SigningKey
from zerotrip.messaging import actions as messaging
from zerotrip.problems import FieldError, ValidationFailed

ISSUED = "certificates.certificate.issued"

SOURCES = {"staff": "staff", "client": "api", "system": "context"}
HOLDER_SUBJECTS = {"person": "person", "enterprise": "enterprise"}
# Attempts at writing a batch whose status entries other transactions keep taking.
_ATTEMPTS = 8


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
    ctype, org = _type_and_issuer(
        db,
        actor=actor,
        certificate_type=certificate_type,
        issuer_org_code=issuer_org_code,
        source_ref=source_ref,
    )
    key, holder_name = find_holder(db, holder_kind=ctype.holder_kind, holder_key=holder_key)
    values = check_claims(type_fields(ctype), claims)
    return issue_one(
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


# A batch is signed and written in one transaction; department systems send more in several requests.
MAX_BATCH = MAX_BATCH_ITEMS


@dataclass(frozen=True)
class IssuedItem:
    """One certificate a batch issued; ``index`` is its item's position in the batch."""

    index: int
    number: str
    holder_key: str
    holder_name: str
    token: str
    valid_until: datetime | None


@dataclass(frozen=True)
class RejectedItem:
    """An item a batch did not issue, with every reason (pointers ``#/items/<index>/…``)."""

    index: int
    errors: list[FieldError]


@dataclass(frozen=True)
class BatchOutcome:
    certificate_type: str
    issuer_org_code: str
    issued: list[IssuedItem]
    rejected: list[RejectedItem]


def issue_certificates(
    db: Session,
    *,
    actor: Actor,
    certificate_type: str,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    keys: KeyStore,
    settings: Settings,
    issuer_org_code: str | None = None,
    source_ref: str | None = None,
) -> BatchOutcome:
    """Issue a certificate of ``certificate_type`` for each ``(holder_key, claims)`` item, as
    ``issue_certificate`` would one by one, for department systems issuing in bulk (a year's social
    security cards).

    Who may issue, the issuing department and ``source_ref`` are checked once for the whole batch and
    raise as ``issue_certificate`` does (nothing is issued then). Items are checked one by one: an item
    with a bad holder key, a holder who is not registered or bad values is rejected with its index and
    every reason (pointers ``#/items/<index>/holder_key``, ``#/items/<index>/claims/<field>``), and the
    other items are still issued (not all or nothing: a department fixes and resends only the rejected).
    Each issued certificate gets its own random number and free status entry, is signed with the
    department's current key, and is audited as ``certificates.certificate.issued`` under its holder,
    exactly as one issued alone; the rows and the events are written with one multi-row insert each.
    Raises ValidationFailed (``#/items``) for an empty batch or one of more than ``MAX_BATCH`` items.
    """
    if not items:
        raise ValidationFailed.field("items", "a batch has at least one item")
    if len(items) > MAX_BATCH:
        raise ValidationFailed.field("items", f"a batch has at most {MAX_BATCH} items")
    ctype, org = _type_and_issuer(
        db,
        actor=actor,
        certificate_type=certificate_type,
        issuer_org_code=issuer_org_code,
        source_ref=source_ref,
    )
    fields = type_fields(ctype)
    today = clock.now_in_china().date()
    rejected: dict[int, list[FieldError]] = {}
    checked: list[tuple[int, str, dict[str, Any]]] = []
    for index, (holder_key, claims) in enumerate(items):
        errors: list[FieldError] = []
        try:
            key = _holder_key(ctype.holder_kind, holder_key, today=today)
        except ValidationFailed as exc:
            errors += exc.errors
            key = ""
        try:
            values = check_claims(fields, claims)
        except ValidationFailed as exc:
            errors += exc.errors
        if errors:
            rejected[index] = [_in_item(index, error) for error in errors]
        else:
            checked.append((index, key, values))
    names = (
        identity_queries.names_by_resident_id
        if ctype.holder_kind == "person"
        else identity_queries.names_by_uscc
    )(db, {key for _, key, _ in checked})
    accepted: list[_Item] = []
    for index, key, values in checked:
        if key in names:
            accepted.append(_Item(index=index, holder_key=key, holder_name=names[key], values=values))
        else:
            rejected[index] = [
                {"detail": _UNREGISTERED[ctype.holder_kind], "pointer": f"#/items/{index}/holder_key"}
            ]
    written = (
        _write(
            db,
            issuing=_issuing(
                ctype=ctype,
                org=org,
                keys=keys,
                settings=settings,
                actor=actor,
                source=SOURCES[actor.kind],
                source_ref=(source_ref or "").strip() or None,
            ),
            items=accepted,
            settings=settings,
        )
        if accepted
        else []
    )
    return BatchOutcome(
        certificate_type=ctype.code,
        issuer_org_code=org.code,
        issued=[
            IssuedItem(
                index=item.index,
                number=row["number"],
                holder_key=item.holder_key,
                holder_name=item.holder_name,
                token=row["token"],
                valid_until=row["valid_until"],
            )
            for item, row in zip(accepted, written, strict=True)
        ],
        rejected=[RejectedItem(index=index, errors=rejected[index]) for index in sorted(rejected)],
    )


def _in_item(index: int, error: FieldError) -> FieldError:
    pointer = error.get("pointer", "#/")
    return {"detail": error.get("detail", ""), "pointer": f"#/items/{index}/{pointer.removeprefix('#/')}"}


def _type_and_issuer(
    db: Session, *, actor: Actor, certificate_type: str, issuer_org_code: str | None, source_ref: str | None
) -> tuple[CertificateType, Department]:
    """The active type and its issuing department, once the actor may issue there."""
    ctype = get_certificate_type(db, certificate_type)
    if not ctype.is_active:
        raise CertificateTypeNotFound(f"the certificate type {certificate_type!r} is withdrawn")
    org = _issuing_department(db, actor=actor, ctype=ctype, issuer_org_code=issuer_org_code)
    check_may_issue(actor, org)
    if actor.kind == "system" and not (source_ref or "").strip():
        raise ValidationFailed.field("source_ref", "say what caused this certificate (an application number)")
    return ctype, org


@functools.lru_cache(maxsize=256)
def _parsed_fields(fields_json: bytes) -> tuple[CertificateField, ...]:
    return tuple(CertificateField.model_validate(f) for f in orjson.loads(fields_json))


def type_fields(ctype: CertificateType) -> tuple[CertificateField, ...]:
    """The type's fields, parsed once per distinct definition (keyed by its content, so never stale)."""
    return _parsed_fields(orjson.dumps(ctype.fields))


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


def check_may_issue(actor: Actor, org: Department) -> None:
    if lacks_issue_scope(actor):
        raise ScopeNotGranted(f"this needs the {ISSUE_SCOPE} scope", required_scope=ISSUE_SCOPE)
    if not can_issue_for(actor, org_id=org.id, org_path=org.path):
        raise IssuingNotAllowed(f"this needs the certificate issuer role at {org.name}")


_UNREGISTERED = {
    "person": "no registered person has this resident ID number",
    "enterprise": "no registered enterprise has this credit code",
}


def _holder_key(holder_kind: str, holder_key: str, *, today: date | None = None) -> str:
    """The normalised holder key. Raises ValidationFailed (``#/holder_key``)."""
    if holder_kind == "person":
        try:
            return parse_resident_id(holder_key, today=today).value
        except InvalidIdentifier as exc:
            raise ValidationFailed.field(
                "holder_key", f"not a valid resident ID number: {exc.reason}"
            ) from exc
    try:
        return parse_uscc(holder_key).value
    except InvalidIdentifier as exc:
        raise ValidationFailed.field(
            "holder_key", f"not a valid unified social credit code: {exc.reason}"
        ) from exc


def find_holder(db: Session, *, holder_kind: str, holder_key: str) -> tuple[str, str]:
    """The normalised holder key and the holder's registered name. Raises ValidationFailed."""
    key = _holder_key(holder_kind, holder_key)
    holder = (
        identity_queries.find_person_by_resident_id(db, key)
        if holder_kind == "person"
        else identity_queries.find_enterprise_by_uscc(db, key)
    )
    if holder is None:
        raise ValidationFailed.field("holder_key", _UNREGISTERED[holder_kind])
    return key, holder.name


@dataclass(frozen=True)
class _Item:
    index: int
    holder_key: str
    holder_name: str
    values: dict[str, Any]


@dataclass(frozen=True)
class _Issuing:
    """What every certificate of one issue or batch shares."""

    actor: Actor
    ctype: CertificateType
    org_id: int
    keys: KeyStore
    key: SigningKey
    numbers: numbers.NumberMaker
    iss: str
    vct: str
    issuer_name: str
    type_name: str
    fields: dict[str, CertificateField]
    now: datetime
    valid_until: datetime | None
    issued_at: int
    expires_at: int | None
    public_url: str
    source: str
    source_ref: str | None


@functools.lru_cache(maxsize=256)
def _credit_code(code: str, division_code: str) -> str:
    return numbers.issuer_credit_code(SimpleNamespace(code=code, division_code=division_code))


@functools.lru_cache(maxsize=256)
def _number_maker(type_code: str, credit_code: str) -> numbers.NumberMaker:
    return numbers.NumberMaker(type_code=type_code, issuer_credit_code=credit_code)


def _issuing(
    *,
    ctype: CertificateType,
    org: Department,
    keys: KeyStore,
    settings: Settings,
    actor: Actor,
    source: str,
    source_ref: str | None,
) -> _Issuing:
    now = clock.now()
    valid_until = now + timedelta(days=ctype.validity_days) if ctype.validity_days else None
    public_url = settings.web.public_url
    credit_code = _credit_code(org.code, org.division_code)
    return _Issuing(
        actor=actor,
        ctype=ctype,
        org_id=org.id,
        keys=keys,
        key=signing.issuer_signing_key(keys, org.id, algorithm=settings.certificates.algorithm),
        numbers=_number_maker(ctype.type_code, credit_code),
        iss=urls.issuer_url(public_url, credit_code),
        vct=urls.type_url(public_url, ctype.code),
        issuer_name=org.name,
        type_name=ctype.name,
        fields={f.name: f for f in type_fields(ctype)},
        now=now,
        valid_until=valid_until,
        issued_at=int(now.timestamp()),
        expires_at=int(valid_until.timestamp()) if valid_until is not None else None,
        public_url=public_url,
        source=source,
        source_ref=source_ref,
    )


def issue_one(
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
    """Sign and store one certificate; the checks are the caller's. Returns the stored row (persistent in
    the session, without reading it back)."""
    issuing = _issuing(
        ctype=ctype, org=org, keys=keys, settings=settings, actor=actor, source=source, source_ref=source_ref
    )
    item = _Item(index=0, holder_key=holder_key, holder_name=holder_name, values=values)
    (row,) = _write(db, issuing=issuing, items=[item], settings=settings)
    certificate = Certificate(**row)
    # The row is in the database; make the object say so instead of inserting it again.
    make_transient_to_detached(certificate)
    db.add(certificate)
    return certificate


def _sign(
    issuing: _Issuing, item: _Item, holder_jwk: dict[str, Any], entry: tuple[int, int]
) -> dict[str, Any]:
    """The certificate's row, its token signed for the status entry ``(list id, index)``."""
    list_id, index = entry
    number = issuing.numbers.new()
    values, fields = item.values, issuing.fields
    claims: dict[str, Any] = {
        "iss": issuing.iss,
        "vct": issuing.vct,
        "jti": number,
        # NumericDates, computed once per batch (what sdjwt.issue makes of the datetimes).
        "iat": issuing.issued_at,
        "nbf": issuing.issued_at,
        **({"exp": issuing.expires_at} if issuing.expires_at is not None else {}),
        "status": {"status_list": {"idx": index, "uri": urls.status_list_uri(issuing.public_url, list_id)}},
        "issuer_name": issuing.issuer_name,
        "type_name": issuing.type_name,
    }
    disclosable = {"holder_name": item.holder_name, "holder_id": item.holder_key}
    for name, value in values.items():
        if fields[name].disclosable:
            disclosable[name] = value
        else:
            claims[name] = value
    token = sdjwt.issue(key=issuing.key, claims=claims, disclosable=disclosable, holder_public_jwk=holder_jwk)
    return {
        "number": number,
        "type_id": issuing.ctype.id,
        "issuer_org_id": issuing.org_id,
        "holder_kind": issuing.ctype.holder_kind,
        "holder_key": item.holder_key,
        "holder_name": item.holder_name,
        "claims": values,
        "token": token,
        "kid": issuing.key.kid,
        "algorithm": issuing.key.algorithm,
        "issued_at": issuing.now,
        "valid_from": issuing.now,
        "valid_until": issuing.valid_until,
        "status": "valid",
        "status_reason": None,
        "status_changed_at": None,
        "status_list_id": list_id,
        "status_index": index,
        "source": issuing.source,
        "source_ref": issuing.source_ref,
        "issued_by": issuing.actor.principal,
    }


def _write(
    db: Session, *, issuing: _Issuing, items: Sequence[_Item], settings: Settings
) -> list[dict[str, Any]]:
    """Sign and insert the items' certificates, count them in their status lists and audit each; returns
    the rows in item order.

    Status entries are drawn for all items at once (free ones, checked in one query when there are
    several); the insert skips any row whose number or status entry another transaction took meanwhile,
    and those few are drawn, signed and inserted again.
    """
    db.flush()  # what is pending belongs to the caller and must be in the database before the checks below
    holder_jwks = [signing.holder_public_jwk(issuing.keys, item.holder_key) for item in items]
    rows: list[dict[str, Any] | None] = [None] * len(items)
    todo = list(range(len(items)))
    for attempt in range(_ATTEMPTS):
        entries = status_entries.draw_status_entries(db, count=len(todo), settings=settings, now=issuing.now)
        batch = [
            _sign(issuing, items[i], holder_jwks[i], entry) for i, entry in zip(todo, entries, strict=True)
        ]
        # In status-entry order: two batches in flight that drew some of the same entries then wait for
        # each other in one direction only, never in a cycle (no deadlock).
        missed = status_entries.insert_certificates(db, sorted(batch, key=status_entries.entry_order))
        for i, row in zip(todo, batch, strict=True):
            if row["number"] not in missed:
                rows[i] = row
        todo = [i for i, row in zip(todo, batch, strict=True) if row["number"] in missed]
        if not todo:
            break
        if attempt == _ATTEMPTS - 1:
            raise CertificateStatusConflict("status entries kept clashing with other issues; try again")
    done = [row for row in rows if row is not None]
    counts: dict[int, int] = {}
    for row in done:
        counts[row["status_list_id"]] = counts.get(row["status_list_id"], 0) + 1
    status_entries.count_used(db, counts)
    events = [
        (
            HOLDER_SUBJECTS[issuing.ctype.holder_kind],
            row["holder_key"],
            {
                "number": row["number"],
                "type": issuing.ctype.code,
                "issuer_org_id": issuing.org_id,
                "kid": issuing.key.kid,
                "source": issuing.source,
                "source_ref": issuing.source_ref,
                "valid_until": issuing.valid_until.isoformat() if issuing.valid_until else None,
            },
        )
        for row in done
    ]
    record_events(db, actor=issuing.actor.principal, action=ISSUED, events=events)
    _tell_holders(db, issuing.ctype, done)
    return done


def _tell_holders(db: Session, ctype: CertificateType, rows: Sequence[dict[str, Any]]) -> None:
    """Notify each holder (an enterprise's legal representative) of their new certificate, in one batch.
    A decision letter is not announced: the application's decision tells of it."""
    if ctype.code == DECISION_LETTER:
        return
    holder = "resident_id" if ctype.holder_kind == "person" else "uscc"
    messaging.notify_many(
        db,
        [
            messaging.NotificationRequest(
                template="certificates.certificate.issued",
                params={"type_name": ctype.name, "type_name_en": ctype.name_en, "number": row["number"]},
                dedupe_key=f"certificates.issued:{row['number']}",
                link=f"/me/certificates/{row['number']}",
                **{holder: row["holder_key"]},
            )
            for row in rows
        ],
    )
