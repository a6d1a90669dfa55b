"""Which key signs what: one key per issuing department, the platform's status-list key, and holder keys.

Issuer and status keys live in the deployment's ``KeyStore`` (encrypted files in the data directory, never the
database). A department's key is ``certificates-issuer-{org_id}``; rotating it makes a new current key and
keeps the old ones, which stay in the trust list so what they signed still verifies.

Holder keys back the custodial wallet: each holder's P-256 key is derived with HKDF-SHA256 from the
deployment secret ``certificates-holder-keys`` and the holder key (resident ID or credit code), so nothing
per holder is stored and the same holder always gets the same key (and the same ``cnf`` in what they hold).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import threading
import weakref
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from zerotrip.keys import KeyStore, PrivateKey, PublicKey, SigningKey

ISSUER_KEY_PREFIX = "certificates-issuer-"
STATUS_KEY_NAME = "certificates-status"
HOLDER_SECRET_NAME = "certificates-holder-keys"  # noqa: S105 (a KeyStore name, not a secret)
ALGORITHMS = ("ES256", "EdDSA")

# The order n of the P-256 group; a derived scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HOLDER_KDF_SALT = b"zerotrip/certificates/holder-key/v1"

# Loading a key decrypts its PKCS#8 file (about half a millisecond); issuing reads the current kid every
# time (so a rotation by another process is seen at once) and keeps the decrypted keys it has loaded.
_loaded: weakref.WeakKeyDictionary[KeyStore, dict[tuple[str, str], SigningKey]] = weakref.WeakKeyDictionary()
_loaded_lock = threading.Lock()
# The holder-key secret never changes once made; decrypting it costs about 0.1 ms per issue otherwise.
_holder_secrets: weakref.WeakKeyDictionary[KeyStore, bytes] = weakref.WeakKeyDictionary()


def issuer_key_name(org_id: int) -> str:
    """The KeyStore name of an issuing department's key."""
    return f"{ISSUER_KEY_PREFIX}{int(org_id)}"


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")


def _current(keys: KeyStore, name: str, *, algorithm: str) -> SigningKey:
    _check_algorithm(algorithm)
    try:
        kid = (keys.root / "keys" / name / "current").read_text().strip()
    except FileNotFoundError:
        # The first use makes the key (exclusively, so two workers cannot both make one and diverge).
        key = keys.signing_key(name, algorithm=algorithm)
        _remember(keys, key)
        return key
    return _load(keys, name, kid)


def _remember(keys: KeyStore, key: SigningKey) -> None:
    with _loaded_lock:
        _loaded.setdefault(keys, {})[(key.name, key.kid)] = key


def _load(keys: KeyStore, name: str, kid: str) -> SigningKey:
    with _loaded_lock:
        cached = _loaded.get(keys, {}).get((name, kid))
    if cached is not None:
        return cached
    key = keys.load(name, kid)
    _remember(keys, key)
    return key


def issuer_signing_key(keys: KeyStore, org_id: int, *, algorithm: str) -> SigningKey:
    """The department's current key, made in ``algorithm`` on first use.

    An existing key keeps the algorithm it was made with; a changed ``certificates.algorithm`` applies from
    the department's next rotation.
    """
    return _current(keys, issuer_key_name(org_id), algorithm=algorithm)


def rotate_issuer_key(keys: KeyStore, org_id: int, *, algorithm: str) -> SigningKey:
    """Make a new current key for the department; its earlier keys stay loadable and trusted."""
    _check_algorithm(algorithm)
    key = keys.rotate(issuer_key_name(org_id), algorithm=algorithm)
    _remember(keys, key)
    return key


def issuer_keys(keys: KeyStore, org_id: int) -> list[SigningKey]:
    """Every key the department has had, current and retired (ordered by kid)."""
    return keys.all_keys(issuer_key_name(org_id))


def issuer_org_ids(keys: KeyStore) -> list[int]:
    """The ids of the departments that have an issuer key, in ascending order."""
    folder = keys.root / "keys"
    if not folder.exists():
        return []
    ids = []
    for path in folder.iterdir():
        suffix = path.name.removeprefix(ISSUER_KEY_PREFIX)
        if path.is_dir() and suffix != path.name and suffix.isdigit():
            ids.append(int(suffix))
    return sorted(ids)


def status_signing_key(keys: KeyStore, *, algorithm: str) -> SigningKey:
    """The platform's current key for status list tokens, made in ``algorithm`` on first use."""
    return _current(keys, STATUS_KEY_NAME, algorithm=algorithm)


def status_keys(keys: KeyStore) -> list[SigningKey]:
    """Every status-list key the platform has had, current and retired."""
    return keys.all_keys(STATUS_KEY_NAME)


def rotate_status_key(keys: KeyStore, *, algorithm: str) -> SigningKey:
    _check_algorithm(algorithm)
    key = keys.rotate(STATUS_KEY_NAME, algorithm=algorithm)
    _remember(keys, key)
    return key


