"""The HTTP servers behind ``zerotrip serve`` and ``zerotrip demo``: granian (the default) or uvicorn.

Both run the same ASGI application (``zerotrip.app:app_from_environment``, built anew in each worker
process from the environment) with its lifespan (the background duties), in ``workers`` processes sharing
one listening socket, restart a worker that dies, and stop on SIGINT or SIGTERM. Which one runs is the
``web.server`` setting; docs/performance.md has the figures that made granian the default (its HTTP
handling is Rust, so a request costs the worker's Python less).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from zerotrip.config import Settings

# Connections the kernel queues before a worker accepts them (capped by net.core.somaxconn): a rush opens
# thousands at once, and a connection that finds the queue full waits a second or more for its SYN to be
# sent again (uvicorn's default is 2048, granian's 1024).
BACKLOG = 4096
# Open live notice streams never end by themselves: how long a stopping worker waits for them before they
# are cut (browsers reconnect to whichever worker is up).
GRACEFUL_SECONDS = 5
# Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (uvicorn's default).
TRUSTED_PROXIES = "127.0.0.1"


def granian_app() -> Callable[..., Any]:
    """Factory for granian: the application, reading the client address a local proxy forwards."""
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    from zerotrip.app import app_from_environment

    return wrap_asgi_with_proxy_headers(app_from_environment(), TRUSTED_PROXIES)  # type: ignore[no-any-return]


def _granian_server_class() -> type:
    from granian._granian import ListenerSpec
    from granian.server.mp import MPServer

    class SharedQueueServer(MPServer):
        """granian's process server with one listening socket (one queue of connections) for every
        worker, as uvicorn's.

        On Linux granian gives each worker a listening socket of its own (SO_REUSEPORT), so the
        connections the kernel had queued for a worker that dies are reset instead of being answered by
        another (emmett-framework/granian#567; unless net.ipv4.tcp_migrate_req is set). Here the socket is
        bound and put in listening state once, in the supervisor, and inherited by every worker, which is
        what granian itself does on the other platforms.
        """

        def _init_shared_socket(self) -> None:
            holder = ListenerSpec(self.bind_addr, self.bind_port, self.backlog).build()
            self._ssp = None
            self._shd = holder  # type: ignore[assignment]
            self._sfd = holder.get_fd()
            self._sso = socket.socket(fileno=self._sfd)
            self._sso.set_inheritable(True)

    return SharedQueueServer


def run_granian(settings: Settings, *, host: str, port: int, workers: int) -> int:
    """Serve with granian until SIGINT or SIGTERM; returns the exit status."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    Server = _granian_server_class()
    # granian binds in its own code and reports a port in use with a Rust backtrace: find out first.
    listening_socket(host, port).close()
    server = Server(
        "zerotrip.serving:granian_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=workers,
        loop=Loops.auto,  # uvloop when installed
        http=HTTPModes.http1,
        backlog=BACKLOG,
        log_level=LogLevels.info,
        log_access=settings.web.access_log,
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_SECONDS,
    )
    try:
        server.serve()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def run_uvicorn(settings: Settings, *, host: str, port: int, workers: int) -> int:
    """Serve with uvicorn until SIGINT or SIGTERM; returns the exit status."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "zerotrip.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=TRUSTED_PROXIES,
        log_level="info",
        access_log=settings.web.access_log,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        backlog=BACKLOG,
    )
    sock = listening_socket(host, port)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
            return 0
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        return 0 if server.started else 3
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """uvicorn's listening socket, bound here rather than by uvicorn, for one worker or many.

    asyncio sets TCP_NODELAY only on connections accepted from a socket created with ``IPPROTO_TCP``;
    uvicorn's multi-worker supervisor creates its socket with protocol 0, so with ``--workers 2`` every
    keep-alive response sat about 40 ms behind the client's delayed ACK (Kludex/uvicorn#3149). This socket
    names the protocol, so each worker's accepted connections get TCP_NODELAY, and sets the option on the
    listening socket too (Linux hands it down to accepted connections).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # the worker processes receive it
    return sock
