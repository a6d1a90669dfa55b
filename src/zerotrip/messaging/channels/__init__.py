"""Channels a notification goes out on, besides the in-app inbox (written by ``messaging.outbox``).

A channel hands one message over in two steps, so the worker can record the point of no return in
between: ``prepare`` does everything that can be undone (connect, name the sender and recipient, send the
message's content); ``finish`` is the single step after which the message is delivered (the final dot of
SMTP's DATA, the call to the SMS provider). The worker commits "handing over" before ``finish``: if it
stops before, nothing was delivered and the delivery is claimed again; if it stops after, the delivery is
counted as sent and never sent twice.

``prepare`` and ``finish`` raise ``SendFailed`` when the server or provider refuses (``permanent`` for a
refusal that trying again will not change); ``finish`` raises ``HandoverInDoubt`` when the answer never
came (the connection broke after the last step was sent).
"""

from __future__ import annotations

from typing import Protocol


class SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.permanent = permanent


class HandoverInDoubt(Exception):
    """The last step was sent but its answer never came: the message may well have been delivered."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:500]


class Handover(Protocol):
    def finish(self) -> str:
        """Deliver what ``prepare`` readied; returns what the server or provider calls the message."""
        ...

    def abort(self) -> None:
        """Drop what ``prepare`` readied, delivering nothing."""
        ...
