"""Which office an application goes to, and which office is above it when it is late.

An item names its implementing department (the one whose staff keep its guide). An item implemented at
county level is handled where the applicant lives: by the department of the same kind in the applicant's
county, when the applicant's division is a county (区/县/县级市) that has one. Any other item (city or
province level, or an applicant of no county with such an office) goes to the item's own department.

Departments are matched by code: a department's code is its region's division code, a hyphen and its
kind (``330106-civil`` is 西湖区民政局; ``330110-civil`` the same office in 余杭区), the convention of the
organisation tree (``demo/orgs.py``). A department whose code does not follow it is never matched, so its
items stay with it.

The office above a department (督办, where overdue applications are escalated) is the department of the
same kind in the parent region (county → city → province); without one, the parent region itself, whose
platform administrators oversee it; the province's departments are overseen by the province.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from zerotrip.identity import queries as identity_queries


class _Org(Protocol):
    id: int
    code: str
    name: str
    path: str


@dataclass(frozen=True)
class Office:
    """An organisation an application is with (or escalated to)."""

    id: int
    code: str
    name: str
    path: str

    @classmethod
    def of(cls, org: _Org) -> Office:
        return cls(id=org.id, code=org.code, name=org.name, path=org.path)


def department_kind(code: str, division_code: str) -> str | None:
    """``civil`` for ``330106-civil`` (in division 330106); None for a code of another shape."""
    prefix = f"{division_code}-"
    if code.startswith(prefix) and len(code) > len(prefix):
        return code[len(prefix) :]
    return None


def is_county(division_code: str) -> bool:
    return len(division_code) == 6 and not division_code.endswith("00")


def office_for(db: Session, *, item_department_id: int, level: str, applicant_division: str) -> Office:
    """The department an application of an item implemented by ``item_department_id`` at ``level`` goes
    to, for an applicant in ``applicant_division``."""
    department = identity_queries.get_organisation(db, item_department_id)
    if level != "county" or not is_county(applicant_division):
        return Office.of(department)
    if applicant_division == department.division_code:
        return Office.of(department)
    kind = department_kind(department.code, department.division_code)
    if kind is None:
        return Office.of(department)
    local = identity_queries.find_organisation_by_code(db, f"{applicant_division}-{kind}")
    if local is None or local.kind != "department" or local.division_code != applicant_division:
        return Office.of(department)
    return Office.of(local)


def office_above(db: Session, department_id: int) -> Office:
    """Where a department's overdue applications are escalated (see the module's docstring)."""
    department = identity_queries.get_organisation(db, department_id)
    if department.parent_id is None:
        return Office.of(department)
    region = identity_queries.get_organisation(db, department.parent_id)
    if region.parent_id is None:
        return Office.of(region)  # a province-level department: the province oversees it
    parent_region = identity_queries.get_organisation(db, region.parent_id)
    kind = department_kind(department.code, department.division_code)
    if kind is not None:
        above = identity_queries.find_organisation_by_code(db, f"{parent_region.division_code}-{kind}")
        if above is not None and above.kind == "department":
            return Office.of(above)
    return Office.of(parent_region)
