"""JOSE building blocks for the certificates' tokens: strict base64url, strict JSON, compact JWS.

Decoding is strict: base64url without padding and in canonical form only, JSON objects without duplicate
names, no NaN or Infinity. JWS signing and verification call ``cryptography`` directly (ES256 converts
between JOSE's raw r||s and DER). ``sdjwt.py`` builds SD-JWTs on these.

Speed. JSON is read with orjson and accepted from it only when orjson writes the value back to exactly the
bytes it read; anything else (whitespace, escapes, a duplicate member name, an integer past 64 bits, a
lone surrogate...) is read again by the strict standard-library decoder, so what a token means never
depends on which decoder ran: a duplicate name always fails.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from zerotrip.keys import PrivateKey, PublicKey

ALGORITHMS = ("ES256", "EdDSA")

_sha256 = hashlib.sha256
_B64_VALUES = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_STRICT_FROM_URLSAFE = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = {0: b"", 2: b"==", 3: b"="}
LENIENT_PADDING = (b"", b"===", b"==", b"=")
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_ECDSA_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))
_b2a = binascii.b2a_base64
_a2b = binascii.a2b_base64
_DIGEST = type(hashlib.sha256()).digest


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(TO_URLSAFE).decode("ascii")


def b64url_decode_lenient(text: str) -> bytes:
    data = text.encode("ascii")  # UnicodeEncodeError is a ValueError
    return binascii.a2b_base64(data.translate(FROM_URLSAFE) + b"=" * (-len(data) % 4))


def b64url_decode(text: str) -> bytes:
    """Strict base64url: URL-safe alphabet, no padding, and the canonical encoding of what it decodes to."""
    remainder = len(text) % 4
    if remainder == 1:
        raise ValueError("not base64url")
    try:
        # One translation maps the URL-safe alphabet to the standard one and "+", "/" and "=" to a
        # character strict_mode refuses (as it refuses anything outside the alphabet, whitespace included).
        decoded = _a2b(
            text.encode("ascii").translate(_STRICT_FROM_URLSAFE) + _PADDING[remainder], strict_mode=True
        )
    except ValueError as exc:  # binascii.Error, UnicodeEncodeError
        raise ValueError("not base64url") from exc
    # The unused low bits of a final partial group must be zero, so one byte string has one encoding.
    if remainder and _B64_VALUES[text[-1]] & (0x0F if remainder == 2 else 0x03):
        raise ValueError("not canonical base64url")
    return decoded


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads/dumps with options build a decoder/encoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# orjson may serialise only what the standard encoder would write the same way: plain str, int, bool,
# None, dict and list (subclasses, dates and dataclasses go to ``default``, which hands them back).
ORJSON_PLAIN = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def not_plain(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def json_loads(data: bytes) -> Any:
    """Strict JSON from UTF-8 bytes: no duplicate member names, no NaN/Infinity.

    orjson's answer is taken only when it serialises back to exactly ``data``: then no member name was
    repeated (a repeated one would be missing from what it writes), no integer was turned into a float and
    nothing was unescaped, so the standard decoder would give the same value. Otherwise the strict
    standard decoder decides (and raises ValueError for what it refuses).
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        if orjson.dumps(value) == data:
            return value
    return _DECODER.decode(data.decode("utf-8"))


def json_loads_many(documents: list[bytes]) -> list[Any]:
    """``[json_loads(d) for d in documents]`` with one orjson call: the documents are read as the elements
    of one array, and each is taken only when orjson writes it back to exactly its own bytes (which also
    proves the elements lined up with the documents)."""
    if documents:
        try:
            values = orjson.loads(b"[" + b",".join(documents) + b"]")
        except orjson.JSONDecodeError:
            pass
        else:
            if len(values) == len(documents) and list(map(orjson.dumps, values)) == documents:
                return values  # type: ignore[no-any-return]
    return [json_loads(document) for document in documents]


