"""The demo service catalogue on the demo organisation tree and the demo datahub catalogue (resources
catalogued without their records: items only need the catalogue), in the test's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zerotrip.datahub import catalogue as datahub_catalogue
from zerotrip.demo.datasets import demo_datasets
from zerotrip.demo.orgs import OrgTree, build_org_tree
from zerotrip.demo.people import plan_population
from zerotrip.demo.services import build_service_catalogue
from zerotrip.identity.actor import system
from zerotrip.services.models import Item

SEED = system("seed")


def build_demo_catalogue(db: Session) -> tuple[OrgTree, list[Item]]:
    tree = build_org_tree(db, actor=SEED)
    for dataset in demo_datasets(plan_population(citizens=10, seed=1)):
        spec = dataset.for_owner(tree.get(dataset.owner_code).id)
        datahub_catalogue.catalogue_resource(db, actor=SEED, spec=spec)
    items = build_service_catalogue(db, actor=SEED, org_tree=tree)
    db.flush()
    return tree, items
