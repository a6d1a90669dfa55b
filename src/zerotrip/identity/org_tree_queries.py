"""Reads of the organisation tree for pickers: the units of a subtree, in tree order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.identity.models import Organisation
from zerotrip.identity.staff_queries import subtree_clause


@dataclass(frozen=True)
class UnitEntry:
    id: int
    name: str
    name_en: str | None
    kind: str
    division_code: str
    depth: int


def list_subtree(db: Session, path: str, *, limit: int = 5000) -> list[UnitEntry]:
    """The unit at ``path`` and every unit under it, parents before their children (by path), at most
    ``limit``."""
    rows = db.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.name_en,
            Organisation.kind,
            Organisation.division_code,
            Organisation.depth,
        )
        .where(subtree_clause(Organisation.path, path))
        .order_by(Organisation.path)
        .limit(limit)
    ).all()
    return [UnitEntry(*row) for row in rows]
