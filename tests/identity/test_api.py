"""Identity API: validation names the field; every endpoint checks who is asking."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id, make_uscc
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import auth
from zerotrip.identity.actor import system
from zerotrip.identity.models import Membership, WebSession
from zerotrip.identity.secrets import token_hash

from .conftest import World


def as_session(client: TestClient, db: Session, token: str) -> dict[str, str]:
    client.cookies.set(SESSION_COOKIE, token)
    csrf = db.get(WebSession, token_hash(token)).csrf_token  # type: ignore[union-attr]
    return {"X-CSRF-Token": csrf}


def api_client(db: Session, world: World, scopes: list[str]) -> tuple[str, str]:
    client, secret = auth.register_api_client(
        db, actor=system("test"), org_id=world.hangzhou.id, name="HZ PSB", scopes=scopes
    )
    db.flush()
    return client.client_id, secret


def bearer(client: TestClient, client_id: str, secret: str, scope: str | None = None) -> dict[str, str]:
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope:
        data["scope"] = scope
    response = client.post("/api/identity/token", data=data)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def person_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "resident_id": make_resident_id(
            division_code="330106", birth_date=date(2001, 1, 9), sequence=55, sex="male"
        ),
        "name": "周子轩",
        "division_code": "330106",
    }
    body.update(overrides)
    return body


def test_invalid_resident_id_is_a_422_naming_the_field(client: TestClient, db: Session, world: World) -> None:
    headers = bearer(client, *api_client(db, world, ["identity.persons.write"]))
    valid = str(person_body()["resident_id"])
    broken = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    response = client.post("/api/identity/persons", json=person_body(resident_id=broken), headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/validation-failed"
    assert problem["errors"][0]["pointer"] == "#/resident_id"
    assert "check character" in problem["errors"][0]["detail"]


def test_sex_must_agree_with_the_id_number(client: TestClient, db: Session, world: World) -> None:
    headers = bearer(client, *api_client(db, world, ["identity.persons.write"]))
    response = client.post("/api/identity/persons", json=person_body(sex="female"), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"detail": "does not agree with the resident ID number", "pointer": "#/sex"}
    ]


def test_a_valid_person_is_registered_with_derived_birth_date(
    client: TestClient, db: Session, world: World
) -> None:
    headers = bearer(client, *api_client(db, world, ["identity.persons.write", "identity.persons.read"]))
    response = client.post("/api/identity/persons", json=person_body(), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["birth_date"] == "2001-01-09"
    assert response.json()["sex"] == "male"
    again = client.post("/api/identity/persons", json=person_body(), headers=headers)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/identity/person-already-registered"


def test_invalid_credit_code_is_a_422_naming_the_field(client: TestClient, db: Session, world: World) -> None:
    headers = bearer(client, *api_client(db, world, ["identity.enterprises.write"]))
    code = make_uscc(division_code="330106", serial=42)
    body = {
        "name": "杭州西湖云帆科技有限公司",
        "legal_representative_resident_id": world.alice.resident_id,
        "division_code": "330106",
    }
    broken = code[:-1] + ("1" if code[-1] != "1" else "2")
    response = client.post("/api/identity/enterprises", json={**body, "uscc": broken}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/uscc"
    ok = client.post("/api/identity/enterprises", json={**body, "uscc": code}, headers=headers)
    assert ok.status_code == 201, ok.text


def test_a_citizen_reads_their_own_record_but_not_another_citizens(
    client: TestClient, db: Session, world: World
) -> None:
    as_session(client, db, world.login(db, "alice"))
    own = client.get(f"/api/identity/persons/{world.alice.resident_id}")
    assert own.status_code == 200
    assert own.json()["name"] == "林晓雯"
    other = client.get(f"/api/identity/persons/{world.bob.resident_id}")
    assert other.status_code == 403
    assert other.json()["type"] == "/problems/identity/not-your-record"
    assert "陈建国" not in other.text


def test_anonymous_callers_must_sign_in(client: TestClient, world: World) -> None:
    response = client.get(f"/api/identity/persons/{world.alice.resident_id}")
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/not-authenticated"


def test_staff_read_people_only_in_the_region_they_serve(
    client: TestClient, db: Session, world: World
) -> None:
    as_session(client, db, world.login(db, "xh-reviewer", portal="staff"))
    assert client.get(f"/api/identity/persons/{world.alice.resident_id}").status_code == 200
    outside = client.get(f"/api/identity/persons/{world.bob.resident_id}")
    assert outside.status_code == 403
    assert outside.json()["type"] == "/problems/identity/outside-org-subtree"


def test_staff_cannot_act_outside_their_org_subtree(client: TestClient, db: Session, world: World) -> None:
    headers = as_session(client, db, world.login(db, "hz-admin", portal="staff"))
    body = {"login_name": "xh-steward", "display_name": "钱数据", "role": "data_steward"}
    inside = client.post(f"/api/identity/orgs/{world.xihu.id}/members", json=body, headers=headers)
    assert inside.status_code == 201, inside.text
    outside = client.post(
        f"/api/identity/orgs/{world.haishu.id}/members",
        json={**body, "login_name": "hs-steward"},
        headers=headers,
    )
    assert outside.status_code == 403
    assert outside.json()["type"] == "/problems/identity/outside-org-subtree"
    assert db.scalar(select(Membership).where(Membership.org_id == world.haishu.id)) is None


def test_a_reviewer_cannot_add_staff_even_in_their_own_unit(
    client: TestClient, db: Session, world: World
) -> None:
    headers = as_session(client, db, world.login(db, "xh-reviewer", portal="staff"))
    body = {"login_name": "xh-new", "display_name": "孙新", "role": "reviewer"}
    response = client.post(f"/api/identity/orgs/{world.xihu.id}/members", json=body, headers=headers)
    assert response.status_code == 403


def test_cookie_requests_to_the_api_need_the_csrf_header(
    client: TestClient, db: Session, world: World
) -> None:
    as_session(client, db, world.login(db, "hz-admin", portal="staff"))
    body = {"login_name": "xh-steward", "display_name": "钱数据", "role": "data_steward"}
    response = client.post(f"/api/identity/orgs/{world.xihu.id}/members", json=body)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/csrf-failed"


def test_an_api_client_without_the_scope_gets_403(client: TestClient, db: Session, world: World) -> None:
    headers = bearer(client, *api_client(db, world, ["identity.orgs.read"]))
    response = client.get(f"/api/identity/persons/{world.alice.resident_id}", headers=headers)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/identity/scope-not-granted"
    allowed = bearer(client, *api_client(db, world, ["identity.persons.read"]))
    assert client.get(f"/api/identity/persons/{world.alice.resident_id}", headers=allowed).status_code == 200


def test_a_token_carries_only_the_scopes_asked_for(client: TestClient, db: Session, world: World) -> None:
    cid, secret = api_client(db, world, ["identity.persons.read", "identity.orgs.read"])
    headers = bearer(client, cid, secret, scope="identity.orgs.read")
    assert client.get(f"/api/identity/persons/{world.alice.resident_id}", headers=headers).status_code == 403
    response = client.post(
        "/api/identity/token",
        data={
            "grant_type": "client_credentials",
            "client_id": cid,
            "client_secret": secret,
            "scope": "identity.persons.write",
        },
    )
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_scope"


def test_wrong_client_secret_and_bad_tokens_are_401(client: TestClient, db: Session, world: World) -> None:
    cid, _ = api_client(db, world, ["identity.orgs.read"])
    response = client.post(
        "/api/identity/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": "nope"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    bad = client.get("/api/identity/me", headers={"Authorization": "Bearer zt_forged"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"


def test_http_basic_client_authentication(client: TestClient, db: Session, world: World) -> None:
    cid, secret = api_client(db, world, ["identity.orgs.read"])
    response = client.post(
        "/api/identity/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert response.status_code == 200
    me = client.get(
        "/api/identity/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["kind"] == "client"
    assert me.json()["scopes"] == ["identity.orgs.read"]
