"""Check characters of the identifiers the platform sees: resident IDs, credit codes, division codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["male", "female"]
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_PROVINCES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
}


class InvalidIdentifier(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResidentId:
    value: str
    division_code: str
    birth_date: date
    sequence: str
    sex: Sex


@dataclass(frozen=True)
class Uscc:
    value: str
    registration_authority: str
    category: str
    division_code: str
    org_code: str


def resident_id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_resident_id(value: str) -> ResidentId:
    value = value.strip().upper()
    if len(value) != 18:
        raise InvalidIdentifier("must be 18 characters")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdentifier("must be 17 digits followed by a digit or X")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdentifier("birth date is not a real date") from exc
    if born.year < 1900:
        raise InvalidIdentifier("birth date is not a real date")
    if born > date.today():
        raise InvalidIdentifier("birth date is in the future")
    if resident_id_check_char(value[:17]) != value[17]:
        raise InvalidIdentifier("check character is wrong")
    return ResidentId(value, value[:6], born, value[14:17], "male" if int(value[16]) % 2 else "female")


def is_valid_resident_id(value: str) -> bool:
    try:
        parse_resident_id(value)
    except InvalidIdentifier:
        return False
    return True


def org_code_check_char(body8: str) -> str:
    total = sum((int(c, 36)) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(value: str) -> Uscc:
    value = value.strip().upper()
    if len(value) != 18:
        raise InvalidIdentifier("must be 18 characters")
    if any(c not in USCC_ALPHABET for c in value):
        raise InvalidIdentifier("contains a character outside 0-9 and A-Y (without I, O, S, V, Z)")
    if not value[2:8].isdigit():
        raise InvalidIdentifier("characters 3 to 8 must be a division code")
    if uscc_check_char(value[:17]) != value[17]:
        raise InvalidIdentifier("check character is wrong")
    if org_code_check_char(value[8:16]) != value[16]:
        raise InvalidIdentifier("organisation code check character is wrong")
    return Uscc(value, value[0], value[1], value[2:8], value[8:17])


def is_valid_uscc(value: str) -> bool:
    try:
        parse_uscc(value)
    except InvalidIdentifier:
        return False
    return True


def is_division_code(value: str) -> bool:
    return len(value) == 6 and value.isdigit() and value != "000000" and value[:2] in _PROVINCES


def make_resident_id(*, division_code: str, birth_date: date, sequence: int, sex: Sex) -> str:
    seq = sequence % 1000
    if (seq % 2 == 1) != (sex == "male"):
        seq = seq + 1 if seq < 999 else seq - 1
    first17 = f"{division_code}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def make_uscc(
    *, division_code: str, serial: int, registration_authority: str = "9", category: str = "1"
) -> str:
    body = f"{serial % 10**8:08d}"
    body = ("MA" + body[2:]) if serial % 3 == 0 else body
    org = body + org_code_check_char(body)
    first17 = f"{registration_authority}{category}{division_code}{org}"
    return first17 + uscc_check_char(first17)


