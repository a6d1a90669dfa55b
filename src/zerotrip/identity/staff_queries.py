"""Reads over staff memberships for other contexts, as SQL they can build on.

A membership is a staff account's role at one unit. Messaging's notices work out whom a notice reaches,
who has not read it and whom a searcher may find in the directory from these memberships, over a province
of a million staff, so they compose further conditions (targets, receipts, searches) on the ``Select``
returned here rather than loading the rows. The columns are labelled and stable; identity's tables stay
identity's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from zerotrip.identity.models import Account, Membership, Organisation


def positions_select() -> Select[*tuple[Any, ...]]:
    """Every staff membership with its unit and account, one row each, labelled ``membership_id``,
    ``account_id``, ``org_id``, ``org_path``, ``org_name``, ``org_kind``, ``division_code``, ``role``
    (NULL for a member without a role), ``title``, ``display_name``, ``login_name``, ``person_id`` (the
    person the account belongs to, if it is linked to one). Conditions on its
    ``selected_columns`` apply to the tables themselves, so ``subtree_clause(columns.org_path, path)``
    is served by the index on the membership's path."""
    return (
        select(
            Membership.id.label("membership_id"),
            Membership.account_id.label("account_id"),
            Membership.org_id.label("org_id"),
            Membership.org_path.label("org_path"),
            Organisation.name.label("org_name"),
            Organisation.kind.label("org_kind"),
            Organisation.division_code.label("division_code"),
            Membership.role.label("role"),
            Membership.title.label("title"),
            Account.display_name.label("display_name"),
            Account.login_name.label("login_name"),
            Account.person_id.label("person_id"),
        )
        .join(Organisation, Organisation.id == Membership.org_id)
        .join(Account, Account.id == Membership.account_id)
    )


def subtree_clause(column: ColumnElement[str] | QueryableAttribute[str], path: str) -> ColumnElement[bool]:
    """``column`` lies in the subtree at materialised ``path`` ("/1/5/"). A range on the path (which an
    index serves) and the exact prefix test: paths hold only digits and "/", and "0" follows "/" in every
    byte-ordered collation (C, C.UTF-8, and glibc's since 2.28), so the range holds the whole subtree."""
    if not path.endswith("/"):
        raise ValueError("a materialised path ends with /")
    upper = path[:-1] + "0"
    return and_(column >= path, column < upper, column.like(path + "%"))


def max_membership_id(db: Session) -> int:
    """The highest membership id (0 when there are none): one probe of the primary key's index."""
    return int(db.scalar(select(func.coalesce(func.max(Membership.id), 0))) or 0)


def membership_watermark(db: Session) -> tuple[int, int]:
    """(highest membership id, number of memberships), in one statement so both see the same rows."""
    row = db.execute(select(func.coalesce(func.max(Membership.id), 0), func.count(Membership.id))).one()
    return int(row[0]), int(row[1])


def memberships_select() -> Select[*tuple[Any, ...]]:
    """Every membership with its unit's division code, labelled ``membership_id``, ``account_id``,
    ``org_id``, ``org_path``, ``division_code``, ``role``: what counting staff per unit needs."""
    return select(
        Membership.id.label("membership_id"),
        Membership.account_id.label("account_id"),
        Membership.org_id.label("org_id"),
        Membership.org_path.label("org_path"),
        Organisation.division_code.label("division_code"),
        Membership.role.label("role"),
    ).join(Organisation, Organisation.id == Membership.org_id)


def watermark_columns() -> tuple[ScalarSelect[int], ScalarSelect[int]]:
    """The highest membership id and the number of memberships as scalar subqueries, to be read in the
    same statement (and so from the same rows) as something derived from the memberships."""
    return (
        select(func.coalesce(func.max(Membership.id), 0)).scalar_subquery(),
        select(func.count(Membership.id)).scalar_subquery(),
    )
