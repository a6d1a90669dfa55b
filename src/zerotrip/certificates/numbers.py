"""Certificate numbers (GB/T 36902), issuer credit codes and use-grant codes. Pure: no database.

A certificate number is ``1.2.156.3005.2.{type code}.{issuer credit code}.{serial}.{version}.{check}``:
the national prefix for e-certificates, the certificate type's code (the defining body's credit code and a
three-digit serial), the issuing body's unified social credit code, a twelve-digit serial drawn from
``secrets`` (so one number says nothing about any other and none can be guessed), a three-digit version,
and an ISO 7064 MOD 37,36 check character over everything before it with the dots removed.

Departments in the demo (and in a deployment that does not load the real register of government bodies)
have no credit code of their own; ``issuer_credit_code`` derives a valid one from the organisation's stable
code, with the registration authority ``1`` (机构编制) and category ``1`` (机关).

Use-grant codes are read out or typed by people, so they use an alphabet without look-alike characters;
only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from zerotrip.common.checks import (
    MOD37_36_ALPHABET,
    InvalidIdentifier,
    is_division_code,
    make_uscc,
    mod37_36_check_char,
    parse_uscc,
)

PREFIX = "1.2.156.3005.2"
VERSION = "001"
SERIAL_DIGITS = 12
TYPE_SERIAL_DIGITS = 3
# 31**6 organisation-code serials per division (see common.checks.make_uscc).
_USCC_SERIALS = 31**6
_NUMBER = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type_code>[0-9A-Z]{18}\d{3})\.(?P<issuer>[0-9A-Z]{18})"
    r"\.(?P<serial>\d{12})\.(?P<version>\d{3})\.(?P<check>[0-9A-Z])$"
)

# Digits and capitals without 0/O, 1/I/L, which people confuse when reading or typing.
GRANT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GRANT_CODE_LENGTH = 12  # 31**12 ≈ 7.9e17: about 59 bits
GRANT_GROUP = 4


class HasOrgCode(Protocol):
    """What ``issuer_credit_code`` needs of an organisation: its stable code and its division."""

    @property
    def code(self) -> str: ...

    @property
    def division_code(self) -> str: ...


@dataclass(frozen=True)
class CertificateNumber:
    """A checked certificate number split into its parts."""

    value: str
    type_code: str
    issuer_credit_code: str
    serial: str
    version: str


# -- issuer credit codes and type codes ------------------------------------------------------------------


def issuer_credit_code(org: HasOrgCode) -> str:
    """A valid unified social credit code for a government body, the same for the same organisation code
    in every deployment: ``11`` (机构编制, 机关), the body's division, and an organisation code derived from
    a hash of its code. Raises ValueError when the division code is not a GB/T 2260 code."""
    if not is_division_code(org.division_code):
        raise ValueError(f"{org.division_code!r} is not a division code")
    digest = hashlib.sha256(f"zerotrip-issuer:{org.code}".encode()).digest()
    serial = int.from_bytes(digest[:8], "big") % _USCC_SERIALS
    return make_uscc(division_code=org.division_code, serial=serial, registration_authority="1", category="1")


def type_code(defining_body_credit_code: str, serial: int) -> str:
    """A GB/T 36902 certificate type code: the defining body's credit code and a three-digit serial.
    Raises ValueError for an invalid credit code or a serial outside 1..999."""
    try:
        code = parse_uscc(defining_body_credit_code).value
    except InvalidIdentifier as exc:
        raise ValueError(f"not a credit code: {exc.reason}") from exc
    if not 1 <= serial <= 999:
        raise ValueError("a type serial is between 1 and 999")
    return f"{code}{serial:03d}"


def is_type_code(value: str) -> bool:
    """Whether ``value`` is a credit code followed by a three-digit serial."""
    if len(value) != 18 + TYPE_SERIAL_DIGITS or not value[18:].isascii() or not value[18:].isdigit():
        return False
    try:
        parse_uscc(value[:18])
    except InvalidIdentifier:
        return False
    return True


# -- certificate numbers ----------------------------------------------------------------------------------


def _check_char(*parts: str) -> str:
    return mod37_36_check_char("".join(parts).replace(".", ""))


def certificate_number(
    *, type_code: str, issuer_credit_code: str, serial: str, version: str = VERSION
) -> str:
    """Assemble a number from its parts and append its check character. Raises ValueError for parts out
    of shape."""
    if not is_type_code(type_code):
        raise ValueError("the type code is a credit code and a three-digit serial")
    try:
        issuer = parse_uscc(issuer_credit_code).value
    except InvalidIdentifier as exc:
        raise ValueError(f"the issuer credit code is not valid: {exc.reason}") from exc
    if len(serial) != SERIAL_DIGITS or not serial.isascii() or not serial.isdigit():
        raise ValueError(f"the serial is {SERIAL_DIGITS} digits")
    if len(version) != 3 or not version.isascii() or not version.isdigit():
        raise ValueError("the version is three digits")
    body = f"{PREFIX}.{type_code}.{issuer}.{serial}.{version}"
    return f"{body}.{_check_char(body)}"


def new_certificate_number(*, type_code: str, issuer_credit_code: str) -> str:
    """A fresh number with a random twelve-digit serial (uniqueness is the database's constraint: a
    caller redraws on the rare clash)."""
    serial = f"{secrets.randbelow(10**SERIAL_DIGITS):0{SERIAL_DIGITS}d}"
    return certificate_number(type_code=type_code, issuer_credit_code=issuer_credit_code, serial=serial)


class NumberMaker:
    """Fresh numbers of one type and issuer, for issuing many: the fixed parts are checked once and the
    check character's running state over them is kept, so each number costs its serial's twelve digits.
    Gives exactly what ``certificate_number`` gives for the same parts."""

    def __init__(self, *, type_code: str, issuer_credit_code: str, version: str = VERSION) -> None:
        # Checks every part (raises ValueError) and gives the canonical spelling of the fixed ones.
        sample = certificate_number(
            type_code=type_code,
            issuer_credit_code=issuer_credit_code,
            serial="0" * SERIAL_DIGITS,
            version=version,
        )
        parts = sample.split(".")
        self._head = ".".join(parts[:-3]) + "."
        self._version = parts[-2]
        self._product = _hybrid_product("".join(parts[:-3]))

    def new(self) -> str:
        serial = f"{secrets.randbelow(10**SERIAL_DIGITS):0{SERIAL_DIGITS}d}"
        product = _hybrid_product(serial + self._version, self._product)
        return f"{self._head}{serial}.{self._version}.{MOD37_36_ALPHABET[(37 - product) % 36]}"


def _hybrid_product(value: str, product: int = 36) -> int:
    """ISO 7064 MOD 37,36 (hybrid system) over ``value`` from the running ``product``; ``value`` holds
    only 0-9 and A-Z (the caller's parts were checked)."""
    for c in value:
        product = (((product + MOD37_36_ALPHABET.index(c)) % 36 or 36) * 2) % 37
    return product


def normalise_certificate_number(text: str) -> str:
    """Numbers are shown upper-case; accept one typed in lower case or with spaces."""
    return "".join(text.split()).upper()


def parse_certificate_number(text: str) -> CertificateNumber:
    """Check a certificate number's shape, its parts and its check character. Raises InvalidIdentifier."""
    value = normalise_certificate_number(text)
    if not value.isascii():
        raise InvalidIdentifier("must be ASCII")
    match = _NUMBER.match(value)
    if match is None:
        raise InvalidIdentifier(
            "is not shaped like 1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>"
        )
    if not is_type_code(match["type_code"]):
        raise InvalidIdentifier("the type code is not valid")
    try:
        parse_uscc(match["issuer"])
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(f"the issuer credit code is not valid: {exc.reason}") from exc
    if _check_char(value[:-2]) != match["check"]:
        raise InvalidIdentifier("check character is wrong")
    return CertificateNumber(
        value=value,
        type_code=match["type_code"],
        issuer_credit_code=match["issuer"],
        serial=match["serial"],
        version=match["version"],
    )


def is_valid_certificate_number(text: str) -> bool:
    try:
        parse_certificate_number(text)
    except InvalidIdentifier:
        return False
    return True


# -- use-grant codes --------------------------------------------------------------------------------------


def new_grant_code() -> str:
    """A fresh use-grant code to hand to the audience once, grouped for reading: ``ABCD-EFGH-JKMN``."""
    raw = "".join(secrets.choice(GRANT_ALPHABET) for _ in range(GRANT_CODE_LENGTH))
    return "-".join(raw[i : i + GRANT_GROUP] for i in range(0, GRANT_CODE_LENGTH, GRANT_GROUP))


def normalise_grant_code(text: str) -> str:
    """The code as typed, without spaces, hyphens or case (what is hashed)."""
    return "".join(c for c in text.upper() if c not in " -\t\n")


def grant_code_hash(code: str) -> str:
    """The SHA-256 (hex) that is stored for a grant code; the same for any spelling of the code."""
    return hashlib.sha256(normalise_grant_code(code).encode()).hexdigest()


def is_grant_code(text: str) -> bool:
    """Whether ``text`` could be a grant code (right length and alphabet), before looking it up."""
    value = normalise_grant_code(text)
    return len(value) == GRANT_CODE_LENGTH and all(c in GRANT_ALPHABET for c in value)
