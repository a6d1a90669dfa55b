"""A small datahub world for the datahub tests and the gateway benchmark, built through the real actions.

Zhejiang and Hangzhou; the city's land bureau (杭州市自然资源和规划局) with a data steward, its real-estate
register (personal data, shared on request, closed to the public) and its registrations-by-county table
(open data); the province's data bureau (浙江省数据局), whose one-stop service platform is an API client.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.datahub import catalogue
from zerotrip.datahub.models import Resource
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import ApiClient, Organisation

REAL_ESTATE = "330100-land.real-estate"
COUNTY_STATS = "330100-land.registrations-by-county"
USAGES = ("住宅", "商业", "办公", "工业")
STEWARD_LOGIN = "hz-land-steward"


@dataclass
class LandWorld:
    province: Organisation
    hangzhou: Organisation
    land: Organisation  # 杭州市自然资源和规划局: owns the real-estate register
    data_bureau: Organisation  # 浙江省数据局: runs the one-stop platform
    steward: Actor  # data steward at the land bureau
    consumer: ApiClient  # the one-stop service platform, a department system
    consumer_secret: str
    real_estate: Resource
    county_stats: Resource

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
        code=REAL_ESTATE,
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
            FieldSpec(name="usage", title="用途", grade=1, enumeration=list(USAGES)),
            FieldSpec(name="registered_on", title="登记日期", type="date", grade=1),
            FieldSpec(name="district", title="所在区县", grade=1, check_kind="division_code"),
        ],
        region_field="district",
    )


def county_stats_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code=COUNTY_STATS,
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


def build_land_world(db: Session, *, actor: Actor, steward_password: str) -> LandWorld:
    """Create the world with ``actor`` (a platform administrator or the system) and flush it."""

    def department(code: str, name: str, division_code: str, parent: Organisation) -> Organisation:
        return actions.create_organisation(
            db,
            actor=actor,
            kind="department",
            code=code,
            name=name,
            division_code=division_code,
            parent_id=parent.id,
        )

    province = actions.create_organisation(
        db, actor=actor, kind="province", code="330000", name="浙江省", division_code="330000"
    )
    hangzhou = actions.create_organisation(
        db,
        actor=actor,
        kind="city",
        code="330100",
        name="杭州市",
        division_code="330100",
        parent_id=province.id,
    )
    land = department("330100-land", "杭州市自然资源和规划局", "330100", hangzhou)
    data_bureau = department("330000-data", "浙江省数据局", "330000", province)
    membership = actions.add_staff_member(
        db,
        actor=actor,
        org_id=land.id,
        login_name=STEWARD_LOGIN,
        display_name="刘数据",
        role="data_steward",
        password=steward_password,
    )
    db.flush()  # the membership's account id, for the steward's grants
    steward = Actor(
        kind="staff",
        name="刘数据",
        account_id=membership.account_id,
        grants=auth.load_grants(db, membership.account_id),
    )
    consumer, secret = auth.register_api_client(
        db, actor=actor, org_id=data_bureau.id, name="一网通办平台", scopes=[]
    )
    real_estate = catalogue.catalogue_resource(db, actor=steward, spec=real_estate_spec(land.id))
    county_stats = catalogue.catalogue_resource(db, actor=steward, spec=county_stats_spec(land.id))
    db.flush()
    return LandWorld(
        province, hangzhou, land, data_bureau, steward, consumer, secret, real_estate, county_stats
    )