def canonical_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (what is signed is serialised exactly once); ValueError for NaN/Infinity.

    orjson writes plain values; the standard encoder takes over for anything else, and whenever the output
    holds a ``null`` (orjson writes NaN and Infinity as null, which must be refused instead).
    """
    try:
        data = orjson.dumps(value, default=not_plain, option=ORJSON_PLAIN)
    except TypeError:  # orjson.JSONEncodeError: a value that is not plain, an integer past 64 bits
        return _ENCODER.encode(value).encode("utf-8")
    if b"null" in data:
        return _ENCODER.encode(value).encode("utf-8")
    return data


def _jws_signature(signing_input: bytes, key: PrivateKey, algorithm: str) -> bytes:
    """The JOSE signature: raw r||s (32 bytes each) for ES256, the 64 Ed25519 bytes for EdDSA."""
    if algorithm == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        r, s = decode_dss_signature(key.sign(signing_input, _ECDSA_SHA256))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if algorithm == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(signing_input)
    raise ValueError(f"a {type(key).__name__} does not sign {algorithm}")


@functools.lru_cache(maxsize=256)
def _header_segment(alg: str, typ: str, kid: str | None) -> bytes:
    header = {"alg": alg, "typ": typ} if kid is None else {"alg": alg, "typ": typ, "kid": kid}
    return b64url_encode(canonical_json(header)).encode("ascii")


def sign_compact(payload: bytes, key: PrivateKey, *, algorithm: str, headers: dict[str, Any]) -> str:
    """A compact JWS (RFC 7515 section 7.1) over ``payload`` (bytes, serialised once) with exactly
    ``headers`` (JOSE signature form: raw r||s for ES256)."""
    if headers.get("alg") != algorithm or algorithm not in ALGORITHMS:
        raise ValueError("the header's alg must be the signing algorithm")
    names = tuple(headers)
    if ((names == ("alg", "typ", "kid") and isinstance(headers["kid"], str)) or names == ("alg", "typ")) and (
        isinstance(headers["typ"], str)
    ):
        # The header of a given key is the same every time; its encoding is kept.
        header = _header_segment(algorithm, headers["typ"], headers.get("kid"))
    else:
        header = b64url_encode(canonical_json(headers)).encode("ascii")
    signing_input = header + b"." + b64url_encode(payload).encode("ascii")
    signature = _jws_signature(signing_input, key, algorithm)
    return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"


def verify_jws(signing_input: bytes, signature: bytes, public_key: PublicKey, *, algorithm: str) -> bool:
    """Whether ``signature`` (JOSE form: raw r||s for ES256) over ``signing_input`` verifies."""
    try:
        if algorithm == "ES256":
            if len(signature) != 64 or not _is_p256(public_key):
                return False
            # The digest is taken here and handed over prehashed: the same ECDSA verification, a little
            # cheaper through cryptography's API than letting it hash.
            public_key.verify(  # type: ignore[call-arg]
                der_signature(signature), _sha256(signing_input).digest(), _ECDSA_PREHASHED
            )
            return True
        if algorithm == "EdDSA" and _is_ed25519(public_key):
            public_key.verify(signature, signing_input)  # type: ignore[call-arg]
            return True
    except InvalidSignature:
        return False
    return False


def _der_integer(value: bytes) -> bytes:
    value = value.lstrip(b"\x00")
    if not value or value[0] & 0x80:
        value = b"\x00" + value
    return b"\x02" + bytes((len(value),)) + value


def der_signature(signature: bytes) -> bytes:
    """The DER ECDSA-Sig-Value of a raw r||s (what ``encode_dss_signature`` makes, without the integers)."""
    body = _der_integer(signature[:32]) + _der_integer(signature[32:])
    return b"\x30" + bytes((len(body),)) + body


# isinstance against the abstract key classes costs more than the rest of the preparation; the concrete
# classes seen are remembered.
_P256_TYPES: set[type] = set()
_ED25519_TYPES: set[type] = set()


def _is_p256(key: object) -> bool:
    if type(key) in _P256_TYPES:
        return key.curve.name == "secp256r1"  # type: ignore[attr-defined, no-any-return]
    if isinstance(key, ec.EllipticCurvePublicKey):
        _P256_TYPES.add(type(key))
        return key.curve.name == "secp256r1"
    return False


def _is_ed25519(key: object) -> bool:
    if type(key) in _ED25519_TYPES:
        return True
    if isinstance(key, ed25519.Ed25519PublicKey):
        _ED25519_TYPES.add(type(key))
        return True
    return False
