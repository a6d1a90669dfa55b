"""The bundles API: the public guide, a citizen's newborn bundle through it (one preview, one consent, the
uploads, submission, the one status), who may call what, and its problems as problem+json."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.config import Settings

from .bundle_world import BundleWorld, add_twin, build_bundle_world
from .world import sign_in_api

BASE = "/api/services/bundles"
NEWBORN = "330106-yjs-birth"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def world(db: Session, settings: Settings) -> BundleWorld:
    return build_bundle_world(db, settings)


def problem_type(response) -> str:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"])


def test_the_guide_lists_and_shows_bundles_to_anyone(client: TestClient, world: BundleWorld) -> None:
    listed = client.get(BASE, params={"event": "birth"})
    assert listed.status_code == 200, listed.text
    assert [(b["code"], b["parts"], b["trips"]) for b in listed.json()["items"]] == [(NEWBORN, 4, 0)]
    assert client.get(BASE).json()["total"] == 2
    one = client.get(f"{BASE}/{NEWBORN}").json()
    assert [p["needs"] for p in one["parts"]] == [[], [0], [1], [1, 2]]
    assert one["trips"] == {"trips": 0, "band": "zero", "separately": 0, "visits": []}
    missing = client.get(f"{BASE}/330106-yjs-nothing")
    assert missing.status_code == 404 and problem_type(missing) == "/problems/services/bundle-not-found"


def test_a_mother_applies_for_the_newborn_bundle_through_the_api(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    headers = sign_in_api(client, db, world.mother.login_name, portal="citizen")
    started = client.post(f"{BASE}/{NEWBORN}/applications", json={}, headers=headers)
    assert started.status_code == 201, started.text
    body = started.json()
    number = body["number"]
    assert (body["status"], body["state"]) == ("draft", "draft")
    assert [p["status"] for p in body["parts"]] == ["draft"] * 4
    assert len({p["department"] for p in body["parts"]}) == 4
    preview = client.get(f"{BASE}/applications/{number}/preview").json()
    assert [s["is_available"] for s in preview["sources"]] == [True, True, True]
    consented = client.post(f"{BASE}/applications/{number}/consent", json={}, headers=headers)
    assert consented.status_code == 200, consented.text
    assert [s["state"] for s in consented.json()["sources"]] == ["fetched"] * 3
    incomplete = client.post(f"{BASE}/applications/{number}/submit", json={"pledge": True}, headers=headers)
    assert incomplete.status_code == 422
    assert problem_type(incomplete) == "/problems/services/evidence-incomplete"
    assert {e["pointer"] for e in incomplete.json()["errors"]} == {
        "#/parts/1/materials/2",
        "#/parts/3/materials/2",
    }
    for need in consented.json()["uploads"]:
        uploaded = client.put(
            f"{BASE}/applications/{number}/{need['path']}/upload",
            files={"file": ("scan.pdf", PDF, "application/pdf")},
            headers=headers,
        )
        assert uploaded.status_code == 200, uploaded.text
    wrong = client.put(
        f"{BASE}/applications/{number}/sources/0/upload",
        files={"file": ("scan.pdf", PDF, "application/pdf")},
        headers=headers,
    )
    assert wrong.status_code == 422 and problem_type(wrong) == "/problems/services/invalid-upload"
    submitted = client.post(f"{BASE}/applications/{number}/submit", json={"pledge": True}, headers=headers)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "in_progress"
    assert [p["status"] for p in submitted.json()["parts"]] == ["submitted", "waiting", "waiting", "waiting"]
    mine = client.get(f"{BASE}/applications").json()
    assert [(b["number"], b["status"], b["parts"], b["approved"]) for b in mine["items"]] == [
        (number, "in_progress", 4, 0)
    ]
    again = client.post(f"{BASE}/applications/{number}/consent", json={}, headers=headers)
    assert again.status_code == 409 and problem_type(again) == "/problems/services/application-closed"
    # A part is an application of its own, but not changed as one.
    part = submitted.json()["parts"][1]["application_number"]
    direct = client.post(f"/api/services/applications/{part}/withdraw", json={}, headers=headers)
    assert direct.status_code == 409 and problem_type(direct) == "/problems/services/application-closed"
    withdrawn = client.post(f"{BASE}/applications/{number}/withdraw", json={"reason": ""}, headers=headers)
    assert withdrawn.json()["status"] == "withdrawn"


def test_who_may_call_what(client: TestClient, db: Session, world: BundleWorld) -> None:
    anonymous = client.post(f"{BASE}/{NEWBORN}/applications", json={})
    assert anonymous.status_code == 401 and problem_type(anonymous) == "/problems/not-authenticated"
    headers = sign_in_api(client, db, world.mother.login_name, portal="citizen")
    number = client.post(f"{BASE}/{NEWBORN}/applications", json={}, headers=headers).json()["number"]
    no_csrf = client.post(f"{BASE}/applications/{number}/consent", json={})
    assert no_csrf.status_code == 403 and problem_type(no_csrf) == "/problems/csrf-failed"

    headers = sign_in_api(client, db, world.stranger.login_name, portal="citizen")
    for response in (
        client.get(f"{BASE}/applications/{number}"),
        client.get(f"{BASE}/applications/{number}/preview"),
        client.post(f"{BASE}/applications/{number}/consent", json={}, headers=headers),
        client.post(f"{BASE}/applications/{number}/withdraw", json={}, headers=headers),
    ):
        assert response.status_code == 404, response.text
        assert problem_type(response) == "/problems/services/bundle-application-not-found"
    company = client.post(
        f"{BASE}/330106-yjs-business-change/applications",
        json={"enterprise_uscc": world.enterprise_uscc},
        headers=headers,
    )
    assert company.status_code == 403 and problem_type(company) == "/problems/services/applying-not-allowed"

    headers = sign_in_api(client, db, "330106-psb-reviewer")
    staff = client.post(f"{BASE}/{NEWBORN}/applications", json={}, headers=headers)
    assert staff.status_code == 403 and problem_type(staff) == "/problems/services/applying-not-allowed"
    spec = {
        "code": "330106-yjs-test",
        "name": "测试“一件事”",
        "life_event": "birth",
        "description": "测试",
        "parts": ["330106-health-0001", "330106-psb-0001"],
    }
    refused = client.post(BASE, json=spec, headers=headers)
    assert refused.status_code == 403 and problem_type(refused) == "/problems/services/not-bundle-manager"

    headers = sign_in_api(client, db, "zj-admin")
    defined = client.post(BASE, json=spec, headers=headers)
    assert defined.status_code == 201, defined.text
    taken = client.post(BASE, json=spec, headers=headers)
    assert taken.status_code == 409 and problem_type(taken) == "/problems/services/bundle-code-taken"
    invalid = client.post(
        BASE, json={**spec, "code": "330106-yjs-x", "parts": ["330106-psb-0001", "x-0001"]}, headers=headers
    )
    assert invalid.status_code == 422 and problem_type(invalid) == "/problems/services/invalid-bundle"
    assert invalid.json()["errors"] == [{"detail": "x-0001 is not a service item", "pointer": "#/parts/1"}]
    revised = client.put(f"{BASE}/330106-yjs-test", json={**spec, "name": "改名"}, headers=headers)
    assert (revised.status_code, revised.json()["version"]) == (200, 2)


def test_the_legal_representative_applies_for_the_enterprise_change_bundle(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    headers = sign_in_api(client, db, world.father.login_name, portal="citizen")
    started = client.post(
        f"{BASE}/330106-yjs-business-change/applications",
        json={"enterprise_uscc": world.enterprise_uscc},
        headers=headers,
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["applicant_kind"] == "enterprise"
    # Registration first; tax, social insurance and housing fund all need its result and start together.
    assert [p["needs"] for p in body["parts"]] == [[], [0], [0], [0]]
    # The enterprise register is read once for the registration change and the housing fund.
    assert [(s["resource_code"], s["parts"]) for s in body["sources"]] == [
        ("330000-market.enterprises", [0, 3])
    ]
    consented = client.post(f"{BASE}/applications/{body['number']}/consent", json={}, headers=headers).json()
    assert [s["state"] for s in consented["sources"]] == ["fetched"]
    assert {f["value"] for f in consented["form"] if f["name"].endswith(".uscc")} == {world.enterprise_uscc}


def test_acceptance_one_form_four_departments_each_reviewing_its_part_with_its_own_login(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    """The newborn bundle: one application creates parts in four departments (health, public security,
    medical insurance, human resources and social security); each department's reviewer, signed in with
    their own login, works only their part; the mother follows one combined status."""
    mother = sign_in_api(client, db, world.mother.login_name, portal="citizen")
    body = client.post(f"{BASE}/{NEWBORN}/applications", json={}, headers=mother).json()
    number = body["number"]
    consented = client.post(f"{BASE}/applications/{number}/consent", json={}, headers=mother).json()
    for need in consented["uploads"]:
        client.put(
            f"{BASE}/applications/{number}/{need['path']}/upload",
            files={"file": ("scan.pdf", PDF, "application/pdf")},
            headers=mother,
        )
    submitted = client.post(
        f"{BASE}/applications/{number}/submit", json={"pledge": True}, headers=mother
    ).json()
    parts = [p["application_number"] for p in submitted["parts"]]
    assert [p["department"] for p in submitted["parts"]] == [
        "杭州市西湖区卫生健康局",
        "杭州市公安局西湖区分局",
        "杭州市西湖区医疗保障局",
        "杭州市人力资源和社会保障局",
    ]
    logins = (
        "330106-health-reviewer",
        "330106-psb-reviewer",
        "330106-medical-reviewer",
        "330100-hrss-reviewer",
    )
    for index, login in enumerate(logins):
        staff = sign_in_api(client, db, login)
        queue = client.get("/api/services/applications/queue", headers=staff).json()
        # Each department's queue holds its own part, and only once the parts it needs are approved.
        assert [e["number"] for e in queue["items"]] == [parts[index]], login
        for other in parts[:index] + parts[index + 1 :]:
            refused = client.post(f"/api/services/applications/{other}/accept", json={}, headers=staff)
            assert refused.status_code == 404, (login, other)
            assert problem_type(refused) == "/problems/services/application-not-found"
        me = parts[index]
        assert (
            client.post(f"/api/services/applications/{me}/accept", json={}, headers=staff).status_code == 200
        )
        reviewed = client.post(
            f"/api/services/applications/{me}/reviews", json={"note": "审查通过"}, headers=staff
        )
        assert reviewed.status_code == 200, reviewed.text
        approved = client.post(f"/api/services/applications/{me}/approve", json={}, headers=staff)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        sign_in_api(client, db, world.mother.login_name, portal="citizen")
        status = client.get(f"{BASE}/applications/{number}").json()
        expected = "done" if index == len(logins) - 1 else "in_progress"
        assert (status["status"], sum(p["status"] == "approved" for p in status["parts"])) == (
            expected,
            index + 1,
        )
    final = client.get(f"{BASE}/applications/{number}").json()
    assert all(p["result_certificate_number"] for p in final["parts"])
    # The registration's evidence is the birth certificate's result, pushed on.
    registration = client.get(f"/api/services/applications/{parts[1]}").json()
    passed = registration["evidence"][0]
    assert (passed["source_kind"], passed["state"], passed["note"]) == ("prior_result", "attached", parts[0])


def test_a_mother_of_twins_chooses_which_birth_the_bundle_is_about_through_the_api(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    twin = add_twin(db, world)
    headers = sign_in_api(client, db, world.mother.login_name, portal="citizen")
    number = client.post(f"{BASE}/{NEWBORN}/applications", json={}, headers=headers).json()["number"]
    consented = client.post(f"{BASE}/applications/{number}/consent", json={}, headers=headers)
    assert [s["state"] for s in consented.json()["sources"]] == ["choosing", "fetched", "fetched"]
    candidates = client.get(f"{BASE}/applications/{number}/preview").json()["sources"][0]["candidates"]
    names = [{f["name"]: f["value"] for f in c["fields"]}["child_name"] for c in candidates]
    assert sorted(names) == sorted([world.child_name, twin])
    mother_ids = {{f["name"]: f["value"] for f in c["fields"]}["mother_id"] for c in candidates}
    assert mother_ids == {world.mother.resident_id[:4] + "*" * 10 + world.mother.resident_id[-4:]}
    choose = f"{BASE}/applications/{number}/sources/0/choose"
    for body in ({"record": 2}, {"record": -1}, {}):
        bad = client.post(choose, json=body, headers=headers)
        assert bad.status_code == 422 and problem_type(bad) == "/problems/validation-failed", bad.text
    assert (
        problem_type(
            client.post(f"{BASE}/applications/{number}/sources/1/choose", json={"record": 0}, headers=headers)
        )
        == "/problems/validation-failed"
    )
    chosen = client.post(choose, json={"record": names.index(world.child_name)}, headers=headers)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["sources"][0]["state"] == "fetched"
    form = {f["name"]: f["value"] for f in chosen.json()["form"]}
    assert form["0.births.child_name"] == world.child_name
    # Another citizen finds no such bundle application to choose in.
    client.cookies.clear()
    other = sign_in_api(client, db, world.stranger.login_name, portal="citizen")
    stranger = client.post(choose, json={"record": 0}, headers=other)
    assert stranger.status_code == 404
    assert problem_type(stranger) == "/problems/services/bundle-application-not-found"
