"""SD-JWT VC (RFC 9901 SD-JWT, draft-ietf-oauth-sd-jwt-vc): issue, present, parse, check the cryptography.

Compact form: ``<issuer-signed JWT>~<disclosure>~…~[<KB-JWT>]``. Each certificate field is one object-property
disclosure ``base64url(JSON [salt, name, value])`` whose salt is 22 random base64url characters (132 bits);
the issuer-signed payload carries the SHA-256 digest of every disclosure (the digest is over the ASCII of the
base64url text, not the JSON) plus decoys, sorted, in ``_sd``. A presentation keeps the disclosures the
holder chose and appends a KB-JWT whose ``sd_hash`` is the digest of everything before it (up to and
including the last ``~``).

The JOSE layer (strict base64url and JSON, compact JWS with ``cryptography``) is ``jose.py``; the thin
SD-JWT layer is here. The verdict (trust, times, status) is ``verify.py``'s; this module only answers "does
the cryptography hold". A signed payload is decoded once; decoded headers are kept per header segment,
parsed public keys per trust-list entry (``trust.py``).
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
import math
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from zerotrip.certificates.jose import (
    ALGORITHMS,
    FROM_URLSAFE,
    LENIENT_PADDING,
    ORJSON_PLAIN,
    TO_URLSAFE,
    b64url_decode,
    b64url_decode_lenient,
    b64url_encode,
    canonical_json,
    json_loads,
    json_loads_many,
    not_plain,
    sign_compact,
    verify_jws,
)
from zerotrip.certificates.signing import algorithm_for, public_key_from_jwk
from zerotrip.keys import PrivateKey, PublicKey, SigningKey

TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
SD_ALG = "sha-256"
SALT_BYTES = 16
# Random bytes drawn per disclosure in ``issue``: 24 base64url characters, of which a salt takes 22.
_SALT_POOL = 18
# Claims that belong to the SD-JWT machinery or must stay in the signed part (SD-JWT VC section 3.2.2.2).
RESERVED_CLAIMS = frozenset({"_sd", "_sd_alg", "...", "cnf", "iss", "vct", "nbf", "exp", "status", "iat"})
# Digests are padded with decoys up to a multiple of this (with at least MIN_DECOYS decoys).
DECOY_BUCKET = 8
MIN_DECOYS = 2

_sha256 = hashlib.sha256
_b2a = binascii.b2a_base64
_a2b = binascii.a2b_base64
_DIGEST = type(hashlib.sha256()).digest


class SdJwtError(ValueError):
    """Base of what goes wrong reading an SD-JWT; ``code`` is the verdict code it maps to."""

    code = "malformed"


class MalformedSdJwt(SdJwtError):
    code = "malformed"


class TamperedDisclosure(SdJwtError):
    code = "tampered_disclosure"


class BadKeyBinding(SdJwtError):
    code = "bad_key_binding"


# -- digests and disclosures ---------------------------------------------------------------------------------
def digest(disclosure: str) -> str:
    """The SD-JWT digest of a disclosure: base64url(SHA-256(ASCII of the disclosure string))."""
    return b64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def sd_hash(presented: str) -> str:
    """The KB-JWT ``sd_hash``: the digest of the presentation up to and including its last ``~``."""
    return b64url_encode(hashlib.sha256(presented.encode("ascii")).digest())


def make_disclosure(name: str, value: Any, *, salt: str | None = None) -> str:
    """An object-property disclosure ``[salt, name, value]`` with a fresh 128-bit salt."""
    salt = salt if salt is not None else b64url_encode(secrets.token_bytes(SALT_BYTES))
    return b64url_encode(canonical_json([salt, name, value]))


def _decoy_count(real: int) -> int:
    return max(math.ceil((real + MIN_DECOYS) / DECOY_BUCKET) * DECOY_BUCKET, DECOY_BUCKET) - real


def _numeric_date(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return int(value.timestamp())
    return value


# -- issue and present -------------------------------------------------------------------------------------
def issue(
    *,
    key: SigningKey,
    claims: Mapping[str, Any],
    disclosable: Mapping[str, Any],
    holder_public_jwk: dict[str, Any] | None,
) -> str:
    """Sign an SD-JWT VC: ``claims`` always disclosed, one disclosure per ``disclosable`` field.

    ``claims`` holds iss, vct, jti, iat, nbf, exp, status, issuer_name, type_name (datetimes become
    NumericDates); the result ends with ``~`` and carries every disclosure and no KB-JWT. Raises ValueError
    when a name is reserved or appears in both mappings.
    """
    if key.algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported algorithm {key.algorithm!r}")
    for name in ("_sd", "_sd_alg", "...", "cnf"):
        if name in claims:
            raise ValueError(f"{name!r} is set by issue(), not by the caller")
    if not isinstance(claims.get("iss"), str):
        raise ValueError("claims need an 'iss'")
    for name in disclosable:
        if not isinstance(name, str) or name in RESERVED_CLAIMS or name in claims:
            raise ValueError(f"{name!r} cannot be a disclosable field")
    payload = {name: _numeric_date(value) for name, value in claims.items()}
    count = len(disclosable)
    decoys = _decoy_count(count)
    # One read of the system's CSPRNG for every salt and decoy seed. Each salt is 22 random base64url
    # characters (132 bits): 18 random bytes are 24 characters, encoded for all salts in one call.
    pool = secrets.token_bytes(_SALT_POOL * count + 32 * decoys)
    salts = _b2a(pool[: _SALT_POOL * count], newline=False).translate(TO_URLSAFE)
    texts = [
        _b2a(b'["' + salts[24 * i : 24 * i + 22] + b'",' + _json_tail(name, value), newline=False)
        .rstrip(b"=")
        .translate(TO_URLSAFE)
        for i, (name, value) in enumerate(disclosable.items())
    ]
    seeds = pool[_SALT_POOL * count :]
    # A decoy is the digest of a random number (RFC 9901 section 4.2.5). Each digest followed by a zero
    # byte is 44 base64 characters of which the first 43 are its own encoding: all in one call.
    raw_digests = [_sha256(text).digest() for text in texts]
    raw_digests += [_sha256(seeds[i * 32 : (i + 1) * 32]).digest() for i in range(decoys)]
    digest_text = (
        _b2a(b"\x00".join(raw_digests) + b"\x00", newline=False).translate(TO_URLSAFE).decode("ascii")
    )
    digests = [digest_text[i : i + 43] for i in range(0, len(digest_text), 44)]
    payload["_sd"] = sorted(digests)
    payload["_sd_alg"] = SD_ALG
    if holder_public_jwk is not None:
        payload["cnf"] = {"jwk": dict(holder_public_jwk)}
    jwt = sign_compact(
        canonical_json(payload),
        key.private_key,
        algorithm=key.algorithm,
        headers={"alg": key.algorithm, "typ": TYP, "kid": key.kid},
    )
    return "".join([jwt, "~", *(text.decode("ascii") + "~" for text in texts)])


def _json_tail(name: str, value: Any) -> bytes:
    """``canonical_json([name, value])`` without its opening bracket."""
    try:
        data = orjson.dumps([name, value], default=not_plain, option=ORJSON_PLAIN)
    except TypeError:
        return canonical_json([name, value])[1:]
    if b"null" in data:
        return canonical_json([name, value])[1:]
    return data[1:]


def present(
    token: str,
    *,
    disclose: Collection[str],
    holder_key: PrivateKey | None,
    audience: str,
    nonce: str,
    now: datetime,
) -> str:
    """Keep only the disclosures named in ``disclose`` and append a KB-JWT signed by ``holder_key``.

    ``token`` is the issued SD-JWT (a KB-JWT already on it is dropped). With ``holder_key`` None the result
    is a plain selective presentation without key binding. Raises ValueError when a name in ``disclose`` is
    not among the token's disclosures.
    """
    parsed = split(token)
    wanted = set(disclose)
    kept: list[str] = []
    found: set[str] = set()
    for raw in parsed.disclosures:
        name = _decode_disclosure(raw)[1]
        if name in wanted:
            kept.append(raw)
            found.add(name)
    if missing := wanted - found:
        raise ValueError(f"the certificate has no field {', '.join(sorted(missing))}")
    presented = parsed.issuer_jwt + "~" + "".join(d + "~" for d in kept)
    if holder_key is None:
        return presented
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    algorithm = algorithm_for(holder_key)
    kb_payload = {"iat": int(now.timestamp()), "aud": audience, "nonce": nonce, "sd_hash": sd_hash(presented)}
    return presented + sign_compact(
        canonical_json(kb_payload), holder_key, algorithm=algorithm, headers={"alg": algorithm, "typ": KB_TYP}
    )


# -- parsing -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    issuer_jwt: str
    disclosures: tuple[str, ...]
    key_binding: str | None
    # Everything up to and including the last "~": what a KB-JWT's sd_hash covers.
    presented: str


def split(token: str) -> Split:
    """Cut a compact SD-JWT into its parts (no decoding)."""
    if not isinstance(token, str) or "~" not in token:
        raise MalformedSdJwt("not an SD-JWT (no '~' separator)")
    last = token.rfind("~")
    parts = token[:last].split("~")
    return Split(
        issuer_jwt=parts[0],
        disclosures=tuple(parts[1:]),
        key_binding=token[last + 1 :] or None,
        presented=token[: last + 1],
    )


class SdJwt(NamedTuple):
    """A parsed, not yet verified SD-JWT (a tuple: cheap to make, immutable)."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    # Empty when the signature segment is not valid base64url (it then cannot verify).
    signature: bytes
    key_binding: str | None
    # The token and the positions of its first and last "~" (the disclosures lie between them).
    token: str
    first: int
    last: int

    @property
    def disclosures(self) -> tuple[str, ...]:
        return tuple(self.token[self.first + 1 : self.last].split("~")) if self.last > self.first else ()

    @property
    def presented(self) -> str:
        """Everything up to and including the last "~": what a KB-JWT's sd_hash covers."""
        return self.token[: self.last + 1]

    @property
    def kid(self) -> str:
        return str(self.header["kid"])

    @property
    def algorithm(self) -> str:
        return str(self.header["alg"])

    @property
    def issuer(self) -> str:
        return str(self.payload["iss"])


