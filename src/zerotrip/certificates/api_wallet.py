"""The holder's side over JSON: the wallet (卡包), presentations (亮证) and use grants (用证授权) under
``/api/certificates/me/…`` for the signed-in citizen (session cookie, with the CSRF header on writes), and
``POST /api/certificates/uses``, where anyone holding a use-grant code receives the annotated copy
(public, limited per client address).

Who is asking is checked in ``wallet`` and ``grants``: anonymous callers get 401, staff and API clients
403 (they have no wallet), and a citizen asking for someone else's certificate or grant 404.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from zerotrip.certificates import grants, qr, wallet
from zerotrip.certificates.errors import UsesRateLimited
from zerotrip.certificates.schemas import (
    CertificateUseRequest,
    PresentationRead,
    PresentationRequest,
    UsedCertificateRead,
    UseGrantCreate,
    UseGrantCreated,
    UseGrantPage,
    UseGrantRead,
    WalletCertificateRead,
    WalletPage,
)
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.db import transaction
from zerotrip.deps import DB, AnyActor, CurrentActor, get_keys, get_settings
from zerotrip.keys import KeyStore
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/certificates", tags=["certificates: wallet and use grants"])
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
_limiter_lock = threading.Lock()


# -- the wallet ----------------------------------------------------------------------------------------------


@router.get("/me/certificates", response_model=WalletPage, summary="My certificates (卡包)")
def list_my_certificates(
    db: DB,
    actor: CurrentActor,
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=100),
) -> WalletPage:
    """The signed-in citizen's certificates, those of the enterprises they represent and of their minor
    children, newest first; `status` is `expired` past the validity."""
    return wallet.list_wallet(db, actor=actor, now=clock.now(), page=page, per_page=per_page)


# Declared before "/me/certificates/{number}", whose parameter would otherwise take "….pdf" as a number.
@router.get(
    "/me/certificates/{number}.pdf",
    response_class=Response,
    summary="The PDF of one of my certificates",
    responses={200: {"content": {"application/pdf": {}}}, 404: {}},
)
def my_certificate_pdf(number: str, db: DB, actor: CurrentActor, settings: AppSettings) -> Response:
    """One A4 page: every field in Chinese, the issuer, the number, the validity and the QR of the full
    certificate; the token is embedded, so uploading the PDF to the verify page checks it."""
    found = wallet.certificate_pdf(db, actor=actor, settings=settings, number=number, now=clock.now())
    return Response(
        found.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(found.filename, found.ascii_filename),
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/me/certificates/{number}/qr.svg",
    response_class=Response,
    summary="The QR of one of my certificates (SVG)",
    responses={200: {"content": {"image/svg+xml": {}}}, 404: {}},
)
def my_certificate_qr_svg(number: str, db: DB, actor: CurrentActor, settings: AppSettings) -> Response:
    """The QR printed on the PDF: the verify page with the issued token in the fragment."""
    text = wallet.certificate_qr(db, actor=actor, settings=settings, number=number, now=clock.now())
    return Response(qr.svg(text), media_type="image/svg+xml", headers={"Cache-Control": "private, no-store"})


@router.get(
    "/me/certificates/{number}/qr.png",
    response_class=Response,
    summary="The QR of one of my certificates (PNG)",
    responses={200: {"content": {"image/png": {}}}, 404: {}},
)
def my_certificate_qr_png(
    number: str,
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
    scale: int = Query(4, ge=1, le=20, description="Pixels per module."),
) -> Response:
    text = wallet.certificate_qr(db, actor=actor, settings=settings, number=number, now=clock.now())
    return Response(
        qr.png(text, scale=scale), media_type="image/png", headers={"Cache-Control": "private, no-store"}
    )


def content_disposition(filename: str, fallback: str) -> str:
    """An attachment with an ASCII name for old clients and the UTF-8 name (RFC 6266, RFC 8187)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"


@router.get(
    "/me/certificates/{number}", response_model=WalletCertificateRead, summary="One of my certificates"
)
def read_my_certificate(number: str, db: DB, actor: CurrentActor) -> WalletCertificateRead:
    """Its fields with labels, issuer, number, validity and status. Someone else's certificate: 404."""
    return wallet.open_certificate(db, actor=actor, number=number, now=clock.now())


