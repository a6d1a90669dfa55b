"""SMS through a provider. ``SmsProvider`` is what a real gateway implements (send one text, with the
delivery's id as the reference a provider can use to refuse a repeat); ``LoggingSmsProvider`` is the
development one, which writes the message to the log and, when configured, to a JSON-lines file."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Protocol

from zerotrip.common import clock
from zerotrip.config import MessagingSettings
from zerotrip.messaging.channels import HandoverInDoubt, SendFailed

log = logging.getLogger("zerotrip.messaging.sms")


class SmsProvider(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> str:
        """Send ``text`` to the mobile number ``to``; returns the provider's id for the message. Raises
        SendFailed when the provider refuses it (``permanent`` when trying again will not help)."""
        ...


class LoggingSmsProvider:
    """Sends nothing: logs each message (the number masked) and appends it, whole, to ``log_file``."""

    def __init__(self, log_file: Path | None = None) -> None:
        self.log_file = log_file

    def send(self, *, to: str, text: str, reference: str) -> str:
        log.info("SMS to %s****%s (%s): %s", to[:3], to[-4:], reference, text)
        if self.log_file is not None:
            line = json.dumps(
                {"to": to, "text": text, "reference": reference, "at": clock.now().isoformat()},
                ensure_ascii=False,
            )
            # One write per line on a file opened for appending: lines from several workers do not mix.
            fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
        return f"log:{reference}"


def provider_from(settings: MessagingSettings) -> SmsProvider:
    if settings.sms_provider == "log":
        return LoggingSmsProvider(settings.sms_log_file)
    raise ValueError(f"unknown SMS provider {settings.sms_provider!r}")


class SmsChannel:
    """Hands one text at a time to the provider; the provider's call is the one step of no return."""

    def __init__(self, provider: SmsProvider, settings: MessagingSettings) -> None:
        self.provider = provider
        self.signature = settings.sms_signature
        self._ready: tuple[str, str, str] | None = None

    def prepare(self, *, to: str, text: str, reference: str) -> None:
        self._ready = (to, f"{self.signature}{text}", reference)

    def finish(self) -> str:
        ready, self._ready = self._ready, None
        if ready is None:
            raise RuntimeError("finish() without a prepared message")
        to, text, reference = ready
        try:
            return self.provider.send(to=to, text=text, reference=reference)
        except SendFailed:
            raise
        except Exception as error:
            # A provider that failed in the middle of its call may have sent the text.
            raise HandoverInDoubt(f"the SMS provider failed during the call: {error!r}") from error

    def abort(self) -> None:
        self._ready = None
