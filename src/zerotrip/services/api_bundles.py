"""Services JSON API: bundles (一件事) in the guide, and a citizen's bundle applications.

The guide's bundles are public; the platform administrator over every part's department defines and revises
them. A signed-in citizen applies (with the session cookie and the ``X-CSRF-Token`` header); API clients
(department systems) apply for nobody, so the actions refuse them (``services/applying-not-allowed``) or find
no bundle application of theirs (``services/bundle-application-not-found``). Each part is also an ordinary
application its department works through the workflow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from zerotrip.db import transaction
from zerotrip.deps import DB, AnyActor, CurrentActor
from zerotrip.routing import PrefixRouter
from zerotrip.services import (
    bundle_catalogue,
    bundle_evidence,
    bundle_queries,
    bundles,
    wallet_evidence,
)
from zerotrip.services.api_deps import AppSettings, Keys, Scan, sent_scan
from zerotrip.services.bundle_schemas import (
    BundleApplicationPage,
    BundleApplicationRead,
    BundleChoice,
    BundleConsent,
    BundlePage,
    BundlePreview,
    BundleRead,
    BundleSpec,
    BundleStart,
    BundleSubmit,
    BundleWithdraw,
)
from zerotrip.services.schemas import LifeEvent

router = PrefixRouter(prefix="/api/services/bundles", tags=["services"])


@router.get("", response_model=BundlePage, summary="The bundles (一件事) of the service guide")
def list_bundles(
    db: DB,
    actor: AnyActor,
    event: Annotated[LifeEvent | None, Query(description="Only the bundles of this life event.")] = None,
) -> BundlePage:
    # The guide is public (办事指南公开), bundles included.
    with transaction(db):
        found = bundle_catalogue.list_bundles(db, life_event=event)
        return BundlePage(items=bundle_catalogue.bundle_summaries(db, found), total=len(found))


@router.post("", response_model=BundleRead, status_code=201, summary="Define a bundle")
def define_bundle(spec: BundleSpec, db: DB, actor: CurrentActor) -> BundleRead:
    with transaction(db):
        bundle = bundle_catalogue.define_bundle(db, actor=actor, spec=spec)
        return bundle_catalogue.bundle_read(db, bundle)


# -- applications (before /{code}, which would take "applications" for a code) ---------------------------


@router.get("/applications", response_model=BundleApplicationPage, summary="My bundle applications")
def my_bundle_applications(
    db: DB,
    actor: CurrentActor,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BundleApplicationPage:
    with transaction(db):
        rows, total = bundle_queries.list_own_bundle_applications(
            db, actor=actor, page=page, per_page=per_page
        )
        items = bundle_queries.bundle_application_summaries(db, rows)
    return BundleApplicationPage(items=items, total=total, page=page, per_page=per_page)


@router.get(
    "/applications/{number}",
    response_model=BundleApplicationRead,
    summary="One bundle application: the one status, each part, the one form",
)
def read_bundle_application(number: str, db: DB, actor: CurrentActor) -> BundleApplicationRead:
    with transaction(db):
        found = bundle_queries.get_bundle_application(db, actor=actor, number=number)
        return bundle_queries.bundle_application_read(db, found)


@router.get(
    "/applications/{number}/preview",
    response_model=BundlePreview,
    summary="What will be read for all parts, from which department, and why",
)
def preview(number: str, db: DB, actor: CurrentActor, settings: AppSettings) -> BundlePreview:
    """Reads no data: the applicant consents once (or declines a source) after seeing this."""
    with transaction(db):
        return bundle_evidence.preview_bundle(db, actor=actor, number=number, settings=settings.services)


@router.post(
    "/applications/{number}/consent",
    response_model=BundleApplicationRead,
    summary="Consent once; each source is read once for every part",
)
def consent(
    number: str, body: BundleConsent, db: DB, actor: CurrentActor, settings: AppSettings, keys: Keys
) -> BundleApplicationRead:
    """Consenting to every source (no ``sources``) also lets each part's e-certificate material take the
    newest valid certificate of its type from your wallet (the preview lists them)."""
    with transaction(db):
        found = bundle_evidence.consent_bundle(
            db,
            actor=actor,
            number=number,
            settings=settings.services,
            positions=body.sources,
            wallet=wallet_evidence.WalletAccess(keys=keys, settings=settings),
        )
        return bundle_queries.bundle_application_read(db, found)


@router.post(
    "/applications/{number}/sources/{position}/decline",
    response_model=BundleApplicationRead,
    summary="Decline one source (it is uploaded once instead)",
)
def decline(number: str, position: int, db: DB, actor: CurrentActor) -> BundleApplicationRead:
    with transaction(db):
        found = bundle_evidence.decline_bundle_source(db, actor=actor, number=number, position=position)
        return bundle_queries.bundle_application_read(db, found)


@router.post(
    "/applications/{number}/sources/{position}/choose",
    response_model=BundleApplicationRead,
    summary="Choose which record of several (one child of several births) the application is about",
)
def choose(
    number: str, position: int, body: BundleChoice, db: DB, actor: CurrentActor
) -> BundleApplicationRead:
    """After consent, a source of the bundle's subject register that holds several records about you waits
    (``state`` ``choosing``; the preview lists them as ``candidates``): only the one you choose is handed
    to the parts. A source not waiting for a choice, or a record not listed, is a 422."""
    with transaction(db):
        found = bundle_evidence.choose_bundle_record(
            db, actor=actor, number=number, position=position, record=body.record
        )
        return bundle_queries.bundle_application_read(db, found)


@router.post(
    "/applications/{number}/parts/{part}/materials/{position}/decline",
    response_model=BundleApplicationRead,
    summary="Decline using a certificate from your wallet for one part's material (it is uploaded instead)",
)
def decline_certificate(
    number: str, part: int, position: int, db: DB, actor: CurrentActor
) -> BundleApplicationRead:
    with transaction(db):
        found = bundle_evidence.decline_part_certificate(
            db, actor=actor, number=number, part=part, position=position
        )
        return bundle_queries.bundle_application_read(db, found)


@router.put(
    "/applications/{number}/sources/{position}/upload",
    response_model=BundleApplicationRead,
    summary="Upload a declined or unreadable source once, for every part that reads it",
)
def upload_source(
    number: str, position: int, file: Scan, db: DB, actor: CurrentActor, settings: AppSettings
) -> BundleApplicationRead:
    filename, content = sent_scan(file, settings)
    with transaction(db):
        found = bundle_evidence.upload_for_source(
            db,
            actor=actor,
            number=number,
            position=position,
            filename=filename,
            content=content,
            settings=settings,
        )
        return bundle_queries.bundle_application_read(db, found)


@router.put(
    "/applications/{number}/parts/{part}/materials/{position}/upload",
    response_model=BundleApplicationRead,
    summary="Upload one part's own material",
)
def upload_part(
    number: str, part: int, position: int, file: Scan, db: DB, actor: CurrentActor, settings: AppSettings
) -> BundleApplicationRead:
    filename, content = sent_scan(file, settings)
    with transaction(db):
        found = bundle_evidence.upload_for_part(
            db,
            actor=actor,
            number=number,
            part=part,
            position=position,
            filename=filename,
            content=content,
            settings=settings,
        )
        return bundle_queries.bundle_application_read(db, found)


@router.post(
    "/applications/{number}/submit",
    response_model=BundleApplicationRead,
    summary="Submit: parts whose inputs exist start now, the others when the parts they need are done",
)
def submit(
    number: str, body: BundleSubmit, db: DB, actor: CurrentActor, settings: AppSettings, keys: Keys
) -> BundleApplicationRead:
    with transaction(db):
        found = bundles.submit_bundle(
            db, actor=actor, number=number, keys=keys, settings=settings, pledge=body.pledge
        )
    # Read back after the commit: a part decided at once may have issued a certificate, whose status list
    # counter stays locked until the transaction ends.
    with transaction(db):
        return bundle_queries.bundle_application_read(db, found)


@router.post(
    "/applications/{number}/withdraw",
    response_model=BundleApplicationRead,
    summary="Withdraw the bundle (every part not yet decided)",
)
def withdraw(number: str, body: BundleWithdraw, db: DB, actor: CurrentActor) -> BundleApplicationRead:
    with transaction(db):
        found = bundles.withdraw_bundle(db, actor=actor, number=number, reason=body.reason)
        return bundle_queries.bundle_application_read(db, found)


# -- one bundle -------------------------------------------------------------------------------------------


@router.get("/{code}", response_model=BundleRead, summary="One bundle's guide, with the trips of the whole")
def read_bundle(code: str, db: DB, actor: AnyActor) -> BundleRead:
    with transaction(db):
        return bundle_catalogue.bundle_read(db, bundle_catalogue.get_bundle(db, code))


@router.put("/{code}", response_model=BundleRead, summary="Revise a bundle (new version)")
def revise_bundle(code: str, spec: BundleSpec, db: DB, actor: CurrentActor) -> BundleRead:
    with transaction(db):
        bundle = bundle_catalogue.revise_bundle(db, actor=actor, code=code, spec=spec)
        return bundle_catalogue.bundle_read(db, bundle)


@router.post(
    "/{code}/applications",
    response_model=BundleApplicationRead,
    status_code=201,
    summary="Apply for a bundle (or resume the open draft)",
)
def start(code: str, body: BundleStart, db: DB, actor: CurrentActor) -> BundleApplicationRead:
    """One draft application per part, routed to its department; nothing is read yet."""
    with transaction(db):
        found = bundles.start_bundle_application(
            db, actor=actor, bundle_code=code, enterprise_uscc=body.enterprise_uscc
        )
        return bundle_queries.bundle_application_read(db, found)
