"""E-mail over SMTP (smtplib), one connection per batch, with the final dot held back until the worker
has recorded that it is handing the message over.

The message's ``Message-ID`` is derived from the delivery's id (``<delivery id@sender's domain>``), so a
message is the same message whatever happens to the worker, and mail systems that drop repeated
Message-IDs would drop a repeat. A connection that breaks during the content delivers nothing: the
server discards a DATA without its final dot.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

from zerotrip.config import MessagingSettings
from zerotrip.messaging.channels import HandoverInDoubt, SendFailed
from zerotrip.messaging.notifications_templates import Rendered

_LEADING_DOT = re.compile(rb"(?m)^\.")
# The classic message classes: building a message with them costs an eighth of EmailMessage's header
# parsing, which was most of a worker's time per e-mail. Lines end in CRLF on the wire.
_WIRE = compat32.clone(linesep="\r\n")
_CONTENT_LANGUAGE = {"zh_Hans": "zh-Hans", "en": "en"}


def sender_address(settings: MessagingSettings) -> str:
    return parseaddr(settings.mail_from)[1]


def message_id(settings: MessagingSettings, delivery_id: str) -> str:
    domain = sender_address(settings).rpartition("@")[2] or "zerotrip.invalid"
    return f"<{delivery_id}@{domain}>"


def build_message(
    settings: MessagingSettings,
    *,
    delivery_id: str,
    to: str,
    rendered: Rendered,
    language: str,
    link_url: str | None,
    now: datetime,
) -> Message:
    """A plain-text UTF-8 message; the subject and the sender's name are RFC 2047 encoded words."""
    body = rendered.body if link_url is None else f"{rendered.body}\n\n{link_url}"
    message = MIMEText(body + "\n", "plain", "utf-8")
    name, address = parseaddr(settings.mail_from)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(rendered.subject, "utf-8", header_name="Subject").encode()
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(settings, delivery_id)
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = _CONTENT_LANGUAGE.get(language, "zh-Hans")
    return message


class SmtpChannel:
    """Hands messages to one mail server; keep it for a batch and ``close`` it after."""

    def __init__(self, settings: MessagingSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._ready: str | None = None  # the Message-ID prepare readied
        self._in_data = False  # inside DATA, every line sent is content, even QUIT

    def prepare(self, message: Message, *, to: str) -> None:
        """Open (or reuse) the connection, name sender and recipient, and send the content without the
        final dot. Raises SendFailed."""
        smtp = self._connection()
        try:
            code, reply = smtp.mail(sender_address(self.settings))
            if code != 250:
                self._reset()
                raise SendFailed(_said(code, reply), permanent=500 <= code < 600)
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                self._reset()
                raise SendFailed(_said(code, reply), permanent=500 <= code < 600)
            code, reply = smtp.docmd("DATA")
            if code != 354:
                self._reset()
                raise SendFailed(_said(code, reply), permanent=500 <= code < 600)
            self._in_data = True
            content = _LEADING_DOT.sub(b"..", message.as_bytes(policy=_WIRE))
            if not content.endswith(b"\r\n"):
                content += b"\r\n"
            smtp.send(content)
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SendFailed(f"the mail server connection failed: {error}", permanent=False) from error
        self._ready = str(message["Message-ID"])

    def finish(self) -> str:
        """Send the final dot: the server delivers the message once it has it. Raises SendFailed (the
        server refused it, or the connection was gone before the dot left), HandoverInDoubt (the dot left
        but no answer came)."""
        smtp, ready = self._smtp, self._ready
        self._ready = None
        if smtp is None or ready is None:
            raise RuntimeError("finish() without a prepared message")
        try:
            smtp.send(b".\r\n")
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SendFailed(
                f"the connection broke before the message was complete: {error}", permanent=False
            ) from error
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise HandoverInDoubt(f"no answer from the mail server after the message: {error}") from error
        self._in_data = False
        if code != 250:
            raise SendFailed(_said(code, reply), permanent=500 <= code < 600)
        return ready

    def abort(self) -> None:
        """A server in the middle of DATA takes every line as content: only dropping the connection
        discards the message."""
        self._ready = None
        if self._in_data:
            self.close()

    def close(self) -> None:
        """Say QUIT (unless inside DATA, where dropping the connection is what discards the message) and
        close the connection."""
        smtp, self._smtp = self._smtp, None
        in_data, self._in_data = self._in_data, False
        if smtp is None:
            return
        try:
            if not in_data:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        if not s.smtp_host:
            raise SendFailed("e-mail is not configured on this platform (no SMTP host)", permanent=True)
        try:
            smtp = self._connect()
        except smtplib.SMTPAuthenticationError as error:
            raise SendFailed(
                f"the mail server refused the login: {_said(error.smtp_code, error.smtp_error)}",
                permanent=False,
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise SendFailed(
                f"cannot reach the mail server {s.smtp_host}:{s.smtp_port}: {error}", permanent=False
            ) from error
        self._smtp = smtp
        return smtp

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        context = ssl.create_default_context(cafile=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        smtp: smtplib.SMTP
        if s.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            # The final dot is a small write on its own after the content: with Nagle's algorithm it waits
            # for the server's ACK of the content, which a delayed ACK holds back ~40 ms per message.
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _said(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}"
