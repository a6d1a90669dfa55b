"""The one set of evidence of a bundle application (一件事): one preview and one consent for every part.

1. ``preview_bundle`` says, for each source, which data of which department will be read for which parts,
   for the bundle's purpose; nothing is read.
2. ``consent_bundle`` reads each consented source once through the datahub gateway as the one-stop service
   platform, for the bundle's purpose and on behalf of the bundle's number (so the applicant's data-use log
   shows one read per source), under grants for that purpose (``request_bundle_grants``), and hands each
   part exactly its own fields of what was read, prefilling and locking its form. The parts' e-certificate
   materials take the consent too: each takes the newest valid certificate of its type from the applicant's
   wallet (``wallet_evidence.attach``, as a single application's do), or is uploaded without one.
   When the bundle's subject register (the births register of 出生“一件事”) holds several records about
   the applicant (twins, a second child), the source waits (``choosing``): the preview lists the
   candidates, and ``choose_bundle_record`` keeps the one the applicant chooses and hands only it on.
3. ``decline_bundle_source`` reads nothing; the source is uploaded once (``upload_for_source``) and the file
   goes to every part that reads it. A part's own uploads go to it (``upload_for_part``).

Every step is audited on the bundle application, and on each part it changes. Actions add and flush; the
caller commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.common.checks import is_valid_resident_id
from zerotrip.config import DatahubSettings, ServicesSettings, Settings
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed
from zerotrip.services import (
    applications,
    applying,
    bundle_progress,
    bundles,
    form_prefill,
    uploads,
    wallet_evidence,
)
from zerotrip.services import evidence as evidence_source
from zerotrip.services.application_schemas import FieldTitleRead, MaterialPreview
from zerotrip.services.bundle_catalogue import parts_of
from zerotrip.services.bundle_models import Bundle, BundleApplication, BundleMember, BundleSource
from zerotrip.services.bundle_schemas import (
    BundlePreview,
    CandidateFieldRead,
    CandidateRead,
    CommitmentRead,
    PartCertificatePreview,
    SourcePreview,
)
from zerotrip.services.errors import InvalidUpload
from zerotrip.services.models import Application, Evidence, FormField, Item
from zerotrip.services.queries import list_materials

CONSENTED = "services.bundle_application.consented"
CONSENT_DECLINED = "services.bundle_application.consent_declined"
UPLOADED = "services.bundle_application.uploaded"
RECORD_CHOSEN = "services.bundle_application.record_chosen"
CHOOSING = "the register holds several records about you: choose the one this application is about"


def purpose_of_bundle(bundle: Bundle) -> str:
    """The purpose every read for applications of ``bundle`` names, and its grants are for."""
    return f"办理“一件事”：{bundle.name}（{bundle.code}）"[:200]


def request_bundle_grants(
    db: Session, *, consumer: Actor, bundle: Bundle, settings: DatahubSettings
) -> list[evidence_source.FiledRequest]:
    """File the one-stop service platform's share requests for what the bundle's parts read, for the
    bundle's purpose (each source is read once for all its parts). The owning stewards decide them as
    any share request. Raises ResourceNotFound, ShareNotAllowed."""
    items = [item for _, item in parts_of(db, bundle)]
    materials = list_materials(db, [i.id for i in items])
    return evidence_source.request_grants(
        db,
        consumer=consumer,
        purpose=purpose_of_bundle(bundle),
        materials=[m for i in items for m in materials[i.id]],
        settings=settings,
    )


# -- preview and consent ----------------------------------------------------------------------------------


def preview_bundle(db: Session, *, actor: Actor, number: str, settings: ServicesSettings) -> BundlePreview:
    """For each source: which data of which department will be read, for which parts, whether the platform
    may read it; and every part's commitments. Reads no data. Raises BundleApplicationNotFound."""
    bundle_application = bundles.own_bundle_application(db, actor, number)
    bundle = db.get_one(Bundle, bundle_application.bundle_id)
    purpose = purpose_of_bundle(bundle)
    consumer = applying.consumer_or_none(db, settings)
    parts = bundle_progress.members_with_applications(db, bundle_application)
    names = {m.position: db.get_one(Item, m.item_id).name for m, _ in parts}
    previews = []
    for source in bundles.sources_of(db, bundle_application):
        found = evidence_source.describe_source(db, source.source_ref)
        available = (
            found is not None
            and consumer is not None
            and evidence_source.SUBJECT_KINDS.get(found.subject_kind) == bundle_application.applicant_kind
            and evidence_source.is_granted(db, consumer=consumer, evidence=source, purpose=purpose)
        )
        previews.append(
            SourcePreview(
                position=source.position,
                name=source.material_name,
                resource_code=source.source_ref,
                resource_title=found.resource_title if found else source.source_ref,
                department=found.owner_name if found else None,
                exists_only=source.is_exists_fact,
                fields=[
                    FieldTitleRead(name=f, title=found.field_titles.get(f, f) if found else f)
                    for f in source.source_fields
                ],
                is_available=available,
                state=source.state,
                consent=source.consent,
                parts=[names[p] for p in dict.fromkeys(p for p, _ in source.feeds)],
                candidates=candidates_of(source, found.field_titles if found else {}),
            )
        )
    commitments: list[CommitmentRead] = []
    items = [db.get_one(Item, m.item_id) for m, _ in parts]
    materials = list_materials(db, [i.id for i in items])
    for item in items:
        commitments.extend(
            CommitmentRead(part=item.name, name=m.name, text=m.commitment_text or "")
            for m in materials[item.id]
            if m.source_kind == "commitment"
        )
    certificates = [
        PartCertificatePreview(
            part=names[member.position],
            part_position=member.position,
            material=wallet_evidence.preview_material(
                db,
                actor=actor,
                application=application,
                ev=ev,
                preview=MaterialPreview(
                    position=ev.position,
                    name=ev.material_name,
                    source_kind=ev.source_kind,
                    state=ev.state,
                    consent=ev.consent,
                ),
                now=clock.now(),
            ),
        )
        for member, application in parts
        for ev in applications.evidence_of(db, application)
        if ev.source_kind == "certificate"
    ]
    return BundlePreview(
        number=bundle_application.number,
        consumer=evidence_source.CONSUMER_NAME,
        purpose=purpose,
        legal_basis=evidence_source.LEGAL_BASIS,
        sources=previews,
        commitments=commitments,
        certificates=certificates,
    )


