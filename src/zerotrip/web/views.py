"""View-models: the small, flat values templates receive instead of ORM objects."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.identity import queries
from zerotrip.identity.actor import Actor
from zerotrip.messaging.notices_inbox import unread_count
from zerotrip.problems import NotAllowed
from zerotrip.services.application_queries import list_own_applications
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import NavLink, staff_links

ROLE_LABELS = {
    "reviewer": N_("Reviewer"),
    "certificate_issuer": N_("Certificate issuer"),
    "data_steward": N_("Data steward"),
    "site_operator": N_("Vaccination site operator"),
    "notice_publisher": N_("Notice publisher"),
    "platform_admin": N_("Platform administrator"),
}
MEMBER_LABEL = N_("Member")
DATA_ROLES = ("data_steward", "platform_admin")
REGION_KINDS = ("province", "city", "county")


def mask_resident_id(resident_id: str) -> str:
    """Keep the first four and last four characters: 330106199005170213 → 3301**********0213."""
    if len(resident_id) <= 8:
        return "*" * len(resident_id)
    return resident_id[:4] + "*" * (len(resident_id) - 8) + resident_id[-4:]


@dataclass(frozen=True)
class CitizenHome:
    name: str
    masked_resident_id: str
    region_name: str | None
    region_name_en: str | None
    application_count: int  # drafts included


@dataclass(frozen=True)
class UnitRole:
    org_name: str
    org_name_en: str | None
    role_label: str  # an English msgid, translated by the template


@dataclass(frozen=True)
class StaffHome:
    name: str
    units: tuple[UnitRole, ...]
    data_links: tuple[NavLink, ...]  # data work, for data stewards and platform administrators
    unread_notices: int
    is_notice_publisher: bool
    handles_applications: bool = False  # a reviewer or platform administrator: the services workbench


def citizen_home(db: Session, actor: Actor) -> CitizenHome:
    """The signed-in citizen's own summary. Raises NotAllowed for anyone else, PersonNotFound."""
    if actor.kind != "citizen" or actor.person_id is None:
        raise NotAllowed(N_("This page is for citizens."))
    person = queries.get_own_person(db, actor)
    region = queries.find_region(db, person.division_code)
    # 浙江省杭州市西湖区 in Chinese; "Xihu District, Hangzhou, Zhejiang" in English when the names are known.
    regions = [o for o in queries.list_ancestors(db, region) if o.kind in REGION_KINDS] if region else []
    english = [o.name_en for o in reversed(regions) if o.name_en]
    return CitizenHome(
        name=person.name,
        masked_resident_id=mask_resident_id(person.resident_id),
        region_name="".join(o.name for o in regions) or None,
        region_name_en=", ".join(english) if regions and len(english) == len(regions) else None,
        application_count=list_own_applications(db, actor=actor, per_page=1)[1],
    )


def staff_home(db: Session, actor: Actor) -> StaffHome:
    """The signed-in staff member's units and roles. Raises NotAllowed for anyone else."""
    if actor.kind != "staff":
        raise NotAllowed(N_("This page is for staff."))
    orgs = {grant.org_id: queries.get_organisation(db, grant.org_id) for grant in actor.grants}
    units = tuple(
        UnitRole(
            org_name=orgs[grant.org_id].name,
            org_name_en=orgs[grant.org_id].name_en,
            role_label=ROLE_LABELS.get(grant.role or "", MEMBER_LABEL),
        )
        for grant in actor.grants
    )
    does_data_work = any(grant.role in DATA_ROLES for grant in actor.grants)
    return StaffHome(
        name=actor.name,
        units=units,
        data_links=staff_links(actor, "") if does_data_work else (),
        unread_notices=unread_count(db, actor=actor),
        is_notice_publisher=any(grant.role == "notice_publisher" for grant in actor.grants),
        handles_applications=any(grant.role in ("reviewer", "platform_admin") for grant in actor.grants),
    )
