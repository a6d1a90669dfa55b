"""Identity writes: registering people, enterprises, organisations and staff. Never commits."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.common.checks import InvalidIdentifier, is_division_code, parse_resident_id, parse_uscc
from zerotrip.identity import permissions
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import (
    AccountNotFound,
    EnterpriseAlreadyRegistered,
    LoginNameTaken,
    OrganisationNotFound,
    OutsideOrgSubtree,
    PersonAlreadyRegistered,
    PersonNotFound,
)
from zerotrip.identity.models import (
    ORG_KINDS,
    ROLES,
    Account,
    Enterprise,
    Membership,
    Organisation,
    Person,
    Relation,
)
from zerotrip.identity.secrets import hash_password
from zerotrip.problems import NotAllowed, ValidationFailed

_PARENT_KIND = {"province": None, "city": "province", "county": "city"}


def register_person(
    db: Session,
    *,
    actor: Actor,
    resident_id: str,
    name: str,
    division_code: str,
    sex: str | None = None,
    birth_date: date | None = None,
    phone: str | None = None,
    address: str | None = None,
    household_no: str | None = None,
    assurance_level: int = 1,
    audit: bool = True,
) -> Person:
    """Add a natural person. Birth date and sex come from the ID number; if given they must agree.

    Raises ValidationFailed (naming the field), PersonAlreadyRegistered, NotAllowed.
    ``audit=False`` is only for bulk loads that record one summary event themselves.
    """
    try:
        parsed = parse_resident_id(resident_id)
    except InvalidIdentifier as exc:
        raise ValidationFailed.field("resident_id", f"not a valid resident ID number: {exc.reason}") from exc
    if not is_division_code(division_code):
        raise ValidationFailed.field("division_code", "not a GB/T 2260 administrative division code")
    if sex is not None and sex != parsed.sex:
        raise ValidationFailed.field("sex", "does not agree with the resident ID number")
    if birth_date is not None and birth_date != parsed.birth_date:
        raise ValidationFailed.field("birth_date", "does not agree with the resident ID number")
    if not name.strip():
        raise ValidationFailed.field("name", "must not be empty")
    if not permissions.can_register_person(actor, division_code=division_code):
        raise NotAllowed("registering people in this region needs the platform administrator role")
    if db.scalar(select(Person.id).where(Person.resident_id == parsed.value)) is not None:
        raise PersonAlreadyRegistered()
    person = Person(
        id=uuid.uuid4(),
        resident_id=parsed.value,
        name=name.strip(),
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        phone=phone,
        division_code=division_code,
        address=address,
        household_no=household_no,
        assurance_level=assurance_level,
        created_at=clock.now(),
    )
    db.add(person)
    if audit:
        record_event(
            db,
            actor=actor.principal,
            action="identity.person.registered",
            subject_type="person",
            subject_id=str(person.id),
            data={"division_code": division_code, "assurance_level": assurance_level},
        )
    return person


def link_relatives(
    db: Session,
    *,
    actor: Actor,
    person_id: uuid.UUID,
    relative_id: uuid.UUID,
    kind: str,
    audit: bool = True,
) -> None:
    """Record a family tie in both directions: spouse↔spouse, parent↔child (``kind`` is what the relative
    is to the person). Needs the right to register people where both live. Raises ValidationFailed,
    PersonNotFound, NotAllowed. ``audit=False`` is only for bulk loads that record one summary event."""
    inverse = {"spouse": "spouse", "parent": "child", "child": "parent"}
    if kind not in inverse:
        raise ValidationFailed.field("kind", "must be spouse, parent or child")
    if person_id == relative_id:
        raise ValidationFailed.field("relative_id", "a person cannot be their own relative")
    for pid in (person_id, relative_id):
        person = db.get(Person, pid)
        if person is None:
            raise PersonNotFound()
        if not permissions.can_register_person(actor, division_code=person.division_code):
            raise NotAllowed("recording family ties needs the platform administrator role where both live")
    db.add(Relation(person_id=person_id, relative_id=relative_id, kind=kind))
    db.add(Relation(person_id=relative_id, relative_id=person_id, kind=inverse[kind]))
    if audit:
        record_event(
            db,
            actor=actor.principal,
            action="identity.relation.recorded",
            subject_type="person",
            subject_id=str(person_id),
            data={"relative_id": str(relative_id), "kind": kind},
        )


def register_enterprise(
    db: Session,
    *,
    actor: Actor,
    uscc: str,
    name: str,
    legal_representative_id: uuid.UUID,
    division_code: str,
    address: str | None = None,
    established_on: date | None = None,
) -> Enterprise:
    """Add an enterprise under its unified social credit code. Raises ValidationFailed,
    EnterpriseAlreadyRegistered, PersonNotFound, NotAllowed."""
    try:
        parsed = parse_uscc(uscc)
    except InvalidIdentifier as exc:
        raise ValidationFailed.field("uscc", f"not a valid unified social credit code: {exc.reason}") from exc
    if not is_division_code(division_code):
        raise ValidationFailed.field("division_code", "not a GB/T 2260 administrative division code")
    if not permissions.can_register_enterprise(actor, division_code=division_code):
        raise NotAllowed("registering enterprises needs the platform administrator role or a write scope")
    if db.get(Person, legal_representative_id) is None:
        raise PersonNotFound("the legal representative is not a registered person")
    if db.scalar(select(Enterprise.id).where(Enterprise.uscc == parsed.value)) is not None:
        raise EnterpriseAlreadyRegistered()
    enterprise = Enterprise(
        id=uuid.uuid4(),
        uscc=parsed.value,
        name=name.strip(),
        legal_representative_id=legal_representative_id,
        division_code=division_code,
        address=address,
        established_on=established_on,
        created_at=clock.now(),
    )
    db.add(enterprise)
    record_event(
        db,
        actor=actor.principal,
        action="identity.enterprise.registered",
        subject_type="enterprise",
        subject_id=str(enterprise.id),
        data={"uscc": parsed.value},
    )
    return enterprise


def create_organisation(
    db: Session,
    *,
    actor: Actor,
    kind: str,
    code: str,
    name: str,
    division_code: str,
    parent_id: int | None = None,
    name_en: str | None = None,
) -> Organisation:
    """Add a unit to the tree. Regions nest province → city → county; departments sit under any region.
    Only a platform administrator over the parent may do it. Raises ValidationFailed, NotAllowed."""
    if kind not in ORG_KINDS:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(ORG_KINDS)}")
    if not is_division_code(division_code):
        raise ValidationFailed.field("division_code", "not a GB/T 2260 administrative division code")
    parent = db.get(Organisation, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise OrganisationNotFound("the parent organisation does not exist")
    expected_parent = _PARENT_KIND.get(kind, "region")
    if parent is None:
        if kind != "province" or not permissions.is_platform_admin(actor):
            raise ValidationFailed.field("parent_id", "only the province may stand at the top of the tree")
    else:
        if expected_parent == "region":
            if parent.kind == "department":
                raise ValidationFailed.field(
                    "parent_id", "a department sits under a region, not a department"
                )
        elif parent.kind != expected_parent:
            raise ValidationFailed.field("parent_id", f"a {kind} sits under a {expected_parent}")
        if not permissions.can_manage_org(actor, parent.path):
            raise OutsideOrgSubtree("adding units here needs the platform administrator role over the parent")
    org = Organisation(
        parent_id=parent_id,
        kind=kind,
        code=code,
        name=name,
        name_en=name_en,
        division_code=division_code,
        path="",
        depth=(parent.depth + 1) if parent else 0,
        created_at=clock.now(),
    )
    db.add(org)
    db.flush()  # the id is part of the materialised path
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    record_event(
        db,
        actor=actor.principal,
        action="identity.organisation.created",
        subject_type="organisation",
        subject_id=str(org.id),
        data={"code": code, "kind": kind, "parent_id": parent_id},
    )
    return org


def create_citizen_account(
    db: Session, *, actor: Actor, person_id: uuid.UUID, login_name: str, password: str, min_length: int = 10
) -> Account:
    """Open a citizen account bound to a registered person. Raises PersonNotFound, LoginNameTaken,
    ValidationFailed."""
    person = db.get(Person, person_id)
    if person is None:
        raise PersonNotFound()
    if actor.kind not in ("system", "anonymous") and not permissions.is_platform_admin(actor):
        raise NotAllowed("only the person themselves or a platform administrator may open an account")
    _check_password(password, min_length)
    _check_login_name_free(db, login_name)
    account = Account(
        id=uuid.uuid4(),
        kind="citizen",
        login_name=login_name,
        display_name=person.name,
        person_id=person.id,
        password_hash=hash_password(password),
        created_at=clock.now(),
    )
    db.add(account)
    record_event(
        db,
        actor=actor.principal,
        action="identity.account.opened",
        subject_type="account",
        subject_id=str(account.id),
        data={"kind": "citizen", "person_id": str(person.id)},
    )
    return account


def add_staff_member(
    db: Session,
    *,
    actor: Actor,
    org_id: int,
    login_name: str,
    display_name: str,
    role: str | None = None,
    title: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    person_id: uuid.UUID | None = None,
    audit: bool = True,
) -> Membership:
    """Give a staff account (made if the login name is new) a role in ``org_id``.

    Staff come from the directory without a password (they activate later); ``password_hash`` lets bulk
    loads reuse one precomputed hash. Raises OrganisationNotFound, OutsideOrgSubtree, ValidationFailed.
    """
    if role is not None and role not in ROLES:
        raise ValidationFailed.field("role", f"must be one of {', '.join(ROLES)}")
    org = db.get(Organisation, org_id)
    if org is None:
        raise OrganisationNotFound()
    if not permissions.can_manage_org(actor, org.path):
        raise OutsideOrgSubtree("adding staff here needs the platform administrator role over this unit")
    account = db.scalar(select(Account).where(Account.login_name == login_name))
    if account is None:
        if password is not None:
            _check_password(password, 10)
            password_hash = hash_password(password)
        account = Account(
            id=uuid.uuid4(),
            kind="staff",
            login_name=login_name,
            display_name=display_name,
            person_id=person_id,
            password_hash=password_hash,
            created_at=clock.now(),
        )
        db.add(account)
    elif account.kind != "staff":
        raise LoginNameTaken("this login name belongs to a citizen account")
    membership = Membership(
        account_id=account.id,
        org_id=org.id,
        org_path=org.path,
        role=role,
        title=title,
        created_at=clock.now(),
    )
    db.add(membership)
    if audit:
        record_event(
            db,
            actor=actor.principal,
            action="identity.membership.granted",
            subject_type="account",
            subject_id=str(account.id),
            data={"org_id": org.id, "role": role},
        )
    return membership


def set_password(
    db: Session, *, actor: Actor, account_id: uuid.UUID, password: str, min_length: int = 10
) -> None:
    """Set an account's password: the holder themselves, or the system (CLI). Raises AccountNotFound,
    NotAllowed, ValidationFailed."""
    account = db.get(Account, account_id)
    if account is None:
        raise AccountNotFound()
    if actor.kind != "system" and actor.account_id != account.id:
        raise NotAllowed("only the account holder may change the password")
    _check_password(password, min_length)
    account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    record_event(
        db,
        actor=actor.principal,
        action="identity.password.changed",
        subject_type="account",
        subject_id=str(account.id),
    )


def _check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise ValidationFailed.field("password", f"must be at least {min_length} characters")


def _check_login_name_free(db: Session, login_name: str) -> None:
    if db.scalar(select(Account.id).where(Account.login_name == login_name)) is not None:
        raise LoginNameTaken()