def consent_bundle(
    db: Session,
    *,
    actor: Actor,
    number: str,
    settings: ServicesSettings,
    wallet: wallet_evidence.WalletAccess,
    positions: Sequence[int] | None = None,
) -> BundleApplication:
    """Record the applicant's consent for the sources at ``positions`` (none: every one still waiting),
    read each once through the gateway for the bundle's purpose and on behalf of the bundle, and hand each
    part its fields (prefilled and locked in its form). With every source (``positions`` none), the parts'
    e-certificate materials take the consent too, each the newest valid certificate of its type from the
    applicant's wallet (without a valid one it is uploaded). A source the platform may not
    read becomes an upload. Raises BundleApplicationNotFound, ApplicationClosed, ValidationFailed (a
    position that is not a source waiting for consent)."""
    bundle_application = bundles.own_bundle_draft(db, actor, number)
    bundle = db.get_one(Bundle, bundle_application.bundle_id)
    purpose = purpose_of_bundle(bundle)
    consumer = applying.consumer_or_none(db, settings)
    sources = bundles.sources_of(db, bundle_application)
    chosen = _consentable(sources, positions)
    parts = {m.position: a for m, a in bundle_progress.members_with_applications(db, bundle_application)}
    now = clock.now()
    fetched: list[int] = []
    for source in chosen:
        source.consent, source.consented_at = "given", now
        found = evidence_source.describe_source(db, source.source_ref)
        if (
            found is None
            or evidence_source.SUBJECT_KINDS.get(found.subject_kind) != bundle_application.applicant_kind
        ):
            unavailable = "the data resource does not hold data about the applicant"
        elif consumer is None:
            unavailable = "the platform is not set up to read departments' data"
        else:
            result = evidence_source.read(
                db,
                consumer=consumer,
                evidence=source,
                source=found,
                subject_key=bundle_application.applicant_key,
                purpose=purpose,
                on_behalf_of=bundle_application.number,
            )
            unavailable = result.unavailable or ""
            if not unavailable:
                source.state, source.note, source.values = "fetched", None, result.values
                source.source_org_name = result.source_org_name
                source.source_updated_at = result.source_updated_at or now
                source.fetched_at = now
                fetched.append(source.position)
                if source.is_subject and len((result.values or {}).get("records", [])) > 1:
                    # Several births (or the like): the applicant says which one this application is about
                    # (``choose_bundle_record``); nothing is handed to the parts before that.
                    source.state, source.note = "choosing", CHOOSING
        if unavailable:
            source.state, source.note = "unavailable", unavailable
        _hand_to_parts(db, source, parts, titles=found.field_titles if found else {}, now=now)
    # Each part's e-certificate materials: the newest valid certificate of the type from the wallet (the
    # bundle's one consent covers them; a choice per part is not offered), else an upload.
    certificates = 0
    if positions is None:
        unchosen = dataclasses.replace(wallet, chosen={})
        for application in parts.values():
            for ev in applications.evidence_of(db, application):
                if ev.source_kind == "certificate" and ev.consent is None:
                    ev.consent, ev.consented_at = "given", now
                    if wallet_evidence.attach(
                        db,
                        actor=actor,
                        application=application,
                        ev=ev,
                        wallet=unchosen,
                        purpose=purpose,
                        now=now,
                    ):
                        form_prefill.prefill(db, application, ev, titles={}, source="certificate")
                        certificates += 1
    for part, application in parts.items():
        application.updated_at = now
        read_for = [pos for s in chosen for p, pos in s.feeds if p == part]
        if read_for:
            record_event(
                db,
                actor=actor.principal,
                action=applying.CONSENTED,
                subject_type="service_application",
                subject_id=application.number,
                data={"materials": read_for, "purpose": purpose, "bundle": bundle_application.number},
            )
    bundle_application.updated_at = now
    record_event(
        db,
        actor=actor.principal,
        action=CONSENTED,
        subject_type="service_bundle_application",
        subject_id=bundle_application.number,
        data={
            "sources": [s.position for s in chosen],
            "fetched": fetched,
            "certificates": certificates,
            "purpose": purpose,
        },
    )
    return bundle_application


