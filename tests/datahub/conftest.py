"""A small datahub world: departments, a steward, a consumer system, a personal and an open resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.datahub import catalogue
from zerotrip.datahub.models import Resource
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import ApiClient, Organisation

PASSWORD = "correct horse battery"
ROOT = system("test")


@dataclass
class DatahubWorld:
    province: Organisation
    hangzhou: Organisation
    land: Organisation  # 杭州市自然资源和规划局: owns the real-estate register
    data_bureau: Organisation  # 浙江省数据局: runs the one-stop platform
    steward: Actor  # data steward at the land bureau
    consumer: ApiClient  # the one-stop service platform, a department system
    consumer_secret: str
    real_estate: Resource
    county_stats: Resource
    residents: list[str]  # resident ID numbers used in the fixtures

    def consumer_actor(self, db: Session, scopes: frozenset[str] = frozenset()) -> Actor:
        return Actor(
            kind="client",
            name=self.consumer.name,
            client_id=self.consumer.client_id,
            client_org_id=self.consumer.org_id,
            scopes=scopes or frozenset(self.consumer.scopes),
        )


def real_estate_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code="330100-land.real-estate",
        owner_org_id=owner_org_id,
        title="不动产登记信息",
        title_en="Real-estate registrations",
        description="Registered titles to real estate in Hangzhou, one row per title.",
        subject_kind="resident_id",
        subject_field="holder_id",
        key_fields=["certificate_no"],
        share_type="conditional",
        open_type="closed",
        update_frequency="daily",
        legal_basis="《不动产登记暂行条例》第二十七条",
        contact="杭州市自然资源和规划局 数据管理处 0571-00000000",
        keywords=["不动产", "房产", "real estate"],
        fields=[
            FieldSpec(name="certificate_no", title="不动产权证号", grade=2, is_required=True, is_unique=True),
            FieldSpec(
                name="holder_id", title="权利人身份证号", grade=2, is_required=True, check_kind="resident_id"
            ),
            FieldSpec(name="holder_name", title="权利人姓名", grade=2, is_required=True),
            FieldSpec(name="address", title="坐落", grade=3, is_required=True),
            FieldSpec(name="area", title="建筑面积（平方米）", type="decimal", grade=1, is_required=True),
            FieldSpec(name="usage", title="用途", grade=1, enumeration=["住宅", "商业", "办公", "工业"]),
            FieldSpec(name="registered_on", title="登记日期", type="date", grade=1),
            FieldSpec(name="district", title="所在区县", grade=1, check_kind="division_code"),
        ],
        region_field="district",
    )


def county_stats_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code="330100-land.registrations-by-county",
        owner_org_id=owner_org_id,
        title="各区县不动产登记量",
        title_en="Real-estate registrations by county",
        subject_kind="division_code",
        subject_field="district",
        key_fields=["district", "month"],
        share_type="unconditional",
        open_type="open",
        update_frequency="monthly",
        legal_basis="《浙江省公共数据条例》",
        contact="杭州市自然资源和规划局",
        fields=[
            FieldSpec(
                name="district", title="区县代码", grade=1, is_required=True, check_kind="division_code"
            ),
            FieldSpec(name="month", title="月份", grade=1, is_required=True, pattern=r"^\d{4}-\d{2}$"),
            FieldSpec(name="registrations", title="登记件数", type="integer", grade=1, is_required=True),
        ],
    )


@pytest.fixture
def hub(db: Session) -> DatahubWorld:
    province = actions.create_organisation(
        db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
    )
    hangzhou = actions.create_organisation(
        db,
        actor=ROOT,
        kind="city",
        code="330100",
        name="杭州市",
        division_code="330100",
        parent_id=province.id,
    )
    land = actions.create_organisation(
        db,
        actor=ROOT,
        kind="department",
        code="330100-land",
        name="杭州市自然资源和规划局",
        division_code="330100",
        parent_id=hangzhou.id,
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
    membership = actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=land.id,
        login_name="hz-land-steward",
        display_name="刘数据",
        role="data_steward",
        password=PASSWORD,
    )
    db.flush()
    steward = Actor(
        kind="staff",
        name="刘数据",
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )
    consumer, secret = auth.register_api_client(
        db, actor=ROOT, org_id=data_bureau.id, name="一网通办平台", scopes=[]
    )
    real_estate = catalogue.catalogue_resource(db, actor=steward, spec=real_estate_spec(land.id))
    county_stats = catalogue.catalogue_resource(db, actor=steward, spec=county_stats_spec(land.id))
    residents = [
        make_resident_id(division_code="330106", birth_date=date(1988, 3, 14), sequence=i * 2 + 1, sex="male")
        for i in range(5)
    ]
    db.flush()
    return DatahubWorld(
        province, hangzhou, land, data_bureau, steward, consumer, secret, real_estate, county_stats, residents
    )
