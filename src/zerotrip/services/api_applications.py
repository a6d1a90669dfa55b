"""Services JSON API: applications (办件) for the signed-in citizen, and the items' instant-approval rules.

A citizen calls these from the portal with the session cookie and the ``X-CSRF-Token`` header; API clients
(bearer tokens) are department systems, which do not apply for anyone, so the actions refuse them
(``services/applying-not-allowed``) or find no application of theirs (``services/application-not-found``).
The implementing department's reviewers may read an application.

The three calls of an application (start, consent, submit) are ``async`` routes that do all their
database work, the caller's session included, in one hop to the thread pool (``deps.signed_in_actor``):
a synchronous route with the ``CurrentActor`` dependency takes two hops, and under many concurrent
applicants each hop waits for the event loop and the GIL again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zerotrip.config import Settings
from zerotrip.datahub.api_gateway import GatewayState
from zerotrip.datahub.api_gateway import State as Gateway
from zerotrip.db import transaction
from zerotrip.deps import DB, AnyActor, CurrentActor, presents_credentials, signed_in_actor
from zerotrip.keys import KeyStore
from zerotrip.routing import PrefixRouter
from zerotrip.services import application_queries, applying, instant, uploads, wallet_evidence
from zerotrip.services.api_deps import AppSettings, Keys, Scan, sent_scan
from zerotrip.services.application_schemas import (
    ApplicationPage,
    ApplicationRead,
    ApplicationStart,
    ConsentRequest,
    EvidencePreview,
    RuleSetRead,
    SubmitRequest,
    WithdrawRequest,
)
from zerotrip.services.rules import RuleSetSpec

router = PrefixRouter(prefix="/api/services", tags=["services"])


@router.post(
    "/applications",
    response_model=ApplicationRead,
    status_code=201,
    summary="Start an application",
    dependencies=[Depends(presents_credentials)],
)
async def start_application(request: Request, body: ApplicationStart, db: DB) -> ApplicationRead:
    """A draft for the item (or the open draft of it, which is resumed). Nothing is read yet."""
    return await run_in_threadpool(_start, request, db, body)


def _start(request: Request, db: Session, body: ApplicationStart) -> ApplicationRead:
    actor = signed_in_actor(request, db)
    with transaction(db):
        application = applying.start_application(
            db, actor=actor, item_code=body.item_code, enterprise_uscc=body.enterprise_uscc
        )
        return application_queries.application_read(db, application, actor=actor)


@router.get("/applications", response_model=ApplicationPage, summary="My applications")
def my_applications(
    db: DB,
    actor: CurrentActor,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ApplicationPage:
    with transaction(db):
        rows, total = application_queries.list_own_applications(db, actor=actor, page=page, per_page=per_page)
        items = application_queries.application_summaries(db, rows)
    return ApplicationPage(items=items, total=total, page=page, per_page=per_page)


@router.get("/applications/{number}", response_model=ApplicationRead, summary="One application")
def read_application(number: str, db: DB, actor: CurrentActor) -> ApplicationRead:
    with transaction(db):
        application = application_queries.get_application(db, actor=actor, number=number)
        return application_queries.application_read(db, application, actor=actor)


@router.get(
    "/applications/{number}/preview",
    response_model=EvidencePreview,
    summary="What will be read, from which department, and why",
)
def preview_evidence(
    number: str, db: DB, actor: CurrentActor, settings: AppSettings, gateway: Gateway
) -> EvidencePreview:
    """Reads no data: the applicant consents (or declines) after seeing this."""
    with transaction(db):
        return applying.preview_evidence(
            db, actor=actor, number=number, settings=settings.services, catalogue=gateway.catalogue
        )


@router.post(
    "/applications/{number}/consent",
    response_model=ApplicationRead,
    summary="Consent, and have the platform read the data",
    dependencies=[Depends(presents_credentials)],
)
async def consent(
    request: Request,
    number: str,
    body: ConsentRequest,
    db: DB,
    settings: AppSettings,
    gateway: Gateway,
    keys: Keys,
) -> ApplicationRead:
    """Datahub materials are read through the gateway; e-certificate materials take the certificate
    chosen in ``certificates`` (or the newest valid one) from your wallet, verified at once. A chosen
    certificate that is revoked, suspended, expired or not yours is refused (409, 404) and nothing is
    recorded."""
    return await run_in_threadpool(_consent, request, number, body, db, settings, gateway, keys)


def _consent(
    request: Request,
    number: str,
    body: ConsentRequest,
    db: Session,
    settings: Settings,
    gateway: GatewayState,
    keys: KeyStore,
) -> ApplicationRead:
    actor = signed_in_actor(request, db)
    with transaction(db):
        application = applying.consent_and_fetch(
            db,
            actor=actor,
            number=number,
            settings=settings.services,
            positions=body.materials,
            catalogue=gateway.catalogue,
            wallet=wallet_evidence.WalletAccess(keys=keys, settings=settings, chosen=body.certificates),
        )
        return application_queries.application_read(db, application, actor=actor)


@router.post(
    "/applications/{number}/materials/{position}/decline",
    response_model=ApplicationRead,
    summary="Decline consent for one material (it is uploaded instead)",
)
def decline(number: str, position: int, db: DB, actor: CurrentActor) -> ApplicationRead:
    with transaction(db):
        application = applying.decline_consent(db, actor=actor, number=number, position=position)
        return application_queries.application_read(db, application, actor=actor)


@router.put(
    "/applications/{number}/materials/{position}/upload",
    response_model=ApplicationRead,
    summary="Upload a material (PDF, PNG or JPEG)",
)
def upload(
    number: str,
    position: int,
    file: Scan,
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
) -> ApplicationRead:
    filename, content = sent_scan(file, settings)
    with transaction(db):
        application = uploads.attach_upload(
            db,
            actor=actor,
            number=number,
            position=position,
            filename=filename,
            content=content,
            settings=settings,
        )
        return application_queries.application_read(db, application, actor=actor)


@router.post(
    "/applications/{number}/submit",
    response_model=ApplicationRead,
    summary="Submit (an instantly approvable item is decided at once)",
    dependencies=[Depends(presents_credentials)],
)
async def submit(
    request: Request, number: str, body: SubmitRequest, db: DB, settings: AppSettings, keys: Keys
) -> ApplicationRead:
    return await run_in_threadpool(_submit, request, number, body, db, settings, keys)


def _submit(
    request: Request, number: str, body: SubmitRequest, db: Session, settings: Settings, keys: KeyStore
) -> ApplicationRead:
    actor = signed_in_actor(request, db)
    with transaction(db):
        application = applying.submit_application(
            db,
            actor=actor,
            number=number,
            keys=keys,
            settings=settings,
            pledge=body.pledge,
            human_review=body.human_review,
        )
    # Read back after the commit: issuing the decision letter locks the shared status list's counter
    # until the transaction ends, so the answer is not built while holding it.
    with transaction(db):
        return application_queries.application_read(db, application, actor=actor)


@router.post("/applications/{number}/withdraw", response_model=ApplicationRead, summary="Withdraw")
def withdraw(number: str, body: WithdrawRequest, db: DB, actor: CurrentActor) -> ApplicationRead:
    with transaction(db):
        application = applying.withdraw_application(db, actor=actor, number=number, reason=body.reason)
        return application_queries.application_read(db, application, actor=actor)


@router.get(
    "/items/{code}/rules",
    response_model=RuleSetRead,
    summary="An item's instant-approval rules",
    responses={204: {"description": "The item has no instant-approval rules"}},
)
def read_rules(code: str, db: DB, actor: AnyActor) -> RuleSetRead | Response:
    # Public: the rules that decide applications automatically are open to all (PIPL art. 24).
    with transaction(db):
        found = application_queries.rule_set_read(db, code)
    return found if found is not None else Response(status_code=204)


@router.put("/items/{code}/rules", response_model=RuleSetRead, summary="Define an item's rules (new version)")
def define_rules(code: str, spec: RuleSetSpec, db: DB, actor: CurrentActor) -> RuleSetRead:
    with transaction(db):
        instant.define_rules(db, actor=actor, item_code=code, spec=spec)
        found = application_queries.rule_set_read(db, code)
    assert found is not None  # just defined
    return found