def choose_bundle_record(
    db: Session, *, actor: Actor, number: str, position: int, record: int
) -> BundleApplication:
    """The applicant says which of the records the bundle's subject register holds about them (one child
    of several births) the application is about: only that record is kept and handed to the parts that
    read the source, prefilling and locking their forms; the others are dropped. Nothing is read again.
    Raises BundleApplicationNotFound (not the applicant's own), ApplicationClosed, ValidationFailed (no
    source waiting for a choice at ``position``, no candidate ``record``)."""
    bundle_application = bundles.own_bundle_draft(db, actor, number)
    source = next((s for s in bundles.sources_of(db, bundle_application) if s.position == position), None)
    if source is None or source.state != "choosing":
        raise ValidationFailed.field("position", "no source here is waiting for your choice of record")
    candidates = (source.values or {}).get("records", [])
    if not 0 <= record < len(candidates):
        raise ValidationFailed.field("record", f"choose one of the {len(candidates)} records listed")
    chosen = candidates[record]
    now = clock.now()
    source.state, source.note, source.values = "fetched", None, {"records": [chosen]}
    found = evidence_source.describe_source(db, source.source_ref)
    parts = {m.position: a for m, a in bundle_progress.members_with_applications(db, bundle_application)}
    _hand_to_parts(db, source, parts, titles=found.field_titles if found else {}, now=now)
    bundle_application.updated_at = now
    record_event(
        db,
        actor=actor.principal,
        action=RECORD_CHOSEN,
        subject_type="service_bundle_application",
        subject_id=bundle_application.number,
        data={
            "source": position,
            "resource": source.source_ref,
            "record": record,
            "candidates": len(candidates),
            "version": chosen.get("version"),
            "parts": sorted({p for p, _ in source.feeds}),
        },
    )
    return bundle_application


def candidates_of(source: BundleSource, titles: dict[str, str]) -> list[CandidateRead]:
    """The records a source waiting for the applicant's choice holds, as the preview shows them: each field
    the parts read, a resident ID number masked (as the pages mask the applicant's), a value the gateway
    masked left masked."""
    if source.state != "choosing":
        return []
    found = []
    for index, record in enumerate((source.values or {}).get("records", [])):
        cells = record.get("fields", {})
        fields = []
        for name in source.source_fields:
            cell = cells.get(name, {})
            value = cell.get("value")
            if isinstance(value, str) and is_valid_resident_id(value):
                value = value[:4] + "*" * 10 + value[-4:]
            fields.append(
                CandidateFieldRead(
                    name=name, title=titles.get(name, name), value=value, masked=bool(cell.get("masked"))
                )
            )
        found.append(CandidateRead(record=index, fields=fields, updated_at=record.get("updated_at")))
    return found


