"""Certificates over JSON: the type catalogue, issuing and status changes for issuers, the issuers' search,
public verification and status lists (``router``, under /api/certificates), and what verifiers discover at
well-known URLs: the trust list, issuer metadata and type metadata (``well_known``).

The published artefacts (status list tokens, the parsed trust list) are cached per application, so per
worker process: see ``queries.PublishedCache``.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from zerotrip.certificates import actions, queries, types, urls
from zerotrip.certificates.models import Certificate
from zerotrip.certificates.queries import PublishedCache
from zerotrip.certificates.schemas import (
    BatchIssued,
    BatchRejected,
    CertificateBatchIssue,
    CertificateBatchRead,
    CertificateIssue,
    CertificatePage,
    CertificateRead,
    CertificateTypeRead,
    CertificateTypeSpec,
    NoRealEstateProofRequest,
    StatusChange,
    VerdictRead,
    VerifyRequest,
)
from zerotrip.certificates.statuslist import TYP as STATUS_LIST_TYP
from zerotrip.certificates.verify import Verdict
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import DB, AnyActor, CurrentActor, get_keys, get_settings
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/certificates", tags=["certificates"])
well_known = APIRouter(tags=["certificates: discovery"])
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
Status = Literal["valid", "suspended", "revoked"]
_cache_lock = threading.Lock()
DISCOVERY_MAX_AGE = 300


def published_cache(request: Request) -> PublishedCache:
    """One cache per application (so per worker process), made on first use."""
    with _cache_lock:
        cache: PublishedCache | None = getattr(request.app.state, "certificates_cache", None)
        if cache is None:
            cache = PublishedCache()
            request.app.state.certificates_cache = cache
        return cache


Cache = Annotated[PublishedCache, Depends(published_cache)]


# -- the type catalogue ------------------------------------------------------------------------------------


@router.get("/types", response_model=list[CertificateTypeRead], summary="The certificate type catalogue")
def list_types(db: DB, actor: AnyActor, settings: AppSettings) -> list[CertificateTypeRead]:
    """Public: a type says what a kind of certificate holds and who issues it, nothing about anyone."""
    return queries.type_reads(db, types.list_certificate_types(db), settings=settings)


@router.post(
    "/types", response_model=CertificateTypeRead, status_code=201, summary="Define a type (platform operator)"
)
def define_type(
    body: CertificateTypeSpec, db: DB, actor: CurrentActor, settings: AppSettings
) -> CertificateTypeRead:
    with transaction(db):
        row = types.define_certificate_type(db, actor=actor, spec=body)
        db.flush()  # the id joins the read
        return queries.type_reads(db, [row], settings=settings)[0]


@router.get("/types/{code}", response_model=CertificateTypeRead, summary="One certificate type")
def read_type(code: str, db: DB, actor: AnyActor, settings: AppSettings) -> CertificateTypeRead:
    return queries.type_reads(db, [types.get_certificate_type(db, code)], settings=settings)[0]


# -- public: verification and status lists ---------------------------------------------------------------


@router.post("/verify", response_model=VerdictRead, summary="Verify a certificate, presentation or QR text")
def verify_certificate(
    body: VerifyRequest, db: DB, actor: AnyActor, keys: Keys, settings: AppSettings, cache: Cache
) -> VerdictRead:
    """Anyone may ask. The verdict's `code` says plainly which check failed (docs/certificates.md); a
    revoked certificate is `revoked`, not merely invalid. Every verification is recorded."""
    with transaction(db):
        verdict = actions.verify_online(
            db, actor=actor, token=body.token, keys=keys, settings=settings, now=clock.now(), cache=cache
        )
    return verdict_read(verdict, settings=settings)


@router.get(
    "/status-lists/{list_id}",
    response_class=Response,
    summary="A Token Status List (public)",
    responses={200: {"content": {f"application/{STATUS_LIST_TYP}": {}}}, 404: {}},
)
def status_list(list_id: int, db: DB, keys: Keys, settings: AppSettings, cache: Cache) -> Response:
    """The signed `statuslist+jwt` the certificates' `status.status_list.uri` points at; verifiers may
    cache it for its `ttl`."""
    token = queries.status_list_token(
        db, list_id=list_id, keys=keys, settings=settings, now=clock.now(), cache=cache
    )
    ttl = settings.certificates.status_list_ttl_seconds
    return Response(
        token,
        media_type=f"application/{STATUS_LIST_TYP}",
        headers={"Cache-Control": f"public, max-age={ttl}"},
    )


# -- issuing and the issuers' search ---------------------------------------------------------------------


@router.post("", response_model=CertificateRead, status_code=201, summary="Issue a certificate")
def issue_certificate(
    body: CertificateIssue, db: DB, actor: CurrentActor, keys: Keys, settings: AppSettings
) -> CertificateRead:
    """Staff with the certificate issuer role over the issuing department, or that department's system
    with the `certificates.issue` scope."""
    with transaction(db):
        certificate = actions.issue_certificate(
            db,
            actor=actor,
            certificate_type=body.certificate_type,
            holder_key=body.holder_key,
            claims=body.claims,
            keys=keys,
            settings=settings,
            issuer_org_code=body.issuer_org_code,
            source_ref=body.source_ref,
        )
        return _read(db, certificate, settings)


@router.post(
    "/batches",
    response_model=CertificateBatchRead,
    status_code=201,
    summary="Issue many certificates of one type (department systems)",
    responses={422: {"description": "The batch itself is invalid, or no item could be issued"}},
)
def issue_batch(
    body: CertificateBatchIssue, db: DB, actor: CurrentActor, keys: Keys, settings: AppSettings
) -> CertificateBatchRead:
    """For department systems with the `certificates.issue` scope (and issuers), up to 1,000 items of one
    type in one transaction. Items that cannot be issued (a bad or unregistered holder, bad values) are
    listed in `rejected` with their index and `{detail, pointer}` reasons while the others are issued
    (201); when none can be, nothing is written and the answer is a 422 problem naming every reason."""
    with transaction(db):
        outcome = actions.issue_certificates(
            db,
            actor=actor,
            certificate_type=body.certificate_type,
            items=[(item.holder_key, item.claims) for item in body.items],
            keys=keys,
            settings=settings,
            issuer_org_code=body.issuer_org_code,
            source_ref=body.source_ref,
        )
        if not outcome.issued:
            # Nothing was written; the same problem a single issue gives, for every item.
            raise ValidationFailed(
                "no item of the batch could be issued",
                errors=[error for item in outcome.rejected for error in item.errors],
            )
    return CertificateBatchRead(
        certificate_type=outcome.certificate_type,
        issuer_org_code=outcome.issuer_org_code,
        issued=[
            BatchIssued(
                index=item.index,
                number=item.number,
                holder_key=item.holder_key,
                holder_name=item.holder_name,
                valid_until=item.valid_until,
                token=item.token,
            )
            for item in outcome.issued
        ],
        rejected=[
            BatchRejected(index=item.index, errors=[dict(e) for e in item.errors])
            for item in outcome.rejected
        ],
    )


@router.post(
    "/no-real-estate-proofs",
    response_model=CertificateRead,
    status_code=201,
    summary="Issue a no-real-estate proof (无房证明)",
    responses={409: {"description": "The real-estate register holds a record for the person"}},
)
def issue_no_real_estate_proof(
    body: NoRealEstateProofRequest, db: DB, actor: CurrentActor, keys: Keys, settings: AppSettings
) -> CertificateRead:
    """A citizen asks for their own; an issuer of the natural resources department for anyone. The
    register is checked through the datahub gateway, and the check stays in the person's data-use log
    even when the answer is a refusal."""
    with transaction(db):
        outcome = actions.issue_no_real_estate_proof(
            db, actor=actor, keys=keys, settings=settings, resident_id=body.resident_id
        )
        read = _read(db, outcome.certificate, settings) if outcome.certificate is not None else None
    outcome.raise_for_refusal()
    assert read is not None
    return read


@router.get("", response_model=CertificatePage, summary="Search issued certificates (issuers)")
def search_certificates(
    db: DB,
    actor: CurrentActor,
    issuer: str | None = Query(None, description="Issuing department's code; default: your own."),
    certificate_type: str | None = Query(None, alias="type", description="A certificate type's code."),
    holder: str | None = Query(None, description="The holder's resident ID number or credit code."),
    status: Status | None = Query(None),
    number: str | None = Query(None),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=100),
) -> CertificatePage:
    rows, total = queries.search_issued(
        db,
        actor=actor,
        issuer_org_code=issuer,
        certificate_type=certificate_type,
        holder_key=holder,
        status=status,
        number=number,
        page=page,
        per_page=per_page,
    )
    return CertificatePage(
        items=queries.certificate_summaries(db, rows), total=total, page=page, per_page=per_page
    )


@router.get("/{number}", response_model=CertificateRead, summary="One certificate")
def read_certificate(number: str, db: DB, actor: CurrentActor, settings: AppSettings) -> CertificateRead:
    """For its issuing department, its holder and the platform operator; anyone else gets 404."""
    return _read(db, queries.get_certificate(db, actor=actor, number=number), settings)


@router.post("/{number}/suspend", response_model=CertificateRead, summary="Suspend (issuers)")
def suspend_certificate(
    number: str, body: StatusChange, db: DB, actor: CurrentActor, settings: AppSettings
) -> CertificateRead:
    with transaction(db):
        certificate = actions.suspend_certificate(db, actor=actor, number=number, reason=body.reason)
        return _read(db, certificate, settings)


@router.post("/{number}/reinstate", response_model=CertificateRead, summary="Reinstate (issuers)")
def reinstate_certificate(
    number: str, body: StatusChange, db: DB, actor: CurrentActor, settings: AppSettings
) -> CertificateRead:
    with transaction(db):
        certificate = actions.reinstate_certificate(db, actor=actor, number=number, reason=body.reason)
        return _read(db, certificate, settings)


@router.post("/{number}/revoke", response_model=CertificateRead, summary="Revoke for good (issuers)")
def revoke_certificate(
    number: str, body: StatusChange, db: DB, actor: CurrentActor, settings: AppSettings
) -> CertificateRead:
    with transaction(db):
        certificate = actions.revoke_certificate(db, actor=actor, number=number, reason=body.reason)
        return _read(db, certificate, settings)


def _read(db: DB, certificate: Certificate, settings: Settings) -> CertificateRead:
    return queries.certificate_reads(db, [certificate], settings=settings)[0]


def verdict_read(verdict: Verdict, *, settings: Settings) -> VerdictRead:
    return VerdictRead(
        ok=verdict.ok,
        code=verdict.code,
        message=verdict.detail,
        number=verdict.number,
        certificate_type=urls.parse_type_url(settings.web.public_url, verdict.vct) if verdict.vct else None,
        issuer=verdict.issuer,
        issuer_name=verdict.issuer_name,
        claims=dict(verdict.claims),
        valid_from=verdict.valid_from,
        valid_until=verdict.valid_until,
        is_status_checked=verdict.status_checked,
    )


# -- discovery -------------------------------------------------------------------------------------------


@well_known.get("/.well-known/jwks.json", summary="The trust list: every issuer key, current and retired")
def jwks(db: DB, keys: Keys, settings: AppSettings) -> JSONResponse:
    """A JWKS whose keys carry `iss` and `name` besides `kid`, `alg` and `use` (docs/certificates.md)."""
    document = queries.trust_list_jwks(db, keys=keys, settings=settings)
    return JSONResponse(document, headers={"Cache-Control": f"public, max-age={DISCOVERY_MAX_AGE}"})


@well_known.get(
    "/.well-known/jwt-vc-issuer/issuers/{credit_code}",
    summary="SD-JWT VC issuer metadata of one issuing department",
)
def issuer_metadata(credit_code: str, db: DB, keys: Keys, settings: AppSettings) -> JSONResponse:
    document = queries.issuer_metadata(db, credit_code=credit_code, keys=keys, settings=settings)
    return JSONResponse(document, headers={"Cache-Control": f"public, max-age={DISCOVERY_MAX_AGE}"})


@well_known.get(
    f"{urls.TYPE_PATH}{{code}}", summary="SD-JWT VC type metadata (the `vct` of a certificate type)"
)
def type_metadata(code: str, db: DB, settings: AppSettings) -> JSONResponse:
    document = queries.type_metadata(db, code, settings=settings)
    return JSONResponse(document, headers={"Cache-Control": f"public, max-age={DISCOVERY_MAX_AGE}"})
