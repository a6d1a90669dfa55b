"""Applying for a bundle (一件事): one application for a life event that fans out to several departments.

For the applicant (a signed-in citizen, for themself or an enterprise they represent):

1. ``start_bundle_application`` opens a draft application of every part's item (each routed to its
   department like any application) and lists the bundle's datahub sources: each resource the parts read
   once, with the union of their fields. Starting again while a draft of the bundle is open resumes it.
2. The one set of evidence (``bundle_evidence.py``): one preview and one consent for every part, each
   source read once and handed to every part that asks for it; a declined source uploaded once.
3. ``submit_bundle`` needs everything of every part except the results the parts pass to each other, and
   the pledge for all parts' commitments; the parts whose inputs exist are submitted at once, the others
   when the parts they need are approved (``bundle_progress``).
4. ``withdraw_bundle`` withdraws every part not yet decided.

A part of a bundle is changed only through its bundle while it is a draft (``applications`` refuses the
single-application actions on it). Actions add and flush; the caller commits.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import FieldError
from zerotrip.services import applications, applying, bundle_progress
from zerotrip.services.applications import NUMBER_ALPHABET, NUMBER_LENGTH, normalise_number
from zerotrip.services.bundle_catalogue import get_bundle, part_needs, parts_of, shared_sources
from zerotrip.services.bundle_models import BundleApplication, BundleMember, BundleSource
from zerotrip.services.bundle_schemas import (
    BUNDLE_NUMBER_PREFIX,
)
from zerotrip.services.errors import (
    ApplicationClosed,
    ApplyingNotAllowed,
    BundleApplicationNotFound,
    EvidenceIncomplete,
)
from zerotrip.services.models import Application, Item
from zerotrip.services.permissions import is_filer
from zerotrip.services.queries import list_materials

STARTED = "services.bundle_application.started"
CONSENTED = "services.bundle_application.consented"
CONSENT_DECLINED = "services.bundle_application.consent_declined"
UPLOADED = "services.bundle_application.uploaded"
SUBMITTED = "services.bundle_application.submitted"
WITHDRAWN = "services.bundle_application.withdrawn"
NOT_FROM_WALLET = "e-certificates are not fetched from the wallet yet"


def _new_number(db: Session) -> str:
    for _ in range(5):
        number = BUNDLE_NUMBER_PREFIX + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))
        if db.scalar(select(BundleApplication.id).where(BundleApplication.number == number)) is None:
            return number
    raise RuntimeError("could not find a free bundle number; the random source looks broken")


# -- starting ---------------------------------------------------------------------------------------------


def start_bundle_application(
    db: Session, *, actor: Actor, bundle_code: str, enterprise_uscc: str | None = None
) -> BundleApplication:
    """Open a draft of ``bundle_code`` with a draft application of each part, or return the applicant's
    open draft of it. Raises BundleNotFound, ApplyingNotAllowed (not a citizen, not the enterprise's
    representative, a part no longer applied for online)."""
    applicant = applying.applicant_of(db, actor, enterprise_uscc)
    bundle = get_bundle(db, bundle_code)
    existing = db.scalar(
        select(BundleApplication).where(
            BundleApplication.bundle_id == bundle.id,
            BundleApplication.applicant_key == applicant.key,
            BundleApplication.filed_by_person_id == applicant.person_id,
            BundleApplication.state == "draft",
        )
    )
    if existing is not None:
        return existing
    parts = parts_of(db, bundle)
    for _, item in parts:
        if "online" not in item.channels:
            raise ApplyingNotAllowed(f"{item.name} is applied for at a counter, not online")
    now = clock.now()
    bundle_application = BundleApplication(
        number=_new_number(db),
        bundle_id=bundle.id,
        bundle_version=bundle.version,
        applicant_kind=applicant.kind,
        applicant_key=applicant.key,
        applicant_name=applicant.name,
        filed_by_person_id=applicant.person_id,
        division_code=applicant.division_code,
        state="draft",
        created_at=now,
        updated_at=now,
    )
    db.add(bundle_application)
    db.flush()  # the members and sources refer to its id
    items = [item for _, item in parts]
    materials = list_materials(db, [i.id for i in items])
    needs = part_needs(items, materials)
    position_of = {item.code: position for position, item in parts}
    numbers = []
    for position, item in parts:
        application = applying.open_draft(db, actor=actor, item=item, applicant=applicant)
        db.flush()  # the member refers to the application's id
        # The result another part gives is pushed on when that part is approved, never an older one.
        for ev in applications.evidence_of(db, application):
            if ev.source_kind == "prior_result" and ev.source_ref in position_of:
                ev.state, ev.note = "pending", None
        db.add(
            BundleMember(
                bundle_application_id=bundle_application.id,
                position=position,
                item_id=item.id,
                application_id=application.id,
                needs=sorted(position_of[code] for code in needs[item.code]),
            )
        )
        numbers.append(application.number)
    for position, source in enumerate(shared_sources([materials[i.id] for i in items])):
        db.add(
            BundleSource(
                bundle_application_id=bundle_application.id,
                position=position,
                material_name=source.name,
                source_ref=source.resource_code,
                source_fields=[] if source.is_exists else list(source.fields),
                is_exists_fact=source.is_exists,
                is_subject=not source.is_exists and source.resource_code == bundle.subject_register,
                feeds=[list(feed) for feed in source.feeds],
                state="pending",
            )
        )
    record_event(
        db,
        actor=actor.principal,
        action=STARTED,
        subject_type="service_bundle_application",
        subject_id=bundle_application.number,
        data={"bundle": bundle.code, "version": bundle.version, "parts": numbers},
    )
    return bundle_application


# -- submitting and withdrawing ---------------------------------------------------------------------------


def submit_bundle(
    db: Session, *, actor: Actor, number: str, keys: KeyStore, settings: Settings, pledge: bool = False
) -> BundleApplication:
    """Submit the bundle: every part's required materials have something for them (the results the parts
    pass to each other aside), and the applicant signs every part's commitments (``pledge``). The parts
    whose inputs exist are submitted to their departments at once; the others wait for the parts they need
    (``bundle_progress.advance``). Raises BundleApplicationNotFound, ApplicationClosed, EvidenceIncomplete
    (``#/sources/N``, ``#/parts/P/materials/M``, ``#/pledge``)."""
    bundle_application = own_bundle_draft(db, actor, number)
    parts = bundle_progress.members_with_applications(db, bundle_application)
    missing: list[FieldError] = []
    for source in sources_of(db, bundle_application):
        if source.state == "choosing":
            missing.append(
                {
                    "detail": f"{source.material_name}: choose the record this application is about",
                    "pointer": f"#/sources/{source.position}",
                }
            )
        if source.state in ("pending", "unavailable"):
            what = (
                "upload it"
                if source.consent == "declined" or source.state == "unavailable"
                else ("consent to fetch it or upload it")
            )
            missing.append(
                {"detail": f"{source.material_name}: {what}", "pointer": f"#/sources/{source.position}"}
            )
    fed = {(p, m) for s in sources_of(db, bundle_application) for p, m in s.feeds}
    codes = {db.get_one(Item, m.item_id).code: m.position for m, _ in parts}
    has_commitments = False
    for member, application in parts:
        for ev in applications.evidence_of(db, application):
            if ev.source_kind == "commitment":
                has_commitments = True
                continue
            if (member.position, ev.position) in fed or (
                ev.source_kind == "prior_result" and ev.source_ref in codes
            ):
                continue
            if ev.is_required and not ev.is_deferrable and ev.state in ("pending", "unavailable"):
                missing.append(
                    {
                        "detail": f"{ev.material_name}: upload it",
                        "pointer": f"#/parts/{member.position}/materials/{ev.position}",
                    }
                )
    if has_commitments and not pledge:
        missing.append({"detail": "sign the commitments", "pointer": "#/pledge"})
    if missing:
        raise EvidenceIncomplete("some materials are still missing", errors=missing)
    now = clock.now()
    bundle_application.state = "submitted"
    bundle_application.submitted_at = bundle_application.updated_at = now
    bundle_application.pledged_at = now if pledge else None
    record_event(
        db,
        actor=actor.principal,
        action=SUBMITTED,
        subject_type="service_bundle_application",
        subject_id=bundle_application.number,
        data={"parts": [a.number for _, a in parts], "pledged": pledge},
    )
    bundle_progress.advance(db, bundle_application, keys=keys, settings=settings)
    return bundle_application


def withdraw_bundle(db: Session, *, actor: Actor, number: str, reason: str = "") -> BundleApplication:
    """The applicant withdraws the bundle: every part not yet decided is withdrawn (decided parts keep
    their decisions). Raises BundleApplicationNotFound, ApplicationClosed."""
    bundle_application = own_bundle_application(db, actor, number)
    if bundle_application.state == "withdrawn":
        raise ApplicationClosed("the bundle is already withdrawn")
    # The parts first, then the bundle: a department deciding a part locks them in the same order.
    parts = db.scalars(
        select(Application)
        .join(BundleMember, BundleMember.application_id == Application.id)
        .where(BundleMember.bundle_application_id == bundle_application.id)
        .order_by(BundleMember.position)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    bundle_application = own_bundle_application(db, actor, number, lock=True)
    if bundle_application.state == "withdrawn":
        raise ApplicationClosed("the bundle is already withdrawn")
    if (
        all(a.status in ("approved", "refused", "withdrawn") for a in parts)
        and bundle_application.state != "draft"
    ):
        raise ApplicationClosed("every part is already decided")
    note = reason.strip() or None
    for application in parts:
        if application.status in applications.WITHDRAWABLE:
            applications.move(
                db, application, "withdraw", actor=actor, reason=note or f"withdrawn with bundle {number}"
            )
            application.paused_at = None  # a withdrawn application has no clock to resume
    bundle_application.state = "withdrawn"
    bundle_application.updated_at = clock.now()
    record_event(
        db,
        actor=actor.principal,
        action=WITHDRAWN,
        subject_type="service_bundle_application",
        subject_id=bundle_application.number,
        data={"reason": note},
    )
    return bundle_application


# -- helpers ----------------------------------------------------------------------------------------------


def own_bundle_application(
    db: Session, actor: Actor, number: str, *, lock: bool = False
) -> BundleApplication:
    query = select(BundleApplication).where(BundleApplication.number == normalise_number(number))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = db.scalar(query)
    if found is None or not is_filer(actor, found.filed_by_person_id):
        raise BundleApplicationNotFound()
    return found


def own_bundle_draft(db: Session, actor: Actor, number: str) -> BundleApplication:
    # Locked, so two submissions (or a submission and a consent) of one bundle run one after the other.
    found = own_bundle_application(db, actor, number, lock=True)
    if found.state != "draft":
        raise ApplicationClosed(f"the bundle is {found.state}, no longer a draft")
    return found


def sources_of(db: Session, bundle_application: BundleApplication) -> list[BundleSource]:
    return list(
        db.scalars(
            select(BundleSource)
            .where(BundleSource.bundle_application_id == bundle_application.id)
            .order_by(BundleSource.position)
        )
    )
