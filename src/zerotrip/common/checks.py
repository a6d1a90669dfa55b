"""Check characters and validators for the identifiers the platform sees.

- Resident ID number (公民身份号码, GB 11643): 6-digit division code, 8-digit birth date, 3-digit sequence
  (odd for men, even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X).
- Unified social credit code (统一社会信用代码, GB 32100): registration authority, organisation category,
  6-digit division code, the 9-character GB 11714 organisation code (with its own check character) and a
  MOD 31 check character, all over ``USCC_ALPHABET``.
- ISO 7064 MOD 37,36 (hybrid system), used by GB/T 36902 certificate identifiers.
- Administrative division codes (GB/T 2260).

Every check character here detects every single-character substitution. Input is accepted in either case
and normalised to upper case; anything outside ASCII is rejected rather than folded, so full-width or other
Unicode digits never reach storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from zerotrip.common import clock

Sex = Literal["male", "female"]

DIGITS = "0123456789"
UPPER_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100 code characters: digits and upper-case letters without I, O, S, V and Z; values 0..30."""
MOD37_36_ALPHABET = UPPER_ALNUM
"""ISO 7064 MOD 37,36 characters; values 0..35."""

_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
_ID_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, ...
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_PROVINCE_PREFIXES = frozenset(
    [f"{n}" for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46)]
    + [f"{n}" for n in (50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)]
)
_EARLIEST_BIRTH_YEAR = 1900


class InvalidIdentifier(ValueError):
    """An identifier failed its checks; ``reason`` is a short English phrase fit to show after a colon."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResidentId:
    """A checked resident ID number, normalised (a final lower-case x becomes X)."""

    value: str
    division_code: str
    birth_date: date
    sequence: str
    sex: Sex


@dataclass(frozen=True)
class Uscc:
    """A checked unified social credit code, normalised to upper case."""

    value: str
    registration_authority: str
    category: str
    division_code: str
    org_code: str
    """The 9-character GB 11714 organisation code, its own check character included."""


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit alone accepts full-width and superscript digits.
    return value.isascii() and value.isdigit()


# --- Resident ID number (GB 11643, ISO 7064 MOD 11-2) ------------------------------------------------------


def resident_id_check_char(first17: str) -> str:
    """The MOD 11-2 check character (0-9 or X) for the first 17 digits of a resident ID number.

    Raises InvalidIdentifier unless ``first17`` is exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise InvalidIdentifier("must be 17 digits before the check character")
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_resident_id(value: str, *, today: date | None = None) -> ResidentId:
    """Check a resident ID number and split it into its parts.

    Surrounding whitespace is ignored and a final ``x`` is read as ``X``. The birth date must be a real
    date, not before 1900 and not after ``today`` (default: today in China, from the platform clock). The
    division code is not checked against GB/T 2260: numbers keep the code of the division that issued them
    even after it is abolished, and residence permits for Hong Kong, Macao and Taiwan residents use
    810000, 820000 and 830000. Raises InvalidIdentifier.
    """
    value = value.strip()
    if len(value) != 18:
        raise InvalidIdentifier("must be 18 characters")
    # Reject non-ASCII before upper-casing, which can change a string's length ("ß" becomes "SS").
    value = value.upper() if value.isascii() else value
    if not _is_ascii_digits(value[:17]) or value[17] not in DIGITS + "X":
        raise InvalidIdentifier("must be 17 digits followed by a digit or X")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdentifier("birth date is not a real date") from exc
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidIdentifier("birth date is before 1900")
    if born > (today if today is not None else clock.now_in_china().date()):
        raise InvalidIdentifier("birth date is in the future")
    if resident_id_check_char(value[:17]) != value[17]:
        raise InvalidIdentifier("check character is wrong")
    sex: Sex = "male" if int(value[16]) % 2 == 1 else "female"
    return ResidentId(value=value, division_code=value[:6], birth_date=born, sequence=value[14:17], sex=sex)


def is_valid_resident_id(value: str, *, today: date | None = None) -> bool:
    try:
        parse_resident_id(value, today=today)
    except InvalidIdentifier:
        return False
    return True


