"""What the demo service catalogue is written with: the codes of the demo datahub resources, certificate
types and items that materials and bundles name, the helpers that say where a material comes from, and
``DemoItem``, an item as its department's guide (办事指南) describes it. The items themselves are in
``service_items_*.py``, by the departments that implement them; ``services.py`` defines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from zerotrip.certificates.types import DEMO_TYPES
from zerotrip.services.catalogue_csv import parse_steps
from zerotrip.services.rules import RuleSetSpec
from zerotrip.services.schemas import ItemSpec, ItemType, LifeEvent, MaterialSpec, SourceSpec, StepSpec

PROVINCE, CITY, COUNTY = "330000", "330100", "330106"  # 浙江省, 杭州市, 西湖区
HOUSEHOLD = "330000-psb.household"
ENTERPRISES = "330000-market.enterprises"
REAL_ESTATE = "330000-land.real-estate"
MARRIAGES = "330000-civil.marriages"
BIRTHS = "330000-health.births"
FUND_ACCOUNTS = "330100-fund.accounts"
FUND_CONTRIBUTIONS = "330100-fund.contributions"
SOCIAL_INSURANCE = "330000-hrss.social-insurance"
MEDICAL_INSURANCE = "330000-medical.insurance"
VACCINATIONS = "330000-health.vaccinations"
CERTIFICATE_TYPES = tuple(t.code for t in DEMO_TYPES)  # what a certificate material may name
PLEDGE = "本人承诺所填报信息及提交材料真实、准确、完整，如有虚假，愿承担相应法律责任。"

# Item codes other items refer to (a result feeds the next item).
BIRTH_CERTIFICATE = f"{COUNTY}-health-0001"
BIRTH_REGISTRATION = f"{COUNTY}-psb-0001"
NEWBORN_MEDICAL = f"{COUNTY}-medical-0001"
NEWBORN_CARD = f"{CITY}-hrss-0001"
FUND_RENTING = f"{CITY}-fund-0001"
ENTERPRISE_CHANGE = f"{COUNTY}-market-0001"
MARRIAGE_REGISTRATION = f"{COUNTY}-civil-0001"
VACCINATION_CERTIFICATE = f"{COUNTY}-health-0002"
TAX_CLEARANCE = f"{COUNTY}-tax-0002"
SCHOOL_CHECK = f"{COUNTY}-health-0003"
RESALE_TAX = f"{CITY}-tax-0001"
MATERNITY_ALLOWANCE = f"{COUNTY}-medical-0002"  # the marriage certificate comes from the wallet


# -- how materials are sourced ----------------------------------------------------------------------


def cert(name: str, type_code: str, *fields: str, description: str = "") -> MaterialSpec:
    """A certificate from the applicant's wallet; ``fields`` are the certificate's fields the form takes."""
    assert type_code in CERTIFICATE_TYPES, type_code
    source = SourceSpec(kind="certificate", ref=type_code, fields=list(fields))
    return MaterialSpec(name=name, description=description, source=source)


def data(name: str, resource: str, *fields: str, description: str = "") -> MaterialSpec:
    source = SourceSpec(kind="datahub", ref=resource, fields=list(fields))
    return MaterialSpec(name=name, description=description, source=source)


def exists(name: str, resource: str, description: str = "") -> MaterialSpec:
    source = SourceSpec(kind="datahub", ref=resource, exists=True)
    return MaterialSpec(name=name, description=description, source=source)


def pledge(name: str, text: str = PLEDGE) -> MaterialSpec:
    return MaterialSpec(name=name, source=SourceSpec(kind="commitment", commitment=text))


def prior(name: str, item_code: str) -> MaterialSpec:
    return MaterialSpec(name=name, source=SourceSpec(kind="prior_result", ref=item_code))


def upload(
    name: str, held_by: str | None = None, *, required: bool = True, description: str = ""
) -> MaterialSpec:
    source = SourceSpec(kind="upload", held_by=held_by)
    return MaterialSpec(name=name, is_required=required, description=description, source=source)


def onsite(name: str, held_by: str | None = None, description: str = "") -> MaterialSpec:
    return MaterialSpec(name=name, description=description, source=SourceSpec(kind="onsite", held_by=held_by))


HOUSEHOLD_BOOK = f"datahub:{HOUSEHOLD}"  # the household register holds what the paper 户口簿 shows
LAND_REGISTER = f"datahub:{REAL_ESTATE}"
INSURANCE_RECORD = f"datahub:{SOCIAL_INSURANCE}"
MARRIAGE_CERTIFICATE = "certificate:marriage-certificate"
TITLE_CERTIFICATE = "certificate:real-estate-title"
LICENCE = "certificate:business-licence"


@dataclass(frozen=True)
class DemoItem:
    org: str  # the implementing department's organisation code, e.g. "330100-fund"
    number: int
    name: str
    name_en: str
    type: ItemType
    legal_basis: str
    statutory_days: int
    promised_days: int
    channels: tuple[str, ...]
    materials: tuple[MaterialSpec, ...]
    steps: str = ""  # as in a CSV catalogue: "accept:onsite;review;decide;issue:onsite"
    step_names: dict[str, str] = field(default_factory=dict)  # names for steps done in person
    events: tuple[LifeEvent, ...] = ()
    conditions: str = ""
    is_instant: bool = False
    rules: RuleSetSpec | None = None  # instant-approval rules (秒批), judged on the fetched evidence
    fee_yuan: Decimal = Decimal("0")
    fee_basis: str = ""

    @property
    def code(self) -> str:
        return f"{self.org}-{self.number:04d}"

    def spec(self, department_org_id: int, contact: str) -> ItemSpec:
        steps = [
            StepSpec(kind=s.kind, presence=s.presence, name=self.step_names.get(s.kind, ""))
            for s in parse_steps(self.steps)
        ]
        return ItemSpec(
            code=self.code,
            name=self.name,
            name_en=self.name_en,
            department_org_id=department_org_id,
            type=self.type,
            legal_basis=self.legal_basis,
            conditions=self.conditions,
            statutory_days=self.statutory_days,
            promised_days=self.promised_days,
            fee_yuan=self.fee_yuan,
            fee_basis=self.fee_basis,
            channels=list(self.channels),
            is_instant=self.is_instant,
            life_events=list(self.events),
            contact=contact,
            materials=list(self.materials),
            steps=steps,
        )


ONLINE = ("online",)
ONLINE_OR_WINDOW = ("online", "window")
WINDOW = ("window",)
IN_PERSON_AND_COLLECT = "accept:onsite;review;decide;issue:onsite"
COLLECT = "accept;review;decide;issue:onsite"
INSPECT_AND_COLLECT = "accept;review:inspection;decide;issue:onsite"
INSPECT = "accept;review:inspection;decide;issue"
SIGN = "accept:onsite;review;decide;issue"
COLLECT_PAPER = {"issue": "窗口领取纸质证书"}