@router.post(
    "/me/certificates/{number}/presentations",
    response_model=PresentationRead,
    status_code=201,
    summary="Show a certificate (亮证): a short-lived presentation of chosen fields",
)
def present_my_certificate(
    number: str, body: PresentationRequest, db: DB, actor: CurrentActor, keys: Keys, settings: AppSettings
) -> PresentationRead:
    """Only the chosen disclosures, with a KB-JWT signed by the holder key; verifiers accept it for
    `certificates.presentation_ttl_seconds`. Refused for revoked, suspended and expired certificates."""
    with transaction(db):
        return wallet.present_certificate(
            db,
            actor=actor,
            keys=keys,
            settings=settings,
            number=number,
            fields=body.fields,
            audience=body.audience,
            now=clock.now(),
        )


# -- use grants --------------------------------------------------------------------------------------------


@router.get("/me/grants", response_model=UseGrantPage, summary="My use grants (用证授权) and their uses")
def list_my_grants(
    db: DB,
    actor: CurrentActor,
    number: str | None = Query(None, description="Only the grants of this certificate."),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=100),
) -> UseGrantPage:
    return grants.list_use_grants(
        db, actor=actor, now=clock.now(), number=number, page=page, per_page=per_page
    )


@router.post(
    "/me/certificates/{number}/grants",
    response_model=UseGrantCreated,
    status_code=201,
    summary="Grant someone the use of a certificate",
)
def grant_use(
    number: str, body: UseGrantCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> UseGrantCreated:
    """The response carries the code and the link once; only the code's hash is kept."""
    now = clock.now()
    with transaction(db):
        grant, code = grants.create_use_grant(
            db,
            actor=actor,
            settings=settings,
            number=number,
            audience=body.audience,
            audience_kind=body.audience_kind,
            fields=body.fields,
            purpose=body.purpose,
            days=body.days,
            now=now,
        )
        return grants.created_read(db, grant, code, settings=settings, now=now)


@router.post("/me/grants/{grant_id}/withdraw", response_model=UseGrantRead, summary="Withdraw a use grant")
def withdraw_grant(grant_id: int, db: DB, actor: CurrentActor) -> UseGrantRead:
    now = clock.now()
    with transaction(db):
        grant = grants.withdraw_use_grant(db, actor=actor, grant_id=grant_id, now=now)
        return grants.grant_reads(db, [grant], now=now)[0]


# -- using a certificate by code (public) -----------------------------------------------------------------


def limit_uses(request: Request, settings: AppSettings) -> None:
    """Anyone may use a code, so callers are told apart by address (one limiter per worker process)."""
    rate = settings.certificates.use_rate_per_minute
    if rate == 0:
        return
    with _limiter_lock:
        limiter: SlidingWindowLimiter | None = getattr(request.app.state, "certificates_use_limiter", None)
        if limiter is None:
            limiter = SlidingWindowLimiter(rate)
            request.app.state.certificates_use_limiter = limiter
    wait = limiter.hit(request.client.host if request.client else "unknown")
    if wait is not None:
        raise UsesRateLimited(f"try again in {wait} seconds", retry_after=wait)


@router.post(
    "/uses",
    response_model=UsedCertificateRead,
    summary="Use a certificate with a use-grant code (用证)",
    dependencies=[Depends(limit_uses)],
)
def use_certificate(
    body: CertificateUseRequest, db: DB, actor: AnyActor, keys: Keys, settings: AppSettings
) -> UsedCertificateRead:
    """Public: state who is using it and why; the answer is a presentation of the granted fields for the
    grant's audience with the note "仅供…用于…，…前有效", never the holder's original. Every use is
    recorded and shown to the holder."""
    with transaction(db):
        return grants.use_certificate(
            db,
            actor=actor,
            keys=keys,
            settings=settings,
            code=body.code,
            used_by=body.used_by,
            reason=body.reason,
            now=clock.now(),
        )
