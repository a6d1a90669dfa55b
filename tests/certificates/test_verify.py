"""The verification procedure: every verdict code, their order, tampering properties and key rotation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.certificates.credentials import (
    FIELDS,
    ISS,
    NOW,
    ORG_ID,
    STATUS_IDX,
    STATUS_URI,
    TTL,
    Deployment,
    issue,
    make_deployment,
    present,
    status_list_file,
    strict_json,
)
from zerotrip.certificates import jose, sdjwt, signing
from zerotrip.certificates.statuslist import INVALID, SUSPENDED, VALID
from zerotrip.certificates.trust import TrustList, build_jwks
from zerotrip.certificates.verify import (
    CODES,
    StatusLookup,
    StatusUnavailable,
    Verdict,
    extract_token,
    status_from_list_token,
    verify_token,
)

ALGORITHMS = ["ES256", "EdDSA"]


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Deployment]:
    return {alg: make_deployment(tmp_path_factory.mktemp(alg), alg) for alg in ALGORITHMS}


@pytest.fixture(params=ALGORITHMS)
def deployment(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> Deployment:
    return deployments[request.param]


def always(value: int) -> StatusLookup:
    def lookup(uri: str, idx: int) -> int:
        assert (uri, idx) == (STATUS_URI, STATUS_IDX)
        return value

    return lookup


def check(
    deployment: Deployment,
    token: str,
    *,
    status: StatusLookup | None = None,
    at: timedelta = timedelta(0),
    trust: TrustList | None = None,
    require_key_binding: bool = False,
) -> Verdict:
    verdict = verify_token(
        token,
        trust=trust or deployment.trust,
        status=status,
        now=NOW + at,
        presentation_ttl_seconds=TTL,
        require_key_binding=require_key_binding,
    )
    assert verdict.code in CODES and verdict.ok == (verdict.code == "valid")
    assert verdict.detail.endswith(".") and verdict.detail[0].isupper()
    return verdict


# -- round trips -------------------------------------------------------------------------------------------
def test_issued_token_verifies_offline_with_every_field(deployment: Deployment) -> None:
    verdict = check(deployment, issue(deployment))
    assert verdict.ok and verdict.claims == FIELDS
    assert not verdict.status_checked and "not checked" in verdict.detail
    assert not verdict.key_bound
    assert verdict.issuer == ISS and verdict.issuer_name == "杭州市规划和自然资源局"
    assert verdict.type_name == "无房证明" and verdict.vct.endswith("/certificate-types/no-real-estate")
    assert verdict.number.startswith("1.2.156.3005.2.")
    assert verdict.valid_from == NOW and verdict.valid_until == NOW + timedelta(days=365)
    assert verdict.kid == deployment.issuer.kid


def test_presentation_verifies_with_only_the_chosen_fields(deployment: Deployment) -> None:
    shown = present(deployment, issue(deployment), ["holder_name", "real_estate_count"])
    verdict = check(
        deployment, shown, status=always(VALID), at=timedelta(seconds=30), require_key_binding=True
    )
    assert verdict.ok and verdict.key_bound and verdict.status_checked
    assert verdict.claims == {"holder_name": "王小明", "real_estate_count": 0}
    assert verdict.presented_at == NOW


def test_dropping_disclosures_is_selective_disclosure_not_tampering(deployment: Deployment) -> None:
    jwt, *disclosures, _ = issue(deployment).split("~")
    verdict = check(deployment, "~".join([jwt, disclosures[3], disclosures[0], ""]))
    assert verdict.ok and set(verdict.claims) == {list(FIELDS)[3], next(iter(FIELDS))}
    assert check(deployment, jwt + "~").ok


def test_a_certificate_without_expiry_or_holder_key(deployment: Deployment) -> None:
    verdict = check(deployment, issue(deployment, exp=None, holder=None), at=timedelta(days=3650))
    assert verdict.ok and verdict.valid_until is None


# -- each verdict code -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["", "hello", "eyJhbGciOiJFUzI1NiJ9.e30.sig", "a.b.c~d~", "~~~", "e30.e30.e30~"]
)
def test_malformed(deployment: Deployment, text: str) -> None:
    verdict = check(deployment, text)
    assert verdict.code == "malformed" and verdict.claims == {} and verdict.issuer is None


def test_malformed_header_type(deployment: Deployment) -> None:
    key = deployment.issuer
    jwt = jose.sign_compact(
        b'{"iss":"' + ISS.encode() + b'"}',
        key.private_key,
        algorithm=key.algorithm,
        headers={"alg": key.algorithm, "typ": "JWT", "kid": key.kid},
    )
    assert check(deployment, jwt + "~").code == "malformed"


def test_unknown_issuer_key(deployment: Deployment, tmp_path: Path) -> None:
    stranger = make_deployment(tmp_path, deployment.issuer.algorithm)
    verdict = check(deployment, issue(stranger))
    assert verdict.code == "unknown_issuer" and stranger.issuer.kid in verdict.detail
    assert verdict.claims == {}


def test_unknown_issuer_when_the_key_signs_for_another_iss(deployment: Deployment) -> None:
    # A trusted department's key signing in another department's name is not trusted.
    other = ISS.replace("11330100MB1A2B3C4D", "11330100MB9Z8Y7X6W")
    assert check(deployment, issue(deployment, iss=other)).code == "unknown_issuer"


def test_bad_signature_from_another_key_under_a_trusted_kid(deployment: Deployment, tmp_path: Path) -> None:
    stranger = make_deployment(tmp_path, deployment.issuer.algorithm)
    forged_key = signing.SigningKey(
        name="forged",
        kid=deployment.issuer.kid,
        algorithm=deployment.issuer.algorithm,
        private_key=stranger.issuer.private_key,
    )
    verdict = check(deployment, issue(deployment, key=forged_key))
    assert verdict.code == "bad_signature" and verdict.claims == {}


def test_bad_signature_when_the_header_names_another_algorithm(deployments: dict[str, Deployment]) -> None:
    es, ed = deployments["ES256"], deployments["EdDSA"]
    # Signed with the EdDSA key but claiming its kid under ES256's trust entry.
    impostor = signing.SigningKey(
        name="x", kid=es.issuer.kid, algorithm="EdDSA", private_key=ed.issuer.private_key
    )
    assert check(es, issue(es, key=impostor)).code == "bad_signature"


def test_tampered_disclosure(deployment: Deployment) -> None:
    token = issue(deployment)
    changed = sdjwt.make_disclosure("real_estate_count", 3)
    jwt, *disclosures, _ = token.split("~")
    disclosures[4] = changed
    verdict = check(deployment, "~".join([jwt, *disclosures, ""]))
    assert verdict.code == "tampered_disclosure" and verdict.claims == {}


def test_bad_key_binding_by_another_holder(deployment: Deployment) -> None:
    token = issue(deployment)
    shown = present(deployment, token, ["holder_name"], holder="91330100MA27XL0E2J")
    verdict = check(deployment, shown)
    assert verdict.code == "bad_key_binding" and "holder key" in verdict.detail
    # The issuer-signed facts are still reported, so the UI can say which certificate was shown.
    assert verdict.number is not None and not verdict.key_bound


def test_bad_key_binding_when_required_but_absent(deployment: Deployment) -> None:
    token = issue(deployment)
    assert check(deployment, token, require_key_binding=True).code == "bad_key_binding"
    assert check(deployment, token).ok


def test_bad_key_binding_when_a_disclosure_is_dropped_after_binding(deployment: Deployment) -> None:
    shown = present(deployment, issue(deployment), ["holder_name", "address"])
    jwt, first, _second, kb = shown.split("~")
    verdict = check(deployment, f"{jwt}~{first}~{kb}")
    assert verdict.code == "bad_key_binding" and "sd_hash" in verdict.detail


def test_bad_key_binding_without_cnf(deployment: Deployment) -> None:
    token = issue(deployment, holder=None)
    shown = present(deployment, token, ["holder_name"])
    assert check(deployment, shown).code == "bad_key_binding"


def test_bad_key_binding_made_in_the_future(deployment: Deployment) -> None:
    shown = present(deployment, issue(deployment), ["holder_name"], now=NOW + timedelta(minutes=10))
    assert check(deployment, shown).code == "bad_key_binding"
    # Within the clock-skew allowance it holds.
    shown = present(deployment, issue(deployment), ["holder_name"], now=NOW + timedelta(seconds=50))
    assert check(deployment, shown).ok


def test_presentation_expired(deployment: Deployment) -> None:
    shown = present(deployment, issue(deployment), ["holder_name"])
    assert check(deployment, shown, at=timedelta(seconds=TTL)).ok
    verdict = check(deployment, shown, at=timedelta(seconds=TTL + 1))
    assert verdict.code == "presentation_expired" and verdict.presented_at == NOW


def test_not_yet_valid(deployment: Deployment) -> None:
    token = issue(deployment, nbf=NOW + timedelta(days=2))
    verdict = check(deployment, token)
    assert verdict.code == "not_yet_valid" and verdict.valid_from == NOW + timedelta(days=2)
    assert check(deployment, token, at=timedelta(days=2)).ok


def test_expired(deployment: Deployment) -> None:
    token = issue(deployment, exp=NOW + timedelta(days=30))
    assert check(deployment, token, at=timedelta(days=30) - timedelta(seconds=1)).ok
    verdict = check(deployment, token, at=timedelta(days=30))
    assert verdict.code == "expired" and verdict.claims == FIELDS


def test_revoked_and_suspended(deployment: Deployment) -> None:
    token = issue(deployment)
    revoked = check(deployment, token, status=always(INVALID))
    assert revoked.code == "revoked" and revoked.status_checked
    suspended = check(deployment, token, status=always(SUSPENDED))
    assert suspended.code == "suspended" and suspended.status_checked


def test_status_unavailable(deployment: Deployment) -> None:
    token = issue(deployment)

    def down(uri: str, idx: int) -> int:
        raise StatusUnavailable("the status list server did not answer")

    verdict = check(deployment, token, status=down)
    assert verdict.code == "status_unavailable" and "did not answer" in verdict.detail
    assert not verdict.status_checked
    # 0x03 is application-specific in the draft; zerotrip gives it no meaning, so it is not "valid".
    assert check(deployment, token, status=always(3)).code == "status_unavailable"


def test_status_from_a_status_list_file(deployment: Deployment) -> None:
    token = issue(deployment)
    trust = deployment.trust
    revoked = status_from_list_token(status_list_file(deployment, [(STATUS_IDX, INVALID)]), trust)
    assert check(deployment, token, status=revoked).code == "revoked"
    clean = status_from_list_token(status_list_file(deployment, [(STATUS_IDX + 1, INVALID)]), trust)
    assert check(deployment, token, status=clean).ok
    other_list = status_from_list_token(
        status_list_file(deployment, [], uri=STATUS_URI.replace("/1", "/2")), trust
    )
    assert check(deployment, token, status=other_list).code == "status_unavailable"
    with pytest.raises(StatusUnavailable):
        status_from_list_token(status_list_file(deployment, [])[:-4] + "AAAA", trust)


# -- order -------------------------------------------------------------------------------------------------
def test_the_first_failing_check_is_the_verdict(deployment: Deployment) -> None:
    expired_revoked = issue(deployment, exp=NOW + timedelta(days=1))
    assert check(deployment, expired_revoked, status=always(INVALID), at=timedelta(days=2)).code == "expired"
    not_yet = issue(deployment, nbf=NOW + timedelta(days=1), exp=NOW + timedelta(days=2))
    assert check(deployment, not_yet, status=always(INVALID)).code == "not_yet_valid"
    shown = present(deployment, expired_revoked, ["holder_name"])
    late = check(deployment, shown, status=always(INVALID), at=timedelta(days=2))
    assert late.code == "presentation_expired"
    jwt, *_disclosures, kb = shown.split("~")
    tampered = "~".join([jwt, sdjwt.make_disclosure("holder_name", "李四"), kb])
    assert (
        check(deployment, tampered, status=always(INVALID), at=timedelta(days=2)).code
        == "tampered_disclosure"
    )


# -- tampering properties ----------------------------------------------------------------------------------
REPLACEMENTS = st.sampled_from(
    [*"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", ".", "~", "=", "+", "/", " ", "é"]
)


def expected_for_signed_part(mutated: str, trust: TrustList) -> str:
    """What a change inside the issuer-signed JWT must give, by the contract's rules: a header or payload
    that no longer decodes (or no longer names typ dc+sd-jwt, a supported alg, a kid and an iss) is
    ``malformed``; a kid/iss pair the trust list does not hold is ``unknown_issuer``; anything else the
    signature catches."""
    segments = mutated.split("~", 1)[0].split(".")
    if len(segments) != 3:
        return "malformed"
    header, payload = strict_json(segments[0]), strict_json(segments[1])
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return "malformed"
    if (
        header.get("typ") != "dc+sd-jwt"
        or header.get("alg") not in ("ES256", "EdDSA")
        or not isinstance(header.get("kid"), str)
        or not header["kid"]
        or "crit" in header
        or not isinstance(payload.get("iss"), str)
    ):
        return "malformed"
    entry = trust.find(header["kid"])
    if entry is None or entry.iss != payload["iss"]:
        return "unknown_issuer"
    return "bad_signature"


@pytest.fixture(scope="module")
def samples(deployments: dict[str, Deployment]) -> dict[str, tuple[str, str, TrustList]]:
    """Per algorithm: an issued token, a key-bound presentation of it, and the trust list."""
    result = {}
    for alg, deployment in deployments.items():
        token = issue(deployment)
        result[alg] = (token, present(deployment, token, list(FIELDS)[:5]), deployment.trust)
    return result


def verify_at_now(token: str, trust: TrustList) -> Verdict:
    return verify_token(token, trust=trust, status=always(VALID), now=NOW, presentation_ttl_seconds=TTL)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    alg=st.sampled_from(ALGORITHMS),
    presented=st.booleans(),
    where=st.floats(min_value=0, max_value=1, exclude_max=True),
    region=st.sampled_from(["header", "payload", "signature"]),
    char=REPLACEMENTS,
)
def test_changing_any_byte_of_the_signed_part(
    samples: dict[str, tuple[str, str, TrustList]],
    alg: str,
    presented: bool,
    where: float,
    region: str,
    char: str,
) -> None:
    token, presentation, trust = samples[alg]
    text = presentation if presented else token
    jwt = text.split("~", 1)[0]
    header_end, payload_end = jwt.index("."), jwt.rindex(".")
    start, end = {"header": (0, header_end), "payload": (header_end + 1, payload_end)}.get(
        region, (payload_end + 1, len(jwt))
    )
    position = start + int(where * (end - start))
    if text[position] == char:
        return
    mutated = text[:position] + char + text[position + 1 :]
    expected = expected_for_signed_part(mutated, trust)
    if region == "signature":
        # Only a dot can turn a signature change into anything but a failed signature.
        assert expected == ("malformed" if char == "." else "bad_signature")
    verdict = verify_at_now(mutated, trust)
    assert verdict.code == expected, (region, position, char)
    assert verdict.claims == {}


@st.composite
def disclosure_tampering(draw: st.DrawFn) -> tuple[str, Callable[[list[str]], list[str]]]:
    kind = draw(st.sampled_from(["change", "add", "readd_modified", "duplicate", "foreign"]))
    index = draw(st.integers(min_value=0, max_value=4))
    if kind == "change":
        where = draw(st.floats(min_value=0, max_value=1, exclude_max=True))
        char = draw(REPLACEMENTS.filter(lambda c: c != "."))

        def change(ds: list[str]) -> list[str]:
            d = ds[index]
            position = int(where * len(d))
            new = d[:position] + char + d[position + 1 :]
            return ds if new == d else [*ds[:index], new, *ds[index + 1 :]]

        return kind, change
    if kind == "add":
        name = draw(st.sampled_from([*FIELDS, "salary", "marital_status"]))
        value = draw(st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none()))
        at = draw(st.integers(min_value=0, max_value=5))
        return kind, lambda ds: [*ds[:at], sdjwt.make_disclosure(name, value), *ds[at:]]
    if kind == "readd_modified":
        value = draw(st.one_of(st.text(max_size=20), st.integers()))

        def readd(ds: list[str]) -> list[str]:
            salt, name, old = strict_json(ds[index])
            if value == old:
                return ds
            rest = [*ds[:index], *ds[index + 1 :]]
            return [*rest, sdjwt.make_disclosure(name, value, salt=salt)]

        return kind, readd
    if kind == "duplicate":
        at = draw(st.integers(min_value=0, max_value=5))
        return kind, lambda ds: [*ds[:at], ds[index], *ds[at:]]
    # A genuine disclosure of another certificate by the same issuer.
    return kind, lambda ds: [*ds, FOREIGN_DISCLOSURE]


FOREIGN_DISCLOSURE = sdjwt.make_disclosure("holder_name", "王小明")


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(alg=st.sampled_from(ALGORITHMS), presented=st.booleans(), tampering=disclosure_tampering())
def test_changing_adding_or_repeating_a_disclosure(
    samples: dict[str, tuple[str, str, TrustList]],
    alg: str,
    presented: bool,
    tampering: tuple[str, Callable[[list[str]], list[str]]],
) -> None:
    token, presentation, trust = samples[alg]
    jwt, *disclosures, tail = (presentation if presented else token).split("~")
    changed = tampering[1](disclosures)
    if changed == disclosures:
        return
    verdict = verify_at_now("~".join([jwt, *changed, tail]), trust)
    assert verdict.code == "tampered_disclosure", tampering[0]
    assert verdict.claims == {}


# -- key rotation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_rotation_keeps_old_certificates_valid(tmp_path: Path, algorithm: str) -> None:
    deployment = make_deployment(tmp_path, algorithm)
    old_token = issue(deployment)
    old_kid = deployment.issuer.kid
    new_key = signing.rotate_issuer_key(deployment.keys, ORG_ID, algorithm=algorithm)
    assert new_key.kid != old_kid
    current = signing.issuer_signing_key(deployment.keys, ORG_ID, algorithm=algorithm)
    assert current.kid == new_key.kid
    new_token = issue(deployment, key=current)
    assert sdjwt.parse(new_token).kid == new_key.kid and sdjwt.parse(old_token).kid == old_kid
    trust = deployment.trust
    assert {key.kid for key in trust} >= {old_kid, new_key.kid}
    assert check(deployment, old_token, trust=trust).ok
    assert check(deployment, new_token, trust=trust).ok
    # A verifier still holding the list from before the rotation cannot check new certificates.
    before = TrustList([entry for entry in trust if entry.kid != new_key.kid])
    assert check(deployment, new_token, trust=before).code == "unknown_issuer"


def test_switching_algorithm_applies_at_rotation(tmp_path: Path) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    assert signing.issuer_signing_key(deployment.keys, ORG_ID, algorithm="EdDSA").algorithm == "ES256"
    rotated = signing.rotate_issuer_key(deployment.keys, ORG_ID, algorithm="EdDSA")
    assert rotated.algorithm == "EdDSA"
    assert check(deployment, issue(deployment, key=rotated)).ok
    assert check(deployment, issue(deployment)).ok


# -- QR content --------------------------------------------------------------------------------------------
def test_extract_token_from_a_qr_url_or_wrapped_text(deployments: dict[str, Deployment]) -> None:
    token = issue(deployments["ES256"])
    assert extract_token(token) == token
    assert extract_token(f"  https://zerotrip.example.gov.cn/verify#{token}\n") == token
    assert extract_token(f"https://x/verify#{token.replace('~', '%7E')}") == token
    wrapped = "\n".join(token[i : i + 76] for i in range(0, len(token), 76))
    assert extract_token(wrapped) == token
    assert check(deployments["ES256"], extract_token(f"https://x/verify#{token}")).ok


def test_trust_list_json_round_trip(deployment: Deployment) -> None:
    jwks = deployment.trust.to_jwks()
    again = TrustList.from_jwks(jwks)
    assert again.to_jwks() == jwks
    assert check(deployment, issue(deployment), trust=again).ok
    entry = again.find(deployment.issuer.kid)
    assert entry is not None and entry.iss == ISS
    assert build_jwks([(deployment.issuer, ISS, "x")])["keys"][0]["use"] == "sig"
