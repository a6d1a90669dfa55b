"""Helpers shared by the open data, DCAT and return feed tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.datahub import catalogue
from zerotrip.datahub.models import Resource
from zerotrip.datahub.records import upsert_record
from zerotrip.identity import auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import ApiClient

from .conftest import DatahubWorld, real_estate_spec

COUNTY_ROWS: list[dict[str, Any]] = [
    {"district": d, "month": m, "registrations": n}
    for d, m, n in [
        ("330106", "2024-01", 812),
        ("330106", "2024-02", 455),
        ("330106", "2024-03", 1290),
        ("330106", "2024-04", 977),
        ("330102", "2024-01", 301),
        ("330102", "2024-02", 288),
        ("330105", "2024-01", 640),
    ]
]


def load(db: Session, resource: Resource, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        upsert_record(db, resource=resource, data=dict(row), changed_by="test")
    db.flush()


def api_client(
    db: Session, *, org_id: int, scopes: list[str], name: str = "县级平台"
) -> tuple[ApiClient, str]:
    client, secret = auth.register_api_client(
        db, actor=system("test"), org_id=org_id, name=name, scopes=scopes
    )
    db.flush()
    return client, secret


def client_actor(client: ApiClient) -> Actor:
    return Actor(
        kind="client",
        name=client.name,
        client_id=client.client_id,
        client_org_id=client.org_id,
        scopes=frozenset(client.scopes),
    )


def bearer(http: TestClient, client: ApiClient, secret: str) -> dict[str, str]:
    data = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret}
    response = http.post("/api/identity/token", data=data)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def restricted_resource(db: Session, hub: DatahubWorld) -> Resource:
    """The real-estate register's layout, opened as restricted: L1 fields clear, L2 and L3 masked."""
    spec = real_estate_spec(hub.land.id).model_copy(
        update={"code": "330100-land.transactions", "open_type": "restricted", "title_en": "Transactions"}
    )
    resource = catalogue.catalogue_resource(db, actor=hub.steward, spec=spec)
    db.flush()
    return resource


def estate_row(
    hub: DatahubWorld, number: int, *, district: str = "330106", area: float = 89.5
) -> dict[str, Any]:
    return {
        "certificate_no": f"浙(2024)杭州市不动产权第{number:07d}号",
        "holder_id": hub.residents[number % len(hub.residents)],
        "holder_name": "张三丰",
        "address": f"西湖区文三路{number}号",
        "area": area,
        "usage": "住宅",
        "registered_on": "2024-03-01",
        "district": district,
    }
