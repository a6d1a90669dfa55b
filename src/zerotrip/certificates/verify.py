"""Verifying a certificate: the one procedure behind the API, the public page and the offline CLI.

``verify_token`` checks, in this order, and stops at the first failure (its code is the verdict):
malformed → unknown_issuer → bad_signature → tampered_disclosure → bad_key_binding → presentation_expired →
not_yet_valid → expired → revoked / suspended / status_unavailable → valid. ``docs/certificates.md`` explains
each code. Status is looked up through a callable ``(uri, idx) -> int`` the caller supplies (the database,
an HTTP fetch, or a status list file for offline use) or not at all (``status=None``: the verdict then says
status was not checked).

Claims in a verdict are only ever the issuer-signed ones and the disclosures whose digests it signed; a
verdict that fails before the disclosures are checked carries none.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zerotrip.certificates import sdjwt
from zerotrip.certificates.statuslist import (
    INVALID,
    SUSPENDED,
    VALID,
    InvalidStatusList,
    StatusListToken,
    read_status_list_token,
)
from zerotrip.certificates.trust import TrustList

CODES = (
    "malformed",
    "unknown_issuer",
    "bad_signature",
    "tampered_disclosure",
    "bad_key_binding",
    "presentation_expired",
    "not_yet_valid",
    "expired",
    "revoked",
    "suspended",
    "status_unavailable",
    "valid",
)
# Clocks disagree: a certificate or presentation made a little "in the future" of the verifier's clock is
# still accepted. Expiry gets no such grace.
CLOCK_SKEW_SECONDS = 60


class StatusUnavailable(Exception):
    """The status list could not be fetched or verified; the message says why, in English."""


StatusLookup = Callable[[str, int], int]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    code: str
    # One plain English sentence (the UI translates by code and may show this as the technical detail).
    detail: str
    # The disclosed fields only (name → value); empty unless the issuer's signature and digests held.
    claims: Mapping[str, Any] = field(default_factory=dict)
    number: str | None = None
    issuer: str | None = None
    issuer_name: str | None = None
    type_name: str | None = None
    vct: str | None = None
    kid: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    status_checked: bool = False
    key_bound: bool = False
    # When the holder made the presentation (the KB-JWT's iat), for key-bound presentations.
    presented_at: datetime | None = None


def extract_token(text: str) -> str:
    """The token from what a QR code or a file holds: a bare token or a ``…/verify#<token>`` URL.

    Whitespace anywhere is dropped (tokens contain none; pasted text is often wrapped).
    """
    compact = "".join(text.split())
    if "#" in compact:
        # Neither base64url, "." nor "~" is "#", so the token is whatever follows the last one.
        compact = urllib.parse.unquote(compact.rsplit("#", 1)[1])
    return compact


# What JSON numbers decode to (a bool is not a number; decoded JSON holds exactly these types).
_NUMBERS = (int, float)


def _status_reference(payload: Mapping[str, Any]) -> tuple[str, int] | None:
    """The ``(uri, idx)`` of the certificate's status list entry; None without one; ValueError if bad."""
    if "status" not in payload:
        return None
    status = payload["status"]
    reference = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(reference, dict):
        raise ValueError("status has no status_list")
    uri, idx = reference.get("uri"), reference.get("idx")
    if not isinstance(uri, str) or not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
        raise ValueError("status_list needs a uri and a non-negative idx")
    return uri, idx