def _hand_to_parts(
    db: Session,
    source: BundleSource,
    parts: dict[int, Application],
    *,
    titles: dict[str, str],
    now: datetime,
) -> None:
    """Hand each part material the source feeds its own fields of what was read (prefilled and locked), or
    the source's state when nothing is to be handed on yet."""
    for part, position in source.feeds:
        ev = applications.evidence_at(db, parts[part], position)
        ev.consent, ev.consented_at = "given", now
        if source.state == "choosing":
            ev.state, ev.note = "pending", source.note
            continue
        ev.state, ev.note = source.state, source.note
        if source.state == "fetched":
            ev.values = _values_for(source.values, list(ev.source_fields))
            ev.source_org_name, ev.source_updated_at = source.source_org_name, source.source_updated_at
            ev.fetched_at = now
            form_prefill.prefill(db, parts[part], ev, titles=titles)


def decline_bundle_source(db: Session, *, actor: Actor, number: str, position: int) -> BundleApplication:
    """The applicant does not let the platform read this source: nothing is read (what an earlier consent
    read is dropped from every part and its form), and it is uploaded once for every part that reads it.
    Raises BundleApplicationNotFound, ApplicationClosed, ValidationFailed."""
    bundle_application = bundles.own_bundle_draft(db, actor, number)
    (source,) = _consentable(bundles.sources_of(db, bundle_application), [position], again=True)
    now = clock.now()
    source.consent, source.consented_at = "declined", now
    source.state, source.note, source.values = "pending", None, None
    source.source_org_name = source.source_updated_at = source.fetched_at = None
    parts = {m.position: a for m, a in bundle_progress.members_with_applications(db, bundle_application)}
    for part, material in source.feeds:
        application = parts[part]
        ev = applications.evidence_at(db, application, material)
        ev.consent, ev.consented_at = "declined", now
        ev.state, ev.note, ev.values = "pending", None, None
        ev.source_org_name = ev.source_updated_at = ev.fetched_at = None
        for f in db.scalars(
            select(FormField).where(
                FormField.application_id == application.id, FormField.material_position == material
            )
        ):
            db.delete(f)
        application.updated_at = now
    bundle_application.updated_at = now
    record_event(
        db,
        actor=actor.principal,
        action=CONSENT_DECLINED,
        subject_type="service_bundle_application",
        subject_id=bundle_application.number,
        data={"source": position, "resource": source.source_ref},
    )
    return bundle_application


def decline_part_certificate(
    db: Session, *, actor: Actor, number: str, part: int, position: int
) -> BundleApplication:
    """The applicant does not let the platform use a certificate from their wallet for this part's
    e-certificate material: none is used (one an earlier consent attached is dropped with its form fields),
    and the material is uploaded for the part (``upload_for_part``). Raises BundleApplicationNotFound,
    ApplicationClosed, ValidationFailed (no such part or material, not an e-certificate, already
    uploaded)."""
    bundle_application = bundles.own_bundle_draft(db, actor, number)
    parts = {m.position: a for m, a in bundle_progress.members_with_applications(db, bundle_application)}
    application = parts.get(part)
    if application is None:
        raise ValidationFailed.field("part", "the bundle has no part at this position")
    ev = applications.evidence_at(db, application, position)
    if ev.source_kind != "certificate" or ev.state == "uploaded" or ev.consent == "declined":
        raise ValidationFailed.field(
            "position", "not an e-certificate material waiting for or using a certificate"
        )
    now = clock.now()
    ev.consent, ev.consented_at = "declined", now
    ev.state, ev.note, ev.values = "pending", None, None
    ev.source_org_name = ev.source_updated_at = ev.fetched_at = None
    for f in db.scalars(
        select(FormField).where(
            FormField.application_id == application.id, FormField.material_position == position
        )
    ):
        db.delete(f)
    application.updated_at = bundle_application.updated_at = now
    for subject_type, subject_id in (
        ("service_application", application.number),
        ("service_bundle_application", bundle_application.number),
    ):
        record_event(
            db,
            actor=actor.principal,
            action=applying.CONSENT_DECLINED if subject_type == "service_application" else CONSENT_DECLINED,
            subject_type=subject_type,
            subject_id=subject_id,
            data={"part": part, "material": position, "name": ev.material_name},
        )
    return bundle_application


# -- uploads ----------------------------------------------------------------------------------------------


