"""A small certificates world: the provincial issuing departments, the demo catalogue, issuers, a family,
an enterprise, and the real-estate register with the certificates system granted its subject field."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.certificates import actions
from zerotrip.certificates.models import Certificate
from zerotrip.certificates.types import define_demo_types
from zerotrip.common.checks import make_resident_id, make_uscc
from zerotrip.config import DatahubSettings, IdentitySettings, Settings
from zerotrip.datahub import catalogue
from zerotrip.datahub.records import upsert_record
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import actions as identity_actions
from zerotrip.identity import auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import ApiClient, Organisation, Person, WebSession
from zerotrip.identity.secrets import hash_password, token_hash
from zerotrip.keys import KeyStore

PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    """One argon2 hash for every test login: hashing is deliberately slow."""
    return hash_password(PASSWORD)


ROOT = system("test")
DEPARTMENTS = {
    "psb": "浙江省公安厅",
    "civil": "浙江省民政厅",
    "land": "浙江省自然资源厅",
    "hrss": "浙江省人力资源和社会保障厅",
    "health": "浙江省卫生健康委员会",
    "market": "浙江省市场监督管理局",
    "data": "浙江省数据局",
}


@dataclass
class CertWorld:
    province: Organisation
    departments: dict[str, Organisation]  # by key: "civil" → 浙江省民政厅
    fund: Organisation  # 杭州住房公积金管理中心 (issues decision letters)
    admin: Actor  # platform administrator at the province
    civil_issuer: Actor  # certificate issuer at 浙江省民政厅
    land_issuer: Actor  # certificate issuer at 浙江省自然资源厅
    fund_issuer: Actor
    civil_steward: Actor  # a data steward at 浙江省民政厅: not an issuer
    husband: Person
    wife: Person
    child: Person
    owner: Person  # holds real estate
    enterprise_uscc: str
    citizen_accounts: dict[str, Actor]  # by resident ID

    def citizen(self, person: Person) -> Actor:
        return self.citizen_accounts[person.resident_id]


def staff(db: Session, org: Organisation, login_name: str, role: str, name: str) -> Actor:
    membership = identity_actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=org.id,
        login_name=login_name,
        display_name=name,
        role=role,
        password_hash=password_hash(),
    )
    db.flush()
    return Actor(
        kind="staff",
        name=name,
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )


def real_estate_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code=actions.REAL_ESTATE_RESOURCE,
        owner_org_id=owner_org_id,
        title="不动产登记信息",
        title_en="Real-estate registrations",
        subject_kind="resident_id",
        subject_field="holder_id",
        key_fields=["certificate_no", "holder_id"],
        share_type="conditional",
        update_frequency="daily",
        legal_basis="《不动产登记暂行条例》第二十五条",
        contact="浙江省自然资源厅",
        fields=[
            FieldSpec(name="certificate_no", title="不动产权证号", grade=2, is_required=True),
            FieldSpec(
                name="holder_id",
                title="权利人公民身份号码",
                grade=2,
                is_required=True,
                check_kind="resident_id",
            ),
            FieldSpec(name="holder_name", title="权利人姓名", grade=2, is_required=True),
            FieldSpec(name="address", title="坐落", grade=3, is_required=True),
        ],
    )


@pytest.fixture
def world(db: Session) -> CertWorld:
    province = identity_actions.create_organisation(
        db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
    )
    departments = {
        key: identity_actions.create_organisation(
            db,
            actor=ROOT,
            kind="department",
            code=f"330000-{key}",
            name=name,
            division_code="330000",
            parent_id=province.id,
        )
        for key, name in DEPARTMENTS.items()
    }
    hangzhou = identity_actions.create_organisation(
        db,
        actor=ROOT,
        kind="city",
        code="330100",
        name="杭州市",
        division_code="330100",
        parent_id=province.id,
    )
    fund = identity_actions.create_organisation(
        db,
        actor=ROOT,
        kind="department",
        code="330100-fund",
        name="杭州住房公积金管理中心",
        division_code="330100",
        parent_id=hangzhou.id,
    )
    admin = staff(db, province, "zj-admin", "platform_admin", "周主管")
    civil_issuer = staff(db, departments["civil"], "zj-civil-issuer", "certificate_issuer", "吴制证")
    land_issuer = staff(db, departments["land"], "zj-land-issuer", "certificate_issuer", "郑制证")
    fund_issuer = staff(db, fund, "hz-fund-issuer", "certificate_issuer", "王制证")
    civil_steward = staff(db, departments["civil"], "zj-civil-steward", "data_steward", "钱数据")

    def person(name: str, born: date, sequence: int, sex: str) -> Person:
        resident_id = make_resident_id(division_code="330106", birth_date=born, sequence=sequence, sex=sex)  # type: ignore[arg-type]
        return identity_actions.register_person(
            db, actor=ROOT, resident_id=resident_id, name=name, division_code="330106"
        )

    husband = person("陈建国", date(1990, 4, 12), 11, "male")
    wife = person("林晓雯", date(1992, 9, 3), 12, "female")
    child = person("陈一诺", date(2026, 8, 20), 13, "female")
    owner = person("赵有房", date(1975, 1, 30), 15, "male")
    db.flush()
    enterprise = identity_actions.register_enterprise(
        db,
        actor=ROOT,
        uscc=make_uscc(division_code="330106", serial=4242),
        name="杭州零跑科技有限公司",
        legal_representative_id=husband.id,
        division_code="330106",
    )
    # Actions need only the person behind a citizen actor; ``citizen_login`` opens an account for the API.
    accounts = {
        p.resident_id: Actor(kind="citizen", name=p.name, account_id=uuid.uuid4(), person_id=p.id)
        for p in (husband, wife, child, owner)
    }
    db.flush()
    define_demo_types(db, actor=admin)
    land = departments["land"]
    steward = staff(db, land, "zj-land-steward", "data_steward", "冯数据")
    register = catalogue.catalogue_resource(db, actor=steward, spec=real_estate_spec(land.id))
    upsert_record(
        db,
        resource=register,
        data={
            "certificate_no": "浙（2020）杭州市不动产权第0000001号",
            "holder_id": owner.resident_id,
            "holder_name": owner.name,
            "address": "西湖区文三路1号",
        },
        changed_by="test",
    )
    actions.set_up_gateway_consumer(db, actor=admin, settings=DatahubSettings())
    db.flush()
    return CertWorld(
        province=province,
        departments=departments,
        fund=fund,
        admin=admin,
        civil_issuer=civil_issuer,
        land_issuer=land_issuer,
        fund_issuer=fund_issuer,
        civil_steward=civil_steward,
        husband=husband,
        wife=wife,
        child=child,
        owner=owner,
        enterprise_uscc=enterprise.uscc,
        citizen_accounts=accounts,
    )


MARRIAGE = {
    "certificate_no": "J330106-2019-000123",
    "sex": "女",
    "spouse_name": "陈建国",
    "registered_on": "2019-05-20",
    "registration_office": "杭州市西湖区民政局婚姻登记处",
}


def marriage(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, *, actor: Actor | None = None
) -> Certificate:
    """The wife's marriage certificate, issued by the civil affairs issuer."""
    return actions.issue_certificate(
        db,
        actor=actor or world.civil_issuer,
        certificate_type="marriage-certificate",
        holder_key=world.wife.resident_id,
        claims=MARRIAGE | {"spouse_id": world.husband.resident_id},
        keys=keys,
        settings=settings,
    )


