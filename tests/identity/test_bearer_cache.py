"""A worker's cache of resolved bearer tokens: never past the token's expiry, never longer than its time to
live, so a withdrawn token or a deactivated client stops working within that time (at once with 0)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.identity.actor import Actor
from zerotrip.identity.auth import BearerCache
from zerotrip.identity.models import ApiClient

from .conftest import World
from .test_api import api_client, bearer

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ACTOR = Actor(kind="client", name="HZ PSB", client_id="zt-1", client_org_id=1)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lasts_until_its_time_to_live_or_the_tokens_expiry_whichever_comes_first() -> None:
    ticks = Ticks()
    cache = BearerCache(5, monotonic=ticks)
    with clock.frozen(T0) as frozen:
        cache.put("a", ACTOR, T0 + timedelta(minutes=60))
        cache.put("b", ACTOR, T0 + timedelta(seconds=2))
        assert cache.get("a") == ACTOR and cache.get("b") == ACTOR
        frozen.advance(timedelta(seconds=2))  # b's token has expired: refused at once, cache or not
        assert cache.get("b") is None and cache.get("a") == ACTOR
        ticks.now += 5  # a was read from the database 5 s ago: ask again
        assert cache.get("a") is None
        assert cache.get("unknown") is None


def test_a_cache_without_time_to_live_keeps_nothing() -> None:
    cache = BearerCache(0)
    cache.put("a", ACTOR, clock.now() + timedelta(minutes=60))
    assert cache.get("a") is None


def test_the_cache_holds_at_most_its_size() -> None:
    cache = BearerCache(60, max_entries=2)
    expires = clock.now() + timedelta(minutes=60)
    for digest in ("a", "b", "c"):
        cache.put(digest, ACTOR, expires)
    assert cache.get("a") is None and cache.get("b") == ACTOR and cache.get("c") == ACTOR


def deactivate(db: Session, client_id: str) -> None:
    row = db.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    assert row is not None
    row.is_active = False
    db.flush()  # the API's session shares the test's connection but not its pending rows


def test_a_deactivated_client_is_refused_once_its_cached_token_is_due(
    client: TestClient, db: Session, world: World
) -> None:
    ticks = Ticks()
    client.app.state.bearer_cache = BearerCache(5, monotonic=ticks)  # type: ignore[attr-defined]
    cid, secret = api_client(db, world, ["identity.orgs.read"])
    headers = bearer(client, cid, secret)
    assert client.get("/api/identity/me", headers=headers).json()["client_id"] == cid
    deactivate(db, cid)
    assert client.get("/api/identity/me", headers=headers).status_code == 200  # within the 5 s
    ticks.now += 5
    assert client.get("/api/identity/me", headers=headers).status_code == 401


def test_without_a_cache_a_deactivated_client_is_refused_at_once(
    client: TestClient, db: Session, world: World
) -> None:
    client.app.state.bearer_cache = BearerCache(0)  # type: ignore[attr-defined]
    cid, secret = api_client(db, world, ["identity.orgs.read"])
    headers = bearer(client, cid, secret)
    assert client.get("/api/identity/me", headers=headers).status_code == 200
    deactivate(db, cid)
    assert client.get("/api/identity/me", headers=headers).status_code == 401
