"""The services API: the public guide, the staff catalogue, the trip analysis and the CSV export, with
problem+json for every refusal."""

from __future__ import annotations

import copy
import io

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.services import catalogue_csv, queries

from .world import CITIZEN_LOGIN, FUND_WITHDRAWAL, MARRIAGE, ServicesWorld, fund_withdrawal_spec, sign_in_api

PROBLEM = "application/problem+json"


def test_the_guide_is_public(client: TestClient, world: ServicesWorld) -> None:
    listing = client.get("/api/services/items")
    assert listing.status_code == 200
    body = listing.json()
    assert body["total"] == 2
    assert [(i["code"], i["trips"], i["band"]) for i in body["items"]] == [
        (FUND_WITHDRAWAL, 0, "zero"),
        (MARRIAGE, 1, "one"),
    ]
    assert body["items"][0]["department"]["name"] == "杭州住房公积金管理中心"
    found = client.get(
        "/api/services/items", params={"q": "公积金", "event": "renting", "level": "city"}
    ).json()
    assert [i["code"] for i in found["items"]] == [FUND_WITHDRAWAL]
    by_department = client.get("/api/services/items", params={"department": world.civil_id}).json()
    assert [i["code"] for i in by_department["items"]] == [MARRIAGE]
    guide = client.get(f"/api/services/items/{MARRIAGE}").json()
    assert guide["trips"]["trips"] == 1 and guide["level"] == "county"
    assert guide["materials"][0]["source"] == {
        "kind": "onsite",
        "ref": None,
        "fields": [],
        "exists": False,
        "commitment": None,
        "held_by": "datahub:330000-psb.household",
    }


def test_bad_input_gets_problem_json(client: TestClient, world: ServicesWorld) -> None:
    missing = client.get("/api/services/items/330100-fund-9999")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"] == "/problems/services/item-not-found"
    bad = client.get("/api/services/items", params={"event": "graduation", "per_page": 500})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert {e["parameter"] for e in bad.json()["errors"]} == {"event", "per_page"}


def test_defining_needs_a_signed_in_manager(client: TestClient, db: Session, world: ServicesWorld) -> None:
    spec = fund_withdrawal_spec(world.fund_id).model_copy(update={"code": "330100-fund-0002"})
    body = spec.model_dump(mode="json")
    anonymous = client.post("/api/services/items", json=body)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM

    headers = sign_in_api(client, db, CITIZEN_LOGIN, portal="citizen")
    refused = client.post("/api/services/items", json=body, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/services/not-item-manager"

    headers = sign_in_api(client, db, "hz-fund-reviewer")
    assert client.post("/api/services/items", json=body).status_code == 403, "the CSRF header is needed"
    created = client.post("/api/services/items", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["trips"] == {"trips": 0, "band": "zero", "visits": []}
    again = client.post("/api/services/items", json=body, headers=headers)
    assert again.status_code == 409 and again.json()["type"] == "/problems/services/item-code-taken"

    inconsistent = body | {"promised_days": 10}
    invalid = client.post("/api/services/items", json=inconsistent, headers=headers)
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
    assert "promised time limit" in invalid.text

    unknown = copy.deepcopy(body) | {"code": "330100-fund-0003"}
    unknown["materials"][0]["source"]["ref"] = "330000-land.nothing"
    invalid = client.post("/api/services/items", json=unknown, headers=headers)
    assert invalid.status_code == 422
    assert invalid.json()["type"] == "/problems/services/invalid-item"
    assert invalid.json()["errors"] == [
        {
            "detail": "330000-land.nothing is not a catalogued data resource",
            "pointer": "#/materials/0/source/ref",
        }
    ]

    revised = client.put(
        "/api/services/items/330100-fund-0002", json=body | {"name": "租房提取住房公积金"}, headers=headers
    )
    assert revised.status_code == 200 and revised.json()["version"] == 2
    other = client.put(f"/api/services/items/{MARRIAGE}", json=body | {"code": MARRIAGE}, headers=headers)
    assert other.status_code in (403, 422)


def test_the_analysis_and_the_export_are_for_staff(
    client: TestClient, db: Session, world: ServicesWorld
) -> None:
    for path in ("/api/services/trips", "/api/services/catalogue.csv"):
        assert client.get(path).status_code == 401
    sign_in_api(client, db, CITIZEN_LOGIN, portal="citizen")
    for path in ("/api/services/trips", "/api/services/catalogue.csv"):
        refused = client.get(path)
        assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    sign_in_api(client, db, "xh-civil-reviewer")
    analysis = client.get("/api/services/trips")
    assert analysis.status_code == 200
    assert analysis.json() == queries.trip_analysis(db).as_dict()
    assert analysis.json()["total"] == {"zero": 1, "one": 1, "more": 0, "total": 2}
    exported = client.get("/api/services/catalogue.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = catalogue_csv.read_rows(io.StringIO(exported.text))
    assert [r.item for r in rows] == queries.catalogue(db)
    assert [(r.type, r.statutory_days, r.is_instant, r.life_events) for r in rows] == [
        ("payment", 3, True, ("renting",)),
        ("confirmation", 1, False, ("marriage",)),
    ]


def test_the_api_is_in_the_openapi_document_and_the_pages_are_not(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/services/items", "/api/services/items/{code}", "/api/services/trips"} <= set(paths)
    assert "/api/services/catalogue.csv" in paths
    assert not any(path in paths for path in ("/services", "/services/items/{code}", "/staff/services/trips"))
    assert set(paths["/api/services/items"]) == {"get", "post"}
