"""The demo bundles (一件事), defined as data over the demo catalogue's items through
``services.bundle_catalogue.define_bundle``, like a platform administrator would.

- 出生“一件事” (newborn): the birth medical certificate (西湖区卫生健康局), the household registration of the
  newborn (公安西湖分局), the newborn's resident medical insurance (西湖区医疗保障局) and social security card
  (杭州市人力资源和社会保障局). Each part needs the result of the one before (the card needs both the
  registration and the insurance), so they start one after the other as each is approved; the parents'
  household record is read once for the certificate and the registration.
- 企业信息变更“一件事” (enterprise change): the registration change at market supervision, then the tax,
  social insurance and housing fund records, which each need the new registration and start together.

The order the parts run in is not written here: it follows from the items' ``prior_result`` materials.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.datahub import sharing
from zerotrip.demo.service_kit import (
    BIRTH_CERTIFICATE,
    BIRTH_REGISTRATION,
    BIRTHS,
    CITY,
    COUNTY,
    ENTERPRISE_CHANGE,
    NEWBORN_CARD,
    NEWBORN_MEDICAL,
)
from zerotrip.identity.actor import Actor
from zerotrip.services import bundle_catalogue, bundle_evidence, evidence
from zerotrip.services.bundle_models import Bundle
from zerotrip.services.bundle_schemas import BundleSpec
from zerotrip.services.schemas import LifeEvent

NEWBORN_BUNDLE = f"{COUNTY}-yjs-birth"
ENTERPRISE_CHANGE_BUNDLE = f"{COUNTY}-yjs-business-change"


@dataclass(frozen=True)
class DemoBundle:
    code: str
    name: str
    name_en: str
    life_event: LifeEvent
    description: str
    conditions: str
    parts: tuple[str, ...]
    subject_register: str | None = None  # several records of it about the applicant: they choose one

    def spec(self) -> BundleSpec:
        return BundleSpec(
            code=self.code,
            name=self.name,
            name_en=self.name_en,
            life_event=self.life_event,
            description=self.description,
            conditions=self.conditions,
            parts=list(self.parts),
            subject_register=self.subject_register,
        )


DEMO_BUNDLES = (
    DemoBundle(
        NEWBORN_BUNDLE,
        "出生“一件事”",
        "Newborn bundle",
        "birth",
        "孩子出生后，父母一次申请、一套材料，即可办好出生医学证明、出生登记（落户）、城乡居民医保参保和社会保障卡"
        "申领四件事。出生医学证明签发后自动用于落户，落户结果自动用于医保参保，社保卡在落户和参保完成后制卡并免费"
        "邮寄到家。",
        "在本省助产机构出生、父母至少一方为西湖区户籍的新生儿，由其母亲或父亲在出生后一个月内申请。",
        (BIRTH_CERTIFICATE, BIRTH_REGISTRATION, NEWBORN_MEDICAL, NEWBORN_CARD),
        # A mother of twins, or of an older child born in the province, chooses which birth it is about.
        subject_register=BIRTHS,
    ),
    DemoBundle(
        ENTERPRISE_CHANGE_BUNDLE,
        "企业信息变更“一件事”",
        "Enterprise information change bundle",
        "business_change",
        "企业变更名称、住所、经营范围等登记事项时，一次申请即可同步变更税务、社会保险和住房公积金单位登记信息："
        "市场监管部门变更登记完成后，结果自动推送至税务、人力社保和公积金部门并同时办理。",
        "在西湖区登记的企业，由法定代表人在作出变更决议之日起30日内申请。",
        (ENTERPRISE_CHANGE, f"{COUNTY}-tax-0001", f"{CITY}-hrss-0002", f"{CITY}-fund-0007"),
    ),
)


def build_demo_bundles(db: Session, *, actor: Actor) -> list[Bundle]:
    """Define every demo bundle (its items must be in the catalogue). Adds and flushes; the caller
    commits."""
    defined = [bundle_catalogue.define_bundle(db, actor=actor, spec=demo.spec()) for demo in DEMO_BUNDLES]
    db.flush()
    return defined


def set_up_bundle_grants(db: Session, *, actor: Actor, bundles_: list[Bundle], settings: Settings) -> int:
    """Have the owning stewards (here ``actor``, the platform) grant the one-stop service platform what
    each bundle's parts read, for the bundle's purpose. Needs the platform registered
    (``set_up_service_platform``). Returns how many share requests were filed."""
    consumer = evidence.service_consumer(db, settings.services)
    filed = 0
    for bundle in bundles_:
        for request in bundle_evidence.request_bundle_grants(
            db, consumer=consumer, bundle=bundle, settings=settings.datahub
        ):
            if request.status == "pending":
                sharing.approve_share_request(
                    db, actor=actor, number=request.number, settings=settings.datahub
                )
            filed += 1
    return filed
