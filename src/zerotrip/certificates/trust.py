"""The trust list: a JWKS of every key whose signature zerotrip vouches for, current and retired.

Each JWK carries ``kid``, ``alg``, ``use: "sig"`` and two extra members: ``iss`` (the issuer identifier the
key signs for, ``{public_url}/issuers/{credit code}``, or ``{public_url}`` for the platform's status-list
key) and ``name`` (the department). A verifier trusts a credential only when its ``kid`` is listed and its
``iss`` is the one the list gives for that key. Parsed public keys are kept, so verifying does not parse
JWKs again.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zerotrip.certificates.signing import issuer_keys, public_jwk, public_key_from_jwk, status_keys
from zerotrip.keys import KeyStore, PublicKey, SigningKey

_KTY_FOR_ALG = {"ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519")}
_FETCH_TIMEOUT_SECONDS = 10
_MAX_FETCH_BYTES = 4 * 1024 * 1024
# The ``name`` of the platform's status-list key in the trust list.
STATUS_SIGNER_NAME = "电子证照状态列表 (zerotrip)"


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    alg: str
    iss: str
    name: str
    jwk: dict[str, Any] = field(repr=False)
    public_key: PublicKey = field(repr=False, compare=False)


def trusted_jwk(key: SigningKey, iss: str, name: str) -> dict[str, Any]:
    """The trust-list JWK of one signing key."""
    return {**public_jwk(key), "iss": iss, "name": name}


def build_jwks(entries: Iterable[tuple[SigningKey, str, str]]) -> dict[str, Any]:
    """A JWKS from ``(key, iss, name)`` triples, one JWK per key (sorted by iss, then kid)."""
    keys = sorted(
        (trusted_jwk(key, iss, name) for key, iss, name in entries), key=lambda j: (j["iss"], j["kid"])
    )
    kids = [jwk["kid"] for jwk in keys]
    if len(set(kids)) != len(kids):
        raise ValueError("a kid appears twice in the trust list")
    return {"keys": keys}


def deployment_jwks(
    keys: KeyStore,
    *,
    issuers: Iterable[tuple[int, str, str]],
    platform_iss: str,
    status_signer_name: str = STATUS_SIGNER_NAME,
) -> dict[str, Any]:
    """The deployment's trust list: every key, current and retired, of the issuers given as
    ``(org_id, iss, name)``, and the platform's status-list keys under ``platform_iss``."""
    entries: list[tuple[SigningKey, str, str]] = []
    for org_id, iss, name in issuers:
        entries.extend((key, iss, name) for key in issuer_keys(keys, org_id))
    entries.extend((key, platform_iss, status_signer_name) for key in status_keys(keys))
    return build_jwks(entries)


def _trusted_key(jwk: Any) -> TrustedKey:
    if not isinstance(jwk, dict):
        raise ValueError("every trust-list entry must be a JSON object")
    kid, alg, iss, name = jwk.get("kid"), jwk.get("alg"), jwk.get("iss"), jwk.get("name", "")
    if not isinstance(kid, str) or not kid:
        raise ValueError("a trust-list key has no kid")
    if alg not in _KTY_FOR_ALG:
        raise ValueError(f"key {kid}: alg must be ES256 or EdDSA")
    if (jwk.get("kty"), jwk.get("crv")) != _KTY_FOR_ALG[alg]:
        raise ValueError(f"key {kid}: kty/crv do not match alg {alg}")
    if jwk.get("use", "sig") != "sig":
        raise ValueError(f"key {kid}: use must be sig")
    if not isinstance(iss, str) or not iss:
        raise ValueError(f"key {kid}: no iss")
    if not isinstance(name, str):
        raise ValueError(f"key {kid}: name must be a string")
    return TrustedKey(
        kid=kid, alg=alg, iss=iss, name=name, jwk=dict(jwk), public_key=public_key_from_jwk(jwk)
    )


class TrustList:
    """Trusted keys by kid. Build one with ``from_jwks``, ``from_json``, ``load`` or from ``TrustedKey``s."""

    def __init__(self, keys: Iterable[TrustedKey] = ()) -> None:
        self._by_kid: dict[str, TrustedKey] = {}
        for key in keys:
            if key.kid in self._by_kid:
                raise ValueError(f"kid {key.kid} appears twice in the trust list")
            self._by_kid[key.kid] = key

    @classmethod
    def from_jwks(cls, jwks: dict[str, Any]) -> TrustList:
        """Parse a JWKS; raises ValueError when any entry is not a usable trusted key."""
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ValueError('a trust list is a JWKS: {"keys": [...]}')
        return cls(_trusted_key(jwk) for jwk in jwks["keys"])

    @classmethod
    def from_json(cls, text: str | bytes) -> TrustList:
        try:
            jwks = json.loads(text)
        except ValueError as exc:
            raise ValueError("the trust list is not JSON") from exc
        return cls.from_jwks(jwks)

    @classmethod
    def load(cls, source: str | Path) -> TrustList:
        """From a file, or from an ``http(s)://`` URL (e.g. a deployment's ``/.well-known/jwks.json``)."""
        text = str(source)
        if isinstance(source, str) and text.startswith(("https://", "http://")):
            request = urllib.request.Request(text, headers={"Accept": "application/json"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=_FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
                body = response.read(_MAX_FETCH_BYTES + 1)
            if len(body) > _MAX_FETCH_BYTES:
                raise ValueError("the trust list is too large")
            return cls.from_json(body)
        return cls.from_json(Path(source).read_bytes())

    def to_jwks(self) -> dict[str, Any]:
        return {"keys": [dict(key.jwk) for key in self._by_kid.values()]}

    def find(self, kid: Any) -> TrustedKey | None:
        return self._by_kid.get(kid) if isinstance(kid, str) else None

    def __iter__(self) -> Iterator[TrustedKey]:
        return iter(self._by_kid.values())

    def __len__(self) -> int:
        return len(self._by_kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid
