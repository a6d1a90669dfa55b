"""The gateway API against a database of its own, with real commits: on PostgreSQL a call runs on a
pooled connection in autocommit without a Session (``db.autocommit_driver``), which the other tests'
connection-bound sessions never take; on SQLite it runs in a session's transaction. Either way: one audit
event per subject read, none for a refused call, a revoked grant stops the next read, and the pool gets
its connection back out of autocommit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import date

from fastapi.testclient import TestClient

from zerotrip.app import create_app
from zerotrip.common.checks import make_resident_id
from zerotrip.config import Settings
from zerotrip.datahub import sharing
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.demo.datahub_world import build_land_world
from zerotrip.keys import KeyStore

from .conftest import PASSWORD, ROOT, DatahubWorld
from .sharing_world import PURPOSE, audit_count, bearer, grant_real_estate, load_titles


def test_gateway_calls_with_real_commits(
    new_database: Callable[..., str], keys: KeyStore, settings: Settings
) -> None:
    engine = make_engine(new_database(migrate=True))
    factory = make_sessionmaker(engine)
    local = settings.model_copy(update={"database_url": engine.url.render_as_string(hide_password=False)})
    try:
        with factory() as db, transaction(db):
            world = build_land_world(db, actor=ROOT, steward_password=PASSWORD)
            residents = [
                make_resident_id(
                    division_code="330106", birth_date=date(1988, 3, 14), sequence=i * 2 + 1, sex="male"
                )
                for i in range(5)
            ]
            hub = DatahubWorld(**{f.name: getattr(world, f.name) for f in fields(world)}, residents=residents)
            load_titles(db, hub)
            grant = grant_real_estate(db, hub)
            consumer = bearer(db, hub.consumer, hub.consumer_secret)
        url = f"/api/datahub/gateway/{hub.real_estate.code}"
        body = {"subjects": [residents[0], residents[1], residents[2]], "purpose": PURPOSE}
        with TestClient(create_app(local, session_factory=factory, keys=keys)) as client:
            for _ in range(2):  # a catalogue cache miss (read through a Session of its own), then a hit
                response = client.post(f"{url}/lookup", json=body, headers=consumer)
                assert response.status_code == 200, response.text
                first, second, third = response.json()["results"]
                assert [len(first["records"]), len(second["records"]), third["records"]] == [2, 1, []]
                record = first["records"][0]
                assert record["fields"]["holder_name"] == {"value": "张*丰", "masked": True}
                assert record["source"] == "杭州市自然资源和规划局" and record["version"] == 1
            with factory() as db:
                assert audit_count(db, "datahub.record.read") == 6  # one per subject asked about, per call

            refused = client.post(f"{url}/lookup", json=body | {"fields": ["usage"]}, headers=consumer)
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
            exists = client.post(
                f"{url}/exists", json={"subject": residents[1], "purpose": PURPOSE}, headers=consumer
            )
            assert exists.status_code == 200 and exists.json() == {"exists": True}
            with factory() as db:
                assert audit_count(db, "datahub.record.read") == 6
                assert audit_count(db, "datahub.record.checked") == 1

            with factory() as db, transaction(db):
                sharing.revoke_grant(db, actor=hub.steward, grant_id=grant.id, reason="项目结束")
            stopped = client.post(f"{url}/lookup", json=body, headers=consumer)
            assert stopped.status_code == 403
            assert stopped.json()["type"] == "/problems/datahub/no-grant"
            with factory() as db:
                assert audit_count(db, "datahub.record.read") == 6
        pooled = engine.raw_connection()
        try:
            if engine.dialect.name == "postgresql":
                assert pooled.driver_connection.autocommit is False  # type: ignore[union-attr]
        finally:
            pooled.close()
    finally:
        engine.dispose()
