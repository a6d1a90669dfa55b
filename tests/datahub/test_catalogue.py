"""Cataloguing: stewards only, grades bound sharing and opening, every revision is a version."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.config import IdentitySettings
from zerotrip.datahub import catalogue, grades, records
from zerotrip.datahub.errors import InvalidResource, NotSteward, ResourceCodeTaken
from zerotrip.datahub.models import ResourceVersion
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import auth
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import WebSession
from zerotrip.identity.secrets import token_hash

from .conftest import PASSWORD, DatahubWorld, real_estate_spec


def test_a_resource_takes_the_highest_grade_of_its_fields(hub: DatahubWorld) -> None:
    assert hub.real_estate.grade == 3
    assert hub.county_stats.grade == 1


def test_grades_bound_share_and_open_types() -> None:
    assert grades.effective_share_type("unconditional", 3) == "conditional"
    assert grades.effective_share_type("unconditional", 4) == "none"
    assert grades.effective_share_type("conditional", 1) == "conditional"
    assert grades.effective_open_type("open", 2) == "restricted"
    assert grades.effective_open_type("open", 4) == "closed"
    assert grades.is_masked(2, grant_is_clear=False) and not grades.is_masked(2, grant_is_clear=True)
    assert not grades.is_masked(1, grant_is_clear=False)


def test_only_the_owning_departments_steward_catalogues(db: Session, hub: DatahubWorld) -> None:
    outsider = Actor(kind="staff", name="x", grants=())
    spec = real_estate_spec(hub.land.id).model_copy(update={"code": "330100-land.other"})
    with pytest.raises(NotSteward):
        catalogue.catalogue_resource(db, actor=outsider, spec=spec)
    with pytest.raises(ResourceCodeTaken):
        catalogue.catalogue_resource(db, actor=hub.steward, spec=real_estate_spec(hub.land.id))


def test_revisions_are_versioned_and_owner_cannot_change(db: Session, hub: DatahubWorld) -> None:
    spec = catalogue.spec_of(db, hub.real_estate).model_copy(update={"description": "Now with usage."})
    revised = catalogue.revise_resource(db, actor=hub.steward, code=hub.real_estate.code, spec=spec)
    assert revised.version == 2
    versions = db.scalars(
        select(ResourceVersion.version).where(ResourceVersion.resource_id == revised.id)
    ).all()
    assert sorted(versions) == [1, 2]
    moved = spec.model_copy(update={"owner_org_id": hub.data_bureau.id})
    with pytest.raises(InvalidResource):
        catalogue.revise_resource(db, actor=hub.steward, code=hub.real_estate.code, spec=moved)


def test_references_must_point_at_catalogued_fields(db: Session, hub: DatahubWorld) -> None:
    spec = real_estate_spec(hub.land.id).model_copy(update={"code": "330100-land.mortgages"})
    spec.fields[0] = spec.fields[0].model_copy(update={"reference": "330100-land.real-estate.nope"})
    with pytest.raises(InvalidResource):
        catalogue.catalogue_resource(db, actor=hub.steward, spec=spec)


def steward_session(client: TestClient, db: Session) -> dict[str, str]:
    outcome = auth.attempt_login(
        db,
        login_name="hz-land-steward",
        password=PASSWORD,
        client_address="10.0.0.1",
        portal="staff",
        settings=IdentitySettings(),
    )
    assert outcome.token
    db.flush()  # the API's session shares the test's connection but not its pending rows
    client.cookies.set(SESSION_COOKIE, outcome.token)
    session = db.get(WebSession, token_hash(outcome.token))
    assert session is not None
    return {"X-CSRF-Token": session.csrf_token}


def test_catalogue_api_checks_the_caller_and_validates(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    assert client.get("/api/datahub/resources").status_code == 401
    headers = steward_session(client, db)
    listing = client.get("/api/datahub/resources", params={"q": "不动产"})
    assert listing.status_code == 200
    codes = [r["code"] for r in listing.json()["items"]]
    assert codes == ["330100-land.real-estate", "330100-land.registrations-by-county"]
    one = client.get("/api/datahub/resources/330100-land.real-estate").json()
    by_name = {f["name"]: f for f in one["fields"]}
    assert by_name["address"]["share_type"] == "conditional"
    assert by_name["area"]["open_type"] == "closed"
    bad = real_estate_spec(hub.land.id).model_dump(mode="json") | {"subject_field": "nope", "code": "x-y-z"}
    response = client.post("/api/datahub/resources", json=bad, headers=headers)
    assert response.status_code == 422
    assert "subject_field" in response.text


def test_changing_the_region_field_recomputes_every_records_region(db: Session, hub: DatahubWorld) -> None:
    row = {
        "certificate_no": "浙(2020)01不动产权第0000001号",
        "holder_id": hub.residents[0],
        "holder_name": "王一",
        "address": "杭州市西湖区文三路1号",
        "area": "90.5",
        "usage": "住宅",
        "registered_on": "2020-01-02",
        "district": "330102",
    }
    upserted = records.upsert_record(db, resource=hub.real_estate, data=row, changed_by="test")
    assert upserted.record.division_code == "330102"  # from the region field
    spec = catalogue.spec_of(db, hub.real_estate).model_copy(update={"region_field": None})
    catalogue.revise_resource(db, actor=hub.steward, code=hub.real_estate.code, spec=spec)
    db.refresh(upserted.record)
    assert upserted.record.division_code == hub.residents[0][:6]  # now from the holder's ID number