def api_client(
    db: Session, org: Organisation, scopes: list[str], name: str = "部门业务系统"
) -> tuple[ApiClient, str]:
    client, secret = auth.register_api_client(db, actor=ROOT, org_id=org.id, name=name, scopes=scopes)
    db.flush()
    return client, secret


def client_actor(client: ApiClient) -> Actor:
    return Actor(
        kind="client",
        name=client.name,
        client_id=client.client_id,
        client_org_id=client.org_id,
        scopes=frozenset(client.scopes),
    )


def bearer(db: Session, client: ApiClient, secret: str) -> dict[str, str]:
    token, _ = auth.issue_client_token(
        db, client_id=client.client_id, client_secret=secret, scope=None, settings=IdentitySettings()
    )
    db.flush()
    return {"Authorization": f"Bearer {token}"}


def citizen_login(db: Session, person: Person) -> str:
    """Open a citizen account for ``person``; returns its login name."""
    login_name = f"c{person.resident_id[-8:]}"
    identity_actions.create_citizen_account(
        db, actor=ROOT, person_id=person.id, login_name=login_name, password=PASSWORD
    )
    db.flush()
    return login_name


def sign_in(http: TestClient, db: Session, login_name: str, portal: str = "staff") -> dict[str, str]:
    """A web session cookie on ``http``; returns the CSRF header the API wants with it."""
    outcome = auth.attempt_login(
        db,
        login_name=login_name,
        password=PASSWORD,
        client_address="10.0.0.3",
        portal=portal,  # type: ignore[arg-type]
        settings=IdentitySettings(),
    )
    assert outcome.token, outcome
    db.flush()
    http.cookies.set(SESSION_COOKIE, outcome.token)
    session = db.get(WebSession, token_hash(outcome.token))
    assert session is not None
    return {"X-CSRF-Token": session.csrf_token}
