"""View-models of the certificates pages: the public verdict, and the issuers' search, issue form and
certificate page. Small, flat values; every read goes through the certificates context's queries and
actions, which check who is asking."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.certificates import actions, queries, sdjwt, types, urls
from zerotrip.certificates.errors import IssuingNotAllowed
from zerotrip.certificates.models import Certificate, CertificateType
from zerotrip.certificates.permissions import can_issue_for, issuer_org_ids
from zerotrip.certificates.queries import PublishedCache
from zerotrip.certificates.verify import Verdict, extract_token
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import NotAllowed, ValidationFailed
from zerotrip.web.certificates_text import STATUS_LABELS, STATUS_TONES, VERDICTS, Tone
from zerotrip.web.datahub_text import Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, check_staff, china_date, china_time, pager
from zerotrip.web.views import mask_resident_id

ISSUERS_ONLY = N_("This page is for certificate issuers.")
HOLDS_REAL_ESTATE = N_(
    "The real-estate register holds a record for this person, so a proof of holding no real estate cannot"
    " be issued. If the record is wrong, the person can object to it under Who used my data."
)
YES, NO = N_("Yes"), N_("No")
HOLDER_LABELS = {
    "person": (N_("Holder"), N_("Resident ID number")),
    "enterprise": (N_("Holding enterprise"), N_("Unified social credit code")),
}
PER_PAGE = 20
STATUSES = ("valid", "suspended", "revoked")
STATUS_ACTIONS = ("suspend", "reinstate", "revoke")


@dataclass(frozen=True)
class ClaimRow:
    name: str
    label: str  # Chinese, from the type
    label_en: str | None
    value: str
    is_translated: bool = False  # the value is an English msgid (yes / no)


def show_value(value: Any) -> tuple[str, bool]:
    """A claim value as text, and whether that text is a msgid to translate."""
    if isinstance(value, bool):
        return (YES if value else NO), True
    if isinstance(value, str | int | float):
        return str(value), False
    return json.dumps(value, ensure_ascii=False), False


def _labels(ctype: CertificateType | None, holder_kind: str) -> dict[str, tuple[str, str | None]]:
    holder, holder_id = HOLDER_LABELS.get(holder_kind, HOLDER_LABELS["person"])
    labels: dict[str, tuple[str, str | None]] = {}
    if ctype is not None:
        labels |= {f.name: (f.label, f.label_en) for f in types.type_fields(ctype)}
    # The holder's labels are English msgids: the template translates a label without an English one.
    return {"holder_name": (holder, None), "holder_id": (holder_id, None)} | labels


def claim_rows(
    claims: Mapping[str, Any], ctype: CertificateType | None, *, holder_kind: str = "person"
) -> tuple[ClaimRow, ...]:
    """The claims in the type's order (holder first), labelled; names the type does not know come last,
    under their own name."""
    labels = _labels(ctype, holder_kind)
    order = [name for name in labels if name in claims] + [name for name in claims if name not in labels]
    rows = []
    for name in order:
        label, label_en = labels.get(name, (name, name))
        value, is_translated = show_value(claims[name])
        rows.append(ClaimRow(name, label, label_en, value, is_translated))
    return tuple(rows)


# -- the public verdict ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictView:
    code: str
    is_ok: bool
    headline: str  # English msgids, translated by the template
    explanation: str
    tone: Tone
    number: str | None
    type_name: str | None
    type_name_en: str | None
    issuer_name: str | None
    valid_from: str
    valid_until: str
    claims: tuple[ClaimRow, ...]
    is_status_checked: bool
    presented_at: str | None  # a key-bound presentation: when the holder showed it
    has_facts: bool  # the signature held, so what the certificate says can be shown
    detail: str  # the verifier's own English sentence, shown as the technical detail


def verify(
    db: Session,
    actor: Actor,
    *,
    token: str,
    keys: KeyStore,
    settings: Settings,
    now: datetime,
    cache: PublishedCache | None,
) -> VerdictView:
    """Verify what was pasted, uploaded or scanned (audited by the action) and say what came of it."""
    verdict = actions.verify_online(
        db, actor=actor, token=token, keys=keys, settings=settings, now=now, cache=cache
    )
    return verdict_view(db, verdict, token=token, settings=settings)


def verdict_view(db: Session, verdict: Verdict, *, token: str, settings: Settings) -> VerdictView:
    words = VERDICTS[verdict.code]
    has_facts = verdict.number is not None
    code = urls.parse_type_url(settings.web.public_url, verdict.vct) if verdict.vct else None
    ctype = types.find_certificate_type(db, code) if code else None
    claims: dict[str, Any] = dict(verdict.claims)
    if has_facts and ctype is not None:
        # The type's fields that are not selectively disclosable travel in the signed payload, which the
        # verdict vouched for; they are shown too (the registers searched, the date of the search).
        payload = sdjwt.parse(extract_token(token)).payload
        for f in types.type_fields(ctype):
            if not f.disclosable and f.name in payload:
                claims[f.name] = payload[f.name]
    return VerdictView(
        code=verdict.code,
        is_ok=verdict.ok,
        headline=words.headline,
        explanation=words.explanation,
        tone=words.tone,
        number=verdict.number,
        type_name=verdict.type_name or (ctype.name if ctype else None),
        type_name_en=ctype.name_en if ctype else None,
        issuer_name=verdict.issuer_name,
        valid_from=china_date(verdict.valid_from),
        valid_until=china_date(verdict.valid_until),
        claims=claim_rows(claims, ctype, holder_kind=ctype.holder_kind if ctype else "person"),
        is_status_checked=verdict.status_checked,
        presented_at=china_time(verdict.presented_at) if verdict.presented_at else None,
        has_facts=has_facts,
        detail=verdict.detail,
    )


# -- the issuers' pages ------------------------------------------------------------------------------------


def check_issuer(actor: Actor) -> None:
    """Raises NotAllowed for anyone but staff holding the certificate issuer role somewhere."""
    check_staff(actor)
    if not issuer_org_ids(actor):
        raise NotAllowed(ISSUERS_ONLY)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    label_en: str | None
    is_selected: bool


@dataclass(frozen=True)
class IssuableType:
    code: str
    name: str
    name_en: str
    issuer_name: str | None  # None: issued by any department
    issuer_name_en: str | None
    url: str


def issuable_types(db: Session, actor: Actor) -> tuple[IssuableType, ...]:
    """The types the staff member may issue: those of the departments they issue for, and the types any
    department issues. The no-real-estate proof has its own form (it asks the register first)."""
    check_issuer(actor)
    rows = []
    for ctype in types.list_certificate_types(db):
        if ctype.issuer_org_id is None:
            if not _own_departments(db, actor):
                continue
            rows.append(_issuable(ctype, None))
            continue
        org = identity_queries.get_organisation(db, ctype.issuer_org_id)
        if can_issue_for(actor, org_id=org.id, org_path=org.path):
            rows.append(_issuable(ctype, org))
    return tuple(rows)


def _issuable(ctype: CertificateType, org: Any) -> IssuableType:
    url = (
        "/staff/certificates/no-real-estate-proof"
        if ctype.code == types.NO_REAL_ESTATE
        else f"/staff/certificates/new/{ctype.code}"
    )
    return IssuableType(
        code=ctype.code,
        name=ctype.name,
        name_en=ctype.name_en,
        issuer_name=org.name if org is not None else None,
        issuer_name_en=org.name_en if org is not None else None,
        url=url,
    )


def _own_departments(db: Session, actor: Actor) -> list[Any]:
    """The departments where the staff member holds the issuer role (a type any department issues is
    issued as one of them)."""
    orgs = [identity_queries.get_organisation(db, org_id) for org_id in sorted(issuer_org_ids(actor))]
    return [org for org in orgs if org.kind == "department"]


@dataclass(frozen=True)
class FormField:
    name: str  # the form field's name: claims.<field>
    label: str
    label_en: str
    kind: str  # the HTML input: text, date, number, select
    hint: str | None  # an English msgid
    is_required: bool
    options: tuple[str, ...]
    value: str
    has_error: bool


@dataclass(frozen=True)
class IssueForm:
    type_code: str
    type_name: str
    type_name_en: str
    holder_kind: str
    holder_label: str  # an English msgid
    holder_key: str
    holder_has_error: bool
    issuer_name: str | None
    issuer_name_en: str | None
    departments: tuple[Choice, ...]  # a type any department issues: which one issues it
    fields: tuple[FormField, ...]
    source_ref: str


CLAIM_PREFIX = "claims."
HINTS = {
    "resident_id": N_("18 characters; the last may be X."),
    "uscc": N_("18 characters."),
    "division_code": N_("6 digits, for example 330106."),
    "decimal": N_("A number such as 89.50."),
}
INPUT_KINDS = {"date": "date", "integer": "number"}


def issue_form(
    db: Session,
    actor: Actor,
    code: str,
    values: Mapping[str, str] | None = None,
    errors: frozenset[str] = frozenset(),
) -> IssueForm:
    """The form to issue a certificate of type ``code``, filled with ``values`` when it comes back with a
    problem; ``errors`` names the fields the problem is about (``holder_key``, ``claims/<name>``).
    Raises NotAllowed, CertificateTypeNotFound, IssuingNotAllowed."""
    check_issuer(actor)
    given = values or {}
    ctype = types.get_certificate_type(db, code)
    if ctype.code == types.NO_REAL_ESTATE:
        # It is derived from the register, never typed in: its own form asks the register.
        raise NotAllowed(N_("A no-real-estate proof is issued from the register, on its own form."))
    org = identity_queries.get_organisation(db, ctype.issuer_org_id) if ctype.issuer_org_id else None
    departments: tuple[Choice, ...] = ()
    if org is None:
        chosen = given.get("issuer_org_code", "")
        departments = tuple(
            Choice(d.code, d.name, d.name_en, d.code == chosen) for d in _own_departments(db, actor)
        )
        if not departments:
            raise NotAllowed(ISSUERS_ONLY)
    elif not can_issue_for(actor, org_id=org.id, org_path=org.path):
        raise IssuingNotAllowed(f"this needs the certificate issuer role at {org.name}")
    fields = tuple(
        FormField(
            name=CLAIM_PREFIX + f.name,
            label=f.label,
            label_en=f.label_en,
            kind="select" if f.options else INPUT_KINDS.get(f.type, "text"),
            hint=HINTS.get(f.type),
            is_required=f.required,
            options=tuple(f.options or ()),
            value=given.get(CLAIM_PREFIX + f.name, ""),
            has_error=f"claims/{f.name}" in errors,
        )
        for f in types.type_fields(ctype)
    )
    holder_label = HOLDER_LABELS[ctype.holder_kind][1]
    return IssueForm(
        type_code=ctype.code,
        type_name=ctype.name,
        type_name_en=ctype.name_en,
        holder_kind=ctype.holder_kind,
        holder_label=holder_label,
        holder_key=given.get("holder_key", ""),
        holder_has_error="holder_key" in errors,
        issuer_name=org.name if org else None,
        issuer_name_en=org.name_en if org else None,
        departments=departments,
        fields=fields,
        source_ref=given.get("source_ref", ""),
    )


def form_labels(form: IssueForm) -> dict[str, str]:
    """Pointer → label, so each message names the field it is about."""
    labels = {f"claims/{f.name.removeprefix(CLAIM_PREFIX)}": f.label for f in form.fields}
    return labels | {"holder_key": form.holder_label, "issuer_org_code": N_("Issuing department")}


def issue(
    db: Session,
    actor: Actor,
    *,
    code: str,
    values: Mapping[str, str],
    keys: KeyStore,
    settings: Settings,
) -> str:
    """Issue a certificate of type ``code`` from the form's values; returns its number. Raises what
    ``issue_certificate`` raises (ValidationFailed naming every bad field)."""
    form = issue_form(db, actor, code)
    claims = {
        f.name.removeprefix(CLAIM_PREFIX): values.get(f.name, "").strip()
        for f in form.fields
        if values.get(f.name, "").strip()
    }
    certificate = actions.issue_certificate(
        db,
        actor=actor,
        certificate_type=code,
        holder_key=values.get("holder_key", "").strip(),
        claims=claims,
        keys=keys,
        settings=settings,
        issuer_org_code=(values.get("issuer_org_code") or None) if form.departments else None,
        source_ref=values.get("source_ref", "").strip() or None,
    )
    return certificate.number


@dataclass(frozen=True)
class IssuedRow:
    number: str
    url: str
    type_name: str
    type_name_en: str
    holder_name: str
    holder_key: str  # masked
    issued_at: str
    valid_until: str
    status: str
    status_label: str
    tone: Tone


@dataclass(frozen=True)
class IssuedSearch:
    rows: tuple[IssuedRow, ...]
    total: int
    pager: Pager
    types: tuple[Choice, ...]
    statuses: tuple[Choice, ...]
    holder: str
    number: str
    can_issue: bool


def mask_holder_key(kind: str, key: str) -> str:
    return mask_resident_id(key) if kind == "person" else key


def search(
    db: Session,
    actor: Actor,
    *,
    certificate_type: str,
    holder: str,
    status: str,
    number: str,
    page: int,
) -> IssuedSearch:
    """The certificates the staff member's departments issued, newest first, filtered. Raises NotAllowed,
    ValidationFailed (a holder key that is neither kind of identifier)."""
    check_issuer(actor)
    own_types = issuable_types(db, actor)
    known = {t.code for t in own_types}
    rows, total = queries.search_issued(
        db,
        actor=actor,
        certificate_type=certificate_type if certificate_type in known else None,
        holder_key=holder.strip() or None,
        status=status if status in STATUSES else None,
        number=number.strip() or None,
        page=page,
        per_page=PER_PAGE,
    )
    type_rows = {c.type_id: c for c in rows}
    names = _type_names(db, set(type_rows))
    params = {"type": certificate_type, "holder": holder, "status": status, "number": number}
    return IssuedSearch(
        rows=tuple(
            IssuedRow(
                number=c.number,
                url=f"/staff/certificates/{c.number}",
                type_name=names[c.type_id][0],
                type_name_en=names[c.type_id][1],
                holder_name=c.holder_name,
                holder_key=mask_holder_key(c.holder_kind, c.holder_key),
                issued_at=china_time(c.issued_at),
                valid_until=china_date(c.valid_until),
                status=c.status,
                status_label=STATUS_LABELS[c.status],
                tone=STATUS_TONES[c.status],
            )
            for c in rows
        ),
        total=total,
        pager=pager("/staff/certificates", params, page=page, per_page=PER_PAGE, total=total),
        types=tuple(Choice(t.code, t.name, t.name_en, t.code == certificate_type) for t in own_types),
        statuses=tuple(Choice(s, STATUS_LABELS[s], None, s == status) for s in STATUSES),
        holder=holder,
        number=number,
        can_issue=bool(own_types),
    )


def _type_names(db: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    return {
        t.id: (t.name, t.name_en)
        for t in types.list_certificate_types(db, is_active_only=False)
        if t.id in ids
    }


@dataclass(frozen=True)
class CertificatePage:
    number: str
    type_name: str
    type_name_en: str
    issuer_name: str
    issuer_name_en: str | None
    holder_name: str
    holder_label: str  # English msgids
    holder_key_label: str
    holder_key: str
    claims: tuple[ClaimRow, ...]
    issued_at: str
    valid_from: str
    valid_until: str
    status: str
    status_label: str
    tone: Tone
    status_reason: str | None
    status_changed_at: str
    source_ref: str | None
    actions: tuple[str, ...]  # the status changes open to the viewer: suspend, reinstate, revoke


def certificate_page(db: Session, actor: Actor, number: str) -> CertificatePage:
    """One issued certificate as its issuing department sees it. Raises NotAllowed, CertificateNotFound
    (also for someone else's)."""
    check_issuer(actor)
    certificate = queries.get_certificate(db, actor=actor, number=number)
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    may_change = can_issue_for(actor, org_id=org.id, org_path=org.path)
    return certificate_facts(db, certificate, org=org, may_change=may_change)


def certificate_facts(
    db: Session, certificate: Certificate, *, org: Any, may_change: bool
) -> CertificatePage:
    ctype = db.get(CertificateType, certificate.type_id)
    assert ctype is not None  # a foreign key guarantees it
    holder, holder_id = HOLDER_LABELS[certificate.holder_kind]
    claims = {"holder_name": certificate.holder_name} | dict(certificate.claims)
    allowed = {
        "valid": ("suspend", "revoke"),
        "suspended": ("reinstate", "revoke"),
        "revoked": (),
    }[certificate.status]
    return CertificatePage(
        number=certificate.number,
        type_name=ctype.name,
        type_name_en=ctype.name_en,
        issuer_name=org.name,
        issuer_name_en=org.name_en,
        holder_name=certificate.holder_name,
        holder_label=holder,
        holder_key_label=holder_id,
        holder_key=certificate.holder_key,
        claims=claim_rows(claims, ctype, holder_kind=certificate.holder_kind),
        issued_at=china_time(certificate.issued_at),
        valid_from=china_date(certificate.valid_from),
        valid_until=china_date(certificate.valid_until),
        status=certificate.status,
        status_label=STATUS_LABELS[certificate.status],
        tone=STATUS_TONES[certificate.status],
        status_reason=certificate.status_reason,
        status_changed_at=china_time(certificate.status_changed_at),
        source_ref=certificate.source_ref,
        actions=allowed if may_change else (),
    )


def change_status(db: Session, actor: Actor, *, number: str, action: str, reason: str) -> str:
    """Suspend, reinstate or revoke with a reason; returns the certificate's number. Raises NotAllowed,
    ValidationFailed, and what the actions raise."""
    check_issuer(actor)
    change = {
        "suspend": actions.suspend_certificate,
        "reinstate": actions.reinstate_certificate,
        "revoke": actions.revoke_certificate,
    }.get(action)
    if change is None:
        raise ValidationFailed.field("action", "choose suspend, reinstate or revoke")
    return change(db, actor=actor, number=number, reason=reason).number


def issue_proof(
    db: Session, actor: Actor, *, resident_id: str, keys: KeyStore, settings: Settings
) -> actions.ProofOutcome:
    """Ask the real-estate register, through the gateway, for a no-real-estate proof of the person (the
    issuers of the natural resources department). The caller commits before showing a refusal: the
    register was asked either way, and that read is audited."""
    check_issuer(actor)
    return actions.issue_no_real_estate_proof(
        db, actor=actor, keys=keys, settings=settings, resident_id=resident_id.strip().upper() or None
    )


def may_issue_proof(db: Session, actor: Actor) -> bool:
    return any(t.code == types.NO_REAL_ESTATE for t in issuable_types(db, actor))


STATUS_NOTICES = {
    "issued": N_("Certificate %(ref)s is issued and signed. The holder finds it in their wallet."),
    "suspend": N_("Certificate %(ref)s is suspended. Verifiers are told so at once."),
    "reinstate": N_("Certificate %(ref)s is in force again."),
    "revoke": N_("Certificate %(ref)s is revoked. Verifiers are told so at once."),
}


def status_notice(done: str | None, number: str) -> tuple[Text, ...]:
    msgid = STATUS_NOTICES.get(done or "")
    return (Text(msgid, {"ref": number}),) if msgid else ()