def _decode_json_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json_loads(b64url_decode(segment))
    except ValueError as exc:  # bad base64url, bad UTF-8, bad JSON (all ValueError)
        raise MalformedSdJwt(f"the {what} is not base64url-encoded JSON") from exc
    if not isinstance(value, dict):
        raise MalformedSdJwt(f"the {what} is not a JSON object")
    return value


# Every certificate of one key has the same header; decoded headers are kept (bounded, never mutated).
_HEADERS: dict[str, dict[str, Any]] = {}
_MAX_HEADERS = 1024


def _decode_header(segment: str, what: str) -> dict[str, Any]:
    header = _HEADERS.get(segment)
    if header is None:
        header = _decode_json_segment(segment, what)
        if len(_HEADERS) < _MAX_HEADERS:
            _HEADERS[segment] = header
    return header


def read_compact(jwt: str, what: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, payload, signing input and signature of a compact JWS; raises MalformedSdJwt.

    A signature segment that is not canonical base64url comes back empty (it cannot verify).
    """
    segments = jwt.split(".")
    if len(segments) != 3:
        raise MalformedSdJwt(f"the {what} is not a compact JWS (three parts separated by dots)")
    header = _decode_header(segments[0], what + " header")
    payload = _decode_json_segment(segments[1], what + " payload")
    try:
        signature = b64url_decode(segments[2])
    except ValueError:
        signature = b""
    return header, payload, jwt[: len(segments[0]) + 1 + len(segments[1])].encode("ascii"), signature


def parse(token: str) -> SdJwt:
    """Parse an SD-JWT VC without verifying it; raises MalformedSdJwt when it is not one.

    The header must name a supported ``alg``, ``typ: dc+sd-jwt`` and a ``kid``; the payload must be a JSON
    object with a string ``iss``. Disclosures are only split here; ``disclosed_claims`` checks them.
    """
    if not isinstance(token, str) or "~" not in token:
        raise MalformedSdJwt("not an SD-JWT (no '~' separator)")
    # As ``split`` and ``read_compact`` do, without building their results or copying the segments twice.
    first, last = token.find("~"), token.rfind("~")
    dot = token.find(".", 0, first)
    dot2 = token.find(".", dot + 1, first) if dot >= 0 else -1
    if dot2 < 0 or token.find(".", dot2 + 1, first) >= 0:
        raise MalformedSdJwt("the issuer-signed JWT is not a compact JWS (three parts separated by dots)")
    header = _decode_header(token[:dot], "issuer-signed JWT header")
    payload = _decode_json_segment(token[dot + 1 : dot2], "issuer-signed JWT payload")
    try:
        signature = b64url_decode(token[dot2 + 1 : first])
    except ValueError:
        signature = b""
    if header.get("typ") != TYP:
        raise MalformedSdJwt(f"the header's typ is not {TYP}")
    if header.get("alg") not in ALGORITHMS:
        raise MalformedSdJwt(f"the header's alg is not one of {', '.join(ALGORITHMS)}")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise MalformedSdJwt("the header has no kid")
    if "crit" in header:
        raise MalformedSdJwt("the header has critical extensions this verifier does not understand")
    if not isinstance(payload.get("iss"), str):
        raise MalformedSdJwt("the payload has no iss")
    # The header and payload segments decoded, so they are ASCII.
    return SdJwt(
        header,
        payload,
        token[:dot2].encode("ascii"),
        signature,
        token[last + 1 :] or None,
        token,
        first,
        last,
    )


def _decode_disclosure(raw: str) -> tuple[str, str, Any]:
    try:
        # No canonical-form check: a disclosure is only trusted once its exact text's digest is signed.
        value = json_loads(b64url_decode_lenient(raw))
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise MalformedSdJwt("a disclosure is not base64url-encoded JSON") from exc
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not isinstance(value[1], str)
    ):
        raise MalformedSdJwt("a disclosure is not an object-property disclosure [salt, name, value]")
    return value[0], value[1], value[2]


def disclosures(token: str) -> dict[str, Any]:
    """Name → value of the disclosures present in ``token`` (no verification at all)."""
    return {name: value for _, name, value in (_decode_disclosure(d) for d in split(token).disclosures)}


# -- verification ------------------------------------------------------------------------------------------
def verify_signature(sd: SdJwt, public_key: PublicKey, *, algorithm: str) -> bool:
    """Whether the issuer signature verifies with ``public_key`` under ``algorithm`` (which the kid names)."""
    if sd.algorithm != algorithm:
        return False
    return verify_jws(sd.signing_input, sd.signature, public_key, algorithm=algorithm)


def disclosed_claims(sd: SdJwt) -> dict[str, Any]:
    """Name → value of the disclosures, after checking each one's digest is in the signed ``_sd``.

    Call only after the signature verified. Raises TamperedDisclosure for a disclosure whose digest is not
    in ``_sd`` (changed or added) or that appears twice, MalformedSdJwt when the signed payload itself is not
    a well-formed SD-JWT (``_sd``/``_sd_alg`` wrong, or a digest-matching disclosure that is not valid).
    """
    payload = sd.payload
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise MalformedSdJwt(f"the digest algorithm is not {SD_ALG}")
    listed = payload.get("_sd", [])
    try:
        if type(listed) is not list:
            raise TypeError
        "".join(listed)  # raises TypeError unless every entry is a string
    except TypeError:
        raise MalformedSdJwt("_sd is not a list of digests") from None
    digests = set(listed)
    if len(digests) != len(listed):
        raise MalformedSdJwt("_sd lists a digest twice")
    if sd.last == sd.first:
        return {}
    # Every digest is checked before any disclosure is decoded, so a changed or added disclosure is
    # reported as such rather than as the issuer's malformed one. The disclosures are made bytes in one
    # piece (a non-ASCII one cannot be a signed disclosure).
    try:
        blob = sd.token[sd.first + 1 : sd.last].encode("ascii")
    except UnicodeEncodeError:
        raise TamperedDisclosure("a disclosure is not in the signed digests") from None
    texts = blob.split(b"~")
    # Each SHA-256 digest followed by a zero byte is 33 bytes, 44 base64 characters of which the first 43
    # are the digest's own unpadded encoding: all of them are encoded in one call.
    encoded = (
        _b2a(b"\x00".join(map(_DIGEST, map(_sha256, texts))) + b"\x00", newline=False)
        .translate(TO_URLSAFE)
        .decode("ascii")
    )
    found = [encoded[i : i + 43] for i in range(0, len(encoded), 44)]
    if not digests.issuperset(found):
        raise TamperedDisclosure("a disclosure is not in the signed digests")
    if len(set(found)) != len(found):
        raise TamperedDisclosure("a disclosure is repeated")
    try:
        # No canonical-form check: the digest binds this exact text. (A length of 1 modulo 4 gets three
        # "=" and fails to decode.)
        values = json_loads_many(
            [_a2b(text + LENIENT_PADDING[len(text) & 3]) for text in blob.translate(FROM_URLSAFE).split(b"~")]
        )
    except ValueError:
        raise MalformedSdJwt("a disclosure is not base64url-encoded JSON") from None
    claims: dict[str, Any] = {}
    for value in values:
        if type(value) is not list or len(value) != 3:
            raise MalformedSdJwt("a disclosure is not an object-property disclosure [salt, name, value]")
        salt, name, claim = value
        if type(salt) is not str or type(name) is not str:
            raise MalformedSdJwt("a disclosure is not an object-property disclosure [salt, name, value]")
        if name in RESERVED_CLAIMS or name in payload or name in claims:
            raise MalformedSdJwt(f"the disclosed name {name!r} is reserved or repeated")
        claims[name] = claim
    return claims


@functools.lru_cache(maxsize=4096)
def _holder_public_key(jwk_json: str) -> PublicKey:
    # Parsing a JWK checks the point is on the curve; a holder shows the same key again and again.
    return public_key_from_jwk(json.loads(jwk_json))


@dataclass(frozen=True)
class KeyBinding:
    issued_at: int
    audience: str
    nonce: str


def verify_key_binding(
    sd: SdJwt, *, expected_audience: str | None = None, expected_nonce: str | None = None
) -> KeyBinding:
    """Check the KB-JWT against the holder key in ``cnf`` and the presentation's ``sd_hash``.

    Raises BadKeyBinding when it is absent, not a ``kb+jwt``, signed by another key, or bound to another
    presentation (or audience/nonce, when expected ones are given).
    """
    if sd.key_binding is None:
        raise BadKeyBinding("the presentation has no key binding JWT")
    cnf = sd.payload.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise BadKeyBinding("the certificate names no holder key (cnf)")
    try:
        holder_public = _holder_public_key(json.dumps(cnf["jwk"], sort_keys=True))
        header, payload, signing_input, signature = read_compact(sd.key_binding, "key binding JWT")
    except (ValueError, MalformedSdJwt) as exc:
        raise BadKeyBinding(f"the key binding cannot be read: {exc}") from exc
    algorithm = algorithm_for(holder_public)
    if header.get("typ") != KB_TYP or header.get("alg") != algorithm or "crit" in header:
        raise BadKeyBinding(f"the key binding JWT is not a {KB_TYP} signed with {algorithm}")
    if not verify_jws(signing_input, signature, holder_public, algorithm=algorithm):
        raise BadKeyBinding("the key binding JWT is not signed by the holder key")
    iat, aud, nonce = payload.get("iat"), payload.get("aud"), payload.get("nonce")
    if not isinstance(iat, int) or isinstance(iat, bool) or not isinstance(aud, str):
        raise BadKeyBinding("the key binding JWT lacks iat or aud")
    if not isinstance(nonce, str):
        raise BadKeyBinding("the key binding JWT lacks a nonce")
    if payload.get("sd_hash") != sd_hash(sd.presented):
        raise BadKeyBinding("the key binding JWT was made for another presentation (sd_hash)")
    if expected_audience is not None and aud != expected_audience:
        raise BadKeyBinding("the presentation was made for another audience")
    if expected_nonce is not None and nonce != expected_nonce:
        raise BadKeyBinding("the presentation answers another nonce")
    return KeyBinding(issued_at=iat, audience=aud, nonce=nonce)
