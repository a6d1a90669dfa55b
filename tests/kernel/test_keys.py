"""Keys and secrets: generated per deployment, kept in the data directory, encrypted at rest, rotatable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from zerotrip.keys import KeyStore


def test_signing_keys_are_generated_once_and_encrypted(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "secrets")
    key = store.signing_key("audit")
    again = KeyStore(tmp_path / "secrets").signing_key("audit")
    assert key.kid == again.kid
    pem = (tmp_path / "secrets" / "keys" / "audit" / f"{key.kid}.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert stat.S_IMODE((tmp_path / "secrets" / "kek").stat().st_mode) == 0o600
    signature = key.private_key.sign(b"payload")  # type: ignore[call-arg]
    again.public_key.verify(signature, b"payload")  # type: ignore[call-arg]


def test_each_deployment_gets_its_own_keys(tmp_path: Path) -> None:
    one = KeyStore(tmp_path / "a").signing_key("audit")
    two = KeyStore(tmp_path / "b").signing_key("audit")
    assert one.kid != two.kid
    assert KeyStore(tmp_path / "a").secret("session") != KeyStore(tmp_path / "b").secret("session")


def test_rotation_keeps_old_keys_for_verification(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "secrets")
    old = store.signing_key("issuer-330000", algorithm="ES256")
    new = store.rotate("issuer-330000", algorithm="ES256")
    assert store.signing_key("issuer-330000").kid == new.kid != old.kid
    assert {k.kid for k in store.all_keys("issuer-330000")} == {old.kid, new.kid}
    assert isinstance(store.load("issuer-330000", old.kid).private_key, ec.EllipticCurvePrivateKey)


def test_a_passphrase_is_needed_to_read_keys_made_with_it(tmp_path: Path) -> None:
    KeyStore(tmp_path / "s", passphrase="correct horse").signing_key("audit")
    with pytest.raises(ValueError):
        KeyStore(tmp_path / "s", passphrase="wrong horse").signing_key("audit")
    assert not (tmp_path / "s" / "kek").exists()


def test_unknown_algorithms_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported algorithm"):
        KeyStore(tmp_path).rotate("x", algorithm="RS1")
