"""The applying world with an item that asks for the applicant's marriage certificate from the wallet: the
province's civil affairs department issues marriage certificates; the renter holds a valid one, the owner
one that is revoked, the newcomer none; the renter's spouse (another person) holds their own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.certificates import actions as certificates_actions
from zerotrip.certificates.types import DEMO_TYPES, define_certificate_type
from zerotrip.common.checks import make_uscc
from zerotrip.config import Settings
from zerotrip.identity import actions
from zerotrip.identity import queries as identity_queries
from zerotrip.keys import KeyStore
from zerotrip.services import catalogue
from zerotrip.services.models import Item
from zerotrip.services.schemas import ItemSpec, MaterialSpec, SourceSpec

from .apply_world import ROOT, ApplyWorld, Citizen, _citizen

ITEM = "330100-fund-0002"
MARRIAGE = "marriage-certificate"
MAPPED = ["spouse_name", "registered_on"]


@dataclass(frozen=True)
class WalletWorld:
    apply: ApplyWorld
    item: Item
    spouse: Citizen
    renter_certificate: str
    owner_certificate: str
    spouse_certificate: str


def _claims(spouse: Citizen) -> dict[str, str]:
    return {
        "certificate_no": "J330106-2020-001234",
        "sex": "女",
        "spouse_name": spouse.name,
        "spouse_id": spouse.resident_id,
        "registered_on": "2020-05-20",
        "registration_office": "杭州市西湖区民政局",
    }


def build_wallet_world(db: Session, world: ApplyWorld, keys: KeyStore, settings: Settings) -> WalletWorld:
    province = identity_queries.find_organisation_by_code(db, "330000")
    assert province is not None
    actions.create_organisation(
        db,
        actor=ROOT,
        kind="department",
        code="330000-civil",
        name="浙江省民政厅",
        division_code="330000",
        parent_id=province.id,
    )
    spec = next(t for t in DEMO_TYPES if t.code == MARRIAGE)
    type_code = (
        make_uscc(division_code="330000", serial=4343, registration_authority="1", category="1") + "001"
    )
    define_certificate_type(db, actor=ROOT, spec=spec.model_copy(update={"type_code": type_code}))
    spouse = _citizen(db, "王浩然", 42, "13800000004")

    def issue(holder: Citizen, partner: Citizen) -> str:
        return certificates_actions.issue_certificate(
            db,
            actor=ROOT,
            certificate_type=MARRIAGE,
            holder_key=holder.resident_id,
            claims=_claims(partner),
            keys=keys,
            settings=settings,
            source_ref="test",
        ).number

    renter_certificate = issue(world.renter, spouse)
    owner_certificate = issue(world.owner, spouse)
    certificates_actions.revoke_certificate(db, actor=ROOT, number=owner_certificate, reason="婚姻登记被撤销")
    spouse_certificate = issue(spouse, world.renter)
    item = catalogue.define_item(
        db,
        actor=ROOT,
        spec=ItemSpec(
            code=ITEM,
            name="购买自住住房提取住房公积金",
            department_org_id=world.fund_id,
            type="payment",
            legal_basis="《住房公积金管理条例》第二十四条",
            statutory_days=3,
            promised_days=1,
            channels=["online"],
            materials=[
                MaterialSpec(
                    name="结婚证", source=SourceSpec(kind="certificate", ref=MARRIAGE, fields=MAPPED)
                ),
                MaterialSpec(name="购房发票", source=SourceSpec(kind="upload")),
            ],
        ),
    )
    db.flush()
    return WalletWorld(
        apply=world,
        item=item,
        spouse=spouse,
        renter_certificate=renter_certificate,
        owner_certificate=owner_certificate,
        spouse_certificate=spouse_certificate,
    )