def verify_token(
    token: str,
    *,
    trust: TrustList,
    status: StatusLookup | None,
    now: datetime,
    presentation_ttl_seconds: int,
    require_key_binding: bool = False,
    expected_audience: str | None = None,
    expected_nonce: str | None = None,
) -> Verdict:
    """Verify an issued certificate or a presentation of one; the first failing check is the verdict.

    ``status`` None means offline without a status list (the verdict's ``status_checked`` is False);
    otherwise it is called with the certificate's status list URI and index and may raise
    StatusUnavailable. A KB-JWT, when present, is always checked; ``require_key_binding`` makes its absence
    a failure. ``expected_audience``/``expected_nonce`` are compared with the KB-JWT's when given.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        sd = sdjwt.parse(token)
    except sdjwt.MalformedSdJwt as exc:
        return Verdict(ok=False, code="malformed", detail=f"This is not an SD-JWT certificate: {exc}.")

    entry = trust.find(sd.kid)
    if entry is None:
        return Verdict(
            ok=False,
            code="unknown_issuer",
            detail=f"The certificate is signed with key {sd.kid}, which is not in the trust list.",
            kid=sd.kid,
        )
    if entry.iss != sd.issuer:
        return Verdict(
            ok=False,
            code="unknown_issuer",
            detail=(
                f"The certificate names the issuer {sd.issuer}, but the trust list gives its key {sd.kid}"
                f" to {entry.iss}."
            ),
            kid=sd.kid,
        )
    if not sdjwt.verify_signature(sd, entry.public_key, algorithm=entry.alg):
        return Verdict(
            ok=False,
            code="bad_signature",
            detail="The issuer's signature does not verify: the signed part of the certificate was changed.",
            kid=sd.kid,
        )

    try:
        claims = sdjwt.disclosed_claims(sd)
    except sdjwt.TamperedDisclosure as exc:
        return Verdict(
            ok=False,
            code="tampered_disclosure",
            detail=f"A disclosed field was not signed by the issuer ({exc}); it was changed or added.",
            kid=sd.kid,
        )
    except sdjwt.MalformedSdJwt as exc:
        return Verdict(ok=False, code="malformed", detail=f"The certificate is not well formed: {exc}.")

    payload = sd.payload
    try:
        for name in ("iat", "nbf", "exp"):
            if name in payload and type(payload[name]) not in _NUMBERS:
                raise ValueError(f"{name} is not a NumericDate")
        for name in ("vct", "jti", "issuer_name", "type_name"):
            if name in payload and type(payload[name]) is not str:
                raise ValueError(f"{name} is not a string")
        reference = _status_reference(payload)
    except ValueError as exc:
        return Verdict(ok=False, code="malformed", detail=f"The certificate is not well formed: {exc}.")

    start = payload.get("nbf", payload.get("iat"))
    valid_from = None if start is None else datetime.fromtimestamp(start, UTC)
    end = payload.get("exp")
    valid_until = None if end is None else datetime.fromtimestamp(end, UTC)
    facts: dict[str, Any] = {
        "claims": claims,
        "number": payload.get("jti"),
        "issuer": sd.issuer,
        "issuer_name": payload.get("issuer_name") or entry.name or None,
        "type_name": payload.get("type_name"),
        "vct": payload.get("vct"),
        "kid": sd.kid,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }

    def verdict(code: str, detail: str, **extra: Any) -> Verdict:
        return Verdict(ok=code == "valid", code=code, detail=detail, **facts, **extra)

    key_bound = False
    presented_at: datetime | None = None
    if sd.key_binding is not None or require_key_binding:
        try:
            binding = sdjwt.verify_key_binding(
                sd, expected_audience=expected_audience, expected_nonce=expected_nonce
            )
        except sdjwt.BadKeyBinding as exc:
            return verdict("bad_key_binding", f"The presentation's key binding does not hold: {exc}.")
        presented_at = datetime.fromtimestamp(binding.issued_at, UTC)
        age = (now - presented_at).total_seconds()
        if age < -CLOCK_SKEW_SECONDS:
            return verdict(
                "bad_key_binding",
                f"The presentation claims to be made at {presented_at.isoformat()}, in the future.",
            )
        if age > presentation_ttl_seconds:
            return verdict(
                "presentation_expired",
                f"The presentation was made at {presented_at.isoformat()}, more than"
                f" {presentation_ttl_seconds} seconds ago; ask the holder to show it again.",
                presented_at=presented_at,
            )
        key_bound = True
    facts["key_bound"] = key_bound
    facts["presented_at"] = presented_at

    if (
        valid_from is not None
        and "nbf" in payload
        and (valid_from - now).total_seconds() > CLOCK_SKEW_SECONDS
    ):
        return verdict("not_yet_valid", f"The certificate is valid only from {valid_from.isoformat()}.")
    if valid_until is not None and now >= valid_until:
        return verdict("expired", f"The certificate expired at {valid_until.isoformat()}.")

    if status is None or reference is None:
        checked = (
            "" if reference is None else " Its revocation status was not checked (offline, no status list)."
        )
        return verdict("valid", "The certificate is authentic and within its validity period." + checked)
    uri, idx = reference
    try:
        value = status(uri, idx)
    except StatusUnavailable as exc:
        return verdict("status_unavailable", f"The certificate's status could not be checked: {exc}.")
    facts["status_checked"] = True
    if value == INVALID:
        return verdict("revoked", "The issuer has revoked this certificate.")
    if value == SUSPENDED:
        return verdict("suspended", "The issuer has suspended this certificate.")
    if value != VALID:
        facts["status_checked"] = False
        return verdict(
            "status_unavailable", f"The status list gives this certificate the unknown status {value:#04x}."
        )
    return verdict(
        "valid",
        "The certificate is authentic, within its validity period, and neither revoked nor suspended.",
    )


class StatusListLookup:
    """A status lookup over one verified status list (what the offline CLI builds from a downloaded file)."""

    def __init__(self, status_list: StatusListToken) -> None:
        self.status_list = status_list

    def __call__(self, uri: str, idx: int) -> int:
        if uri != self.status_list.uri:
            raise StatusUnavailable(
                f"the status list given is {self.status_list.uri}, but the certificate's is {uri}"
            )
        try:
            return self.status_list.status(idx)
        except IndexError:
            raise StatusUnavailable(f"index {idx} is outside the status list") from None


def status_from_list_token(
    token_text: str, trust: TrustList, *, now: datetime | None = None
) -> StatusListLookup:
    """A status lookup from a ``statuslist+jwt`` (e.g. a downloaded file); raises StatusUnavailable if it
    does not verify against the trust list or has expired."""
    try:
        return StatusListLookup(read_status_list_token(token_text, trust=trust, now=now))
    except InvalidStatusList as exc:
        raise StatusUnavailable(str(exc)) from exc
