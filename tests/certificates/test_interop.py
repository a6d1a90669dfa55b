"""Third-party verification: the OpenWallet Foundation's SD-JWT reference implementation (PyPI ``sd-jwt``)
checks what zerotrip issues and presents, with its own JOSE stack (jwcrypto), and reads the same claims."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from tests.certificates.credentials import FIELDS, ISS, VCT, issue, make_deployment, present
from zerotrip.certificates import sdjwt
from zerotrip.certificates.trust import TrustList


def issuer_key_callback(trust: TrustList) -> Any:
    def key_for(issuer: str, header: dict[str, Any]) -> JWK:
        entry = trust.find(header["kid"])
        assert entry is not None and entry.iss == issuer
        return JWK.from_json(json.dumps(entry.jwk))

    return key_for


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_reference_implementation_verifies_an_issued_certificate(tmp_path: Path, algorithm: str) -> None:
    deployment = make_deployment(tmp_path, algorithm)
    token = issue(deployment)
    verifier = SDJWTVerifier(token, issuer_key_callback(deployment.trust))
    claims = verifier.get_verified_payload()
    assert {name: claims[name] for name in FIELDS} == FIELDS
    assert claims["iss"] == ISS and claims["vct"] == VCT
    assert "_sd" not in claims


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_reference_implementation_verifies_a_key_bound_presentation(tmp_path: Path, algorithm: str) -> None:
    deployment = make_deployment(tmp_path, algorithm)
    shown = present(deployment, issue(deployment), ["holder_name", "searched_regions"])
    verifier = SDJWTVerifier(
        shown,
        issuer_key_callback(deployment.trust),
        expected_aud="https://verifier.example.cn",
        expected_nonce="n-0S6_WzA2Mj",
    )
    claims = verifier.get_verified_payload()
    assert claims["holder_name"] == "王小明" and claims["searched_regions"] == ["330100", "330106"]
    assert not (set(FIELDS) - {"holder_name", "searched_regions"}) & set(claims)
    assert claims["cnf"]["jwk"]["crv"] == "P-256"


def test_reference_implementation_rejects_a_tampered_disclosure(tmp_path: Path) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    jwt, *disclosures, _ = issue(deployment).split("~")
    forged = sdjwt.make_disclosure("holder_name", "李四")
    verifier = SDJWTVerifier(
        "~".join([jwt, forged, *disclosures[1:], ""]), issuer_key_callback(deployment.trust)
    )
    claims = verifier.get_verified_payload()
    # The reference verifier ignores a disclosure whose digest is not signed; it never reaches the claims.
    assert "holder_name" not in claims
