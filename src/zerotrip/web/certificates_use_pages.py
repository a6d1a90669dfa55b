"""Using a certificate with a use-grant code (用证): the page behind the link a holder hands out,
``/certificates/use/{code}``, and ``/certificates/use`` to type a code read out by the holder.

Opening the link shows what the code offers (the certificate's type and issuer, who may use it, what for,
which fields and until when) and none of the certificate's values; a code that cannot be used says why
(unknown 404, expired or withdrawn 410, certificate revoked, suspended or expired 409). The visitor, signed
in or not, states who is using it and why and confirms the purpose; ``grants.use_certificate`` records the
use, which the holder sees on their grants page. The annotated copy is the answer to that POST, never a
redirect: the presentation it carries must not travel in a URL. Lookups and uses are limited per client
address as ``POST /api/certificates/uses`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from zerotrip.certificates import grants, numbers, qr
from zerotrip.certificates.api_wallet import limit_uses
from zerotrip.certificates.errors import (
    CertificateExpired,
    CertificateRevoked,
    CertificateSuspended,
    UseGrantExpired,
    UseGrantNotFound,
    UseGrantWithdrawn,
)
from zerotrip.certificates.schemas import UsedCertificateRead, UseGrantOffer
from zerotrip.certificates.types import find_certificate_type
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.keys import KeyStore
from zerotrip.problems import Problem, ValidationFailed
from zerotrip.web import csrf
from zerotrip.web.certificates_text import problem_view
from zerotrip.web.certificates_views import ClaimRow, show_value
from zerotrip.web.certificates_wallet_views import AUDIENCE_KIND_LABELS
from zerotrip.web.datahub_text import ProblemView, message_view
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import DB, china_date, china_time
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
CodePath = Annotated[str, Path(max_length=64)]
USE_PATH = "/certificates/use"
MAX_USED_BY = grants.MAX_USED_BY
MAX_REASON = grants.MAX_REASON

USE_LABELS = {"used_by": N_("Who is using it"), "reason": N_("Reason for use")}
CONFIRM_PURPOSE = N_("Confirm that you will use the certificate only for the stated purpose.")
# Why a code cannot be used, said plainly, by the problem that refused it.
REFUSALS: dict[type[Problem], str] = {
    UseGrantNotFound: N_(
        "No use grant has this code. Check the code with the holder: it may have been mistyped, or the link"
        " cut short."
    ),
    UseGrantExpired: N_(
        "The time the holder allowed is over. Ask the holder for a new code if you still need it."
    ),
    UseGrantWithdrawn: N_(
        "The holder has withdrawn this grant, so the code no longer works. Ask the holder if you still need"
        " the certificate."
    ),
    CertificateRevoked: N_(
        "The issuing department has revoked the certificate, so it can no longer be used. Ask the holder"
        " for a current certificate."
    ),
    CertificateSuspended: N_(
        "The issuing department has suspended the certificate; it cannot be used until the department"
        " reinstates it."
    ),
    CertificateExpired: N_(
        "The certificate's period of validity has ended, so it can no longer be used. Ask the holder for a"
        " current one."
    ),
}
REFUSED = tuple(REFUSALS)


def shown_code(code: str) -> str:
    """A code as the holder was shown it (``ABCD-EFGH-JKMN``) when it has the shape of one; else as typed."""
    if not numbers.is_grant_code(code):
        return code.strip()
    value = numbers.normalise_grant_code(code)
    return "-".join(value[i : i + numbers.GRANT_GROUP] for i in range(0, len(value), numbers.GRANT_GROUP))


# -- view-models -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldName:
    label: str
    label_en: str | None


@dataclass(frozen=True)
class OfferView:
    """What a code offers, without a single value of the certificate."""

    type_name: str
    type_name_en: str | None
    issuer_name: str
    audience: str
    audience_kind_label: str  # an English msgid
    purpose: str
    fields: tuple[FieldName, ...]
    expires_at: str


@dataclass(frozen=True)
class UseForm:
    used_by: str
    reason: str
    is_confirmed: bool
    max_used_by: int = MAX_USED_BY
    max_reason: int = MAX_REASON


@dataclass(frozen=True)
class Refusal:
    title: str  # the problem's English title, translated by the template
    explanation: str  # an English msgid


@dataclass(frozen=True)
class UsedView:
    """The annotated copy: the granted fields, the note, and the presentation to verify."""

    type_name: str
    type_name_en: str | None
    issuer_name: str
    number: str
    claims: tuple[ClaimRow, ...]
    valid_until: str
    note: str
    audience: str
    purpose: str
    grant_expires_at: str
    used_by: str
    reason: str
    used_at: str
    qr_svg: str | None  # None when the presentation is too long for one QR code: the text still verifies
    qr_payload: str
    seconds: int  # how long verifiers accept the presentation, from now
    presentation_expires_at: str
    token: str
    download_url: str
    download_name: str


def offer_view(offer: UseGrantOffer) -> OfferView:
    return OfferView(
        type_name=offer.type_name,
        type_name_en=offer.type_name_en or None,
        issuer_name=offer.issuer_name,
        audience=offer.audience,
        audience_kind_label=AUDIENCE_KIND_LABELS[offer.audience_kind],
        purpose=offer.purpose,
        fields=tuple(FieldName(f.label, f.label_en or None) for f in offer.fields),
        expires_at=china_time(offer.expires_at),
    )


def refusal(problem: Problem) -> Refusal:
    return Refusal(title=problem.title, explanation=REFUSALS[type(problem)])


def used_view(
    db: Session, read: UsedCertificateRead, *, used_by: str, reason: str, now: datetime
) -> UsedView:
    ctype = find_certificate_type(db, read.certificate_type)
    rows = []
    for f in read.fields:
        value, is_translated = show_value(f.value)
        rows.append(ClaimRow(f.name, f.label, f.label_en or None, value, is_translated))
    try:
        qr_svg: str | None = qr.svg(read.qr_payload)
    except qr.QrPayloadTooLong:
        qr_svg = None
    return UsedView(
        type_name=read.type_name,
        type_name_en=ctype.name_en if ctype is not None else None,
        issuer_name=read.issuer_name,
        number=read.number,
        claims=tuple(rows),
        valid_until=china_date(read.valid_until),
        note=read.note,
        audience=read.audience,
        purpose=read.purpose,
        grant_expires_at=china_time(read.grant_expires_at),
        used_by=used_by,
        reason=reason,
        used_at=china_time(now),
        qr_svg=qr_svg,
        qr_payload=read.qr_payload,
        seconds=max(0, int((read.presentation_expires_at - now).total_seconds())),
        presentation_expires_at=read.presentation_expires_at.astimezone(clock.CHINA).strftime("%H:%M:%S"),
        token=read.presentation,
        download_url="data:text/plain;charset=utf-8," + quote(read.presentation + "\n", safe=""),
        download_name=f"{read.number}.txt",
    )


# -- pages -------------------------------------------------------------------------------------------------


def _form_token(request: Request, caller: Caller) -> tuple[str, bool]:
    """A signed-in visitor's form carries the session's token; anyone else's the pre-session one."""
    return (caller.csrf_token, False) if caller.csrf_token else csrf.pre_session_token(request)


