"""Grades (分级) and what they allow: pure rules, after Zhejiang's DB33/T 2350 four-level scale.

L1 general, L2 sensitive, L3 important, L4 core. A resource takes the highest grade of its fields. A field's
grade bounds how it may be shared and opened, and decides whether a consumer sees it clear or masked.
"""

from __future__ import annotations

from typing import Literal

Grade = Literal[1, 2, 3, 4]
GRADE_NAMES = {1: "general", 2: "sensitive", 3: "important", 4: "core"}
GRADE_LABELS_ZH = {1: "一般", 2: "敏感", 3: "重要", 4: "核心"}

_SHARE_ORDER = ("none", "conditional", "unconditional")
_OPEN_ORDER = ("closed", "restricted", "open")

# The most permissive share / open type each grade allows.
MAX_SHARE = {1: "unconditional", 2: "unconditional", 3: "conditional", 4: "none"}
MAX_OPEN = {1: "open", 2: "restricted", 3: "restricted", 4: "closed"}


def share_allowed(grade: int, share_type: str) -> bool:
    return _SHARE_ORDER.index(share_type) <= _SHARE_ORDER.index(MAX_SHARE[grade])


def open_allowed(grade: int, open_type: str) -> bool:
    return _OPEN_ORDER.index(open_type) <= _OPEN_ORDER.index(MAX_OPEN[grade])


def effective_share_type(resource_share_type: str, field_grade: int) -> str:
    """How one field may be shared: the stricter of the resource's share type and the grade's cap."""
    cap = MAX_SHARE[field_grade]
    return min(resource_share_type, cap, key=_SHARE_ORDER.index)


def effective_open_type(resource_open_type: str, field_grade: int) -> str:
    cap = MAX_OPEN[field_grade]
    return min(resource_open_type, cap, key=_OPEN_ORDER.index)


def is_masked(field_grade: int, *, grant_is_clear: bool) -> bool:
    """L2 and L3 values are masked unless the grant allows clear values; L1 values never are."""
    if field_grade <= 1:
        return False
    return not grant_is_clear


def mask(value: object, *, check_kind: str | None = None, type_: str = "string") -> object:
    """Desensitise one value so that it still reads as what it is, without revealing it."""
    if value is None:
        return None
    if type_ in ("integer", "decimal", "boolean", "date", "datetime"):
        return "***"
    text = str(value)
    if check_kind in ("resident_id", "uscc") and len(text) == 18:
        return text[:4] + "*" * 10 + text[-4:]
    if len(text) == 11 and text.isdigit():  # a mobile phone number
        return text[:3] + "****" + text[-4:]
    if len(text) <= 1:
        return "*"
    if len(text) == 2:
        return text[0] + "*"
    if len(text) <= 4:  # a Chinese name: keep the first and last character
        return text[0] + "*" * (len(text) - 2) + text[-1]
    keep = max(1, len(text) // 4)
    return text[:keep] + "*" * (len(text) - 2 * keep) + text[-keep:]
