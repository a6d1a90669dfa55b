"""Public numbers for share requests and objections: short, unambiguous when read aloud or retyped, and
not guessable (drawn from ``secrets``), so knowing one number tells nothing about any other."""

from __future__ import annotations

import secrets
from collections.abc import Callable

# Digits and capitals without 0/O, 1/I/L, which people confuse when reading or typing.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10  # 31**10 ≈ 8e14 numbers: about 50 bits of guessing for each prefix


def new_number(prefix: str) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def unused_number(prefix: str, is_taken: Callable[[str], bool]) -> str:
    """A fresh number that ``is_taken`` says is free; a clash is astronomically rare, so retry a few times."""
    for _ in range(5):
        number = new_number(prefix)
        if not is_taken(number):
            return number
    raise RuntimeError("could not find a free number; the random source looks broken")


def normalise_number(text: str) -> str:
    """Numbers are shown upper-case; accept what a person typed in lower case or with spaces."""
    return "".join(text.split()).upper()
