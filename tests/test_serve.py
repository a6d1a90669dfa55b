"""``zerotrip serve`` as operators run it, on each HTTP server it offers (granian, uvicorn): two worker
processes on one port with the application's background duties running, a killed worker replaced while
the other goes on answering, and SIGTERM stopping it cleanly even while a live notice stream is open. Also
the socket uvicorn is handed, whose accepted connections get TCP_NODELAY."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.messaging.notices_world import PASSWORD, build_notices_world
from zerotrip.config import IdentitySettings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import auth
from zerotrip.serving import listening_socket


def test_connections_accepted_from_the_served_socket_have_nodelay() -> None:
    sock = listening_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    port = sock.getsockname()[1]
    accepted: list[int] = []

    class Record(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            peer = transport.get_extra_info("socket")
            accepted.append(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def serve_one() -> None:
        server = await asyncio.get_running_loop().create_server(Record, sock=sock)
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reader.read()  # the server closes the connection once it has looked at it
            writer.close()

    asyncio.run(serve_one())
    assert accepted and accepted[0] != 0


# -- the served platform ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def workers_of(pid: int) -> set[int]:
    """The supervisor's live worker processes: its children, less multiprocessing's resource tracker
    (uvicorn's supervisor starts one)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z" and b"resource_tracker" not in command:
                found.add(int(entry.name))
    return found


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.2)


@pytest.fixture
def served(new_database, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple]:  # type: ignore[no-untyped-def,type-arg]
    """(server process, port, engine, a staff session token, the output file) for ``zerotrip serve
    --workers 2`` on the server named by the test's parameter."""
    url = new_database(migrate=True)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db, transaction(db):
        build_notices_world(db)  # its audit events are what the running duties seal
        token = auth.attempt_login(
            db,
            login_name="xh-em-1",
            password=PASSWORD,
            client_address="127.0.0.1",
            portal="staff",
            settings=IdentitySettings(),
        ).token
    port = free_port()
    env = {
        **os.environ,
        "ZEROTRIP_DATA_DIR": str(tmp_path),
        "ZEROTRIP_DATABASE_URL": url,
        "ZEROTRIP_WEB__SERVER": request.param,
        "ZEROTRIP_AUDIT__CHECKPOINT_INTERVAL_SECONDS": "1",
        "ZEROTRIP_AUDIT__CHECKPOINT_LAG_SECONDS": "0",
        "ZEROTRIP_NOTICES__LIVE_HEARTBEAT_SECONDS": "0.5",
    }
    output = tmp_path / "server.log"
    command = [sys.executable, "-m", "zerotrip", "serve", "--port", str(port), "--workers", "2"]
    with output.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        wait_for(lambda: healthy(port) or process.poll() is not None, 60, "the server answers")
        assert process.poll() is None, output.read_text()
        yield process, port, engine, token, output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        engine.dispose()


@pytest.mark.parametrize("served", ["granian", "uvicorn"], indirect=True)
def test_two_workers_run_the_duties_survive_a_killed_worker_and_stop_on_sigterm(served) -> None:  # type: ignore[no-untyped-def]
    process, port, engine, token, output = served

    # The application's lifespan ran in the workers: the audit sealer has sealed the world's events.
    def sealed() -> bool:
        with engine.connect() as connection:
            return bool(connection.execute(text("SELECT count(*) FROM audit_checkpoint")).scalar_one())

    wait_for(sealed, 30, "a worker's audit sealer seals the events")

    # A worker killed outright is replaced; the server answers all along.
    workers = workers_of(process.pid)
    assert len(workers) == 2, workers
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    assert healthy(port), "the other worker answers meanwhile"
    wait_for(lambda: len(workers_of(process.pid) - {victim}) == 2, 30, "a new worker replaces the killed one")
    for _ in range(6):
        assert healthy(port)

    # A live notice stream is open when SIGTERM comes: the server stops within its grace, exit status 0,
    # and the stream is ended rather than left hanging.
    stream = socket.create_connection(("127.0.0.1", port), timeout=15)
    stream.sendall(
        f"GET /api/messaging/notices/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: {SESSION_COOKIE}={token}\r\n\r\n".encode()
    )
    received = b""
    while b"event: ready" not in received:
        chunk = stream.recv(4096)
        assert chunk, received
        received += chunk
    assert received.startswith(b"HTTP/1.1 200") and b"text/event-stream" in received.lower()
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0, output.read_text()[-3000:]
    assert time.monotonic() - asked < 15
    try:
        while stream.recv(4096):
            pass
    except ConnectionResetError:
        pass  # cut: as good as an end for a browser, which reconnects
    stream.close()
    assert not healthy(port), "nothing listens any more"
    log = output.read_text()
    assert "GET /healthz" in log, "one access log line per request"
