"""A small services world built through the real actions: Hangzhou's housing fund centre and 西湖区's civil
affairs bureau (each with a reviewer and a data steward), the province's platform administrator, a
citizen, two datahub resources the items read, and a few items; and signing in for API calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.config import IdentitySettings
from zerotrip.datahub import catalogue as datahub_catalogue
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import WebSession
from zerotrip.identity.secrets import hash_password, token_hash
from zerotrip.services import catalogue
from zerotrip.services.models import Item
from zerotrip.services.schemas import ItemSpec, MaterialSpec, SourceSpec, StepSpec

PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)
ROOT = system("test")
REAL_ESTATE = "330000-land.real-estate"
CONTRIBUTIONS = "330100-fund.contributions"
HOUSEHOLD = "330000-psb.household"
FUND_WITHDRAWAL = "330100-fund-0001"
MARRIAGE = "330106-civil-0001"
CITIZEN_LOGIN = "13812345678"


@dataclass(frozen=True)
class ServicesWorld:
    province_id: int
    city_id: int
    county_id: int
    fund_id: int  # 杭州住房公积金管理中心
    civil_id: int  # 西湖区民政局
    fund_reviewer: Actor
    fund_steward: Actor
    civil_reviewer: Actor
    admin: Actor
    citizen: Actor
    fund_withdrawal: Item
    marriage: Item


def resource_spec(code: str, owner_org_id: int, *, subject: bool = True) -> ResourceSpec:
    fields = [
        FieldSpec(
            name="resident_id", title="公民身份号码", grade=2, is_required=True, check_kind="resident_id"
        ),
        FieldSpec(name="name", title="姓名", grade=2),
        FieldSpec(name="amount", title="金额", type="decimal", grade=3),
        FieldSpec(name="month", title="年月", grade=1),
    ]
    return ResourceSpec(
        code=code,
        owner_org_id=owner_org_id,
        title=code,
        subject_kind="resident_id" if subject else "none",
        subject_field="resident_id" if subject else None,
        key_fields=None if subject else ["month"],
        share_type="conditional",
        update_frequency="daily",
        legal_basis="《浙江省公共数据条例》",
        contact="数据管理处",
        fields=fields,
    )


def fund_withdrawal_spec(department_org_id: int) -> ItemSpec:
    """Housing provident fund withdrawal for renting without own housing: everything fetched, decided at
    once, money paid to the applicant's account."""
    return ItemSpec(
        code=FUND_WITHDRAWAL,
        name="无房租赁提取住房公积金",
        name_en="Housing provident fund withdrawal for renting without own housing",
        department_org_id=department_org_id,
        type="payment",
        legal_basis="《住房公积金管理条例》第二十四条",
        conditions="本人及配偶在本市无自有住房且租赁住房的缴存职工。",
        statutory_days=3,
        promised_days=0,
        channels=["online", "window"],
        is_instant=True,
        life_events=["renting"],
        materials=[
            MaterialSpec(
                name="不动产登记信息",
                source=SourceSpec(kind="datahub", ref=REAL_ESTATE, exists=True),
            ),
            MaterialSpec(
                name="住房公积金缴存明细",
                source=SourceSpec(kind="datahub", ref=CONTRIBUTIONS, fields=["month", "amount"]),
            ),
            MaterialSpec(
                name="无房承诺书",
                source=SourceSpec(kind="commitment", commitment="本人承诺在本市无自有住房。"),
            ),
        ],
    )


def marriage_spec(department_org_id: int, *, household: str = "onsite") -> ItemSpec:
    """Marriage registration: both parties come in person with their household registers and leave with
    the certificate."""
    source = (
        SourceSpec(kind="onsite", held_by=f"datahub:{HOUSEHOLD}")
        if household == "onsite"
        else SourceSpec(kind="datahub", ref=HOUSEHOLD, fields=["name"])
    )
    return ItemSpec(
        code=MARRIAGE,
        name="内地居民结婚登记",
        name_en="Marriage registration",
        department_org_id=department_org_id,
        type="confirmation",
        legal_basis="《婚姻登记条例》第四条",
        statutory_days=1,
        promised_days=0,
        channels=["window"],
        life_events=["marriage"],
        materials=[
            MaterialSpec(name="居民户口簿", source=source),
            MaterialSpec(name="本人身份证", source=SourceSpec(kind="onsite")),
            MaterialSpec(name="2张2寸近期半身免冠合影照片", source=SourceSpec(kind="upload")),
        ],
        steps=[
            StepSpec(kind="accept", presence="onsite", name="双方亲自到场"),
            StepSpec(kind="review"),
            StepSpec(kind="decide"),
            StepSpec(kind="issue", presence="onsite", name="当场颁发结婚证"),
        ],
    )


