"""Helpers for sharing, gateway and objection tests, on top of the ``hub`` fixture."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.config import DatahubSettings, IdentitySettings
from zerotrip.datahub import catalogue, sharing
from zerotrip.datahub.models import Grant, Resource
from zerotrip.datahub.records import upsert_record
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import ApiClient, Person, WebSession
from zerotrip.identity.secrets import token_hash

from .conftest import PASSWORD, ROOT, DatahubWorld, real_estate_spec

PURPOSE = "住房公积金提取审核"
SETTINGS = DatahubSettings()
GRANTED = ["holder_id", "holder_name", "address", "area"]


def title_data(hub: DatahubWorld, resident: int, n: int, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "certificate_no": f"浙(2023)杭州市不动产权第{resident:03d}{n:04d}号",
        "holder_id": hub.residents[resident],
        "holder_name": ["张三丰", "李四", "王五", "赵六", "钱七"][resident],
        "address": f"西湖区文三路{resident * 10 + n}号",
        "area": "89.50",
        "usage": "住宅",
        "registered_on": "2023-05-06",
        "district": "330106",
    }
    return data | changes


def load_titles(db: Session, hub: DatahubWorld) -> None:
    """Two titles for resident 0, one for resident 1, none for the others."""
    for resident, n in ((0, 1), (0, 2), (1, 1)):
        upsert_record(db, resource=hub.real_estate, data=title_data(hub, resident, n), changed_by="test")
    db.flush()


def grant_real_estate(
    db: Session,
    hub: DatahubWorld,
    *,
    fields: list[str] = GRANTED,
    is_clear: bool = False,
    purpose: str = PURPOSE,
    consumer: Actor | None = None,
) -> Grant:
    """A conditional request for the real-estate register, approved by its steward."""
    request = sharing.request_share(
        db,
        actor=consumer or hub.consumer_actor(db),
        resource_code=hub.real_estate.code,
        fields=fields,
        purpose=purpose,
        legal_basis="《住房公积金管理条例》第二十四条",
        is_clear_requested=is_clear,
        settings=SETTINGS,
    )
    return sharing.approve_share_request(db, actor=hub.steward, number=request.number, settings=SETTINGS)


def second_consumer(db: Session, hub: DatahubWorld) -> Actor:
    client, _ = auth.register_api_client(db, actor=ROOT, org_id=hub.land.id, name="不动产核验系统", scopes=[])
    return Actor(kind="client", name=client.name, client_id=client.client_id, client_org_id=client.org_id)


def platform_admin(db: Session, hub: DatahubWorld) -> Actor:
    membership = actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=hub.province.id,
        login_name="zj-platform",
        display_name="周主管",
        role="platform_admin",
        password=PASSWORD,
    )
    db.flush()
    return Actor(
        kind="staff",
        name="周主管",
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )


def citizen(db: Session, hub: DatahubWorld, resident: int = 0) -> tuple[Actor, Person]:
    person = actions.register_person(
        db, actor=ROOT, resident_id=hub.residents[resident], name="张三丰", division_code="330106"
    )
    db.flush()
    account = actions.create_citizen_account(
        db, actor=ROOT, person_id=person.id, login_name=f"citizen{resident}", password=PASSWORD
    )
    db.flush()
    actor = Actor(kind="citizen", name=person.name, account_id=account.id, person_id=person.id)
    return actor, person


def unconditional_real_estate(db: Session, hub: DatahubWorld) -> Resource:
    """The register catalogued as unconditional: grade 1-2 fields go at once, the grade 3 address waits."""
    spec = real_estate_spec(hub.land.id).model_copy(
        update={"code": "330100-land.real-estate-summary", "share_type": "unconditional"}
    )
    return catalogue.catalogue_resource(db, actor=hub.steward, spec=spec)


def audit_count(db: Session, action: str | None = None) -> int:
    db.flush()
    query = select(func.count()).select_from(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return db.scalar(query) or 0


def read_events(db: Session, subject_id: str) -> list[AuditEvent]:
    db.flush()
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "datahub.record.read", AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.id)
        )
    )


def bearer(db: Session, client: ApiClient, secret: str) -> dict[str, str]:
    token, _ = auth.issue_client_token(
        db, client_id=client.client_id, client_secret=secret, scope=None, settings=IdentitySettings()
    )
    db.flush()  # the API's session shares the test's connection but not its pending rows
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, db: Session, login_name: str, portal: str = "staff") -> dict[str, str]:
    """A web session cookie on ``client``; returns the CSRF header the API wants with it."""
    outcome = auth.attempt_login(
        db,
        login_name=login_name,
        password=PASSWORD,
        client_address="10.0.0.2",
        portal=portal,  # type: ignore[arg-type]
        settings=IdentitySettings(),
    )
    assert outcome.token, outcome
    db.flush()
    client.cookies.set(SESSION_COOKIE, outcome.token)
    session = db.get(WebSession, token_hash(outcome.token))
    assert session is not None
    return {"X-CSRF-Token": session.csrf_token}
