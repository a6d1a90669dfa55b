"""Live arrival of staff notices: the broadcaster's reads and fan-out on the test's database, and the
server-sent event stream against a real server on a committed database (several readers, one of them
not addressed, resumption with Last-Event-ID, one database read per poll whoever listens, clean close)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from zerotrip.app import create_app
from zerotrip.common import clock
from zerotrip.config import AuditSettings, DatahubSettings, IdentitySettings, NoticesSettings, Settings
from zerotrip.db import transaction
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import auth
from zerotrip.messaging.live import addressed_since, cursor_of, parse_cursor, published_since
from zerotrip.messaging.live_hub import NoticeHub
from zerotrip.messaging.schemas_notices import TargetSpec

from ..web.live import serve
from .notices_world import PASSWORD, NoticesWorld, build_notices_world

STREAM = "/api/messaging/notices/stream"


@pytest.fixture
def world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def test_cursor_round_trip_and_refusals() -> None:
    at = clock.now()
    parsed = parse_cursor(cursor_of(at, 42))
    assert parsed is not None and abs(parsed - at) < timedelta(microseconds=2)
    for bad in (None, "", "abc", "-1", "12" * 20, "１２３-4"):
        assert parse_cursor(bad) is None, bad


def test_the_broadcaster_reads_new_notices_once_and_hands_each_to_the_readers_it_reaches(
    db: Session, world: NoticesWorld
) -> None:
    before = clock.now() - timedelta(seconds=1)
    county = world.publish(db, "xh-em-pub", targets=[TargetSpec(org_id=world.orgs["330106-emergency"])])
    reviewers = world.publish(
        db, "hz-pub", priority="urgent", targets=[TargetSpec(roles=["reviewer"])], title="审核员注意"
    )
    found = published_since(db, before)
    assert [n.id for n in found] == [county.id, reviewers.id]
    assert found[1].priority == "urgent" and found[1].title == "审核员注意"

    hub = NoticeHub(lambda: db, poll_seconds=1, heartbeat_seconds=1, max_seconds=60)
    readers = {
        login: hub.add_subscriber(world.actor(db, login))
        for login in ("xh-em-1", "xh-em-2", "xh-health-1", "hs-em-1")
    }
    # 冯审核 (a reviewer there): both; 陈值班 (no role): the county's; 卫审核: the reviewers'; 沈审核: none.
    assert hub.fan_out(found) == 4
    assert hub.fan_out(found) == 0, "a notice is handed out once"
    got = {
        login: [json.loads(e.split(b"data: ")[1])["id"] for e in _drain(s.queue)]
        for login, s in readers.items()
    }
    assert got == {
        "xh-em-1": [county.id, reviewers.id],
        "xh-em-2": [county.id],
        "xh-health-1": [reviewers.id],
        "hs-em-1": [],
    }

    # A reader's replay: what was addressed to them since a cursor, nothing else.
    assert [n.id for n in addressed_since(db, actor=world.actor(db, "xh-health-1"), since=before)] == [
        reviewers.id
    ]
    assert addressed_since(db, actor=world.actor(db, "hs-em-1"), since=before) == []
    assert addressed_since(db, actor=world.actor(db, "xh-em-2"), since=clock.now()) == []


def test_a_stream_opened_without_a_cursor_gets_nothing_published_before_it_opened(
    db: Session, world: NoticesWorld
) -> None:
    """The hub's polls look back LAG for late commits; a fresh hub's first poll therefore finds notices
    published before a cursor-less stream opened, which must not reach it as news."""
    before = clock.now() - timedelta(seconds=1)
    earlier = world.publish(db, "xh-em-pub", targets=[TargetSpec(org_id=world.orgs["330106-emergency"])])
    hub = NoticeHub(lambda: db, poll_seconds=1, heartbeat_seconds=1, max_seconds=60)
    fresh = hub.add_subscriber(world.actor(db, "xh-em-2"))
    resuming = hub.add_subscriber(world.actor(db, "xh-em-1"))
    fresh.floor = clock.now()
    later = world.publish(db, "xh-em-pub", targets=[TargetSpec(org_id=world.orgs["330106-emergency"])])
    assert hub.fan_out(published_since(db, before)) == 3
    got = {
        name: [json.loads(e.split(b"data: ")[1])["id"] for e in _drain(s.queue)]
        for name, s in (("fresh", fresh), ("resuming", resuming))
    }
    assert got == {"fresh": [later.id], "resuming": [earlier.id, later.id]}


def _drain(queue: asyncio.Queue[bytes]) -> list[bytes]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


# -- against a real server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    url: str
    world: NoticesWorld
    settings: Settings
    app: object


@pytest.fixture(scope="module")
def live_server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-notices"),
        database_url=new_database(migrate=True),
        audit=AuditSettings(checkpoint_interval_seconds=0),
        datahub=DatahubSettings(escalation_interval_seconds=0),
        notices=NoticesSettings(live_poll_seconds=0.2, live_heartbeat_seconds=0.5),
    )
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        world = build_notices_world(db)
    with serve(app) as url:
        yield LiveServer(url=url, world=world, settings=settings, app=app)


def session_cookie(server: LiveServer, login: str) -> str:
    with server.app.state.session_factory() as db, transaction(db):  # type: ignore[attr-defined]
        outcome = auth.attempt_login(
            db,
            login_name=login,
            password=PASSWORD,
            client_address="127.0.0.1",
            portal="staff",
            settings=IdentitySettings(),
        )
    assert outcome.token
    return outcome.token


def publish(server: LiveServer, login: str, **fields: object) -> tuple[int, str]:
    with server.app.state.session_factory() as db, transaction(db):  # type: ignore[attr-defined]
        notice = server.world.publish(db, login, **fields)
        return notice.id, cursor_of(notice.published_at, notice.id)


async def read_events(
    url: str,
    cookie: str,
    *,
    until: float,
    stop_after: int | None = None,
    headers: dict[str, str] | None = None,
    ready: asyncio.Event | None = None,
) -> list[tuple[str, dict[str, object], float]]:
    """(event, data, arrival) of every event until the deadline or ``stop_after`` notices; ``ready`` is set
    when the stream says it is open."""
    events: list[tuple[str, dict[str, object], float]] = []
    async with httpx.AsyncClient(cookies={SESSION_COOKIE: cookie}, timeout=10) as client:
        try:
            async with client.stream("GET", url, headers=headers or {}) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                name = ""
                async for line in _lines_until(response, until):
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        events.append((name, json.loads(line[6:]), time.monotonic()))
                        if name == "ready" and ready is not None:
                            ready.set()
                        if stop_after is not None and sum(e[0] == "notice" for e in events) >= stop_after:
                            return events
        except TimeoutError:
            pass
    return events


async def _lines_until(response: httpx.Response, until: float):  # type: ignore[no-untyped-def]
    lines = response.aiter_lines()
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        try:
            yield await asyncio.wait_for(anext(lines), timeout=left)
        except (TimeoutError, StopAsyncIteration):
            return


def test_a_published_notice_reaches_every_open_stream_it_targets_within_two_seconds(
    live_server: LiveServer,
) -> None:
    url = live_server.url + STREAM
    readers = ["xh-em-1", "xh-em-2", "xh-em-3", "xh-em-pub", "hs-em-1"]
    cookies = {login: session_cookie(live_server, login) for login in readers}
    hub = live_server.app.state.notice_hub if hasattr(live_server.app.state, "notice_hub") else None  # type: ignore[attr-defined]
    polls_before = hub.polls if hub else 0

    async def scenario() -> tuple[dict[str, list[tuple[str, dict[str, object], float]]], float]:
        until = time.monotonic() + 8
        ready = {login: asyncio.Event() for login in cookies}
        tasks = {
            login: asyncio.create_task(
                read_events(
                    url,
                    cookie,
                    until=until,
                    stop_after=None if login == "hs-em-1" else 1,
                    ready=ready[login],
                )
            )
            for login, cookie in cookies.items()
        }
        for event in ready.values():  # every stream is open
            await asyncio.wait_for(event.wait(), timeout=5)
        started = time.monotonic()
        await asyncio.to_thread(
            publish,
            live_server,
            "xh-em-pub",
            priority="emergency",
            title="西湖区防汛紧急通知",
            targets=[TargetSpec(org_id=live_server.world.orgs["330106-emergency"])],
        )
        return {login: await task for login, task in tasks.items()}, started

    started_at = time.monotonic()
    results, published = asyncio.run(scenario())
    elapsed = time.monotonic() - started_at
    for login in readers[:-1]:
        kinds = [e[0] for e in results[login]]
        assert kinds[0] == "ready", (login, kinds)
        notices = [e for e in results[login] if e[0] == "notice"]
        assert len(notices) == 1, (login, published, results)
        data, arrived = notices[0][1], notices[0][2]
        assert data["title"] == "西湖区防汛紧急通知" and data["priority"] == "emergency"
        assert data["url"] == f"/staff/notices/{data['id']}"
        assert arrived - published < 2.0, (login, arrived - published)
    assert [e[0] for e in results["hs-em-1"]] == ["ready"], "宁波's reviewer is not addressed"

    hub = live_server.app.state.notice_hub  # type: ignore[attr-defined]
    # One read per poll for the whole worker, not one per open stream.
    assert hub.polls - polls_before <= elapsed / 0.2 + 3
    deadline = time.monotonic() + 3
    while hub.subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not hub.subscribers, "closed streams leave the broadcaster"


def test_a_reconnecting_stream_gets_what_was_published_while_it_was_away(live_server: LiveServer) -> None:
    url = live_server.url + STREAM
    cookie = session_cookie(live_server, "bj-em-1")
    cursor = cursor_of(clock.now())
    missed, _ = publish(
        live_server,
        "hz-pub",
        title="滨江区值班安排",
        targets=[TargetSpec(org_id=live_server.world.orgs["330108-emergency"])],
    )
    until = time.monotonic() + 3
    resumed = asyncio.run(
        read_events(url, cookie, until=until, stop_after=1, headers={"Last-Event-ID": cursor})
    )
    assert [(e[0], e[1].get("id")) for e in resumed] == [("ready", None), ("notice", missed)]
    # ?since= does the same for a client that cannot send the header; without either, nothing is replayed.
    since = asyncio.run(
        read_events(f"{url}?since={cursor}", cookie, until=time.monotonic() + 3, stop_after=1)
    )
    assert [e[1].get("id") for e in since if e[0] == "notice"] == [missed]
    fresh = asyncio.run(read_events(url, cookie, until=time.monotonic() + 1.2))
    assert [e[0] for e in fresh] == ["ready"]


def test_the_stream_is_for_signed_in_staff(live_server: LiveServer) -> None:
    anonymous = httpx.get(live_server.url + STREAM, timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    page = httpx.get(live_server.url + "/staff/notices/stream", timeout=5)
    assert page.status_code == 401
