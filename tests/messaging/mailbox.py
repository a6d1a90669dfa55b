"""A real SMTP server for the tests (aiosmtpd on a free local port) that keeps what it receives.

It can refuse recipients (permanently or for now) and hold a message (before its reply, or at RCPT) so a
test can stop the worker at exactly that moment.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the server received, and how it should answer."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # 550 at RCPT
    busy: set[str] = field(default_factory=set)  # 451 at RCPT
    busy_at_data: set[str] = field(default_factory=set)  # 451 after the content
    hold_data_at: int | None = None  # hold the reply to this message (1-based) until the test lets go
    hold_rcpt_at: int | None = None  # hold the reply to the RCPT of this transaction (1-based)
    delay_seconds: float = 0.0  # think this long before answering each message
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _rcpts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        if address in self.busy:
            return "451 4.3.0 Mailbox busy, try again later"
        with self._lock:
            self._rcpts += 1
            hold = self._rcpts == self.hold_rcpt_at
        if hold:
            await self._hold()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if set(envelope.rcpt_tos) & self.busy_at_data:
            return "451 4.3.0 Try again later"
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        message = email.message_from_bytes(envelope.content, policy=default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
            hold = len(self.messages) == self.hold_data_at
        if hold:
            await self._hold()
        return "250 OK queued"

    async def _hold(self) -> None:
        self.held.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)


class SmtpServer:
    """``with SmtpServer() as server:`` a listening server on ``server.port`` with ``server.mailbox``."""

    def __init__(self, mailbox: Mailbox | None = None, **controller: Any) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **controller)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mailbox.release.set()
        self.controller.stop()
