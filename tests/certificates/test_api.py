"""The certificates JSON API and the discovery URLs: who may call what, problems, and what a verifier gets."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.certificates import numbers, signing, statuslist
from zerotrip.certificates.trust import TrustList
from zerotrip.config import Settings
from zerotrip.keys import KeyStore

from .conftest import MARRIAGE, CertWorld, api_client, bearer, citizen_login, marriage, sign_in

PROBLEM = "application/problem+json"


def issue_body(world: CertWorld, **changes: Any) -> dict[str, Any]:
    body = {
        "certificate_type": "marriage-certificate",
        "holder_key": world.wife.resident_id,
        "claims": MARRIAGE | {"spouse_id": world.husband.resident_id},
    }
    return body | changes


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


def test_the_catalogue_is_public_and_only_the_operator_adds_to_it(
    client: TestClient, db: Session, world: CertWorld
) -> None:
    listed = client.get("/api/certificates/types")
    assert listed.status_code == 200
    by_code = {t["code"]: t for t in listed.json()}
    assert len(by_code) == 9
    proof = by_code["no-real-estate"]
    assert (proof["issuer_org_code"], proof["validity_days"], proof["name"]) == (
        "330000-land",
        30,
        "无房证明",
    )
    assert proof["vct"] == "http://127.0.0.1:8000/certificate-types/no-real-estate"
    assert by_code["decision-letter"]["issuer_org_code"] is None
    assert client.get("/api/certificates/types/business-licence").json()["holder_kind"] == "enterprise"
    problem(client.get("/api/certificates/types/nothing"), 404, "certificates/type-not-found")

    spec = {
        "code": "fishing-licence",
        "name": "捕捞许可证",
        "name_en": "Fishing licence",
        "issuer_org_code": "330000-market",
        "holder_kind": "person",
        "fields": [{"name": "waters", "label": "作业水域", "label_en": "Waters"}],
    }
    problem(client.post("/api/certificates/types", json=spec), 401, "not-authenticated")
    csrf = sign_in(client, db, "zj-civil-issuer")
    problem(client.post("/api/certificates/types", json=spec, headers=csrf), 403, "not-allowed")
    csrf = sign_in(client, db, "zj-admin")
    created = client.post("/api/certificates/types", json=spec, headers=csrf)
    assert created.status_code == 201, created.text
    assert created.json()["type_code"].startswith(numbers.issuer_credit_code(world.departments["market"]))


def test_a_department_system_issues_and_the_wrong_ones_get_403(
    client: TestClient, db: Session, world: CertWorld
) -> None:
    own, secret = api_client(db, world.departments["civil"], ["certificates.issue"])
    response = client.post("/api/certificates", json=issue_body(world), headers=bearer(db, own, secret))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["certificate_type"], body["issuer_org_code"], body["source"]) == (
        "marriage-certificate",
        "330000-civil",
        "api",
    )
    assert body["holder_name"] == "林晓雯" and body["status"] == "valid"
    assert numbers.is_valid_certificate_number(body["number"])
    assert body["token"].endswith("~")

    unscoped, secret2 = api_client(db, world.departments["civil"], [], name="无权限系统")
    refused = problem(
        client.post("/api/certificates", json=issue_body(world), headers=bearer(db, unscoped, secret2)),
        403,
        "identity/scope-not-granted",
    )
    assert refused["required_scope"] == "certificates.issue"
    other, secret3 = api_client(db, world.departments["land"], ["certificates.issue"], name="不动产系统")
    problem(
        client.post("/api/certificates", json=issue_body(world), headers=bearer(db, other, secret3)),
        403,
        "certificates/issuing-not-allowed",
    )
    problem(client.post("/api/certificates", json=issue_body(world)), 401, "not-authenticated")


def test_validation_problems_name_the_field(client: TestClient, db: Session, world: CertWorld) -> None:
    csrf = sign_in(client, db, "zj-civil-issuer")
    claims = MARRIAGE | {"spouse_id": world.husband.resident_id[:-1] + "Y", "registered_on": "20190520"}
    body = problem(
        client.post("/api/certificates", json=issue_body(world, claims=claims), headers=csrf),
        422,
        "validation-failed",
    )
    assert {e["pointer"] for e in body["errors"]} == {"#/claims/spouse_id", "#/claims/registered_on"}
    body = problem(
        client.post("/api/certificates", json=issue_body(world, holder_key="330106"), headers=csrf),
        422,
        "validation-failed",
    )
    assert body["errors"][0]["pointer"] == "#/holder_key"
    staff_issued = client.post("/api/certificates", json=issue_body(world), headers=csrf)
    assert staff_issued.status_code == 201 and staff_issued.json()["source"] == "staff"


def test_reading_and_searching_issued_certificates(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    first = marriage(db, world, keys, settings)
    second = marriage(db, world, keys, settings)
    db.flush()
    problem(client.get(f"/api/certificates/{first.number}"), 401, "not-authenticated")
    sign_in(client, db, "zj-civil-issuer")
    read = client.get(f"/api/certificates/{first.number}")
    assert read.status_code == 200 and read.json()["token"] == first.token
    page = client.get("/api/certificates", params={"type": "marriage-certificate", "per_page": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["number"] == second.number  # newest first (ties broken by insertion)
    assert client.get("/api/certificates", params={"number": first.number}).json()["total"] == 1
    assert client.get("/api/certificates", params={"status": "revoked"}).json()["total"] == 0
    assert client.get("/api/certificates", params={"holder": world.wife.resident_id}).json()["total"] == 2
    problem(
        client.get("/api/certificates", params={"issuer": "330000-land"}),
        403,
        "certificates/issuing-not-allowed",
    )

    sign_in(client, db, "zj-land-issuer")
    problem(client.get(f"/api/certificates/{first.number}"), 404, "certificates/certificate-not-found")
    assert client.get("/api/certificates").json()["total"] == 0  # the land department issued nothing
    sign_in(client, db, "zj-admin")
    assert client.get(f"/api/certificates/{first.number}").status_code == 200
    assert client.get("/api/certificates").json()["total"] == 2

    # The holder reads her own; her husband does not.
    sign_in(client, db, citizen_login(db, world.wife), portal="citizen")
    assert client.get(f"/api/certificates/{first.number}").json()["holder_name"] == "林晓雯"
    problem(client.get("/api/certificates"), 403, "not-allowed")
    sign_in(client, db, citizen_login(db, world.husband), portal="citizen")
    problem(client.get(f"/api/certificates/{first.number}"), 404, "certificates/certificate-not-found")


def test_revocation_reaches_the_published_list_and_the_public_verifier(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    db.flush()
    number, token = certificate.number, certificate.token
    verdict = client.post("/api/certificates/verify", json={"token": token})
    assert verdict.status_code == 200
    assert (verdict.json()["ok"], verdict.json()["code"]) == (True, "valid")
    assert verdict.json()["certificate_type"] == "marriage-certificate"
    assert verdict.json()["claims"]["holder_name"] == "林晓雯"
    assert verdict.json()["is_status_checked"] is True

    csrf = sign_in(client, db, "zj-civil-issuer")
    problem(
        client.post(f"/api/certificates/{number}/revoke", json={"reason": ""}, headers=csrf),
        422,
        "validation-failed",
    )
    suspended = client.post(f"/api/certificates/{number}/suspend", json={"reason": "核查"}, headers=csrf)
    assert suspended.json()["status"] == "suspended"
    revoked = client.post(f"/api/certificates/{number}/revoke", json={"reason": "登记错误"}, headers=csrf)
    assert (revoked.json()["status"], revoked.json()["status_reason"]) == ("revoked", "登记错误")
    problem(
        client.post(f"/api/certificates/{number}/reinstate", json={"reason": "x"}, headers=csrf),
        409,
        "certificates/certificate-revoked",
    )
    client.cookies.clear()

    # A verifier fetches the trust list and the status list as anyone would, and decodes the list.
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and "max-age" in jwks.headers["cache-control"]
    trust = TrustList.from_jwks(jwks.json())
    assert certificate.kid in trust
    listed = client.get(f"/api/certificates/status-lists/{certificate.status_list_id}")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/statuslist+jwt"
    decoded = statuslist.read_status_list_token(listed.text, trust=trust)
    assert decoded.status(certificate.status_index) == statuslist.INVALID
    problem(client.get("/api/certificates/status-lists/999999"), 404, "certificates/status-list-not-found")

    # A QR holds the token after a verify URL; the verdict says revoked, not just invalid.
    qr_text = f"{settings.web.public_url}/verify#{token}"
    verdict = client.post("/api/certificates/verify", json={"token": qr_text}).json()
    assert (verdict["ok"], verdict["code"], verdict["number"]) == (False, "revoked", number)
    malformed = client.post("/api/certificates/verify", json={"token": "hello"}).json()
    assert malformed["code"] == "malformed"


def test_the_no_real_estate_proof_over_the_api(client: TestClient, db: Session, world: CertWorld) -> None:
    sign_in_as = citizen_login(db, world.wife)
    csrf = sign_in(client, db, sign_in_as, portal="citizen")
    created = client.post("/api/certificates/no-real-estate-proofs", json={}, headers=csrf)
    assert created.status_code == 201, created.text
    assert (created.json()["certificate_type"], created.json()["issuer_org_code"]) == (
        "no-real-estate",
        "330000-land",
    )
    assert created.json()["valid_until"] is not None

    csrf = sign_in(client, db, citizen_login(db, world.owner), portal="citizen")
    problem(
        client.post("/api/certificates/no-real-estate-proofs", json={}, headers=csrf),
        409,
        "certificates/real-estate-on-record",
    )
    # The refusal was committed with the check it rests on: the owner's data-use log shows it.
    uses = client.get("/api/datahub/me/data-uses").json()
    assert [(u["kind"], u["resource_code"]) for u in uses] == [("checked", "330000-land.real-estate")]
    problem(
        client.post(
            "/api/certificates/no-real-estate-proofs",
            json={"resident_id": world.wife.resident_id},
            headers=csrf,
        ),
        403,
        "identity/not-your-record",
    )


def test_issuer_and_type_metadata_for_verifiers(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    db.flush()
    credit_code = numbers.issuer_credit_code(world.departments["civil"])
    # A valid government credit code that no department of this deployment carries.
    nowhere = SimpleNamespace(code="330000-nowhere", division_code="330000")
    metadata = client.get(f"/.well-known/jwt-vc-issuer/issuers/{credit_code}")
    assert metadata.status_code == 200
    body = metadata.json()
    assert body["issuer"] == f"{settings.web.public_url}/issuers/{credit_code}"
    civil_keys = signing.issuer_keys(keys, world.departments["civil"].id)  # rotated by earlier tests, maybe
    assert {k["kid"] for k in body["jwks"]["keys"]} == {k.kid for k in civil_keys} >= {certificate.kid}
    assert {k["iss"] for k in body["jwks"]["keys"]} == {body["issuer"]}
    problem(
        client.get(f"/.well-known/jwt-vc-issuer/issuers/{numbers.issuer_credit_code(nowhere)}"),
        404,
        "certificates/issuer-not-found",
    )
    vct = client.get("/certificate-types/no-real-estate")
    assert vct.status_code == 200
    document = vct.json()
    assert document["vct"] == f"{settings.web.public_url}/certificate-types/no-real-estate"
    assert document["name"] == "无房证明"
    sd = {c["path"][0]: c["sd"] for c in document["claims"]}
    assert sd == {
        "holder_name": "always",
        "holder_id": "always",
        "result": "always",
        "scope": "never",
        "checked_on": "never",
    }
    problem(client.get("/certificate-types/nothing"), 404, "certificates/type-not-found")
