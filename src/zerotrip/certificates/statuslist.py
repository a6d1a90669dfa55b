"""IETF Token Status List (draft-ietf-oauth-status-list): the bit array, its encoding and its signed token.

Each referenced token owns ``bits`` (1, 2, 4 or 8) bits at its index. Entries are packed from the least
significant bit of byte 0 upwards: index ``i`` sits in byte ``i * bits // 8`` at bit offset
``(i * bits) % 8``. The byte array is compressed with DEFLATE in the ZLIB format and base64url-encoded (no
padding) as ``lst``. The platform publishes each list as a ``statuslist+jwt`` whose ``sub`` is the list's
URI, with ``iat``, ``ttl`` and ``status_list: {bits, lst}``, signed by the platform's status key.

A reader accepts a status list only when it is signed by a trusted key whose ``iss`` is a prefix of the
list's URI (the platform's key has ``iss`` = the public URL), so an issuer key cannot publish statuses.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from zerotrip.certificates import jose, sdjwt
from zerotrip.certificates.trust import TrustList
from zerotrip.keys import SigningKey

VALID = 0x00
INVALID = 0x01
SUSPENDED = 0x02
BITS = (1, 2, 4, 8)
TYP = "statuslist+jwt"
# A decompressed list larger than this is refused (16,777,216 entries of 8 bits), so a hostile ``lst``
# cannot inflate without bound.
MAX_LIST_BYTES = 16 * 1024 * 1024


class InvalidStatusList(ValueError):
    """A status list token that cannot be read or does not verify."""


def _check_bits(bits: int) -> None:
    if bits not in BITS:
        raise ValueError(f"bits must be one of {BITS}, not {bits!r}")


def packed_length(*, bits: int, size: int) -> int:
    """Bytes needed for ``size`` entries of ``bits`` bits."""
    _check_bits(bits)
    return (size * bits + 7) // 8


def pack(*, bits: int, size: int, entries: Iterable[tuple[int, int]]) -> bytes:
    """The byte array with ``size`` entries, all VALID except the ``(index, status)`` pairs given."""
    if size < 1:
        raise ValueError("a status list has at least one entry")
    data = bytearray(packed_length(bits=bits, size=size))
    mask = (1 << bits) - 1
    for index, status in entries:
        if not 0 <= index < size:
            raise ValueError(f"index {index} is outside a list of {size}")
        if not 0 <= status <= mask:
            raise ValueError(f"status {status} does not fit in {bits} bits")
        byte, offset = divmod(index * bits, 8)
        data[byte] = (data[byte] & ~(mask << offset) & 0xFF) | (status << offset)
    return bytes(data)


def status_at(data: bytes, *, bits: int, index: int) -> int:
    """The status at ``index``; raises IndexError outside the array."""
    _check_bits(bits)
    byte, offset = divmod(index * bits, 8)
    if index < 0 or byte >= len(data):
        raise IndexError(f"index {index} is outside the status list")
    return (data[byte] >> offset) & ((1 << bits) - 1)


def unpack(data: bytes, *, bits: int) -> list[int]:
    """Every entry of the byte array (``len(data) * 8 // bits`` of them)."""
    _check_bits(bits)
    mask = (1 << bits) - 1
    return [(byte >> offset) & mask for byte in data for offset in range(0, 8, bits)]


def encode_lst(data: bytes) -> str:
    """ZLIB-compress (best compression) and base64url-encode the byte array."""
    return jose.b64url_encode(zlib.compress(data, 9))


def decode_lst(lst: str) -> bytes:
    """The byte array from an ``lst`` value; raises ValueError if it is not base64url ZLIB data."""
    compressed = jose.b64url_decode(lst)
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, MAX_LIST_BYTES)
    except zlib.error as exc:
        raise ValueError("lst is not ZLIB-compressed") from exc
    if inflater.unconsumed_tail:
        raise ValueError("the status list is larger than this reader accepts")
    if not inflater.eof:
        raise ValueError("lst is a truncated ZLIB stream")
    return data


