"""A world for applying, built through the real actions: the province's natural resources department and
data administration, Hangzhou's housing fund centre, the real-estate register and the fund's accounts and
contributions (with records), the demo's housing-fund withdrawal for renting (instantly approvable, with its
rules), an item that asks for an upload, the decision letter type, the one-stop service platform as a
gateway consumer with its grants, and three citizens:

- ``renter``: no real estate, an account in good standing, six months paid: the rules pass;
- ``owner``: the register holds a flat in their name: the real-estate rule fails;
- ``newcomer``: only two months paid: the contribution rule fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from zerotrip.certificates.types import DEMO_TYPES, define_certificate_type
from zerotrip.common.checks import make_resident_id, make_uscc
from zerotrip.config import Settings
from zerotrip.datahub import aggregation
from zerotrip.datahub import catalogue as datahub_catalogue
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.demo.service_kit import FUND_RENTING
from zerotrip.demo.services import demo_items, set_up_service_platform
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.secrets import hash_password
from zerotrip.services import catalogue, instant, results
from zerotrip.services.models import Item
from zerotrip.services.schemas import ItemSpec, MaterialSpec, SourceSpec

ROOT = system("test")
PASSWORD = "correct horse battery"
REAL_ESTATE = "330000-land.real-estate"
ACCOUNTS = "330100-fund.accounts"
CONTRIBUTIONS = "330100-fund.contributions"
RETIREMENT = "330100-fund-0003"  # asks for an upload besides the account


@dataclass(frozen=True)
class Citizen:
    actor: Actor
    resident_id: str
    name: str
    login_name: str


@dataclass(frozen=True)
class ApplyWorld:
    settings: Settings
    fund_id: int
    renter: Citizen
    owner: Citizen
    newcomer: Citizen
    fund_reviewer: Actor
    land_reviewer: Actor
    withdrawal: Item
    retirement: Item


def _org(db: Session, kind: str, code: str, name: str, division: str, parent_id: int | None) -> int:
    return actions.create_organisation(
        db, actor=ROOT, kind=kind, code=code, name=name, division_code=division, parent_id=parent_id
    ).id


def _field(name: str, title: str, grade: int, **extra: object) -> FieldSpec:
    return FieldSpec(name=name, title=title, grade=grade, **extra)  # type: ignore[arg-type]


def _resource(code: str, owner: int, title: str, fields: list[FieldSpec], **extra: object) -> ResourceSpec:
    return ResourceSpec(
        code=code,
        owner_org_id=owner,
        title=title,
        subject_kind="resident_id",
        share_type="conditional",
        update_frequency="daily",
        legal_basis="《浙江省公共数据条例》",
        contact="数据管理处",
        fields=fields,
        **extra,  # type: ignore[arg-type]
    )


def _resources(land: int, fund: int) -> list[ResourceSpec]:
    resident = {"check_kind": "resident_id", "is_required": True}
    return [
        _resource(
            REAL_ESTATE,
            land,
            "不动产登记信息",
            [
                _field("holder_id", "权利人公民身份号码", 2, **resident),
                _field("holder_name", "权利人姓名", 2),
                _field("address", "坐落", 3),
            ],
            subject_field="holder_id",
            key_fields=["holder_id", "address"],
        ),
        _resource(
            ACCOUNTS,
            fund,
            "住房公积金个人账户信息",
            [
                _field("resident_id", "公民身份号码", 2, **resident),
                _field("account_no", "个人公积金账号", 2),
                _field("status", "账户状态", 1, enumeration=["正常", "封存", "销户"]),
                _field("balance", "账户余额（元）", 3, type="decimal"),
                _field("paid_through", "缴至年月", 1),
            ],
            subject_field="resident_id",
        ),
        _resource(
            CONTRIBUTIONS,
            fund,
            "住房公积金缴存明细",
            [
                _field("resident_id", "公民身份号码", 2, **resident),
                _field("account_no", "个人公积金账号", 2, is_required=True),
                _field("month", "缴存年月", 1, is_required=True),
                _field("personal_amount", "个人缴存额（元）", 3, type="decimal"),
                _field("employer_amount", "单位缴存额（元）", 3, type="decimal"),
            ],
            subject_field="resident_id",
            key_fields=["account_no", "month"],
        ),
    ]


def _citizen(db: Session, name: str, sequence: int, login_name: str) -> Citizen:
    resident_id = make_resident_id(
        division_code="330106", birth_date=date(1991, 3, 8), sequence=sequence, sex="female"
    )
    person = actions.register_person(
        db, actor=ROOT, name=name, division_code="330106", resident_id=resident_id
    )
    account = actions.create_citizen_account(
        db, actor=ROOT, person_id=person.id, login_name=login_name, password=PASSWORD
    )
    actor = Actor(kind="citizen", name=name, account_id=account.id, person_id=person.id)
    return Citizen(actor=actor, resident_id=resident_id, name=name, login_name=login_name)


def _staff(db: Session, org_id: int, login_name: str, role: str) -> Actor:
    membership = actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=org_id,
        login_name=login_name,
        display_name=login_name,
        role=role,
        password_hash=hash_password(PASSWORD),
    )
    db.flush()
    return Actor(
        kind="staff",
        name=login_name,
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )


def _months(last: tuple[int, int], count: int) -> list[str]:
    index = last[0] * 12 + last[1] - 1
    return [f"{(i // 12):04d}-{(i % 12) + 1:02d}" for i in range(index - count + 1, index + 1)]


def _load(db: Session, code: str, rows: list[dict[str, str]]) -> None:
    batch = aggregation.load_rows(
        db, actor=ROOT, resource_code=code, rows=enumerate(rows, start=1), source="test", format="records"
    )
    assert batch.rows_rejected == 0, batch.report


def retirement_spec(fund: int) -> ItemSpec:
    return ItemSpec(
        code=RETIREMENT,
        name="退休提取住房公积金",
        department_org_id=fund,
        type="payment",
        legal_basis="《住房公积金管理条例》第二十四条",
        statutory_days=3,
        promised_days=1,
        channels=["online"],
        materials=[
            MaterialSpec(
                name="住房公积金账户信息",
                source=SourceSpec(kind="datahub", ref=ACCOUNTS, fields=["account_no", "status", "balance"]),
            ),
            MaterialSpec(name="退休证", source=SourceSpec(kind="upload")),
        ],
    )


def build_apply_world(db: Session, settings: Settings) -> ApplyWorld:
    province = _org(db, "province", "330000", "浙江省", "330000", None)
    city = _org(db, "city", "330100", "杭州市", "330100", province)
    _org(db, "county", "330106", "西湖区", "330106", city)
    land = _org(db, "department", "330000-land", "浙江省自然资源厅", "330000", province)
    _org(db, "department", "330000-data", "浙江省数据局", "330000", province)
    fund = _org(db, "department", "330100-fund", "杭州住房公积金管理中心", "330100", city)
    for spec in _resources(land, fund):
        datahub_catalogue.catalogue_resource(db, actor=ROOT, spec=spec)
    renter = _citizen(db, "林晓雯", 12, "13800000001")
    owner = _citizen(db, "周静怡", 22, "13800000002")
    newcomer = _citizen(db, "陈思远", 32, "13800000003")
    _load(
        db,
        REAL_ESTATE,
        [{"holder_id": owner.resident_id, "holder_name": owner.name, "address": "西湖区文三路1号"}],
    )
    accounts, contributions = [], []
    for n, (citizen, months) in enumerate(((renter, 6), (owner, 6), (newcomer, 2)), start=1):
        account_no = f"3301{n:08d}"
        paid = _months((2026, 10), months)
        accounts.append(
            {
                "resident_id": citizen.resident_id,
                "account_no": account_no,
                "status": "正常",
                "balance": "12000.00",
                "paid_through": paid[-1],
            }
        )
        contributions += [
            {
                "resident_id": citizen.resident_id,
                "account_no": account_no,
                "month": month,
                "personal_amount": "500.00",
                "employer_amount": "500.00",
            }
            for month in paid
        ]
    _load(db, ACCOUNTS, accounts)
    _load(db, CONTRIBUTIONS, contributions)
    letter = next(t for t in DEMO_TYPES if t.code == results.DECISION_LETTER)
    type_code = (
        make_uscc(division_code="330000", serial=4242, registration_authority="1", category="1") + "001"
    )
    define_certificate_type(db, actor=ROOT, spec=letter.model_copy(update={"type_code": type_code}))
    demo = next(i for i in demo_items() if i.code == FUND_RENTING)
    withdrawal = catalogue.define_item(db, actor=ROOT, spec=demo.spec(fund, "杭州住房公积金管理中心"))
    db.flush()
    assert demo.rules is not None
    instant.define_rules(db, actor=ROOT, item_code=FUND_RENTING, spec=demo.rules)
    # The retirement withdrawal gets no grant: the platform may not read its account data.
    retirement = catalogue.define_item(db, actor=ROOT, spec=retirement_spec(fund))
    db.flush()
    set_up_service_platform(db, actor=ROOT, items=[withdrawal], settings=settings)
    world = ApplyWorld(
        settings=settings,
        fund_id=fund,
        renter=renter,
        owner=owner,
        newcomer=newcomer,
        fund_reviewer=_staff(db, fund, "hz-fund-reviewer", "reviewer"),
        land_reviewer=_staff(db, land, "zj-land-reviewer", "reviewer"),
        withdrawal=withdrawal,
        retirement=retirement,
    )
    db.flush()
    return world
