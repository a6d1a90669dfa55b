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

import functools
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from zerotrip.audit.actions import record_event, record_events
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
from zerotrip.certificates.schemas import MAX_BATCH_ITEMS, CertificateField
from zerotrip.certificates.types import (
    DECISION_LETTER,
    NO_REAL_ESTATE,
    Department,
    check_claims,
    get_certificate_type,
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
from zerotrip.keys import KeyStore, SigningKey
from zerotrip.messaging import actions as messaging
from zerotrip.problems import FieldError, ValidationFailed

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
_RANDOM = random.SystemRandom()
# Values per IN list: well inside SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 900

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
    ctype, org = _type_and_issuer(
        db,
        actor=actor,
        certificate_type=certificate_type,
        issuer_org_code=issuer_org_code,
        source_ref=source_ref,
    )
    key, holder_name = _holder(db, holder_kind=ctype.holder_kind, holder_key=holder_key)
    values = check_claims(_fields(ctype), claims)
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
    fields = _fields(ctype)
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
    _check_may_issue(actor, org)
    if actor.kind == "system" and not (source_ref or "").strip():
        raise ValidationFailed.field("source_ref", "say what caused this certificate (an application number)")
    return ctype, org


@functools.lru_cache(maxsize=256)
def _parsed_fields(fields_json: bytes) -> tuple[CertificateField, ...]:
    return tuple(CertificateField.model_validate(f) for f in orjson.loads(fields_json))


def _fields(ctype: CertificateType) -> tuple[CertificateField, ...]:
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


def _check_may_issue(actor: Actor, org: Department) -> None:
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


def _holder(db: Session, *, holder_kind: str, holder_key: str) -> tuple[str, str]:
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
        fields={f.name: f for f in _fields(ctype)},
        now=now,
        valid_until=valid_until,
        issued_at=int(now.timestamp()),
        expires_at=int(valid_until.timestamp()) if valid_until is not None else None,
        public_url=public_url,
        source=source,
        source_ref=source_ref,
    )


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
        entries = _draw_status_entries(db, count=len(todo), settings=settings, now=issuing.now)
        batch = [
            _sign(issuing, items[i], holder_jwks[i], entry) for i, entry in zip(todo, entries, strict=True)
        ]
        # In status-entry order: two batches in flight that drew some of the same entries then wait for
        # each other in one direction only, never in a cycle (no deadlock).
        missed = _insert_certificates(db, sorted(batch, key=_entry_order))
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
    for list_id, count in counts.items():
        db.execute(_COUNT_USED, {"list_id": list_id, "count": count})
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


# Statements built once (building one costs about as much as running it on SQLite).
_CERTIFICATES = cast(Table, Certificate.__table__)
_STATUS_LISTS = cast(Table, StatusList.__table__)
_INSERTS = {
    is_sqlite: (statement, statement.returning(_CERTIFICATES.c.id))
    for is_sqlite, statement in (
        (True, sqlite_insert(_CERTIFICATES).on_conflict_do_nothing()),
        (False, postgresql_insert(_CERTIFICATES).on_conflict_do_nothing()),
    )
}
# ``used`` moves in SQL (here and in other transactions), so the newest list is read afresh.
_NEWEST_LIST = (
    select(StatusList).order_by(StatusList.id.desc()).limit(1).execution_options(populate_existing=True)
)
_COUNT_USED = (
    update(_STATUS_LISTS)
    .where(_STATUS_LISTS.c.id == bindparam("list_id"))
    .values(used=_STATUS_LISTS.c.used + bindparam("count"))
)


def _entry_order(row: dict[str, Any]) -> tuple[int, int]:
    return row["status_list_id"], row["status_index"]