def upload_for_source(
    db: Session,
    *,
    actor: Actor,
    number: str,
    position: int,
    filename: str,
    content: bytes,
    settings: Settings,
) -> BundleApplication:
    """A declined or unreadable source, sent once: the file goes to every part material it feeds.
    Raises BundleApplicationNotFound, ApplicationClosed, ValidationFailed, InvalidUpload."""
    bundle_application = bundles.own_bundle_draft(db, actor, number)
    source = next((s for s in bundles.sources_of(db, bundle_application) if s.position == position), None)
    if source is None:
        raise ValidationFailed.field("position", "the bundle has no source at this position")
    if source.consent != "declined" and source.state not in ("unavailable", "uploaded"):
        raise InvalidUpload.field("file", "this material is fetched by the platform and takes no upload")
    parts = {m.position: a for m, a in bundle_progress.members_with_applications(db, bundle_application)}
    for part, material in source.feeds:
        application = parts[part]
        uploads.attach_file(
            db,
            actor=actor,
            application=application,
            ev=applications.evidence_at(db, application, material),
            filename=filename,
            content=content,
            settings=settings,
        )
    source.state, source.upload_name = "uploaded", (filename.rsplit("/", 1)[-1] or "upload")[:200]
    bundle_application.updated_at = clock.now()
    record_event(
        db,
        actor=actor.principal,
        action=UPLOADED,
        subject_type="service_bundle_application",
        subject_id=bundle_application.number,
        data={"source": position, "parts": sorted({p for p, _ in source.feeds})},
    )
    return bundle_application


def upload_for_part(
    db: Session,
    *,
    actor: Actor,
    number: str,
    part: int,
    position: int,
    filename: str,
    content: bytes,
    settings: Settings,
) -> BundleApplication:
    """A part's own material (an upload it asks for, an e-certificate not read from the wallet, an earlier
    result the applicant has no approved application of). A material read for the bundle is uploaded through
    its source; a result another part gives takes no upload. Raises BundleApplicationNotFound,
    ApplicationClosed, ValidationFailed, InvalidUpload."""
    bundle_application = bundles.own_bundle_draft(db, actor, number)
    parts = {m.position: a for m, a in bundle_progress.members_with_applications(db, bundle_application)}
    application = parts.get(part)
    if application is None:
        raise ValidationFailed.field("part", "the bundle has no part at this position")
    ev = applications.evidence_at(db, application, position)
    if _fed_by_source(db, bundle_application, part, position) or _passed_on(db, bundle_application, ev):
        raise InvalidUpload.field("file", "this material is fetched by the platform and takes no upload")
    uploads.attach_file(
        db, actor=actor, application=application, ev=ev, filename=filename, content=content, settings=settings
    )
    bundle_application.updated_at = clock.now()
    return bundle_application


def _consentable(
    sources: list[BundleSource], positions: Sequence[int] | None, *, again: bool = False
) -> list[BundleSource]:
    if positions is None:
        return [s for s in sources if s.consent is None]
    by_position = {s.position: s for s in sources}
    chosen = []
    for position in dict.fromkeys(positions):
        source = by_position.get(position)
        if source is None:
            raise ValidationFailed.field("sources", f"the bundle has no source {position}")
        if source.consent is not None and not (again and source.consent == "given"):
            raise ValidationFailed.field("sources", f"source {position} already has your answer")
        if source.state == "uploaded":
            raise ValidationFailed.field("sources", f"source {position} is already uploaded")
        chosen.append(source)
    return chosen


def _fed_by_source(db: Session, bundle_application: BundleApplication, part: int, position: int) -> bool:
    return any([part, position] in s.feeds for s in bundles.sources_of(db, bundle_application))


def _passed_on(db: Session, bundle_application: BundleApplication, ev: Evidence) -> bool:
    """A result another part of this bundle gives (pushed on when that part is approved)."""
    if ev.source_kind != "prior_result":
        return False
    return ev.source_ref in set(
        db.scalars(
            select(Item.code)
            .join(BundleMember, BundleMember.item_id == Item.id)
            .where(BundleMember.bundle_application_id == bundle_application.id)
        )
    )


def _values_for(values: dict[str, Any] | None, fields: list[str]) -> dict[str, Any] | None:
    """What one part asked for out of a source read for several: its own fields of each record."""
    if values is None or "records" not in values:
        return values
    return {
        "records": [
            {**record, "fields": {k: v for k, v in record.get("fields", {}).items() if k in fields}}
            for record in values["records"]
        ]
    }