def _check_form(request: Request, caller: Caller, submitted: str) -> None:
    if caller.csrf_token:
        csrf.check_token(caller.csrf_token, submitted)
    else:
        csrf.check_pre_session(request, submitted)


def _use_page(
    request: Request,
    caller: Caller,
    *,
    code: str,
    offer: OfferView | None = None,
    form: UseForm | None = None,
    refused: Refusal | None = None,
    problem: ProblemView | None = None,
    status_code: int = 200,
) -> Response:
    token, is_new = _form_token(request, caller)
    response = get_renderer(request).render(
        request,
        "certificates/use.html",
        caller=caller,
        status_code=status_code,
        csrf_token=token,
        code=code,
        offer=offer,
        form=form,
        refused=refused,
        problem=problem,
    )
    if is_new:
        csrf.set_pre_session_cookie(request, response, token)
    return response


@router.get(USE_PATH)
def enter_code(request: Request, db: DB, code: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The form to type a code read out by the holder; a typed code goes to its link."""
    typed = numbers.normalise_grant_code(code)
    if typed:
        return redirect(f"{USE_PATH}/{quote(typed, safe='')}")
    with transaction(db):
        caller = resolve_caller(request, db)
    return _use_page(request, caller, code="")


@router.get(USE_PATH + "/{code}", dependencies=[Depends(limit_uses)])
def offer_page(request: Request, db: DB, code: CodePath) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        try:
            offer = grants.get_use_grant_offer(db, code=code, now=clock.now())
        except REFUSED as failed:
            return _use_page(
                request, caller, code=shown_code(code), refused=refusal(failed), status_code=failed.status
            )
    name = caller.actor.name if caller.actor.is_authenticated else ""
    form = UseForm(used_by=name[:MAX_USED_BY], reason="", is_confirmed=False)
    return _use_page(request, caller, code=shown_code(code), offer=offer_view(offer), form=form)


@router.post(USE_PATH + "/{code}", dependencies=[Depends(limit_uses)])
def use(
    request: Request,
    db: DB,
    code: CodePath,
    keys: Keys,
    settings: AppSettings,
    used_by: Annotated[str, Form(max_length=4 * MAX_USED_BY)] = "",
    reason: Annotated[str, Form(max_length=4 * MAX_REASON)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Record the use and answer with the annotated copy; a refusal shows the form again, and nothing is
    recorded unless the copy is handed out."""
    now = clock.now()
    form = UseForm(used_by=used_by, reason=reason, is_confirmed=bool(confirm))
    problem: ProblemView | None = None
    view: UsedView | None = None
    with transaction(db):
        caller = resolve_caller(request, db)
        _check_form(request, caller, csrf_token)
        try:
            if not confirm:
                problem = message_view(CONFIRM_PURPOSE)
            else:
                read = grants.use_certificate(
                    db,
                    actor=caller.actor,
                    keys=keys,
                    settings=settings,
                    code=code,
                    used_by=used_by,
                    reason=reason,
                    now=now,
                )
                view = used_view(db, read, used_by=used_by.strip(), reason=reason.strip(), now=now)
        except ValidationFailed as failed:
            problem = problem_view(failed, labels=USE_LABELS)
        except REFUSED as failed:
            return _use_page(
                request, caller, code=shown_code(code), refused=refusal(failed), status_code=failed.status
            )
    if view is None:
        # The form comes back with what was typed; the offer is read again, in a transaction of its own.
        with transaction(db):
            try:
                offer = grants.get_use_grant_offer(db, code=code, now=now)
            except REFUSED as failed:
                return _use_page(
                    request, caller, code=shown_code(code), refused=refusal(failed), status_code=failed.status
                )
        return _use_page(
            request,
            caller,
            code=shown_code(code),
            offer=offer_view(offer),
            form=form,
            problem=problem,
            status_code=422,
        )
    return get_renderer(request).render(request, "certificates/use_result.html", caller=caller, view=view)