def _insert_certificates(db: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows, skipping any whose number or status entry is taken (by a transaction that committed
    or is in flight since the entries were drawn); returns the numbers of the rows skipped."""
    table = _CERTIFICATES
    statement, returning = _INSERTS[db.get_bind().dialect.name == "sqlite"]
    if len(rows) == 1:
        inserted = db.execute(returning, rows[0]).scalar()
        if inserted is None:
            return {rows[0]["number"]}
        rows[0]["id"] = inserted  # a single issue gives back its row as an object
        return set()
    result = cast(CursorResult[Any], db.execute(statement, rows))
    if result.rowcount == len(rows):
        return set()
    # Some were skipped (or the driver did not count them): ask which rows are there as written.
    written = [row["number"] for row in rows]
    found: set[tuple[str, int, int]] = set()
    for start in range(0, len(written), _IN_CHUNK):
        rows_found = db.execute(
            select(table.c.number, table.c.status_list_id, table.c.status_index).where(
                table.c.number.in_(written[start : start + _IN_CHUNK])
            )
        )
        found.update((number, list_id, index) for number, list_id, index in rows_found)
    return {
        row["number"]
        for row in rows
        if (row["number"], row["status_list_id"], row["status_index"]) not in found
    }


def _draw_status_entries(
    db: Session, *, count: int, settings: Settings, now: datetime
) -> list[tuple[int, int]]:
    """``count`` free ``(list id, index)`` entries: random indices of the newest status list (herd privacy:
    neighbours in a list say nothing about each other's issue order), then of new lists as it fills.
    Several at once are checked against the taken ones in one query; a single one is left to the insert,
    which skips it in the rare case it is taken."""
    status_list: StatusList | None = db.scalar(_NEWEST_LIST)
    entries: list[tuple[int, int]] = []
    while len(entries) < count:
        if status_list is None or status_list.used >= status_list.size:
            status_list = StatusList(
                bits=2, size=settings.certificates.status_list_size, used=0, created_at=now, updated_at=now
            )
            db.add(status_list)
            db.flush()  # the id is part of every credential's status URI
        size = status_list.size
        wanted = min(count - len(entries), size - status_list.used)
        if status_list.used + wanted <= size * _RANDOM_FILL:
            indices = _random_free_indices(db, status_list.id, size=size, count=wanted, check=count > 1)
        else:
            # Nearly full: pick from the complement of what is taken.
            taken = set(
                db.scalars(
                    select(Certificate.status_index).where(Certificate.status_list_id == status_list.id)
                )
            )
            free = [i for i in range(size) if i not in taken]
            indices = _RANDOM.sample(free, min(wanted, len(free)))
            if len(indices) < wanted:
                # ``used`` lagged behind (it cannot run ahead): the list is full once these are written.
                status_list.used = size - len(indices)
                db.flush()
        entries += [(status_list.id, index) for index in indices]
        if len(entries) < count:
            status_list = None
    return entries


def _random_free_indices(db: Session, list_id: int, *, size: int, count: int, check: bool) -> list[int]:
    """``count`` distinct random indices of the list, in the order drawn; with ``check``, none taken."""
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < count:
        draws: list[int] = []
        while len(draws) < count - len(chosen):
            if len(seen) >= size:
                raise CertificateStatusConflict("the status list has no free entry left; try again")
            index = secrets.randbelow(size)
            if index not in seen:
                seen.add(index)
                draws.append(index)
        if check:
            taken: set[int] = set()
            for start in range(0, len(draws), _IN_CHUNK):
                taken.update(
                    db.scalars(
                        select(Certificate.status_index).where(
                            Certificate.status_list_id == list_id,
                            Certificate.status_index.in_(draws[start : start + _IN_CHUNK]),
                        )
                    )
                )
            draws = [index for index in draws if index not in taken]
        chosen += draws
    return chosen


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
        _fields(ctype),
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
    subject, and the holder is notified through messaging. Raises CertificateNotFound,
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
    event = record_event(
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
    ctype = db.get_one(CertificateType, certificate.type_id)
    is_person = certificate.holder_kind == "person"
    messaging.notify(
        db,
        resident_id=certificate.holder_key if is_person else None,
        uscc=None if is_person else certificate.holder_key,
        template=action,  # messaging's templates are named after the events they tell of
        params={
            "type_name": ctype.name,
            "type_name_en": ctype.name_en,
            "number": certificate.number,
            "reason": certificate.status_reason,
        },
        # The audit event's digest tells this change from an earlier one to the same status.
        dedupe_key=f"certificates.{to}:{certificate.number}:{event.digest.hex()[:32]}",
        link=f"/me/certificates/{certificate.number}",
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