def status_list_token(
    *,
    key: SigningKey,
    uri: str,
    bits: int,
    size: int,
    entries: Iterable[tuple[int, int]],
    now: datetime,
    ttl_seconds: int,
) -> str:
    """The signed ``statuslist+jwt`` for the list at ``uri`` (entries: the non-VALID ``(index, status)``)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    payload = {
        "sub": uri,
        "iat": int(now.timestamp()),
        "ttl": int(ttl_seconds),
        "status_list": {"bits": bits, "lst": encode_lst(pack(bits=bits, size=size, entries=entries))},
    }
    return jose.sign_compact(
        jose.canonical_json(payload),
        key.private_key,
        algorithm=key.algorithm,
        headers={"alg": key.algorithm, "typ": TYP, "kid": key.kid},
    )


@dataclass(frozen=True)
class StatusListToken:
    """A verified status list."""

    uri: str
    bits: int
    data: bytes
    issued_at: datetime
    ttl_seconds: int | None
    expires_at: datetime | None
    kid: str

    def status(self, index: int) -> int:
        """The status at ``index``; raises IndexError outside the list."""
        return status_at(self.data, bits=self.bits, index=index)

    @property
    def size(self) -> int:
        return len(self.data) * 8 // self.bits


def _int_claim(payload: dict[str, Any], name: str, *, required: bool) -> int | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidStatusList(f"the status list's {name} is not a number of seconds")
    return value


def read_status_list_token(token: str, *, trust: TrustList, now: datetime | None = None) -> StatusListToken:
    """Verify a ``statuslist+jwt`` against the trust list and decode it.

    Raises InvalidStatusList when it is not one, its key is not trusted for the list's URI, its signature
    fails, it has expired (``exp`` before ``now``), or its ``lst`` does not decode.
    """
    try:
        header, payload, signing_input, signature = sdjwt.read_compact(token.strip(), "status list token")
    except sdjwt.MalformedSdJwt as exc:
        raise InvalidStatusList(str(exc)) from exc
    if header.get("typ") != TYP:
        raise InvalidStatusList(f"the token's typ is not {TYP}")
    uri, status_list = payload.get("sub"), payload.get("status_list")
    if not isinstance(uri, str) or not isinstance(status_list, dict):
        raise InvalidStatusList("the token has no sub or no status_list")
    entry = trust.find(header.get("kid"))
    if entry is None or not (uri == entry.iss or uri.startswith(entry.iss.rstrip("/") + "/")):
        raise InvalidStatusList("the status list is not signed by a key trusted for its URI")
    if header.get("alg") != entry.alg or not jose.verify_jws(
        signing_input, signature, entry.public_key, algorithm=entry.alg
    ):
        raise InvalidStatusList("the status list's signature does not verify")
    iat = _int_claim(payload, "iat", required=True)
    ttl = _int_claim(payload, "ttl", required=False)
    exp = _int_claim(payload, "exp", required=False)
    assert iat is not None
    issued_at = datetime.fromtimestamp(iat, UTC)
    expires_at = datetime.fromtimestamp(exp, UTC) if exp is not None else None
    if expires_at is not None and now is not None and now >= expires_at:
        raise InvalidStatusList(f"the status list expired at {expires_at.isoformat()}")
    bits, lst = status_list.get("bits"), status_list.get("lst")
    if bits not in BITS or not isinstance(lst, str):
        raise InvalidStatusList("status_list needs bits (1, 2, 4 or 8) and lst")
    try:
        data = decode_lst(lst)
    except ValueError as exc:
        raise InvalidStatusList(str(exc)) from exc
    return StatusListToken(
        uri=uri,
        bits=bits,
        data=data,
        issued_at=issued_at,
        ttl_seconds=ttl,
        expires_at=expires_at,
        kid=entry.kid,
    )
