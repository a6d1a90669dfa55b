"""The deployment's secrets and signing keys, kept in the data directory and never in the database.

Keys are generated on first use, stored as encrypted PKCS#8 (the key-encryption key comes from
``ZEROTRIP_KEY_PASSPHRASE`` or a random file made once with mode 0600), and rotatable: a rotation makes a
new current key while the old ones stay readable, so whatever they signed still verifies.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
ALGORITHMS = ("EdDSA", "ES256")


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def key_id(public_key: PublicKey) -> str:
    """A stable identifier derived from the public key (so it never collides across deployments)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b32encode(hashlib.sha256(der).digest()[:10]).decode().lower()


@dataclass(frozen=True)
class SigningKey:
    name: str
    kid: str
    algorithm: str
    private_key: PrivateKey

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()


class KeyStore:
    """Files under ``secrets_dir``; safe to share between worker processes (creation is exclusive)."""

    def __init__(self, secrets_dir: Path, passphrase: str | None = None) -> None:
        self.root = secrets_dir
        self._passphrase = passphrase
        self._kek: bytes | None = None

    # -- key-encryption key -------------------------------------------------------------------------
    def _key_encryption_key(self) -> bytes:
        if self._kek is not None:
            return self._kek
        salt_path = self.root / "salt"
        if not salt_path.exists():
            self._create_once(salt_path, secrets.token_bytes(16))
        salt = salt_path.read_bytes()
        if self._passphrase:
            material = self._passphrase.encode()
        else:
            kek_path = self.root / "kek"
            if not kek_path.exists():
                self._create_once(kek_path, base64.urlsafe_b64encode(secrets.token_bytes(32)))
            material = kek_path.read_bytes()
        derived = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(material)
        self._kek = base64.urlsafe_b64encode(derived)
        return self._kek

    @staticmethod
    def _create_once(path: Path, data: bytes) -> None:
        # Another process may make it first; theirs wins and is read back by the caller.
        with contextlib.suppress(FileExistsError):
            _write_private(path, data)

    # -- symmetric secrets ---------------------------------------------------------------------------
    def secret(self, name: str) -> bytes:
        """A 32-byte random secret, made on first use and kept encrypted."""
        path = self.root / "secrets" / f"{name}.fernet"
        fernet = Fernet(self._key_encryption_key())
        if not path.exists():
            self._create_once(path, fernet.encrypt(secrets.token_bytes(32)))
        return fernet.decrypt(path.read_bytes())

    # -- signing keys --------------------------------------------------------------------------------
    def signing_key(self, name: str, *, algorithm: str = "EdDSA") -> SigningKey:
        """The current key called ``name``, generated on first use."""
        current = self.root / "keys" / name / "current"
        if not current.exists():
            self.rotate(name, algorithm=algorithm)
        kid = current.read_text().strip()
        return self.load(name, kid)

    def rotate(self, name: str, *, algorithm: str = "EdDSA") -> SigningKey:
        """Make a new current key; earlier keys stay loadable by their kid."""
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unsupported algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
        private: PrivateKey = (
            ed25519.Ed25519PrivateKey.generate()
            if algorithm == "EdDSA"
            else ec.generate_private_key(ec.SECP256R1())
        )
        kid = key_id(private.public_key())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._key_encryption_key()),
        )
        folder = self.root / "keys" / name
        _write_private(folder / f"{kid}.pem", pem)
        tmp = folder / f".current.{secrets.token_hex(4)}"
        _write_private(tmp, kid.encode())
        tmp.replace(folder / "current")
        return SigningKey(name=name, kid=kid, algorithm=algorithm, private_key=private)

    def load(self, name: str, kid: str) -> SigningKey:
        pem = (self.root / "keys" / name / f"{kid}.pem").read_bytes()
        private = serialization.load_pem_private_key(pem, password=self._key_encryption_key())
        if isinstance(private, ed25519.Ed25519PrivateKey):
            return SigningKey(name=name, kid=kid, algorithm="EdDSA", private_key=private)
        if isinstance(private, ec.EllipticCurvePrivateKey):
            return SigningKey(name=name, kid=kid, algorithm="ES256", private_key=private)
        raise ValueError(f"key {name}/{kid} has an unsupported type")

    def all_keys(self, name: str) -> list[SigningKey]:
        folder = self.root / "keys" / name
        if not folder.exists():
            return []
        return [self.load(name, path.stem) for path in sorted(folder.glob("*.pem"))]
