"""The trust list (JWKS with iss and name) and the key store layout behind it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.certificates.credentials import ISS, ORG_ID, PUBLIC_URL, issue, make_deployment
from zerotrip.certificates import signing
from zerotrip.certificates.trust import TrustList, build_jwks, deployment_jwks


def test_deployment_jwks_lists_current_and_retired_keys(tmp_path: Path) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    old = deployment.issuer
    new = signing.rotate_issuer_key(deployment.keys, ORG_ID, algorithm="EdDSA")
    other = signing.issuer_signing_key(deployment.keys, 99, algorithm="ES256")
    assert signing.issuer_org_ids(deployment.keys) == [ORG_ID, 99]
    jwks = deployment_jwks(
        deployment.keys,
        issuers=[(ORG_ID, ISS, "杭州市规划和自然资源局"), (99, f"{PUBLIC_URL}/issuers/X", "另一个部门")],
        platform_iss=PUBLIC_URL,
    )
    by_kid = {jwk["kid"]: jwk for jwk in jwks["keys"]}
    assert set(by_kid) == {old.kid, new.kid, other.kid, deployment.status_key.kid}
    assert by_kid[old.kid] == {
        **signing.public_jwk(old),
        "iss": ISS,
        "name": "杭州市规划和自然资源局",
    }
    assert by_kid[old.kid]["alg"] == "ES256" and by_kid[new.kid]["alg"] == "EdDSA"
    assert by_kid[new.kid]["kty"] == "OKP" and by_kid[old.kid]["kty"] == "EC"
    assert all(jwk["use"] == "sig" and "d" not in jwk for jwk in jwks["keys"])
    assert by_kid[deployment.status_key.kid]["iss"] == PUBLIC_URL
    assert TrustList.from_jwks(jwks).find(new.kid).iss == ISS  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "jwk_change",
    [
        {"alg": "RS256"},
        {"alg": "EdDSA"},  # an EC key cannot be EdDSA
        {"use": "enc"},
        {"iss": None},
        {"kid": ""},
        {"x": "AAAA"},
        {"d": "c2VjcmV0"},
    ],
)
def test_from_jwks_refuses_unusable_entries(tmp_path: Path, jwk_change: dict[str, object]) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    jwk = {**build_jwks([(deployment.issuer, ISS, "x")])["keys"][0], **jwk_change}
    with pytest.raises(ValueError):
        TrustList.from_jwks({"keys": [jwk]})


def test_duplicate_kids_are_refused(tmp_path: Path) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    jwk = build_jwks([(deployment.issuer, ISS, "x")])["keys"][0]
    with pytest.raises(ValueError, match="twice"):
        TrustList.from_jwks({"keys": [jwk, jwk]})


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, TrustList, str]]:
    deployment = make_deployment(tmp_path, "EdDSA")
    body = json.dumps(deployment.trust.to_jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield (
            f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json",
            deployment.trust,
            issue(deployment),
        )
    finally:
        server.shutdown()
        server.server_close()


def test_load_from_file_and_url(tmp_path: Path, served: tuple[str, TrustList, str]) -> None:
    url, trust, _ = served
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(trust.to_jwks()))
    assert TrustList.load(path).to_jwks() == trust.to_jwks()
    assert TrustList.load(url).to_jwks() == trust.to_jwks()
    with pytest.raises(ValueError):
        TrustList.from_json("not json")
