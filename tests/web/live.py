"""The live-server harness for browser tests: granian or uvicorn in a background thread, and Debian's
Chromium.

A missing Chromium fails the browser tests (it does not skip them): ``make system-deps`` installs it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server as EmbeddedGranian

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` on a free local port until the block ends; yields its base URL. The server is the one
    ``ZEROTRIP_TEST_SERVER`` names (granian, the default of ``zerotrip serve``, or uvicorn)."""
    kind = os.environ.get("ZEROTRIP_TEST_SERVER", "granian")
    assert kind in ("granian", "uvicorn"), f"ZEROTRIP_TEST_SERVER={kind!r}: granian or uvicorn"
    try:
        with _granian(app) if kind == "granian" else _uvicorn(app) as url:
            yield url
    finally:
        app.state.session_factory.kw["bind"].dispose()


@contextmanager
def _uvicorn(app: FastAPI) -> Iterator[str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        listener.close()


@contextmanager
def _granian(app: FastAPI) -> Iterator[str]:
    """granian's embedded server (no lifespan, as with uvicorn above) on an event loop in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = EmbeddedGranian(app, port=port, interface=Interfaces.ASGINL, log_level=LogLevels.warning)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start") from None
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(server.stop)
        thread.join(timeout=20)
        loop.close()
