"""E-mail over a protected connection: STARTTLS with a login, TLS from the start, a certificate the
worker does not trust, and a wrong password, against a real local SMTP server with its own certificate."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.config import Settings
from zerotrip.messaging import notifications
from zerotrip.messaging.worker import Worker

from .conftest import People, messaging_settings
from .mailbox import SmtpServer
from .test_worker import approve, delivery

LOGIN, SECRET = "zerotrip", "mail-relay-secret"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) PEM files."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zerotrip test mail server")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        LOGIN.encode(),
        SECRET.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    with SmtpServer(
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    ) as server:
        yield server


def tls_settings(
    settings: Settings, server: SmtpServer, certificate: tuple[Path, Path], **more: object
) -> Settings:
    values: dict[str, object] = {
        "smtp_security": "starttls",
        "smtp_ca_file": certificate[0],
        "smtp_username": LOGIN,
        "smtp_password": SecretStr(SECRET),
        **more,
    }
    return messaging_settings(settings, server, **values)


def wants_email(db: Session, people: People) -> None:
    notifications.set_preferences(
        db,
        actor=people.citizen(people.alice),
        language="zh_Hans",
        email="alice@example.cn",
        phone=None,
        channels={},
    )


def test_starttls_and_login(
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
    starttls_server: SmtpServer,
    certificate: tuple[Path, Path],
) -> None:
    wants_email(db, people)
    notification_id = approve(db, people)
    assert Worker(session_factory, tls_settings(settings, starttls_server, certificate)).run_once().sent == 2
    assert starttls_server.mailbox.count() == 1
    assert delivery(db, notification_id, "email").status == "sent"


def test_a_wrong_password_is_retried_saying_why(
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
    starttls_server: SmtpServer,
    certificate: tuple[Path, Path],
) -> None:
    wants_email(db, people)
    notification_id = approve(db, people)
    config = tls_settings(settings, starttls_server, certificate, smtp_password=SecretStr("wrong"))
    Worker(session_factory, config).run_once()
    retried = delivery(db, notification_id, "email")
    assert retried.status == "pending"
    assert retried.last_error is not None and retried.last_error.startswith(
        "the mail server refused the login: 535"
    )
    assert starttls_server.mailbox.count() == 0


def test_a_certificate_the_worker_does_not_trust_sends_nothing(
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
    starttls_server: SmtpServer,
    certificate: tuple[Path, Path],
) -> None:
    wants_email(db, people)
    notification_id = approve(db, people)
    config = tls_settings(settings, starttls_server, certificate, smtp_ca_file=None)  # the system's CAs only
    Worker(session_factory, config).run_once()
    retried = delivery(db, notification_id, "email")
    assert retried.status == "pending"
    assert retried.last_error is not None and "CERTIFICATE_VERIFY_FAILED" in retried.last_error
    assert starttls_server.mailbox.count() == 0


def test_tls_from_the_start(
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
    certificate: tuple[Path, Path],
) -> None:
    wants_email(db, people)
    notification_id = approve(db, people)
    with SmtpServer(ssl_context=server_context(certificate)) as server:
        config = messaging_settings(settings, server, smtp_security="tls", smtp_ca_file=certificate[0])
        Worker(session_factory, config).run_once()
        assert server.mailbox.count() == 1
    assert delivery(db, notification_id, "email").status == "sent"
