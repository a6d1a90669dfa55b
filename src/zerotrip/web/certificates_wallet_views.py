"""View-models of the holder's pages (卡包): the wallet, one certificate, showing it (亮证) and asking for a
no-real-estate proof. Everything goes through ``certificates.wallet`` and ``certificates.actions``, which
check that the citizen holds (or acts for) what they open."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zerotrip.certificates import actions, grants, qr, wallet
from zerotrip.certificates.schemas import PresentationRead, UseGrantRead, WalletField, WalletItem
from zerotrip.certificates.types import get_certificate_type, list_certificate_types, type_fields
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.web.certificates_text import Tone
from zerotrip.web.certificates_views import ClaimRow, show_value
from zerotrip.web.datahub_text import Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, check_citizen, china_date, china_time, pager

PER_PAGE = 20
WALLET_STATUS_LABELS = {
    "valid": N_("In force"),
    "expired": N_("Expired"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
}
WALLET_TONES: dict[str, Tone] = {"valid": "ok", "expired": "danger", "suspended": "warn", "revoked": "danger"}
RELATION_LABELS = {
    "self": None,
    "enterprise": N_("As the enterprise's legal representative"),
    "guardian": N_("As the child's guardian"),
}
# What a certificate is shown for, by type: besides the holder's name, the one fact a verifier asks about.
# Types not listed show their first disclosable field; the ID number is never chosen unless the holder does.
KEY_FACTS = {
    "no-real-estate": ("result",),
    "marriage-certificate": ("registered_on",),
    "birth-medical-certificate": ("birth_date",),
    "household-register-extract": ("division_code",),
    "real-estate-title": ("address",),
    "social-security-card": ("insured_division",),
    "covid-vaccination": ("doses", "last_dose_on"),
    "decision-letter": ("service_item", "decision"),
    "business-licence": ("holder_id",),  # an enterprise's credit code is public
}
HOLDS_REAL_ESTATE = N_(
    "The real-estate register holds a record for you, so a proof of holding no real estate cannot be"
    " issued. If the record is wrong, you can object to it under Who used my data."
)
NOTICES = {
    "proof": N_("Your no-real-estate proof is issued. It is valid for 30 days."),
}


@dataclass(frozen=True)
class WalletCard:
    number: str
    url: str
    type_name: str
    type_name_en: str | None
    issuer_name: str
    holder_name: str
    relation_label: str | None  # an English msgid
    valid_until: str
    status_label: str
    tone: Tone


@dataclass(frozen=True)
class WalletView:
    cards: tuple[WalletCard, ...]
    total: int
    pager: Pager


def _card(item: WalletItem, names_en: dict[str, str]) -> WalletCard:
    return WalletCard(
        number=item.number,
        url=f"/me/certificates/{item.number}",
        type_name=item.type_name,
        type_name_en=names_en.get(item.certificate_type),
        issuer_name=item.issuer_name,
        holder_name=item.holder_name,
        relation_label=RELATION_LABELS[item.relation],
        valid_until=china_date(item.valid_until),
        status_label=WALLET_STATUS_LABELS[item.status],
        tone=WALLET_TONES[item.status],
    )


def _english_names(db: Session) -> dict[str, str]:
    return {t.code: t.name_en for t in list_certificate_types(db, is_active_only=False)}


def wallet_page(db: Session, actor: Actor, *, page: int, now: datetime) -> WalletView:
    """The certificates the citizen holds or acts for, newest first. Raises NotAllowed for anyone else."""
    check_citizen(actor)
    found = wallet.list_wallet(db, actor=actor, now=now, page=page, per_page=PER_PAGE)
    names_en = _english_names(db)
    return WalletView(
        cards=tuple(_card(item, names_en) for item in found.items),
        total=found.total,
        pager=pager("/me/certificates", {}, page=page, per_page=PER_PAGE, total=found.total),
    )


def wallet_notice(done: str | None) -> tuple[Text, ...]:
    msgid = NOTICES.get(done or "")
    return (Text(msgid),) if msgid else ()


def ask_for_proof(db: Session, actor: Actor, *, keys: KeyStore, settings: Settings) -> actions.ProofOutcome:
    """The citizen's own no-real-estate proof, from the register through the gateway (the read is in their
    data-use log either way: the caller commits before showing a refusal). Raises NotAllowed."""
    check_citizen(actor)
    return actions.issue_no_real_estate_proof(db, actor=actor, keys=keys, settings=settings)


def _rows(fields: Sequence[WalletField]) -> tuple[ClaimRow, ...]:
    rows = []
    for f in fields:
        value, is_translated = show_value(f.value)
        rows.append(ClaimRow(f.name, f.label, f.label_en, value, is_translated))
    return tuple(rows)


@dataclass(frozen=True)
class HeldCertificate:
    number: str
    type_code: str
    type_name: str
    type_name_en: str | None
    issuer_name: str
    holder_name: str
    relation_label: str | None
    claims: tuple[ClaimRow, ...]
    issued_at: str
    valid_from: str
    valid_until: str
    status: str
    status_label: str
    tone: Tone
    status_reason: str | None
    is_usable: bool  # in force: it can be shown and granted
    show_url: str
    grants_url: str
    pdf_url: str


def held_certificate(db: Session, actor: Actor, number: str, *, now: datetime) -> HeldCertificate:
    """One certificate the citizen holds, as the wallet opens it. Raises NotAllowed, CertificateNotFound
    (also for someone else's)."""
    check_citizen(actor)
    read = wallet.open_certificate(db, actor=actor, number=number, now=now)
    return HeldCertificate(
        number=read.number,
        type_code=read.certificate_type,
        type_name=read.type_name,
        type_name_en=_english_names(db).get(read.certificate_type),
        issuer_name=read.issuer_name,
        holder_name=read.holder_name,
        relation_label=RELATION_LABELS[read.relation],
        claims=_rows(read.fields),
        issued_at=china_time(read.issued_at),
        valid_from=china_date(read.valid_from),
        valid_until=china_date(read.valid_until),
        status=read.status,
        status_label=WALLET_STATUS_LABELS[read.status],
        tone=WALLET_TONES[read.status],
        status_reason=read.status_reason,
        is_usable=read.status == "valid",
        show_url=f"/me/certificates/{read.number}/show",
        grants_url=f"/me/certificates/{read.number}/grants",
        pdf_url=f"/me/certificates/{read.number}/pdf",
    )


def certificate_pdf(
    db: Session, actor: Actor, number: str, *, settings: Settings, now: datetime
) -> wallet.CertificateFile:
    """A held certificate's PDF (any status: the holder may keep a copy). Raises NotAllowed,
    CertificateNotFound."""
    check_citizen(actor)
    return wallet.certificate_pdf(db, actor=actor, settings=settings, number=number, now=now)


@dataclass(frozen=True)
class FieldChoice:
    name: str
    label: str
    label_en: str | None
    value: str
    is_translated: bool
    is_checked: bool
    is_identifier: bool  # the holder's ID number: shown with a word of warning


def default_fields(type_code: str, disclosable: Sequence[str], personal: set[str]) -> list[str]:
    """The holder's name and the type's key fact (never an ID number unless the type's key fact is a
    public credit code)."""
    chosen = ["holder_name"] if "holder_name" in disclosable else []
    facts = [name for name in KEY_FACTS.get(type_code, ()) if name in disclosable]
    if not facts:
        facts = [n for n in disclosable if n not in ("holder_name", "holder_id") and n not in personal][:1]
    return chosen + facts


def field_choices(
    db: Session, actor: Actor, number: str, *, now: datetime, chosen: Sequence[str] | None
) -> tuple[HeldCertificate, tuple[FieldChoice, ...]]:
    """The certificate and its disclosable fields to tick, ``chosen`` (or the defaults) ticked. Raises
    NotAllowed, CertificateNotFound."""
    held = held_certificate(db, actor, number, now=now)
    certificate = wallet.get_held_certificate(db, actor=actor, number=number, now=now)
    disclosable = wallet.disclosable_fields(certificate)
    read = wallet.open_certificate(db, actor=actor, number=number, now=now)
    by_name = {f.name: f for f in read.fields}
    ctype = get_certificate_type(db, held.type_code)
    personal = {f.name for f in type_fields(ctype) if f.type == "resident_id"}
    if ctype.holder_kind == "person":
        personal.add("holder_id")
    ticked = set(chosen if chosen is not None else default_fields(held.type_code, disclosable, personal))
    choices = []
    for name in disclosable:
        f = by_name.get(name)
        value, is_translated = show_value(f.value if f is not None else "")
        choices.append(
            FieldChoice(
                name=name,
                label=f.label if f is not None else name,
                label_en=f.label_en if f is not None else name,
                value=value,
                is_translated=is_translated,
                is_checked=name in ticked,
                is_identifier=name in personal,
            )
        )
    return held, tuple(choices)


@dataclass(frozen=True)
class ShownCode:
    """A presentation on screen: its QR (inline SVG), the text it holds, and how long it lives."""

    qr_svg: str
    payload: str
    expires_at: str  # China time, to the second
    seconds: int
    fields: tuple[str, ...]


def present(
    db: Session,
    actor: Actor,
    number: str,
    *,
    fields: Sequence[str],
    keys: KeyStore,
    settings: Settings,
    now: datetime,
) -> ShownCode:
    """亮证: a short-lived presentation of only ``fields`` (audited by the wallet). Raises NotAllowed,
    CertificateNotFound, CertificateRevoked / Suspended / Expired, ValidationFailed."""
    check_citizen(actor)
    shown: PresentationRead = wallet.present_certificate(
        db, actor=actor, keys=keys, settings=settings, number=number, fields=fields, audience=None, now=now
    )
    payload = qr.qr_payload(settings.web.public_url, shown.token)
    return ShownCode(
        qr_svg=qr.svg(payload),
        payload=payload,
        expires_at=shown.expires_at.astimezone(clock.CHINA).strftime("%H:%M:%S"),
        seconds=settings.certificates.presentation_ttl_seconds,
        fields=tuple(shown.fields),
    )


# -- use grants (用证授权) -----------------------------------------------------------------------------------

AUDIENCE_KIND_LABELS = {
    "department": N_("A government department"),
    "business": N_("A business"),
    "person": N_("A person"),
}
GRANT_STATE_LABELS = {"active": N_("Active"), "expired": N_("Expired"), "withdrawn": N_("Withdrawn")}
GRANT_TONES: dict[str, Tone] = {"active": "ok", "expired": "warn", "withdrawn": "warn"}
GRANT_NOTICES = {"withdrawn": N_("The grant is withdrawn. Its code no longer works.")}
GRANT_LABELS = {
    "audience": N_("Who may use it"),
    "audience_kind": N_("Kind of user"),
    "fields": N_("Fields they receive"),
    "purpose": N_("What for"),
    "days": N_("For how many days"),
}
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class UseRow:
    at: str
    used_by: str
    reason: str


@dataclass(frozen=True)
class GrantCard:
    id: int
    audience: str
    audience_kind_label: str
    field_labels: tuple[str, ...]
    purpose: str
    created_at: str
    expires_at: str
    state_label: str
    tone: Tone
    is_active: bool
    uses: tuple[UseRow, ...]
    withdraw_url: str


@dataclass(frozen=True)
class GrantForm:
    audience: str
    audience_kinds: tuple[tuple[str, str, bool], ...]  # value, label msgid, is_selected
    purpose: str
    days: str
    max_days: int


@dataclass(frozen=True)
class CreatedGrant:
    code: str
    link: str
    audience: str
    purpose: str
    expires_at: str
    field_labels: tuple[str, ...]


@dataclass(frozen=True)
class GrantsView:
    held: HeldCertificate
    choices: tuple[FieldChoice, ...]
    cards: tuple[GrantCard, ...]
    form: GrantForm


def _grant_card(read: UseGrantRead) -> GrantCard:
    return GrantCard(
        id=read.id,
        audience=read.audience,
        audience_kind_label=AUDIENCE_KIND_LABELS[read.audience_kind],
        field_labels=tuple(read.field_labels),
        purpose=read.purpose,
        created_at=china_time(read.created_at),
        expires_at=china_time(read.expires_at),
        state_label=GRANT_STATE_LABELS[read.state],
        tone=GRANT_TONES[read.state],
        is_active=read.state == "active",
        uses=tuple(UseRow(china_time(u.used_at), u.used_by, u.reason) for u in read.uses),
        withdraw_url=f"/me/certificates/{read.number}/grants/{read.id}/withdraw",
    )


def grants_page(
    db: Session,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    now: datetime,
    values: Mapping[str, str] | None = None,
    chosen: Sequence[str] | None = None,
) -> GrantsView:
    """The certificate's grants with every use, and the form for a new one (refilled with ``values`` and
    ``chosen`` when it comes back with a problem). Raises NotAllowed, CertificateNotFound."""
    held, choices = field_choices(db, actor, number, now=now, chosen=chosen)
    given = values or {}
    kind = given.get("audience_kind", "department")
    found = grants.list_use_grants(db, actor=actor, now=now, number=number, per_page=100)
    return GrantsView(
        held=held,
        choices=choices,
        cards=tuple(_grant_card(read) for read in found.items),
        form=GrantForm(
            audience=given.get("audience", ""),
            audience_kinds=tuple((k, label, k == kind) for k, label in AUDIENCE_KIND_LABELS.items()),
            purpose=given.get("purpose", ""),
            days=given.get("days", str(DEFAULT_DAYS)),
            max_days=settings.certificates.use_grant_max_days,
        ),
    )


def create_grant(
    db: Session,
    actor: Actor,
    number: str,
    *,
    values: Mapping[str, str],
    fields: Sequence[str],
    settings: Settings,
    now: datetime,
) -> CreatedGrant:
    """Grant the use of the chosen fields; the code and link are returned to be shown this once. Raises
    NotAllowed, CertificateNotFound, CertificateRevoked / Suspended / Expired, ValidationFailed."""
    check_citizen(actor)
    days = values.get("days", "").strip()
    if not days.isdigit():
        raise ValidationFailed.field("days", "must be a whole number")
    grant, code = grants.create_use_grant(
        db,
        actor=actor,
        settings=settings,
        number=number,
        audience=values.get("audience", ""),
        audience_kind=values.get("audience_kind", ""),
        fields=fields,
        purpose=values.get("purpose", ""),
        days=int(days),
        now=now,
    )
    created = grants.created_read(db, grant, code, settings=settings, now=now)
    return CreatedGrant(
        code=created.code,
        link=created.link,
        audience=created.audience,
        purpose=created.purpose,
        expires_at=china_time(created.expires_at),
        field_labels=tuple(created.field_labels),
    )


def withdraw_grant(db: Session, actor: Actor, grant_id: int, *, now: datetime) -> None:
    """End a grant at once. Raises NotAllowed, UseGrantNotFound, UseGrantWithdrawn."""
    check_citizen(actor)
    grants.withdraw_use_grant(db, actor=actor, grant_id=grant_id, now=now)


def grant_notice(done: str | None) -> tuple[Text, ...]:
    msgid = GRANT_NOTICES.get(done or "")
    return (Text(msgid),) if msgid else ()
