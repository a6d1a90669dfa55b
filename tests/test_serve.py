"""``zerotrip serve`` binds its listening socket itself, so connections accepted by its workers' asyncio
loops get TCP_NODELAY (a keep-alive answer is not held back for the client's delayed ACK)."""

from __future__ import annotations

import asyncio
import socket

from zerotrip.runtime_cli import listening_socket


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