def _staff(db: Session, org_id: int, login_name: str, role: str) -> Actor:
    membership = actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=org_id,
        login_name=login_name,
        display_name=login_name,
        role=role,
        password_hash=PASSWORD_HASH,
    )
    db.flush()
    return Actor(
        kind="staff",
        name=login_name,
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )


def _org(db: Session, kind: str, code: str, name: str, division: str, parent_id: int | None) -> int:
    org = actions.create_organisation(
        db, actor=ROOT, kind=kind, code=code, name=name, division_code=division, parent_id=parent_id
    )
    return org.id


def build_world(db: Session) -> ServicesWorld:
    province = _org(db, "province", "330000", "浙江省", "330000", None)
    city = _org(db, "city", "330100", "杭州市", "330100", province)
    county = _org(db, "county", "330106", "西湖区", "330106", city)
    land = _org(db, "department", "330000-land", "浙江省自然资源厅", "330000", province)
    psb = _org(db, "department", "330000-psb", "浙江省公安厅", "330000", province)
    fund = _org(db, "department", "330100-fund", "杭州住房公积金管理中心", "330100", city)
    civil = _org(db, "department", "330106-civil", "杭州市西湖区民政局", "330106", county)
    for code, owner in ((REAL_ESTATE, land), (CONTRIBUTIONS, fund), (HOUSEHOLD, psb)):
        datahub_catalogue.catalogue_resource(db, actor=ROOT, spec=resource_spec(code, owner))
    datahub_catalogue.catalogue_resource(
        db, actor=ROOT, spec=resource_spec("330000-data.statistics", province, subject=False)
    )
    resident_id = make_resident_id(
        division_code="330106", birth_date=date(1992, 4, 3), sequence=12, sex="female"
    )
    person = actions.register_person(
        db, actor=ROOT, name="林晓雯", division_code="330106", resident_id=resident_id
    )
    account = actions.create_citizen_account(
        db, actor=ROOT, person_id=person.id, login_name=CITIZEN_LOGIN, password=PASSWORD
    )
    fund_reviewer = _staff(db, fund, "hz-fund-reviewer", "reviewer")
    world = ServicesWorld(
        province_id=province,
        city_id=city,
        county_id=county,
        fund_id=fund,
        civil_id=civil,
        fund_reviewer=fund_reviewer,
        fund_steward=_staff(db, fund, "hz-fund-steward", "data_steward"),
        civil_reviewer=_staff(db, civil, "xh-civil-reviewer", "reviewer"),
        admin=_staff(db, province, "zj-admin", "platform_admin"),
        citizen=Actor(kind="citizen", name="林晓雯", account_id=account.id, person_id=person.id),
        fund_withdrawal=catalogue.define_item(db, actor=fund_reviewer, spec=fund_withdrawal_spec(fund)),
        marriage=catalogue.define_item(db, actor=ROOT, spec=marriage_spec(civil)),
    )
    db.flush()
    return world


def sign_in_api(client: TestClient, db: Session, login_name: str, portal: str = "staff") -> dict[str, str]:
    """Sign in through identity's login; returns the headers an API call from the signed-in page sends."""
    outcome = auth.attempt_login(
        db,
        login_name=login_name,
        password=PASSWORD,
        client_address="10.0.0.1",
        portal=portal,  # type: ignore[arg-type]
        settings=IdentitySettings(),
    )
    assert outcome.token, outcome
    db.flush()  # the API's session shares the test's connection but not its pending rows
    client.cookies.set(SESSION_COOKIE, outcome.token)
    session = db.get(WebSession, token_hash(outcome.token))
    assert session is not None
    return {"X-CSRF-Token": session.csrf_token}
