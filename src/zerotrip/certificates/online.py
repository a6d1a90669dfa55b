"""Verifying a certificate online: against this deployment's trust list and its own status records,
audited with the result. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.certificates import queries, sdjwt, trust, urls, verify
from zerotrip.certificates.issuing import HOLDER_SUBJECTS
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore

VERIFIED = "certificates.certificate.verified"


def verify_online(
    db: Session,
    *,
    actor: Actor,
    token: str,
    keys: KeyStore,
    settings: Settings,
    now: datetime,
    cache: queries.PublishedCache | None = None,
) -> verify.Verdict:
    """Verify a certificate, a presentation or the text of a certificate QR against this deployment's
    trust list, with status read from this platform's own records (a status list elsewhere is
    unavailable). Anyone may ask, anonymously too; every verification is audited with its result, under
    the holder as subject when the number is one of this platform's."""
    text = verify.extract_token(token)
    known = _trust(db, keys=keys, settings=settings, cache=cache, token=text)
    public_url = settings.web.public_url

    def status(uri: str, index: int) -> int:
        list_id = urls.parse_status_list_uri(public_url, uri)
        if list_id is None:
            raise verify.StatusUnavailable(f"{uri} is not a status list of this platform")
        return queries.status_at(db, list_id=list_id, index=index)

    verdict = verify.verify_token(
        text,
        trust=known,
        status=status,
        now=now,
        presentation_ttl_seconds=settings.certificates.presentation_ttl_seconds,
    )
    certificate = queries.find_certificate(db, verdict.number) if verdict.number else None
    record_event(
        db,
        actor=actor.principal,
        action=VERIFIED,
        subject_type=HOLDER_SUBJECTS[certificate.holder_kind] if certificate else "certificate",
        subject_id=certificate.holder_key if certificate else (verdict.number or "-")[:100],
        data={
            "result": verdict.code,
            "number": verdict.number,
            "issuer": verdict.issuer,
            "key_bound": verdict.key_bound,
            "disclosed": sorted(verdict.claims),
        },
    )
    return verdict


def _trust(
    db: Session,
    *,
    keys: KeyStore,
    settings: Settings,
    cache: queries.PublishedCache | None,
    token: str,
) -> trust.TrustList:
    """The deployment's trust list, from the cache unless the token names a key it lacks that really
    signed one of this platform's certificates (a new department, a rotation): then it is rebuilt. A
    forged kid never forces a rebuild, so it cannot be used to make the server reload its keys."""
    cached = cache.trust_list() if cache is not None else None
    if cached is not None:
        try:
            parsed = sdjwt.parse(token)
        except sdjwt.MalformedSdJwt:
            return cached
        if parsed.kid in cached:
            return cached
        number = parsed.payload.get("jti")
        certificate = queries.find_certificate(db, number) if isinstance(number, str) else None
        if certificate is None or certificate.kid != parsed.kid:
            return cached
    built = trust.TrustList.from_jwks(queries.trust_list_jwks(db, keys=keys, settings=settings))
    if cache is not None:
        cache.keep_trust_list(built)
    return built