# --- Unified social credit code (GB 32100) and organisation code (GB 11714) ---------------------------------


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character (0-9 or X) for an 8-character organisation code body.

    Body characters count 0-9 for digits and 10-35 for A-Z. Raises InvalidIdentifier for anything else.
    """
    if len(body8) != 8 or any(c not in UPPER_ALNUM for c in body8):
        raise InvalidIdentifier("organisation code body must be 8 digits or upper-case letters")
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a unified social credit code.

    Raises InvalidIdentifier unless ``first17`` is 17 characters of ``USCC_ALPHABET``.
    """
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise InvalidIdentifier("must be 17 code characters before the check character")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(value: str) -> Uscc:
    """Check a unified social credit code and split it into its parts.

    Surrounding whitespace is ignored and letters may be lower case. Characters 3-8 must be digits; the
    registration authority and category (characters 1 and 2) are only held to the code alphabet, because
    the table of registering departments grows by amendment and a closed list would reject real codes.
    Raises InvalidIdentifier.
    """
    value = value.strip()
    if len(value) != 18:
        raise InvalidIdentifier("must be 18 characters")
    value = value.upper() if value.isascii() else value
    if any(c not in USCC_ALPHABET for c in value):
        raise InvalidIdentifier("contains a character outside 0-9 and A-Y (without I, O, S, V, Z)")
    if not value[2:8].isdigit():
        raise InvalidIdentifier("characters 3 to 8 must be a division code")
    if uscc_check_char(value[:17]) != value[17]:
        raise InvalidIdentifier("check character is wrong")
    if org_code_check_char(value[8:16]) != value[16]:
        raise InvalidIdentifier("organisation code check character is wrong")
    return Uscc(
        value=value,
        registration_authority=value[0],
        category=value[1],
        division_code=value[2:8],
        org_code=value[8:17],
    )


def is_valid_uscc(value: str) -> bool:
    try:
        parse_uscc(value)
    except InvalidIdentifier:
        return False
    return True


# --- ISO 7064 MOD 37,36 (hybrid system) ---------------------------------------------------------------------


def _mod37_36_product(value: str) -> int:
    """Run the hybrid system over ``value`` and return the final product P (1..36)."""
    modulus = 36
    product = modulus
    for c in value:
        digit = MOD37_36_ALPHABET.find(c)
        if digit < 0:
            raise InvalidIdentifier("contains a character outside 0-9 and A-Z")
        total = (product + digit) % modulus or modulus
        product = (total * 2) % (modulus + 1)
    return product


def mod37_36_check_char(value: str) -> str:
    """The ISO 7064 MOD 37,36 check character (0-9 or A-Z) for ``value``.

    ``value`` must be upper-case 0-9 and A-Z only (callers drop separators such as dots first); raises
    InvalidIdentifier otherwise.
    """
    return MOD37_36_ALPHABET[(37 - _mod37_36_product(value)) % 36]


def is_valid_mod37_36(value: str) -> bool:
    """Whether the last character of ``value`` is the MOD 37,36 check character of the rest."""
    if len(value) < 2:
        return False
    try:
        return mod37_36_check_char(value[:-1]) == value[-1]
    except InvalidIdentifier:
        return False


# --- Administrative division codes (GB/T 2260) --------------------------------------------------------------


def is_division_code(value: str) -> bool:
    """Six ASCII digits starting with a real province-level prefix (which also rules out 000000)."""
    return len(value) == 6 and _is_ascii_digits(value) and value[:2] in _PROVINCE_PREFIXES


# --- Generators for demo and test data ----------------------------------------------------------------------


def make_resident_id(*, division_code: str, birth_date: date, sequence: int, sex: Sex) -> str:
    """A valid resident ID number. If the parity of ``sequence`` (0..999) does not match ``sex`` it moves
    to its neighbour (up, or down from 999), so the result is deterministic. Raises ValueError for a
    division code that is not 6 digits, a sequence out of range or a birth year before 1900."""
    if len(division_code) != 6 or not _is_ascii_digits(division_code):
        raise ValueError("division_code must be 6 digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be between 0 and 999")
    if birth_date.year < _EARLIEST_BIRTH_YEAR:
        raise ValueError("birth_date must not be before 1900")
    if (sequence % 2 == 1) != (sex == "male"):
        sequence = sequence + 1 if sequence < 999 else sequence - 1
    first17 = f"{division_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


_MAKE_USCC_SERIALS = 31**6


def make_uscc(
    *, division_code: str, serial: int, registration_authority: str = "9", category: str = "1"
) -> str:
    """A valid unified social credit code in the shape issued since 2015: the organisation code is ``MA``
    followed by ``serial`` (0..31**6 - 1) written in six base-31 characters of ``USCC_ALPHABET``, then its
    check character. Distinct serials give distinct codes. Raises ValueError for arguments out of shape."""
    if len(division_code) != 6 or not _is_ascii_digits(division_code):
        raise ValueError("division_code must be 6 digits")
    if not 0 <= serial < _MAKE_USCC_SERIALS:
        raise ValueError(f"serial must be between 0 and {_MAKE_USCC_SERIALS - 1}")
    for name, char in (("registration_authority", registration_authority), ("category", category)):
        if len(char) != 1 or char not in USCC_ALPHABET:
            raise ValueError(f"{name} must be one character of the code alphabet")
    digits = []
    for _ in range(6):
        serial, digit = divmod(serial, 31)
        digits.append(USCC_ALPHABET[digit])
    body = "MA" + "".join(reversed(digits))
    first17 = f"{registration_authority}{category}{division_code}{body}{org_code_check_char(body)}"
    return first17 + uscc_check_char(first17)
