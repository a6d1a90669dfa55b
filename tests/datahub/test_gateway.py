"""The gateway: only granted fields, masked by grade, with provenance; exactly one audit event per subject
read; nothing read and nothing logged without a live grant; the citizen's data-use log shows each read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.datahub import gateway, sharing, uselog
from zerotrip.datahub.errors import GatewayRateLimited, NoGrant, ResourceNotFound
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.datahub.records import upsert_record
from zerotrip.datahub.schemas_sharing import LookupResult, SubjectResult
from zerotrip.identity.errors import NotYourRecord
from zerotrip.problems import ValidationFailed

from .conftest import DatahubWorld
from .sharing_world import (
    PURPOSE,
    SETTINGS,
    audit_count,
    bearer,
    citizen,
    grant_real_estate,
    load_titles,
    read_events,
    second_consumer,
    sign_in,
)

READ = "datahub.record.read"


def read(db: Session, hub: DatahubWorld, subjects: list[str], **kwargs: object) -> list[SubjectResult]:
    options: dict[str, object] = {"fields": None, "purpose": PURPOSE} | kwargs
    return gateway.lookup(
        db,
        actor=hub.consumer_actor(db),
        resource_code=hub.real_estate.code,
        subject_keys=subjects,
        **options,  # type: ignore[arg-type]
    )


def test_granted_fields_masked_by_grade_with_provenance(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub)
    results = read(db, hub, hub.residents[:3], on_behalf_of="staff:窗口张")
    assert [r.subject for r in results] == hub.residents[:3]
    assert [len(r.records) for r in results] == [2, 1, 0]
    first = results[0].records[0]
    assert set(first.fields) == {"holder_id", "holder_name", "address", "area"}  # nothing outside the grant
    assert first.fields["area"].value == "89.50" and not first.fields["area"].masked  # grade 1
    assert first.fields["holder_name"].masked and first.fields["holder_name"].value == "张*丰"
    holder = first.fields["holder_id"]
    assert holder.masked and holder.value == hub.residents[0][:4] + "*" * 10 + hub.residents[0][-4:]
    assert first.fields["address"].masked and "文三路" not in str(first.fields["address"].value)
    assert first.source == "杭州市自然资源和规划局" and first.version == 1
    assert first.updated_at is not None
    only = read(db, hub, [hub.residents[1]], fields=["area"])
    assert set(only[0].records[0].fields) == {"area"}


def test_every_subject_read_has_exactly_one_audit_event(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub)
    before = audit_count(db, READ)
    read(db, hub, [hub.residents[0], hub.residents[2], hub.residents[0].lower()], on_behalf_of="app:HF-1")
    assert audit_count(db, READ) == before + 2  # the repeated subject is read once
    (event,) = read_events(db, hub.residents[0])
    assert event.subject_type == "person" and event.actor == f"client:{hub.consumer.client_id}"
    assert event.data["consumer"] == hub.consumer.client_id
    assert event.data["consumer_org_id"] == hub.data_bureau.id
    assert event.data["resource"] == hub.real_estate.code
    assert event.data["fields"] == ["holder_id", "holder_name", "address", "area"]
    assert event.data["purpose"] == PURPOSE and event.data["on_behalf_of"] == "app:HF-1"
    assert len(read_events(db, hub.residents[2])) == 1  # asking about someone is a use of their data


def test_no_grant_no_data_and_no_audit_event(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    with pytest.raises(NoGrant):
        read(db, hub, [hub.residents[0]])
    grant_real_estate(db, hub)
    with pytest.raises(NoGrant) as outside:
        read(db, hub, [hub.residents[0]], fields=["area", "usage"])
    assert outside.value.extensions["fields"] == ["usage"]
    with pytest.raises(NoGrant):
        read(db, hub, [hub.residents[0]], purpose="另一个用途")
    with pytest.raises(NoGrant):
        gateway.lookup(
            db,
            actor=second_consumer(db, hub),
            resource_code=hub.real_estate.code,
            subject_keys=[hub.residents[0]],
            purpose=PURPOSE,
        )
    with pytest.raises(NoGrant):
        gateway.lookup(
            db,
            actor=hub.steward,
            resource_code=hub.real_estate.code,
            subject_keys=[hub.residents[0]],
            purpose=PURPOSE,
        )
    with pytest.raises(ResourceNotFound):
        gateway.lookup(
            db, actor=hub.consumer_actor(db), resource_code="nope", subject_keys=["x"], purpose=PURPOSE
        )
    with pytest.raises(ValidationFailed):
        read(db, hub, ["330106198803140013"])  # a wrong check character
    with pytest.raises(ValidationFailed):
        read(db, hub, [])
    assert audit_count(db, READ) == 0


def test_revoked_or_expired_grants_stop_reads(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    start = clock.now()
    with clock.frozen(start):
        grant = grant_real_estate(db, hub)
        assert read(db, hub, [hub.residents[0]])[0].records
    with clock.frozen(start + timedelta(days=SETTINGS.grant_days, seconds=1)), pytest.raises(NoGrant):
        read(db, hub, [hub.residents[0]])
    sharing.revoke_grant(db, actor=hub.steward, grant_id=grant.id, reason="用途已结束")
    before = audit_count(db, READ)
    with pytest.raises(NoGrant):
        read(db, hub, [hub.residents[0]])
    assert audit_count(db, READ) == before


def test_clear_grants_show_values_unmasked(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub, fields=["holder_name", "address"], is_clear=True)
    record = read(db, hub, [hub.residents[1]])[0].records[0]
    assert record.fields["holder_name"].value == "李四" and not record.fields["holder_name"].masked
    assert record.fields["address"].value == "西湖区文三路11号"


def test_exists_answers_yes_or_no_and_nothing_else(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub, fields=["holder_id"])

    def ask(subject: str) -> bool:
        return gateway.exists(
            db,
            actor=hub.consumer_actor(db),
            resource_code=hub.real_estate.code,
            subject_key=subject,
            purpose=PURPOSE,
            on_behalf_of="app:HF-2",
        )

    assert ask(hub.residents[0]) is True
    assert ask(hub.residents[4]) is False  # "holds no real estate in the province"
    assert audit_count(db, "datahub.record.checked") == 2
    assert audit_count(db, READ) == 0


def test_exists_needs_the_subject_field_granted(db: Session, hub: DatahubWorld) -> None:
    grant_real_estate(db, hub, fields=["area"])
    with pytest.raises(NoGrant):
        gateway.exists(
            db,
            actor=hub.consumer_actor(db),
            resource_code=hub.real_estate.code,
            subject_key=hub.residents[0],
            purpose=PURPOSE,
        )
    assert audit_count(db, "datahub.record.checked") == 0


def test_the_rate_limit_refuses_before_reading(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub)
    limiter = SlidingWindowLimiter(1)
    read(db, hub, [hub.residents[0]], limiter=limiter)
    before = audit_count(db, READ)
    with pytest.raises(GatewayRateLimited) as limited:
        read(db, hub, [hub.residents[0]], limiter=limiter)
    assert 1 <= limited.value.extensions["retry_after"] <= 60
    assert audit_count(db, READ) == before


def test_non_personal_reads_are_not_logged_per_subject(db: Session, hub: DatahubWorld) -> None:
    sharing.request_share(
        db,
        actor=hub.consumer_actor(db),
        resource_code=hub.county_stats.code,
        fields=["district", "registrations"],
        purpose=PURPOSE,
        legal_basis="统计",
        settings=SETTINGS,
    )
    upsert_record(
        db,
        resource=hub.county_stats,
        data={"district": "330106", "month": "2024-05", "registrations": 412},
        changed_by="test",
    )
    (result,) = gateway.lookup(
        db,
        actor=hub.consumer_actor(db),
        resource_code=hub.county_stats.code,
        subject_keys=["330106"],
        purpose=PURPOSE,
    )
    assert result.records[0].fields["registrations"].value == 412
    assert audit_count(db, READ) == 0


def test_the_citizens_data_use_log_shows_each_read(db: Session, hub: DatahubWorld) -> None:
    me, _ = citizen(db, hub, 0)
    load_titles(db, hub)
    grant_real_estate(db, hub)
    read(db, hub, [hub.residents[0], hub.residents[1]], fields=["holder_name", "area"], on_behalf_of="窗口")
    gateway.exists(
        db,
        actor=hub.consumer_actor(db),
        resource_code=hub.real_estate.code,
        subject_key=hub.residents[0],
        purpose=PURPOSE,
    )
    uses = uselog.list_data_uses(db, actor=me)
    assert [u.kind for u in uses] == ["checked", "read"]  # newest first, only this person's
    use = uses[1]
    assert use.consumer_name == "一网通办平台" and use.consumer_org_name == "浙江省数据局"
    assert use.resource_title == "不动产登记信息" and use.purpose == PURPOSE
    assert [(f.name, f.title) for f in use.fields] == [
        ("holder_name", "权利人姓名"),
        ("area", "建筑面积（平方米）"),
    ]
    assert use.on_behalf_of == "窗口"
    with pytest.raises(NotYourRecord):
        uselog.list_data_uses(db, actor=hub.steward)


def test_gateway_api(client: TestClient, db: Session, hub: DatahubWorld) -> None:
    citizen(db, hub, 0)
    load_titles(db, hub)
    grant_real_estate(db, hub)
    consumer = bearer(db, hub.consumer, hub.consumer_secret)
    url = f"/api/datahub/gateway/{hub.real_estate.code}"
    body = {"subjects": [hub.residents[0]], "purpose": PURPOSE, "on_behalf_of": "staff:王"}
    response = client.post(f"{url}/lookup", json=body, headers=consumer)
    assert response.status_code == 200, response.text
    LookupResult.model_validate(response.json())  # the public contract
    (result,) = response.json()["results"]
    record = result["records"][0]
    assert record["fields"]["holder_name"] == {"value": "张*丰", "masked": True}
    assert record["source"] == "杭州市自然资源和规划局" and record["version"] == 1
    assert len(read_events(db, hub.residents[0])) == 1

    refused = client.post(f"{url}/lookup", json=body | {"fields": ["usage"]}, headers=consumer)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/datahub/no-grant"
    assert len(read_events(db, hub.residents[0])) == 1
    too_many = client.post(f"{url}/lookup", json=body | {"subjects": ["x"] * 101}, headers=consumer)
    assert too_many.status_code == 422

    exists = client.post(
        f"{url}/exists", json={"subject": hub.residents[3], "purpose": PURPOSE}, headers=consumer
    )
    assert exists.json() == {"exists": False}

    client.app.state.datahub_gateway_limiter = SlidingWindowLimiter(1)  # type: ignore[attr-defined]
    assert client.post(f"{url}/lookup", json=body, headers=consumer).status_code == 200
    limited = client.post(f"{url}/lookup", json=body, headers=consumer)
    assert limited.status_code == 429
    assert limited.json()["type"] == "/problems/datahub/gateway-rate-limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60

    sign_in(client, db, "citizen0", portal="citizen")
    uses = client.get("/api/datahub/me/data-uses")
    assert uses.status_code == 200
    # Two lookups of this person; the refused and rate-limited calls read nothing and are not shown.
    assert [u["kind"] for u in uses.json()] == ["read", "read"]
    assert {u["consumer_name"] for u in uses.json()} == {"一网通办平台"}
    assert uses.json()[0]["fields"][1] == {"name": "holder_name", "title": "权利人姓名"}
