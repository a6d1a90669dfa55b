"""The outbox worker: claims due deliveries and sends them, in-app, by e-mail and by SMS.

Run as ``zerotrip worker`` (as many processes as needed, on any machines that reach the database), or in
the web server's process for the demo (``MessagingSettings.in_process_worker``). Each step is its own
short transaction: claiming a batch, delivering the batch's in-app notifications, and for each e-mail or
SMS recording the hand-over just before the step of no return (see ``messaging.channels``) together with
the acceptance of the message before it.

Exactly once: a delivery is sent by the worker holding its claim, and the worker writes "handing over"
(fenced by its claim) before the message's last step. If the worker dies before that write commits,
nothing was delivered (a mail server discards a DATA without its final dot) and the delivery is claimed
again when the lease lapses; if it dies after, the delivery is settled as sent (unconfirmed) and never
sent again. The one interval in which a message can be lost rather than sent twice is between that
commit and the final dot leaving the process: a few instructions.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.messaging import outbox
from zerotrip.messaging.channels import Handover, HandoverInDoubt, SendFailed
from zerotrip.messaging.channels.email import SmtpChannel, build_message
from zerotrip.messaging.channels.sms import SmsChannel, SmsProvider, provider_from
from zerotrip.messaging.notifications_templates import Rendered, get_template
from zerotrip.messaging.outbox import Claimed

log = logging.getLogger("zerotrip.messaging.worker")


@dataclass
class Tally:
    claimed: int = 0
    sent: int = 0
    retried: int = 0  # refused for now: back to pending after the backoff
    failed: int = 0
    unconfirmed: int = 0  # handed over, but the answer never came
    lost: int = 0  # another worker took the claim over
    released: int = 0  # given back unsent because the worker is stopping

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class Worker:
    """One worker: a token that fences its claims, the channels, and a stop flag (``stopping``) that
    makes it finish the message in hand, give back the rest of its batch and return."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        *,
        sms_provider: SmsProvider | None = None,
        token: str | None = None,
    ) -> None:
        self.sessions = session_factory
        self.settings = settings.messaging
        self.public_url = settings.web.public_url.rstrip("/")
        self.token = token or f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.sms_provider = sms_provider or provider_from(self.settings)
        self.stopping = threading.Event()

    def run(self, *, drain: bool = False) -> Tally:
        """Deliver until ``stopping`` is set; with ``drain``, return as soon as no delivery is waiting or in
        flight (waiting out other workers' lapsed leases and backoffs first)."""
        total = Tally()
        while not self.stopping.is_set():
            try:
                tally = self.run_once()
            except Exception:
                # A database restart or a network hiccup must not end the worker; the next round retries.
                log.exception(
                    "delivering notifications failed; trying again in %ss", self.settings.poll_seconds
                )
                self.stopping.wait(self.settings.poll_seconds)
                continue
            total.add(tally)
            if tally.claimed >= self.settings.batch_size:
                continue
            wait = self.settings.poll_seconds
            if drain:
                with self.sessions() as db, transaction(db):
                    count, next_due = outbox.outstanding(db)
                if count == 0:
                    break
                if next_due is not None:
                    wait = min(wait, max(0.01, (next_due - clock.now()).total_seconds()))
            self.stopping.wait(wait)
        return total

    def run_once(self) -> Tally:
        """Settle stopped workers' deliveries, claim one batch and send it."""
        tally = Tally()
        with self.sessions() as db:
            with transaction(db):
                outbox.settle_lapsed(db, now=clock.now(), settings=self.settings)
            with transaction(db):
                claimed = outbox.claim(
                    db,
                    token=self.token,
                    now=clock.now(),
                    settings=self.settings,
                    limit=self.settings.batch_size,
                )
            tally.claimed = len(claimed)
            if not claimed:
                return tally
            with transaction(db):
                tally.sent += outbox.deliver_to_inbox(
                    db, token=self.token, items=[c for c in claimed if c.channel == "inbox"], now=clock.now()
                )
            self._send(db, [c for c in claimed if c.channel == "email"], tally, email=True)
            self._send(db, [c for c in claimed if c.channel == "sms"], tally, email=False)
        return tally

    def _send(self, db: Session, items: Sequence[Claimed], tally: Tally, *, email: bool) -> None:
        if not items:
            return
        smtp = SmtpChannel(self.settings) if email else None
        sms = SmsChannel(self.sms_provider, self.settings)
        accepted: list[tuple[uuid.UUID, str, datetime]] = []
        try:
            for index, item in enumerate(items):
                if self.stopping.is_set():
                    with transaction(db):
                        tally.released += outbox.release(
                            db, token=self.token, ids=[i.id for i in items[index:]], now=clock.now()
                        )
                    break
                try:
                    rendered = get_template(item.template).render(item.params, item.language)
                    handover: Handover
                    if smtp is not None:
                        self._prepare_email(smtp, item, rendered)
                        handover = smtp
                    else:
                        sms.prepare(to=item.address or "", text=rendered.sms, reference=str(item.id))
                        handover = sms
                except (LookupError, ValueError) as error:  # a template gone or its params changed
                    self._failed(db, item, f"cannot write the message: {error!r}", True, tally)
                    continue
                except SendFailed as failure:
                    self._failed(db, item, failure.reason, failure.permanent, tally)
                    continue
                with transaction(db):
                    outbox.confirm_sent(db, accepted)
                    accepted = []
                    mine = outbox.begin_handover(
                        db, token=self.token, delivery_id=item.id, now=clock.now(), settings=self.settings
                    )
                if not mine:
                    handover.abort()
                    tally.lost += 1
                    continue
                # The step of no return: from here on this delivery is never sent again.
                try:
                    reference = handover.finish()
                except SendFailed as failure:
                    self._failed(db, item, failure.reason, failure.permanent, tally)
                except HandoverInDoubt as doubt:
                    with transaction(db):
                        outbox.record_in_doubt(
                            db, token=self.token, delivery_id=item.id, reason=doubt.reason, now=clock.now()
                        )
                    tally.unconfirmed += 1
                else:
                    accepted.append((item.id, reference, clock.now()))
                    tally.sent += 1
        finally:
            if smtp is not None:
                smtp.close()
            if accepted:
                with transaction(db):
                    outbox.confirm_sent(db, accepted)

    def _prepare_email(self, smtp: SmtpChannel, item: Claimed, rendered: Rendered) -> None:
        message = build_message(
            self.settings,
            delivery_id=str(item.id),
            to=item.address or "",
            rendered=rendered,
            language=item.language,
            link_url=f"{self.public_url}{item.link}" if item.link else None,
            now=clock.now(),
        )
        smtp.prepare(message, to=item.address or "")

    def _failed(self, db: Session, item: Claimed, reason: str, permanent: bool, tally: Tally) -> None:
        with transaction(db):
            status = outbox.record_failure(
                db,
                token=self.token,
                item=item,
                reason=reason,
                permanent=permanent,
                now=clock.now(),
                settings=self.settings,
            )
        if status == "failed":
            tally.failed += 1
            log.warning("delivery %s (%s) failed: %s", item.id, item.channel, reason)
        else:
            tally.retried += 1
