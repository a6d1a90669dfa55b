"""SD-JWT VC issue, present and parse: the format of docs/certificates.md and RFC 9901's encoding rules."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from tests.certificates.credentials import (
    FIELDS,
    HOLDER,
    ISS,
    NOW,
    Deployment,
    issue,
    make_deployment,
    present,
    strict_json,
)
from zerotrip.certificates import jose, sdjwt, signing

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture(scope="module", params=["ES256", "EdDSA"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    yield make_deployment(tmp_path_factory.mktemp("keys"), request.param)


def test_rfc_9901_disclosure_digests() -> None:
    # RFC 9901 section 5.2 ("given_name": "John") and section 4.2.3 (UTF-8 "Möbius").
    john = "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd"
    assert sdjwt.digest(john) == "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"
    mobius = "WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    assert sdjwt.digest(mobius) == "uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY"
    assert sdjwt.disclosures(f"x.y.z~{john}~{mobius}~") == {"given_name": "John", "family_name": "Möbius"}


def test_issued_token_has_the_contracted_shape(deployment: Deployment) -> None:
    token = issue(deployment)
    assert token.endswith("~") and token.count("~") == len(FIELDS) + 1
    jwt, *disclosures, tail = token.split("~")
    assert tail == ""
    header_segment, payload_segment, _ = jwt.split(".")
    header, payload = strict_json(header_segment), strict_json(payload_segment)
    assert header == {"alg": deployment.issuer.algorithm, "typ": "dc+sd-jwt", "kid": deployment.issuer.kid}
    assert payload["iss"] == ISS and payload["_sd_alg"] == "sha-256"
    assert payload["iat"] == payload["nbf"] == int(NOW.timestamp())
    assert payload["cnf"] == {"jwk": signing.public_jwk(deployment.holder_key())}
    # Nothing personal in the always-disclosed part.
    for value in (FIELDS["holder_name"], FIELDS["holder_id"], FIELDS["address"]):
        assert value not in json.dumps(payload, ensure_ascii=False)
    # One disclosure per field, each [128-bit salt, name, value], its digest in the sorted _sd.
    names = {}
    digests = []
    for disclosure in disclosures:
        salt, name, value = strict_json(disclosure)
        assert len(base64.urlsafe_b64decode(salt + "==")) == 16
        names[name] = value
        digests.append(
            base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode("ascii")).digest())
            .rstrip(b"=")
            .decode()
        )
    assert names == FIELDS
    assert payload["_sd"] == sorted(payload["_sd"])
    assert set(digests) < set(payload["_sd"])
    # Decoys pad the digests to a multiple of 8, with at least two of them.
    assert len(payload["_sd"]) % 8 == 0 and len(payload["_sd"]) - len(digests) >= 2


def test_salts_and_decoys_are_fresh_each_time(deployment: Deployment) -> None:
    first, second = sdjwt.parse(issue(deployment)), sdjwt.parse(issue(deployment))
    assert not set(first.payload["_sd"]) & set(second.payload["_sd"])
    assert not set(first.disclosures) & set(second.disclosures)


def test_decoys_hide_the_field_count(deployment: Deployment) -> None:
    sizes = {
        len(sdjwt.parse(issue(deployment, fields=dict(list(FIELDS.items())[:n]))).payload["_sd"])
        for n in range(1, 7)
    }
    assert sizes == {8}


def test_issue_refuses_reserved_or_clashing_names(deployment: Deployment) -> None:
    for fields in ({"iss": "x"}, {"_sd": []}, {"cnf": {}}, {"jti": "1"}, {"status": 1}):
        with pytest.raises(ValueError):
            issue(deployment, fields=fields)


def test_present_keeps_chosen_disclosures_and_binds_them(deployment: Deployment) -> None:
    token = issue(deployment)
    shown = present(deployment, token, ["holder_name", "real_estate_count"])
    assert sdjwt.disclosures(shown) == {"holder_name": "王小明", "real_estate_count": 0}
    parsed = sdjwt.parse(shown)
    binding = sdjwt.verify_key_binding(parsed)
    assert binding.issued_at == int(NOW.timestamp()) and binding.nonce == "n-0S6_WzA2Mj"
    kb_header = strict_json(parsed.key_binding.split(".")[0])
    assert kb_header == {"alg": "ES256", "typ": "kb+jwt"}
    kb_payload = strict_json(parsed.key_binding.split(".")[1])
    expected = hashlib.sha256(shown[: shown.rfind("~") + 1].encode("ascii")).digest()
    assert kb_payload["sd_hash"] == base64.urlsafe_b64encode(expected).rstrip(b"=").decode()
    # A presentation can be presented again (its old KB-JWT is dropped, a new one made).
    again = present(deployment, shown, ["holder_name"], now=NOW + timedelta(seconds=5))
    assert sdjwt.disclosures(again) == {"holder_name": "王小明"}
    assert sdjwt.verify_key_binding(sdjwt.parse(again)).issued_at == int(NOW.timestamp()) + 5


def test_presentation_contains_none_of_the_undisclosed_values(deployment: Deployment) -> None:
    token = issue(deployment)
    shown_names = ["holder_name", "search_date"]
    shown = present(deployment, token, shown_names)
    # Everything a reader could see: the raw text and every segment decoded.
    decoded = [shown]
    for part in shown.replace(".", "~").split("~"):
        value = strict_json(part)
        if value is not None:
            decoded.append(json.dumps(value, ensure_ascii=False))
            decoded.append(json.dumps(value))
    text = "\n".join(decoded)
    for name, value in FIELDS.items():
        rendered = [json.dumps(value, ensure_ascii=False), json.dumps(value)]
        if isinstance(value, str):
            rendered.append(value)
        if name in shown_names:
            assert any(r in text for r in rendered)
        else:
            assert name not in text
            if name != "real_estate_count":  # "0" appears anyway, inside digests and times
                assert not any(r in text for r in rendered), name


def test_present_refuses_fields_the_certificate_lacks(deployment: Deployment) -> None:
    with pytest.raises(ValueError, match="no field"):
        present(deployment, issue(deployment), ["holder_name", "salary"])


def test_present_without_a_holder_key_is_a_plain_selection(deployment: Deployment) -> None:
    token = issue(deployment)
    shown = sdjwt.present(token, disclose=["holder_id"], holder_key=None, audience="a", nonce="n", now=NOW)
    assert shown.endswith("~") and sdjwt.disclosures(shown) == {"holder_id": HOLDER}


def test_holder_keys_are_derived_per_holder_and_deployment(tmp_path: Path) -> None:
    first, second = make_deployment(tmp_path / "a", "ES256"), make_deployment(tmp_path / "b", "ES256")
    jwk = signing.public_jwk
    assert jwk(first.holder_key()) == jwk(first.holder_key())
    assert jwk(first.holder_key()) != jwk(first.holder_key("91330100MA27XL0E2J"))
    assert jwk(first.holder_key()) != jwk(second.holder_key())


def test_strict_base64url() -> None:
    assert jose.b64url_decode("AQ") == b"\x01"
    for bad in ("AQ==", "AR", "A", "A+", "A/", "A Q", "é"):
        with pytest.raises(ValueError):
            jose.b64url_decode(bad)


@given(
    st.binary(min_size=64, max_size=64) | st.sampled_from([bytes(64), b"\x80" * 64, bytes(31) + b"\x01" * 33])
)
def test_raw_signatures_become_the_der_cryptography_makes(signature: bytes) -> None:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    assert jose.der_signature(signature) == encode_dss_signature(r, s)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no separator",
        "a.b.c",
        "a~b.c.d~",
        "a.b~",
        "a.b.c.d~",
        "e30.e30.~",
        "eyJ0eXAiOiJkYytzZC1qd3QifQ.e30.AA~",
    ],
)
def test_parse_rejects_what_is_not_an_sd_jwt(text: str) -> None:
    with pytest.raises(sdjwt.MalformedSdJwt):
        sdjwt.parse(text)


def test_public_jwk_round_trips(deployment: Deployment) -> None:
    for key in (deployment.issuer, deployment.holder_key()):
        jwk = signing.public_jwk(key)
        public = signing.public_key_from_jwk(jwk)
        assert signing.public_jwk(public) == {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")}
    with pytest.raises(ValueError):
        signing.public_key_from_jwk({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})


@pytest.mark.parametrize("holder", [HOLDER, "91330100MA27XL0E2J", "330102199001011237", "é"])
def test_holder_keys_are_hkdf_as_the_contract_states(tmp_path: Path, holder: str) -> None:
    # The derivation written out with cryptography's HKDF, as docs/certificates.md states it.
    secret = bytes(range(32))
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=48,
        salt=b"zerotrip/certificates/holder-key/v1",
        info=holder.encode(),
    ).derive(secret)
    scalar = int.from_bytes(material, "big") % (P256_ORDER - 1) + 1
    derived = signing.derive_holder_key(secret, holder)
    assert derived.private_numbers().private_value == scalar
    keys = make_deployment(tmp_path, "ES256").keys
    assert signing.holder_public_jwk(keys, holder) == signing.public_jwk(
        signing.holder_private_key(keys, holder)
    )


def _signed(deployment: Deployment, payload: bytes, disclosures: tuple[bytes, ...] | list[bytes] = ()) -> str:
    key = deployment.issuer
    jwt = jose.sign_compact(
        payload,
        key.private_key,
        algorithm=key.algorithm,
        headers={"alg": key.algorithm, "typ": "dc+sd-jwt", "kid": key.kid},
    )
    return jwt + "~" + "".join(jose.b64url_encode(d) + "~" for d in disclosures)


def _digest(document: bytes) -> str:
    return sdjwt.digest(jose.b64url_encode(document))


@pytest.mark.parametrize(
    ("disclosure", "outcome"),
    [
        (b'["salt","given_name","John"]', {"given_name": "John"}),
        # Not as orjson writes it: the strict decoder reads it, with the same result.
        (b'[ "salt" , "given_name" , "\\u004aohn" ]', {"given_name": "John"}),
        (b'["salt","n",123456789012345678901234567890]', {"n": 123456789012345678901234567890}),
        (b'["salt","n",-0]', {"n": 0}),
        (b'["salt","n",{"a":1,"b":[1.5e-7,1E+400]}]', {"n": {"a": 1, "b": [1.5e-7, float("inf")]}}),
        (b'["salt","n",{"a":1,"a":2}]', "malformed"),
        (b'["salt","n",NaN]', "malformed"),
        (b'["salt","n","\\ud800"]', {"n": "\ud800"}),
        (b'["salt","n"]', "malformed"),
        (b'["salt","n",1],["salt","m",2]', "malformed"),
        (b'\xef\xbb\xbf["salt","n",1]', "malformed"),
    ],
)
def test_disclosures_decode_exactly_as_the_strict_standard_decoder(
    deployment: Deployment, disclosure: bytes, outcome: object
) -> None:
    payload = json.dumps({"iss": ISS, "_sd": [_digest(disclosure)], "_sd_alg": "sha-256"}).encode()
    parsed = sdjwt.parse(_signed(deployment, payload, [disclosure]))
    if outcome == "malformed":
        with pytest.raises(sdjwt.MalformedSdJwt):
            sdjwt.disclosed_claims(parsed)
    else:
        assert sdjwt.disclosed_claims(parsed) == outcome


@pytest.mark.parametrize(
    "payload",
    [
        b'{"iss":"' + ISS.encode() + b'","iss":"https://elsewhere.example"}',
        b'{"iss":"' + ISS.encode() + b'","n":NaN}',
        b'{"iss":"' + ISS.encode() + b'","a":{"b":1,"b":2}}',
        b"\xef\xbb\xbf{}",
        b"[]",
    ],
)
def test_a_payload_with_duplicate_names_or_constants_is_malformed(
    deployment: Deployment, payload: bytes
) -> None:
    with pytest.raises(sdjwt.MalformedSdJwt):
        sdjwt.parse(_signed(deployment, payload))


def test_a_payload_not_as_orjson_writes_it_still_parses(deployment: Deployment) -> None:
    payload = b'{ "iss" : "' + ISS.encode() + b'", "big": 18446744073709551616, "t": "\\u4e2d" }'
    parsed = sdjwt.parse(_signed(deployment, payload))
    assert parsed.payload == {"iss": ISS, "big": 18446744073709551616, "t": "中"}
    assert type(parsed.payload["big"]) is int


def test_canonical_json_refuses_nan_and_writes_what_orjson_cannot() -> None:
    with pytest.raises(ValueError):
        jose.canonical_json({"x": float("nan")})
    assert (
        jose.canonical_json({"n": None, "big": 2**70, "t": "中"})
        == b'{"n":null,"big":1180591620717411303424,"t":"\xe4\xb8\xad"}'
    )
    assert jose.canonical_json({1: "a"}) == b'{"1":"a"}'
