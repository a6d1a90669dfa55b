"""Applying (办件): start a draft, preview what will be read, consent (or decline and upload), submit,
withdraw.

The flow, for the applicant (a signed-in citizen, for themself or an enterprise they are the legal
representative of):

1. ``start_application`` copies the item's materials into the draft's evidence (so a later revision of the
   guide does not change what this application asked for) and fills the applicant's identity into the form.
   Starting again while a draft of the same item is open resumes that draft.
2. ``preview_evidence`` says, for each material, which data of which department will be read and why,
   without reading anything.
3. ``consent_and_fetch`` reads each consented material through the datahub gateway as the one-stop service
   platform, for the item's purpose and on behalf of this application's number, so the reads are audited
   under the applicant and show in their data-use log; it prefills the form from what was read and locks
   those fields, each with its source department and date; an e-certificate material takes the
   applicant's own certificate from their wallet (``wallet_evidence.py``). ``decline_consent`` reads
   nothing: the material must be uploaded instead (``uploads.attach_upload``), and a person will review
   the application.
4. ``submit_application`` checks that every required material has something for it, takes the pledge for
   the item's commitments, and submits; an instantly approvable item is then decided (``instant.py``).

Every status change appends a transition and an audit event in the same transaction; consent and declining
are audited too. Actions add and flush; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import batched, record_event, record_events
from zerotrip.common import clock
from zerotrip.config import ServicesSettings, Settings
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import FieldError, ValidationFailed
from zerotrip.services import applications, form_prefill, instant, routing, wallet_evidence, workflow
from zerotrip.services import evidence as evidence_source
from zerotrip.services.application_schemas import EvidencePreview, FieldTitleRead, MaterialPreview
from zerotrip.services.applications import FETCHED_KINDS, needs_upload
from zerotrip.services.bundle_models import BundleMember
from zerotrip.services.errors import (
    ApplicationClosed,
    ApplyingNotAllowed,
    EvidenceIncomplete,
    ServiceConsumerMissing,
)
from zerotrip.services.models import Application, Evidence, FormField, Item
from zerotrip.services.queries import get_item, list_materials, list_steps

# Labels of the identity fields (English msgids: the pages translate them).
APPLICANT_LABELS = {
    "person": ("Applicant", "Resident ID number"),
    "enterprise": ("Enterprise", "Unified social credit code"),
}
STARTED = "services.application.started"
CONSENTED = "services.application.consented"
CONSENT_DECLINED = "services.application.consent_declined"


# -- starting ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """Who an application is for: the signed-in person, or an enterprise they represent."""

    kind: str  # person or enterprise
    key: str  # the resident ID number or the unified social credit code
    name: str
    division_code: str  # by which the application is routed
    person_id: uuid.UUID  # the signed-in person who files it


def applicant_of(db: Session, actor: Actor, enterprise_uscc: str | None = None) -> Applicant:
    """The signed-in citizen, or the enterprise ``enterprise_uscc`` whose legal representative they are.
    Raises ApplyingNotAllowed."""
    if actor.kind != "citizen":
        raise ApplyingNotAllowed("applications are made by signed-in citizens")
    person = identity_queries.get_own_person(db, actor)
    if not enterprise_uscc:
        return Applicant("person", person.resident_id, person.name, person.division_code, person.id)
    enterprise = next(
        (
            e
            for e in identity_queries.list_represented_enterprises(db, person.id)
            if e.uscc == enterprise_uscc.upper()
        ),
        None,
    )
    if enterprise is None:
        raise ApplyingNotAllowed("you may apply only for enterprises you are the legal representative of")
    return Applicant("enterprise", enterprise.uscc, enterprise.name, enterprise.division_code, person.id)


def start_application(
    db: Session, *, actor: Actor, item_code: str, enterprise_uscc: str | None = None
) -> Application:
    """Open a draft application for ``item_code``, or return the applicant's open draft of it (a draft
    that is a part of a bundle belongs to the bundle and is not resumed here).

    A citizen applies for themself, or for an enterprise whose legal representative they are; the
    application is routed by the applicant's division code. Raises ApplyingNotAllowed (not a citizen, not
    the enterprise's representative, an item not applied for online), ItemNotFound.
    """
    applicant = applicant_of(db, actor, enterprise_uscc)
    item = get_item(db, item_code)
    if "online" not in item.channels:
        raise ApplyingNotAllowed("this service is applied for at a counter, not online")
    existing = db.scalar(
        select(Application).where(
            Application.item_id == item.id,
            Application.applicant_key == applicant.key,
            Application.filed_by_person_id == applicant.person_id,
            Application.status == "draft",
            Application.id.not_in(select(BundleMember.application_id)),
        )
    )
    if existing is not None:
        return existing
    return open_draft(db, actor=actor, item=item, applicant=applicant)


def open_draft(db: Session, *, actor: Actor, item: Item, applicant: Applicant) -> Application:
    """A new draft of ``item`` for ``applicant``, routed to the office that serves the applicant's
    division: the item's materials copied into its evidence (an earlier item's result attached when the
    applicant has one), the applicant's identity in its form, the item's steps for the workflow."""
    kind, key, name = applicant.kind, applicant.key, applicant.name
    office = routing.office_for(
        db,
        item_department_id=item.department_org_id,
        level=item.level,
        applicant_division=applicant.division_code,
    )
    now = clock.now()
    application = Application(
        number=applications.new_number(db),
        item_id=item.id,
        item_version=item.version,
        applicant_kind=kind,
        applicant_key=key,
        applicant_name=name,
        filed_by_person_id=applicant.person_id,
        division_code=applicant.division_code,
        department_org_id=office.id,
        department_path=office.path,
        steps=[
            {"kind": st.kind, "name": st.name, "presence": st.presence}
            for st in list_steps(db, [item.id])[item.id]
        ],
        status="draft",
        created_at=now,
        updated_at=now,
    )
    db.add(application)
    db.flush()  # the evidence and the form refer to the application's id
    for m in list_materials(db, [item.id])[item.id]:
        ev = Evidence(
            application_id=application.id,
            position=m.position,
            material_name=m.name,
            is_required=m.is_required,
            is_deferrable=m.is_deferrable,
            source_kind=m.source_kind,
            source_ref=m.source_ref,
            source_fields=list(m.source_fields),
            is_exists_fact=m.is_exists_fact,
            state="onsite" if m.source_kind == "onsite" else "pending",
        )
        if m.source_kind == "prior_result":
            _attach_prior_result(db, ev, applicant_key=key)
        db.add(ev)
    name_label, key_label = APPLICANT_LABELS[kind]
    for position, (field_name, label, value) in enumerate(
        (("applicant.name", name_label, name), ("applicant.key", key_label, key))
    ):
        db.add(
            FormField(
                application_id=application.id,
                position=position,
                name=field_name,
                label=label,
                value=value,
                source="identity",
                source_label=None,
                source_date=now,
                is_locked=True,
            )
        )
    applications.log_transition(db, application, None, "draft", actor=actor)
    record_event(
        db,
        actor=actor.principal,
        action=STARTED,
        subject_type="service_application",
        subject_id=application.number,
        data={"item": item.code, "item_version": item.version, "applicant_kind": kind},
    )
    return application


def _attach_prior_result(db: Session, ev: Evidence, *, applicant_key: str) -> None:
    """An earlier item's result is the applicant's latest approved application of that item."""
    earlier = db.scalar(
        select(Application.number)
        .join(Item, Item.id == Application.item_id)
        .where(
            Item.code == ev.source_ref,
            Application.applicant_key == applicant_key,
            Application.status == "approved",
        )
        .order_by(Application.decided_at.desc())
        .limit(1)
    )
    if earlier is not None:
        ev.state = "attached"
        ev.note = earlier


# -- preview and consent -----------------------------------------------------------------------------------


def preview_evidence(
    db: Session,
    *,
    actor: Actor,
    number: str,
    settings: ServicesSettings,
    catalogue: CatalogueCache | None = None,
) -> EvidencePreview:
    """What each material will be: which data of which department is read and why, whether the platform
    may read it (otherwise the material is uploaded). Reads no data. Raises ApplicationNotFound."""
    application = applications.own_application(db, actor, number)
    item = db.get_one(Item, application.item_id)
    purpose = evidence_source.purpose_of(item)
    consumer = consumer_or_none(db, settings)
    materials = []
    for ev in applications.evidence_of(db, application):
        preview = MaterialPreview(
            position=ev.position,
            name=ev.material_name,
            source_kind=ev.source_kind,
            state=ev.state,
            consent=ev.consent,
        )
        if ev.source_kind == "datahub":
            source = evidence_source.describe_source(db, ev.source_ref or "", catalogue=catalogue)
            available = (
                source is not None
                and consumer is not None
                and _subject_fits(application, source.subject_kind)
                and evidence_source.is_granted(db, consumer=consumer, evidence=ev, purpose=purpose)
            )
            preview = preview.model_copy(
                update={
                    "resource_code": ev.source_ref,
                    "resource_title": source.resource_title if source else ev.source_ref,
                    "department": source.owner_name if source else None,
                    "exists_only": ev.is_exists_fact,
                    "fields": [
                        FieldTitleRead(name=f, title=source.field_titles.get(f, f) if source else f)
                        for f in ev.source_fields
                    ],
                    "is_available": available,
                }
            )
        elif ev.source_kind == "certificate":
            preview = wallet_evidence.preview_material(
                db, actor=actor, application=application, ev=ev, preview=preview, now=clock.now()
            )
        elif ev.source_kind == "commitment":
            preview = preview.model_copy(update={"commitment": _commitment_text(db, item, ev.position)})
        materials.append(preview)
    return EvidencePreview(
        number=application.number,
        consumer=evidence_source.CONSUMER_NAME,
        purpose=purpose,
        legal_basis=evidence_source.LEGAL_BASIS,
        materials=materials,
    )


def consent_and_fetch(
    db: Session,
    *,
    actor: Actor,
    number: str,
    settings: ServicesSettings,
    wallet: wallet_evidence.WalletAccess,
    positions: Sequence[int] | None = None,
    catalogue: CatalogueCache | None = None,
) -> Application:
    """Record the applicant's consent for the materials at ``positions`` (none: every one still waiting)
    and read each through the datahub gateway as the one-stop service platform, for the item's purpose
    and on behalf of this application, so each read is audited under the applicant; an e-certificate
    material takes the chosen (or newest valid) certificate from the applicant's wallet
    (``wallet_evidence.attach``; without a valid one it is uploaded). Prefills and locks the form from what
    was read. A material the platform may not read becomes an upload. Raises ApplicationNotFound,
    ApplicationClosed, ValidationFailed (a position that takes no consent), and the certificate problems
    of ``wallet_evidence.attach`` for a chosen certificate that cannot be used. ``catalogue`` is the
    worker's gateway catalogue (resources described without reading them again). The audit events of the
    reads and of the consent are written together, in one INSERT (``audit.actions.batched``)."""
    with batched(db):
        return _consent_and_fetch(
            db,
            actor=actor,
            number=number,
            settings=settings,
            wallet=wallet,
            positions=positions,
            catalogue=catalogue,
        )


def _consent_and_fetch(
    db: Session,
    *,
    actor: Actor,
    number: str,
    settings: ServicesSettings,
    wallet: wallet_evidence.WalletAccess,
    positions: Sequence[int] | None,
    catalogue: CatalogueCache | None,
) -> Application:
    application = applications.own_draft(db, actor, number)
    item = db.get_one(Item, application.item_id)
    chosen = _consentable(db, application, positions)
    consumer = consumer_or_none(db, settings)
    purpose = evidence_source.purpose_of(item)
    now = clock.now()
    # Every read first, then the changes: the gateway flushes the session before each read, so changes
    # made between reads would be written one statement each instead of together at the end.
    fetched = [
        _fetch(db, application, ev, consumer=consumer, purpose=purpose, catalogue=catalogue) for ev in chosen
    ]
    read_from: list[int] = []
    for ev, (source, result, unavailable) in zip(chosen, fetched, strict=True):
        ev.consent, ev.consented_at = "given", now
        if ev.source_kind == "certificate":
            if wallet_evidence.attach(
                db, actor=actor, application=application, ev=ev, wallet=wallet, purpose=purpose, now=now
            ):
                form_prefill.prefill(db, application, ev, titles={}, source="certificate")
                read_from.append(ev.position)
            continue
        if unavailable is not None:
            ev.state, ev.note = "unavailable", unavailable
            continue
        assert source is not None and result is not None
        ev.state, ev.note = "fetched", None
        ev.values = result.values
        ev.source_org_name = result.source_org_name
        ev.source_updated_at = result.source_updated_at or now
        ev.fetched_at = now
        form_prefill.prefill(db, application, ev, titles=source.field_titles)
        read_from.append(ev.position)
    application.updated_at = now
    record_events(
        db,
        actor=actor.principal,
        action=CONSENTED,
        events=[
            (
                "service_application",
                application.number,
                {"materials": [ev.position for ev in chosen], "fetched": read_from, "purpose": purpose},
            )
        ],
    )
    return application


def decline_consent(db: Session, *, actor: Actor, number: str, position: int) -> Application:
    """The applicant does not let the platform read this material: nothing is read (what was read after
    an earlier consent is dropped from the application and its form), and the material must be uploaded.
    A person then reviews the application. Raises ApplicationNotFound, ApplicationClosed,
    ValidationFailed."""
    application = applications.own_draft(db, actor, number)
    (ev,) = _consentable(db, application, [position], again=True)
    ev.consent, ev.consented_at = "declined", clock.now()
    ev.state, ev.note, ev.values = "pending", None, None
    ev.source_org_name = ev.source_updated_at = ev.fetched_at = None
    for f in db.scalars(
        select(FormField).where(
            FormField.application_id == application.id, FormField.material_position == position
        )
    ):
        db.delete(f)
    application.updated_at = clock.now()
    record_event(
        db,
        actor=actor.principal,
        action=CONSENT_DECLINED,
        subject_type="service_application",
        subject_id=application.number,
        data={"material": position, "name": ev.material_name},
    )
    return application


# -- submitting and withdrawing ----------------------------------------------------------------------------


def submit_application(
    db: Session,
    *,
    actor: Actor,
    number: str,
    keys: KeyStore,
    settings: Settings,
    pledge: bool = False,
    human_review: bool = False,
) -> Application:
    """Submit a draft whose required materials all have something for them, signing the item's
    commitments (``pledge``). An instantly approvable item is then decided at once from the fetched
    evidence alone when every rule of its current rule set passes, and the decision letter is issued to
    the applicant; otherwise it goes to a person (``in_review``) with the reason: the failed rules, a
    declined consent, no rules, or the applicant's wish (``human_review``). Raises ApplicationNotFound,
    ApplicationClosed, EvidenceIncomplete (``#/materials/N`` for each missing material, ``#/pledge``).
    Its audit events (the moves, the letter issued) are written together, in one INSERT."""
    application = applications.own_draft(db, actor, number)
    with batched(db):
        return submit_draft(
            db,
            application,
            actor=actor,
            keys=keys,
            settings=settings,
            pledge=pledge,
            human_review=human_review,
        )


def submit_draft(
    db: Session,
    application: Application,
    *,
    actor: Actor,
    keys: KeyStore,
    settings: Settings,
    pledge: bool = False,
    human_review: bool = False,
    reason: str | None = None,
) -> Application:
    """Submit ``application``, a draft the caller has locked and may submit (``submit_application`` for
    the applicant; a bundle for a part whose inputs arrived, on the applicant's standing instruction,
    with the ``reason``). Raises EvidenceIncomplete."""
    item = db.get_one(Item, application.item_id)
    evidence = applications.evidence_of(db, application)
    missing: list[FieldError] = []
    for ev in evidence:
        if ev.source_kind == "commitment":
            if not pledge:
                missing.append({"detail": f"sign the commitment: {ev.material_name}", "pointer": "#/pledge"})
            continue
        if ev.is_required and not ev.is_deferrable and ev.state in ("pending", "unavailable"):
            what = "upload it" if needs_upload(ev) else "consent to fetch it or upload it"
            missing.append({"detail": f"{ev.material_name}: {what}", "pointer": f"#/materials/{ev.position}"})
    if missing:
        raise EvidenceIncomplete("some materials are still missing", errors=missing)
    now = clock.now()
    for ev in evidence:
        if ev.source_kind == "commitment":
            ev.state = "pledged"
    application.submitted_at = now
    application.due_at = workflow.calendar_of(settings).deadline(now, item.promised_days)
    applications.move(db, application, "submit", actor=actor, reason=reason)
    application.step_index = 0  # the first step: acceptance
    if item.is_instant:
        instant.decide_instantly(
            db, application, item, evidence, keys=keys, settings=settings, human_review=human_review
        )
    return application


def withdraw_application(db: Session, *, actor: Actor, number: str, reason: str = "") -> Application:
    """The applicant withdraws a draft or an application not yet decided (waiting, accepted, in review
    or asked for a supplement); a part of a bundle is withdrawn with its bundle. Raises
    ApplicationNotFound, ApplicationClosed."""
    application = applications.own_application(db, actor, number, lock=True)
    bundle = applications.bundle_number_of(db, application)
    if bundle is not None:
        raise ApplicationClosed(f"the application is a part of bundle {bundle}: withdraw it there")
    applications.move(db, application, "withdraw", actor=actor, reason=reason.strip() or None)
    application.paused_at = None  # a withdrawn application has no clock to resume
    return application


# -- helpers -----------------------------------------------------------------------------------------------


def _consentable(
    db: Session, application: Application, positions: Sequence[int] | None, *, again: bool = False
) -> list[Evidence]:
    """The materials read with consent that are still waiting for it (or, ``again``, that may have it
    withdrawn); named positions must be such materials."""
    evidence = applications.evidence_of(db, application)
    if positions is None:
        return [ev for ev in evidence if ev.source_kind in FETCHED_KINDS and ev.consent is None]
    by_position = {ev.position: ev for ev in evidence}
    chosen = []
    for position in dict.fromkeys(positions):
        ev = by_position.get(position)
        if ev is None or ev.source_kind not in FETCHED_KINDS:
            raise ValidationFailed.field("materials", f"material {position} is not fetched with consent")
        if ev.consent is not None and not (again and ev.consent == "given"):
            raise ValidationFailed.field("materials", f"material {position} already has your answer")
        if ev.state == "uploaded":
            raise ValidationFailed.field("materials", f"material {position} is already uploaded")
        chosen.append(ev)
    return chosen


def _fetch(
    db: Session,
    application: Application,
    ev: Evidence,
    *,
    consumer: Actor | None,
    purpose: str,
    catalogue: CatalogueCache | None,
) -> tuple[evidence_source.Source | None, evidence_source.Read | None, str | None]:
    """Read one consented material through the gateway without changing it: what describes its source,
    what was read, or why it could not be read."""
    if ev.source_kind == "certificate":
        return None, None, "e-certificates are taken from the wallet (wallet_evidence), not read here"
    source = evidence_source.describe_source(db, ev.source_ref or "", catalogue=catalogue)
    if source is None or not _subject_fits(application, source.subject_kind):
        return source, None, "the data resource does not hold data about the applicant"
    if consumer is None:
        return source, None, "the platform is not set up to read departments' data"
    result = evidence_source.read(
        db,
        consumer=consumer,
        evidence=ev,
        source=source,
        subject_key=application.applicant_key,
        purpose=purpose,
        on_behalf_of=application.number,
        catalogue=catalogue,
    )
    return source, result, result.unavailable


def _subject_fits(application: Application, subject_kind: str) -> bool:
    return evidence_source.SUBJECT_KINDS.get(subject_kind) == application.applicant_kind


def consumer_or_none(db: Session, settings: ServicesSettings) -> Actor | None:
    try:
        return evidence_source.service_consumer(db, settings)
    except ServiceConsumerMissing:
        return None


def _commitment_text(db: Session, item: Item, position: int) -> str | None:
    for m in list_materials(db, [item.id])[item.id]:
        if m.position == position:
            return m.commitment_text
    return None