def holder_private_key(keys: KeyStore, holder_key: str) -> ec.EllipticCurvePrivateKey:
    """The holder's P-256 key, derived from the deployment secret and the holder key (deterministic)."""
    if not holder_key:
        raise ValueError("a holder key is required")
    return derive_holder_key(_holder_secret(keys), holder_key)


def holder_public_jwk(keys: KeyStore, holder_key: str) -> dict[str, Any]:
    """The public JWK of the holder's key (what a certificate's ``cnf`` carries); a fresh dict each call.

    Deriving a key costs a scalar multiplication; the public JWKs of recently seen holders are kept (they
    are public, and a holder's key never changes within a deployment).
    """
    if not holder_key:
        raise ValueError("a holder key is required")
    return dict(_holder_public_jwk(_holder_secret(keys), holder_key))


def _holder_secret(keys: KeyStore) -> bytes:
    secret = _holder_secrets.get(keys)
    if secret is None:
        secret = _holder_secrets.setdefault(keys, keys.secret(HOLDER_SECRET_NAME))
    return secret


@functools.lru_cache(maxsize=8192)
def _holder_public_jwk(secret: bytes, holder_key: str) -> tuple[tuple[str, str], ...]:
    # What public_jwk gives for the key, without its type checks (the key is P-256 by construction).
    point = (
        derive_holder_key(secret, holder_key)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return (("kty", "EC"), ("crv", "P-256"), ("x", _b64(point[1:33])), ("y", _b64(point[33:65])))


@functools.lru_cache(maxsize=16)
def _holder_prk(secret: bytes) -> bytes:
    # HKDF-Extract (RFC 5869 section 2.2): the pseudorandom key depends on the secret alone.
    return hmac.digest(_HOLDER_KDF_SALT, secret, "sha256")


def derive_holder_key(secret: bytes, holder_key: str) -> ec.EllipticCurvePrivateKey:
    """HKDF-SHA256 (salt ``_HOLDER_KDF_SALT``, info the holder key in UTF-8) gives 48 bytes, read as an
    integer and reduced to a P-256 scalar."""
    # HKDF-Expand (RFC 5869 section 2.3) to 48 bytes is two HMAC blocks; written out with hmac.digest
    # because it is the same computation as cryptography's HKDF at a tenth of the cost.
    info = holder_key.encode("utf-8")
    prk = _holder_prk(secret)
    first = hmac.digest(prk, info + b"\x01", "sha256")
    material = first + hmac.digest(prk, first + info + b"\x02", "sha256")[:16]
    # 48 bytes (the order's size plus 128 bits) reduced modulo n - 1 keeps the scalar's bias negligible
    # (FIPS 186-5 A.2.1, "extra random bits").
    scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode("ascii")


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def public_jwk(key: SigningKey | PrivateKey | PublicKey) -> dict[str, Any]:
    """The public JWK (RFC 7517) of a key; a ``SigningKey`` also gets its ``kid``, ``alg`` and ``use``."""
    public: PublicKey
    if isinstance(key, SigningKey):
        public = key.public_key
    elif isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        public = key.public_key()
    else:
        public = key
    jwk: dict[str, Any]
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
    elif isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        jwk = {"kty": "EC", "crv": "P-256", "x": _b64(point[1:33]), "y": _b64(point[33:65])}
    else:
        raise ValueError("only P-256 and Ed25519 keys are supported")
    if isinstance(key, SigningKey):
        jwk.update({"kid": key.kid, "alg": key.algorithm, "use": "sig"})
    return jwk


def _b64decode_exact(text: Any, size: int) -> bytes:
    if not isinstance(text, str) or len(text) != -(-size * 4 // 3):
        raise ValueError("a JWK coordinate has the wrong length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise ValueError("a JWK coordinate is not base64url") from exc
    if len(data) != size or _b64(data) != text:
        raise ValueError("a JWK coordinate is not canonical base64url")
    return data


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Parse a public P-256 or Ed25519 JWK; raises ValueError for anything else (or a point off the curve)."""
    if not isinstance(jwk, dict):
        raise ValueError("a JWK must be an object")
    if "d" in jwk:
        raise ValueError("a public JWK must not carry the private part")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "EC" and crv == "P-256":
        x = int.from_bytes(_b64decode_exact(jwk.get("x"), 32), "big")
        y = int.from_bytes(_b64decode_exact(jwk.get("y"), 32), "big")
        # public_key() checks the point is on the curve.
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    if kty == "OKP" and crv == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(_b64decode_exact(jwk.get("x"), 32))
    raise ValueError(f"unsupported JWK (kty {kty!r}, crv {crv!r}); use EC P-256 or OKP Ed25519")


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """The JOSE algorithm a key signs with."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return "ES256"
    raise ValueError("only P-256 and Ed25519 keys are supported")
