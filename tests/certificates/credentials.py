"""Synthetic keys, trust lists and certificates for the pure certificate modules' tests (no database)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from zerotrip.certificates import sdjwt, signing, statuslist
from zerotrip.certificates.trust import TrustList, build_jwks
from zerotrip.keys import KeyStore, SigningKey

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
PUBLIC_URL = "https://zerotrip.example.gov.cn"
ORG_ID = 17
ISS = f"{PUBLIC_URL}/issuers/11330100MB1A2B3C4D"
VCT = f"{PUBLIC_URL}/certificate-types/no-real-estate"
STATUS_URI = f"{PUBLIC_URL}/api/certificates/status-lists/1"
STATUS_IDX = 4242
HOLDER = "330102199001011237"
TTL = 300

# A typical certificate: ten fields, Chinese text, a number, a date and a nested value.
FIELDS: dict[str, Any] = {
    "holder_name": "王小明",
    "holder_id": HOLDER,
    "address": "浙江省杭州市西湖区文三路 90 号",
    "household_registration": "杭州市西湖区",
    "real_estate_count": 0,
    "searched_regions": ["330100", "330106"],
    "search_date": "2026-11-28",
    "purpose": "住房公积金提取",
    "remarks": "经不动产登记信息系统查询，申请人在查询范围内无不动产登记记录。",
    "certifier": {"unit": "杭州市不动产登记中心", "window": 7},
}


@dataclass
class Deployment:
    keys: KeyStore
    issuer: SigningKey
    status_key: SigningKey

    @property
    def trust(self) -> TrustList:
        entries = [(key, ISS, "杭州市规划和自然资源局") for key in signing.issuer_keys(self.keys, ORG_ID)]
        entries += [(key, PUBLIC_URL, "zerotrip") for key in signing.status_keys(self.keys)]
        return TrustList.from_jwks(build_jwks(entries))

    def holder_key(self, holder: str = HOLDER) -> Any:
        return signing.holder_private_key(self.keys, holder)


def make_deployment(folder: Path, algorithm: str) -> Deployment:
    keys = KeyStore(folder)
    return Deployment(
        keys=keys,
        issuer=signing.issuer_signing_key(keys, ORG_ID, algorithm=algorithm),
        status_key=signing.status_signing_key(keys, algorithm="ES256"),
    )


def payload_claims(
    *,
    iss: str = ISS,
    iat: datetime = NOW,
    nbf: datetime | None = None,
    exp: datetime | None = NOW + timedelta(days=365),
    number: str = "1.2.156.3005.2.11330000002500031X001.11330100MB1A2B3C4D.482915038271.001.K",
    idx: int = STATUS_IDX,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": iss,
        "vct": VCT,
        "jti": number,
        "iat": iat,
        "nbf": nbf or iat,
        "status": {"status_list": {"idx": idx, "uri": STATUS_URI}},
        "issuer_name": "杭州市规划和自然资源局",
        "type_name": "无房证明",
    }
    if exp is not None:
        claims["exp"] = exp
    return claims


def issue(
    deployment: Deployment,
    *,
    key: SigningKey | None = None,
    holder: str | None = HOLDER,
    fields: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    return sdjwt.issue(
        key=key or deployment.issuer,
        claims=payload_claims(**claims),
        disclosable=FIELDS if fields is None else fields,
        holder_public_jwk=signing.public_jwk(deployment.holder_key(holder)) if holder else None,
    )


def present(
    deployment: Deployment, token: str, disclose: list[str], *, now: datetime = NOW, holder: str = HOLDER
) -> str:
    return sdjwt.present(
        token,
        disclose=disclose,
        holder_key=deployment.holder_key(holder),
        audience="https://verifier.example.cn",
        nonce="n-0S6_WzA2Mj",
        now=now,
    )


def status_list_file(deployment: Deployment, entries: list[tuple[int, int]], *, uri: str = STATUS_URI) -> str:
    return statuslist.status_list_token(
        key=deployment.status_key,
        uri=uri,
        bits=2,
        size=8192,
        entries=entries,
        now=NOW,
        ttl_seconds=300,
    )


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def strict_json(segment: str) -> Any:
    """Decode a JWS segment the way RFC 7515 and RFC 9901 require, independently of the code under test:
    the base64url alphabet without padding, canonical (zero unused bits), UTF-8 JSON without duplicate
    member names. None when it is not."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != segment:
        return None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in items}) != len(items):
            raise ValueError("duplicate")
        return dict(items)

    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=pairs)
    except ValueError:
        return None
