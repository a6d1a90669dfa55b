"""Share requests and grants: at once, approve, refuse, overdue, withdraw, revoke; and over the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.common.clock import CHINA
from zerotrip.datahub import catalogue, sharing, sharing_queries
from zerotrip.datahub.errors import (
    GrantNotFound,
    NotSteward,
    ShareNotAllowed,
    ShareRequestClosed,
    ShareRequestNotFound,
)
from zerotrip.datahub.models import Grant, ShareRequest
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed, ValidationFailed

from .conftest import DatahubWorld, county_stats_spec
from .sharing_world import (
    GRANTED,
    PURPOSE,
    SETTINGS,
    audit_count,
    bearer,
    platform_admin,
    second_consumer,
    sign_in,
    unconditional_real_estate,
)

# A Friday morning in Hangzhou: five working days run out at midnight after the next Friday.
FRIDAY = datetime(2024, 6, 7, 10, 0, tzinfo=CHINA).astimezone(UTC)
DUE = datetime(2024, 6, 15, 0, 0, tzinfo=CHINA)


def ask(
    db: Session,
    hub: DatahubWorld,
    *,
    fields: list[str] = GRANTED,
    code: str | None = None,
    consumer: Actor | None = None,
    clear: bool = False,
) -> ShareRequest:
    return sharing.request_share(
        db,
        actor=consumer or hub.consumer_actor(db),
        resource_code=code or hub.real_estate.code,
        fields=fields,
        purpose=PURPOSE,
        legal_basis="《住房公积金管理条例》第二十四条",
        is_clear_requested=clear,
        settings=SETTINGS,
    )


def grants_of(db: Session, request: ShareRequest) -> list[Grant]:
    return list(db.scalars(select(Grant).where(Grant.request_id == request.id).order_by(Grant.granted_at)))


def test_unconditional_fields_are_granted_at_once(db: Session, hub: DatahubWorld) -> None:
    with clock.frozen(FRIDAY):
        request = ask(db, hub, code=hub.county_stats.code, fields=["district", "month", "registrations"])
    assert re.fullmatch(r"SR[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", request.number)
    assert request.status == "approved" and request.due_at is None
    (grant,) = grants_of(db, request)
    assert grant.fields == ["district", "month", "registrations"] and grant.purpose == PURPOSE
    assert grant.expires_at == FRIDAY + timedelta(days=SETTINGS.grant_days)
    assert not grant.is_clear


def test_conditional_request_waits_and_the_steward_approves(db: Session, hub: DatahubWorld) -> None:
    with clock.frozen(FRIDAY):
        request = ask(db, hub)
    assert request.status == "pending" and grants_of(db, request) == []
    assert request.due_at == DUE
    with clock.frozen(FRIDAY + timedelta(days=3)):
        grant = sharing.approve_share_request(db, actor=hub.steward, number=request.number, settings=SETTINGS)
    assert request.status == "approved" and request.decided_by == hub.steward.principal
    assert grant.fields == GRANTED and grant.consumer_client_id == hub.consumer.client_id
    assert sharing_queries.is_live(grant, now=FRIDAY + timedelta(days=4))
    assert audit_count(db, "datahub.grant.granted") == 1
    with pytest.raises(ShareRequestClosed):
        sharing.approve_share_request(db, actor=hub.steward, number=request.number, settings=SETTINGS)


def test_mixed_request_grants_what_it_can_and_waits_for_the_rest(db: Session, hub: DatahubWorld) -> None:
    summary = unconditional_real_estate(db, hub)
    request = ask(db, hub, code=summary.code, fields=["area", "holder_name", "address"])
    assert request.status == "pending"
    assert [g.fields for g in grants_of(db, request)] == [["area", "holder_name"]]
    sharing.approve_share_request(db, actor=hub.steward, number=request.number, settings=SETTINGS)
    assert [g.fields for g in grants_of(db, request)] == [["area", "holder_name"], ["address"]]
    # Clear values of a sensitive field always wait for the steward, and come in one grant.
    clear = ask(db, hub, code=summary.code, fields=["area", "holder_name"], clear=True)
    assert [g.fields for g in grants_of(db, clear)] == [["area"]]
    grant = sharing.approve_share_request(db, actor=hub.steward, number=clear.number, settings=SETTINGS)
    assert grant.is_clear and grant.fields == ["area", "holder_name"]


def test_refusal_needs_a_reason_and_the_owning_steward(db: Session, hub: DatahubWorld) -> None:
    request = ask(db, hub)
    with pytest.raises(ValidationFailed):
        sharing.refuse_share_request(db, actor=hub.steward, number=request.number, reason="  ")
    outsider = Actor(kind="staff", name="x", grants=())
    with pytest.raises(NotSteward):
        sharing.refuse_share_request(db, actor=outsider, number=request.number, reason="no")
    refused = sharing.refuse_share_request(
        db, actor=hub.steward, number=request.number.lower(), reason="用途与申请材料不符"
    )
    assert refused.status == "refused" and refused.reason == "用途与申请材料不符"
    assert grants_of(db, request) == []
    with pytest.raises(ShareRequestClosed):
        sharing.approve_share_request(db, actor=hub.steward, number=request.number, settings=SETTINGS)


def test_overdue_requests_are_escalated_once_and_listed_for_the_operator(
    db: Session, hub: DatahubWorld
) -> None:
    operator = platform_admin(db, hub)
    with clock.frozen(FRIDAY):
        late = ask(db, hub)
        prompt = ask(db, hub, fields=["area"])
        sharing.approve_share_request(db, actor=hub.steward, number=prompt.number, settings=SETTINGS)
    assert sharing.flag_overdue_requests(db, now=DUE - timedelta(seconds=1)) == []
    with clock.frozen(DUE + timedelta(hours=1)):
        assert sharing.flag_overdue_requests(db, now=clock.now()) == [late]
        assert late.is_escalated
        assert sharing.flag_overdue_requests(db, now=clock.now()) == []
        rows, total = sharing_queries.list_share_requests(db, actor=operator, is_overdue_only=True)
        assert [r.number for r in rows] == [late.number] and total == 1
        assert sharing_queries.is_overdue(late, now=clock.now()) and not sharing_queries.is_overdue(
            prompt, now=clock.now()
        )
    assert audit_count(db, "datahub.share_request.escalated") == 1
    # The late decision still counts; the request just stops being overdue.
    sharing.approve_share_request(db, actor=hub.steward, number=late.number, settings=SETTINGS)
    with clock.frozen(DUE + timedelta(hours=2)):
        assert sharing_queries.list_share_requests(db, actor=operator, is_overdue_only=True) == ([], 0)


def test_fields_that_may_not_be_shared_are_refused_outright(db: Session, hub: DatahubWorld) -> None:
    spec = county_stats_spec(hub.land.id).model_copy(
        update={"code": "330100-land.internal-notes", "share_type": "none"}
    )
    internal = catalogue.catalogue_resource(db, actor=hub.steward, spec=spec)
    with pytest.raises(ShareNotAllowed) as refused:
        ask(db, hub, code=internal.code, fields=["district"])
    assert refused.value.extensions["fields"] == ["district"]
    assert db.scalar(select(func.count()).select_from(ShareRequest)) == 0
    with pytest.raises(ValidationFailed):
        ask(db, hub, fields=["holder_id", "no_such_field"])
    with pytest.raises(NotAllowed):
        ask(db, hub, consumer=hub.steward)


def test_only_the_consumer_withdraws_and_sees_its_requests(db: Session, hub: DatahubWorld) -> None:
    request = ask(db, hub)
    other = second_consumer(db, hub)
    with pytest.raises(ShareRequestNotFound):
        sharing.withdraw_share_request(db, actor=other, number=request.number)
    with pytest.raises(ShareRequestNotFound):
        sharing_queries.get_share_request(db, actor=other, number=request.number)
    assert sharing_queries.list_share_requests(db, actor=other) == ([], 0)
    assert sharing_queries.get_share_request(db, actor=hub.steward, number=request.number) is request
    sharing.withdraw_share_request(db, actor=hub.consumer_actor(db), number=request.number)
    assert request.status == "withdrawn"
    with pytest.raises(ShareRequestClosed):
        sharing.refuse_share_request(db, actor=hub.steward, number=request.number, reason="late")


def test_revoking_and_expiry_end_a_grant(db: Session, hub: DatahubWorld) -> None:
    with clock.frozen(FRIDAY):
        request = ask(db, hub, code=hub.county_stats.code, fields=["district"])
    (grant,) = grants_of(db, request)
    consumer = hub.consumer_actor(db)
    with clock.frozen(FRIDAY + timedelta(days=SETTINGS.grant_days)):
        assert not sharing_queries.is_live(grant, now=clock.now())
        assert sharing_queries.list_grants(db, actor=consumer, is_live_only=True) == []
    with clock.frozen(FRIDAY + timedelta(days=1)):
        assert [g.id for g in sharing_queries.list_grants(db, actor=consumer, is_live_only=True)] == [
            grant.id
        ]
        with pytest.raises(GrantNotFound):
            sharing.revoke_grant(db, actor=second_consumer(db, hub), grant_id=grant.id, reason="x")
        sharing.revoke_grant(db, actor=hub.steward, grant_id=grant.id, reason="用途已结束")
        assert grant.revoked_at is not None and grant.revoke_reason == "用途已结束"
        assert sharing_queries.list_grants(db, actor=consumer, is_live_only=True) == []
        assert [g.id for g in sharing_queries.list_grants(db, actor=hub.steward)] == [grant.id]
        sharing.revoke_grant(db, actor=hub.steward, grant_id=grant.id, reason="again")
    assert grant.revoke_reason == "用途已结束" and audit_count(db, "datahub.grant.revoked") == 1


def test_share_request_api_round_trip(client: TestClient, db: Session, hub: DatahubWorld) -> None:
    consumer = bearer(db, hub.consumer, hub.consumer_secret)
    body = {
        "resource_code": hub.real_estate.code,
        "fields": GRANTED,
        "purpose": PURPOSE,
        "legal_basis": "《住房公积金管理条例》第二十四条",
    }
    created = client.post("/api/datahub/share-requests", json=body, headers=consumer)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["status"] == "pending" and created.json()["grants"] == []
    none = client.post(
        "/api/datahub/share-requests", json=body | {"fields": ["holder_id", "nope"]}, headers=consumer
    )
    assert none.status_code == 422
    mine = client.get("/api/datahub/share-requests", params={"status": "pending"}, headers=consumer)
    assert [r["number"] for r in mine.json()["items"]] == [number]
    assert client.post(f"/api/datahub/share-requests/{number}/approve", headers=consumer).status_code == 403

    csrf = sign_in(client, db, "hz-land-steward")
    refused = client.post(f"/api/datahub/share-requests/{number}/refuse", json={"reason": ""}, headers=csrf)
    assert refused.status_code == 422
    approved = client.post(f"/api/datahub/share-requests/{number}/approve", headers=csrf)
    assert approved.status_code == 200, approved.text
    (grant,) = approved.json()["grants"]
    assert grant["fields"] == GRANTED and grant["is_live"] and grant["request_number"] == number
    again = client.post(f"/api/datahub/share-requests/{number}/approve", headers=csrf)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    client.cookies.clear()

    grants = client.get("/api/datahub/grants", params={"live": True}, headers=consumer).json()
    assert [g["id"] for g in grants] == [grant["id"]]
    revoked = client.post(
        f"/api/datahub/grants/{grant['id']}/revoke", json={"reason": "不再需要"}, headers=consumer
    )
    assert revoked.status_code == 200 and not revoked.json()["is_live"]
    assert (
        client.get(f"/api/datahub/share-requests/{number}", headers=consumer).json()["status"] == "approved"
    )
    assert client.get("/api/datahub/share-requests/SR2222222222", headers=consumer).status_code == 404
