"""A small datahub world for the data pages, built through the real actions.

A province (the platform operator's root), Hangzhou with its human-resources and land bureaus, a data
steward for each bureau, a citizen with a social-insurance record, a consumer system (the one-stop service
platform) holding a grant to that record, and an open statistics resource. Used by the TestClient tests
(in the rolled-back test transaction) and by the browser test (committed to the live server's database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.config import DatahubSettings
from zerotrip.datahub import aggregation, catalogue, gateway, sharing
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system

PASSWORD = "correct horse battery"
ROOT = system("test")
SETTINGS = DatahubSettings()
PURPOSE = "住房公积金提取审核"
GRANTED = ["name", "insured_since", "status"]
CITIZEN_LOGIN = "13812345678"
CITIZEN_NAME = "林晓雯"
STEWARD_LOGIN = "hz-hrss-steward"
OTHER_STEWARD_LOGIN = "hz-land-steward"
OPERATOR_LOGIN = "zj-operator"
CONSUMER_NAME = "一网通办平台"
INSURANCE = "330100-hrss.social-insurance"
JOBS = "330100-hrss.new-jobs-by-county"
LAND = "330100-land.parcels"
CSV_HEADER = "resident_id,name,insured_since,monthly_base,status,district"


@dataclass(frozen=True)
class DataWorld:
    resident_id: str  # the citizen's
    others: tuple[str, ...]  # more people's resident ID numbers, for loads
    steward: Actor
    other_steward: Actor
    consumer: Actor
    consumer_client_id: str
    consumer_secret: str
    hrss_org_id: int


def insurance_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code=INSURANCE,
        owner_org_id=owner_org_id,
        title="社会保险参保信息",
        title_en="Social insurance enrolment",
        description="Who is insured in Hangzhou, since when, and on what contribution base.",
        subject_kind="resident_id",
        subject_field="resident_id",
        share_type="conditional",
        open_type="closed",
        update_frequency="daily",
        legal_basis="《社会保险法》",
        contact="杭州市人力资源和社会保障局 0571-00000001",
        keywords=["社保", "参保"],
        fields=[
            FieldSpec(
                name="resident_id", title="公民身份号码", grade=2, is_required=True, check_kind="resident_id"
            ),
            FieldSpec(name="name", title="姓名", grade=2, is_required=True),
            FieldSpec(name="insured_since", title="参保日期", type="date", grade=1),
            FieldSpec(name="monthly_base", title="缴费基数", type="decimal", grade=2),
            FieldSpec(
                name="status", title="参保状态", grade=1, enumeration=["正常参保", "暂停缴费", "终止参保"]
            ),
            FieldSpec(name="district", title="所在区县", grade=1, check_kind="division_code"),
        ],
    )


def jobs_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code=JOBS,
        owner_org_id=owner_org_id,
        title="各区县新增就业人数",
        title_en="New jobs by county",
        subject_kind="division_code",
        subject_field="district",
        key_fields=["district", "month"],
        share_type="unconditional",
        open_type="open",
        update_frequency="monthly",
        legal_basis="《浙江省公共数据条例》",
        contact="杭州市人力资源和社会保障局",
        keywords=["就业"],
        fields=[
            FieldSpec(
                name="district", title="区县代码", grade=1, is_required=True, check_kind="division_code"
            ),
            FieldSpec(name="month", title="月份", grade=1, is_required=True, pattern=r"^\d{4}-\d{2}$"),
            FieldSpec(name="new_jobs", title="新增就业人数", type="integer", grade=1, is_required=True),
        ],
    )


def land_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code=LAND,
        owner_org_id=owner_org_id,
        title="土地出让地块",
        subject_kind="none",
        key_fields=["parcel_no"],
        share_type="unconditional",
        open_type="closed",
        update_frequency="monthly",
        legal_basis="《土地管理法》",
        contact="杭州市自然资源和规划局",
        fields=[FieldSpec(name="parcel_no", title="地块编号", grade=1, is_required=True)],
    )


JOB_ROWS: list[dict[str, Any]] = [
    {"district": d, "month": m, "new_jobs": n}
    for d, m, n in [
        ("330106", "2024-01", 812),
        ("330106", "2024-02", 455),
        ("330102", "2024-01", 301),
        ("330105", "2024-01", 640),
    ]
]


def _staff(db: Session, org_id: int, login: str, name: str, role: str) -> Actor:
    membership = actions.add_staff_member(
        db, actor=ROOT, org_id=org_id, login_name=login, display_name=name, role=role, password=PASSWORD
    )
    db.flush()
    return Actor(
        kind="staff",
        name=name,
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )


def insurance_row(resident_id: str, name: str, **changes: Any) -> dict[str, Any]:
    row = {
        "resident_id": resident_id,
        "name": name,
        "insured_since": "2015-07-01",
        "monthly_base": "8500.00",
        "status": "正常参保",
        "district": "330106",
    }
    return row | changes


def build_world(db: Session) -> DataWorld:
    province = actions.create_organisation(
        db,
        actor=ROOT,
        kind="province",
        code="330000",
        name="浙江省",
        name_en="Zhejiang",
        division_code="330000",
    )
    city = actions.create_organisation(
        db,
        actor=ROOT,
        kind="city",
        code="330100",
        name="杭州市",
        name_en="Hangzhou",
        division_code="330100",
        parent_id=province.id,
    )
    actions.create_organisation(
        db, actor=ROOT, kind="county", code="330106", name="西湖区", division_code="330106", parent_id=city.id
    )
    hrss = actions.create_organisation(
        db,
        actor=ROOT,
        kind="department",
        code="330100-hrss",
        name="杭州市人力资源和社会保障局",
        division_code="330100",
        parent_id=city.id,
    )
    land = actions.create_organisation(
        db,
        actor=ROOT,
        kind="department",
        code="330100-land",
        name="杭州市自然资源和规划局",
        division_code="330100",
        parent_id=city.id,
    )
    data_bureau = actions.create_organisation(
        db,
        actor=ROOT,
        kind="department",
        code="330000-data",
        name="浙江省数据局",
        division_code="330000",
        parent_id=province.id,
    )
    db.flush()
    steward = _staff(db, hrss.id, STEWARD_LOGIN, "陈数据", "data_steward")
    other_steward = _staff(db, land.id, OTHER_STEWARD_LOGIN, "刘数据", "data_steward")
    _staff(db, province.id, OPERATOR_LOGIN, "周主管", "platform_admin")
    people = [
        make_resident_id(
            division_code="330106", birth_date=date(1990, 5, 17), sequence=21 + 2 * i, sex="female"
        )
        for i in range(4)
    ]
    person = actions.register_person(
        db, actor=ROOT, name=CITIZEN_NAME, division_code="330106", resident_id=people[0]
    )
    db.flush()
    actions.create_citizen_account(
        db, actor=ROOT, person_id=person.id, login_name=CITIZEN_LOGIN, password=PASSWORD
    )
    client, secret = auth.register_api_client(
        db, actor=ROOT, org_id=data_bureau.id, name=CONSUMER_NAME, scopes=[]
    )
    db.flush()
    consumer = Actor(kind="client", name=client.name, client_id=client.client_id, client_org_id=client.org_id)
    catalogue.catalogue_resource(db, actor=steward, spec=insurance_spec(hrss.id))
    catalogue.catalogue_resource(db, actor=steward, spec=jobs_spec(hrss.id))
    catalogue.catalogue_resource(db, actor=other_steward, spec=land_spec(land.id))
    db.flush()
    aggregation.push_records(
        db, actor=steward, resource_code=INSURANCE, records=[insurance_row(people[0], CITIZEN_NAME)]
    )
    aggregation.push_records(db, actor=steward, resource_code=JOBS, records=JOB_ROWS)
    db.flush()
    return DataWorld(
        resident_id=people[0],
        others=tuple(people[1:]),
        steward=steward,
        other_steward=other_steward,
        consumer=consumer,
        consumer_client_id=client.client_id,
        consumer_secret=secret,
        hrss_org_id=hrss.id,
    )


def request_insurance(db: Session, world: DataWorld, *, purpose: str = PURPOSE) -> str:
    """The consumer asks for the insurance record (conditional: it waits for the steward). Its number."""
    request = sharing.request_share(
        db,
        actor=world.consumer,
        resource_code=INSURANCE,
        fields=GRANTED,
        purpose=purpose,
        legal_basis="《住房公积金管理条例》第二十四条",
        settings=SETTINGS,
    )
    db.flush()
    return request.number


def grant_and_read(db: Session, world: DataWorld) -> None:
    """The steward approves a request and the consumer reads the citizen's record through the gateway."""
    number = request_insurance(db, world)
    sharing.approve_share_request(db, actor=world.steward, number=number, settings=SETTINGS)
    db.flush()
    gateway.lookup(
        db,
        actor=world.consumer,
        resource_code=INSURANCE,
        subject_keys=[world.resident_id],
        fields=GRANTED,
        purpose=PURPOSE,
        on_behalf_of="申请 HF2024000123",
    )
    db.flush()


def bad_csv(world: DataWorld) -> str:
    """Seven rows: four accepted (one of them unchanged) and three rejected, for a wrong check character,
    a status outside the allowed values, and a missing name."""
    a, b, c = world.others
    wrong_id = a[:17] + ("0" if a[17] != "0" else "1")
    lines = [
        CSV_HEADER,
        f"{a},王小明,2018-03-01,9200.50,正常参保,330106",
        f"{b},李华,2020-11-15,7000,暂停缴费,330106",
        f"{wrong_id},赵六,2019-01-01,6000,正常参保,330106",
        f"{c},钱七,2021-06-01,6500,已退休,330106",
        f"{world.resident_id},,2015-07-01,8500.00,正常参保,330106",
        f"{c},钱七,2021-06-01,6500,正常参保,330106",
        f"{world.resident_id},{CITIZEN_NAME},2015-07-01,8500.00,正常参保,330106",
    ]
    return "\n".join(lines) + "\n"
