"""The demo service catalogue: items of the province's, Hangzhou's and 西湖区's departments, shaped like
Zhejiang's guides (浙里办), defined through ``services.catalogue.define_item`` like any department's.

Materials name the demo datahub resources (``demo/datasets``) and the certificate types of the
certificates context's demo catalogue (``certificates.types.DEMO_TYPES``) by their codes. Some items
already fetch everything (the housing fund withdrawal for renting, the newborn bundle's parts, the
enterprise change bundle's parts); others still ask for originals at a counter, naming what already holds
that data (the household register, the real-estate register, marriage and business-licence
certificates), so the operator's trip analysis shows what sharing would save. Trip counts are not written
anywhere: they follow from the materials and steps.

The items are written by department in ``service_items_family.py``, ``service_items_housing.py`` and
``service_items_business.py`` with the helpers and codes of ``service_kit.py``; this module orders and
defines them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.datahub import sharing
from zerotrip.demo import service_items_business as business
from zerotrip.demo import service_items_family as family
from zerotrip.demo import service_items_housing as housing
from zerotrip.demo.orgs import OrgTree
from zerotrip.demo.service_kit import DemoItem
from zerotrip.identity.actor import Actor
from zerotrip.services import catalogue, evidence, instant
from zerotrip.services.models import Item
from zerotrip.services.queries import list_materials

# The items by department, in the guide's order (the bundles' items first).
_BY_DEPARTMENT = (
    family.newborn_bundle_items,
    business.enterprise_change_items,
    housing.housing_fund_items,
    family.civil_affairs_items,
    housing.real_estate_items,
    family.public_security_items,
    housing.social_security_items,
    family.healthcare_security_items,
    family.health_items,
    business.market_regulation_items,
    business.taxation_items,
    family.education_items,
    business.emergency_management_items,
    business.data_bureau_items,
)


def demo_items() -> tuple[DemoItem, ...]:
    """Every demo item, each after the items whose results it needs."""
    pending = [item for items in _BY_DEPARTMENT for item in items()]
    ordered: list[DemoItem] = []
    defined: set[str] = set()
    while pending:
        ready = [
            item
            for item in pending
            if all(m.source.ref in defined for m in item.materials if m.source.kind == "prior_result")
        ]
        if not ready:
            raise ValueError(f"these items need results no item gives: {[i.code for i in pending]}")
        ordered.extend(ready)
        defined.update(item.code for item in ready)
        pending = [item for item in pending if item.code not in defined]
    return tuple(ordered)


def build_service_catalogue(db: Session, *, actor: Actor, org_tree: OrgTree) -> list[Item]:
    """Define every demo item for its department through ``define_item`` (which checks that each datahub
    resource, field and earlier item it names exists). Adds and flushes; the caller commits."""
    defined = []
    for demo in demo_items():
        department = org_tree.get(demo.org)
        contact = f"{department.name}政务服务窗口"
        defined.append(catalogue.define_item(db, actor=actor, spec=demo.spec(department.id, contact)))
        if demo.rules is not None:
            db.flush()  # the rules are checked against the item's stored materials
            instant.define_rules(db, actor=actor, item_code=demo.code, spec=demo.rules)
    return defined


def set_up_service_platform(db: Session, *, actor: Actor, items: list[Item], settings: Settings) -> int:
    """Register the one-stop service platform as a datahub gateway consumer at the data administration
    and have the owning stewards (here ``actor``, the platform) grant it what each item's datahub
    materials read, for that item's purpose. Needs the demo datasets catalogued. Returns how many share
    requests were filed."""
    consumer = evidence.register_service_consumer(db, actor=actor, settings=settings.services)
    materials = list_materials(db, [i.id for i in items])
    filed = 0
    for item in items:
        for request in evidence.request_item_grants(
            db, consumer=consumer, item=item, materials=materials[item.id], settings=settings.datahub
        ):
            if request.status == "pending":
                sharing.approve_share_request(
                    db, actor=actor, number=request.number, settings=settings.datahub
                )
            filed += 1
    return filed
