"""Identity reads: ``get_*`` raises NotFound, ``find_*`` returns None."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.identity import permissions
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import (
    EnterpriseNotFound,
    NotYourRecord,
    OrganisationNotFound,
    OutsideOrgSubtree,
    PersonNotFound,
    ScopeNotGranted,
)
from zerotrip.identity.models import Account, ApiClient, Enterprise, Organisation, Person, Relation

# Values per IN list: well inside SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 900


def find_person_by_resident_id(db: Session, resident_id: str) -> Person | None:
    return db.scalar(select(Person).where(Person.resident_id == resident_id.upper()))


def names_by_resident_id(db: Session, resident_ids: Collection[str]) -> dict[str, str]:
    """Registered people's names by resident ID (upper case), for many IDs in few statements; IDs of no
    one registered are left out."""
    wanted = sorted({r.upper() for r in resident_ids})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = db.execute(select(Person.resident_id, Person.name).where(Person.resident_id.in_(chunk)))
        found.update((resident_id, name) for resident_id, name in rows)
    return found


def get_person_for(db: Session, actor: Actor, *, resident_id: str) -> Person:
    """The person's record if ``actor`` may read it.

    A citizen asking for someone else is refused before any lookup, so the answer leaks nothing about
    whether that number is registered. Raises NotYourRecord, ScopeNotGranted, OutsideOrgSubtree or
    PersonNotFound.
    """
    resident_id = resident_id.upper()
    if actor.kind == "citizen":
        own = db.get(Person, actor.person_id) if actor.person_id else None
        if own is None or own.resident_id != resident_id:
            raise NotYourRecord()
        return own
    if actor.kind == "client" and "identity.persons.read" not in actor.scopes:
        raise ScopeNotGranted(
            "this needs the identity.persons.read scope", required_scope="identity.persons.read"
        )
    person = find_person_by_resident_id(db, resident_id)
    if person is None:
        raise PersonNotFound()
    if not permissions.can_read_person(actor, person_id=person.id, division_code=person.division_code):
        raise OutsideOrgSubtree("this person lives outside the region you serve")
    return person


def get_own_person(db: Session, actor: Actor) -> Person:
    """The signed-in citizen's own record. Raises NotYourRecord for anyone else, PersonNotFound."""
    if actor.kind != "citizen" or actor.person_id is None:
        raise NotYourRecord("this is for signed-in citizens")
    person = db.get(Person, actor.person_id)
    if person is None:
        raise PersonNotFound()
    return person


def find_region(db: Session, division_code: str) -> Organisation | None:
    """The most specific region (province, city or county) carrying ``division_code``."""
    return db.scalar(
        select(Organisation)
        .where(Organisation.division_code == division_code, Organisation.kind != "department")
        .order_by(Organisation.depth.desc())
        .limit(1)
    )


def list_relatives(db: Session, person_id: uuid.UUID) -> list[tuple[str, Person]]:
    rows = db.execute(
        select(Relation.kind, Person)
        .join(Person, Person.id == Relation.relative_id)
        .where(Relation.person_id == person_id)
        .order_by(Relation.kind, Person.birth_date)
    ).all()
    return [(kind, person) for kind, person in rows]


def find_enterprise_by_uscc(db: Session, uscc: str) -> Enterprise | None:
    return db.scalar(select(Enterprise).where(Enterprise.uscc == uscc.upper()))


def names_by_uscc(db: Session, usccs: Collection[str]) -> dict[str, str]:
    """Registered enterprises' names by credit code (upper case); codes of none registered are left out."""
    wanted = sorted({u.upper() for u in usccs})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = db.execute(select(Enterprise.uscc, Enterprise.name).where(Enterprise.uscc.in_(chunk)))
        found.update((uscc, name) for uscc, name in rows)
    return found


def list_represented_enterprises(db: Session, person_id: uuid.UUID) -> list[Enterprise]:
    """The enterprises whose legal representative is the person: there are no enterprise accounts, the
    legal representative signs in as a citizen and acts for them."""
    return list(
        db.scalars(
            select(Enterprise)
            .where(Enterprise.legal_representative_id == person_id)
            .order_by(Enterprise.uscc)
        )
    )


def get_enterprise(db: Session, uscc: str) -> Enterprise:
    enterprise = find_enterprise_by_uscc(db, uscc)
    if enterprise is None:
        raise EnterpriseNotFound()
    return enterprise


def get_organisation(db: Session, org_id: int) -> Organisation:
    org = db.get(Organisation, org_id)
    if org is None:
        raise OrganisationNotFound()
    return org


def find_organisation_by_code(db: Session, code: str) -> Organisation | None:
    return db.scalar(select(Organisation).where(Organisation.code == code))


def list_children(db: Session, org_id: int) -> list[Organisation]:
    return list(
        db.scalars(select(Organisation).where(Organisation.parent_id == org_id).order_by(Organisation.code))
    )


def list_ancestors(db: Session, org: Organisation) -> list[Organisation]:
    ids = [int(part) for part in org.path.strip("/").split("/")]
    found = {o.id: o for o in db.scalars(select(Organisation).where(Organisation.id.in_(ids)))}
    return [found[i] for i in ids]


def find_api_client_by_org_code(db: Session, *, org_code: str, name: str) -> ApiClient | None:
    """``find_api_client`` for the organisation with the code ``org_code``, in one statement."""
    return db.scalar(
        select(ApiClient)
        .join(Organisation, Organisation.id == ApiClient.org_id)
        .where(Organisation.code == org_code, ApiClient.name == name, ApiClient.is_active.is_(True))
        .order_by(ApiClient.created_at, ApiClient.client_id)
        .limit(1)
    )


def find_api_client(db: Session, *, org_id: int, name: str) -> ApiClient | None:
    """A department's active system by its name (the oldest, should a department register a name twice);
    for the platform's own contexts, which read through the datahub gateway as clients."""
    return db.scalar(
        select(ApiClient)
        .where(ApiClient.org_id == org_id, ApiClient.name == name, ApiClient.is_active.is_(True))
        .order_by(ApiClient.created_at, ApiClient.client_id)
        .limit(1)
    )


# -- who a notification goes to (messaging) -----------------------------------------------------------


def find_citizen_person_id(db: Session, account_id: uuid.UUID) -> uuid.UUID | None:
    """The person a citizen account belongs to; None for a staff account or no account."""
    return db.scalar(select(Account.person_id).where(Account.id == account_id, Account.kind == "citizen"))


def person_ids_by_resident_id(db: Session, resident_ids: Collection[str]) -> dict[str, uuid.UUID]:
    """Registered people's ids by resident ID (upper case), in few statements; unregistered IDs are left
    out."""
    wanted = sorted({r.upper() for r in resident_ids})
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = db.execute(select(Person.resident_id, Person.id).where(Person.resident_id.in_(chunk)))
        found.update((resident_id, person_id) for resident_id, person_id in rows)
    return found


def representative_ids_by_uscc(db: Session, usccs: Collection[str]) -> dict[str, uuid.UUID]:
    """Registered enterprises' legal representatives (person ids) by credit code (upper case)."""
    wanted = sorted({u.upper() for u in usccs})
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = db.execute(
            select(Enterprise.uscc, Enterprise.legal_representative_id).where(Enterprise.uscc.in_(chunk))
        )
        found.update((uscc, person_id) for uscc, person_id in rows)
    return found


def existing_person_ids(db: Session, person_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``person_ids`` are registered people."""
    wanted = sorted(set(person_ids))
    found: set[uuid.UUID] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        found.update(db.scalars(select(Person.id).where(Person.id.in_(chunk))))
    return found
