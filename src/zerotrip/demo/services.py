"""The demo service catalogue: items of the province's, Hangzhou's and 西湖区's departments, shaped like
Zhejiang's guides (浙里办), defined through ``services.catalogue.define_item`` like any department's.

Materials name the demo datahub resources (``demo/datasets``) and the certificate types of the
certificates context's demo catalogue (``certificates.types.DEMO_TYPES``) by their codes. Some items
already fetch everything (the housing fund withdrawal for renting, the newborn bundle's parts, the
enterprise change bundle's parts); others still ask for originals at a counter, naming what already holds
that data (the household register, the real-estate register, marriage and business-licence
certificates), so the operator's trip analysis shows what sharing would save. Trip counts are not written
here: they follow from the materials and steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from zerotrip.certificates.types import DEMO_TYPES
from zerotrip.config import Settings
from zerotrip.datahub import sharing
from zerotrip.demo.orgs import OrgTree
from zerotrip.identity.actor import Actor
from zerotrip.services import catalogue, evidence, instant
from zerotrip.services.catalogue_csv import parse_steps
from zerotrip.services.models import Item
from zerotrip.services.queries import list_materials
from zerotrip.services.rules import FactRule, FieldRule, RuleSetSpec
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


# The withdrawal for renting is decided at once when the register holds no real estate for the applicant,
# the fund account is in good standing, and at least three months were paid without a gap.
FUND_RENTING_RULES = RuleSetSpec(
    rules=[
        FactRule(fact="real-estate.exists", expect=False, label="本人在本省无不动产登记"),
        FieldRule(field="accounts.status", op="==", value="正常", label="住房公积金账户状态正常"),
        FieldRule(
            field="contributions.month.consecutive_months",
            op=">=",
            value=3,
            label="连续缴存住房公积金满3个月",
        ),
    ]
)


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


def _newborn_bundle() -> list[DemoItem]:
    """出生“一件事”: the birth certificate, then household registration, medical insurance and the social
    security card, each fed by the one before."""
    return [
        DemoItem(
            f"{COUNTY}-health",
            1,
            "出生医学证明首次签发",
            "First issue of a birth medical certificate",
            "confirmation",
            "《中华人民共和国母婴保健法》第二十三条",
            5,
            1,
            ONLINE,
            (
                data(
                    "新生儿出生信息", BIRTHS, "child_name", "child_sex", "birth_date", "hospital", "mother_id"
                ),
                data("父母身份信息", HOUSEHOLD, "name", "birth_date", "address"),
            ),
            events=("birth",),
            conditions="在本省助产机构内出生的新生儿，由其父母或监护人申领。",
        ),
        DemoItem(
            f"{COUNTY}-psb",
            1,
            "出生登记",
            "Household registration of a newborn",
            "confirmation",
            "《中华人民共和国户口登记条例》第七条",
            5,
            1,
            ONLINE,
            (
                prior("出生医学证明", BIRTH_CERTIFICATE),
                data("父母户籍信息", HOUSEHOLD, "household_no", "relation_to_head", "address"),
                cert("父母结婚证", "marriage-certificate", "spouse_name", "registered_on"),
                pledge("随父或随母落户声明", "本人自愿申请新生儿随父（母）落户，所填信息真实。"),
            ),
            events=("birth",),
            conditions="婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报。",
        ),
        DemoItem(
            f"{COUNTY}-medical",
            1,
            "城乡居民基本医疗保险参保登记（新生儿）",
            "Basic medical insurance enrolment of a newborn",
            "public_service",
            "《中华人民共和国社会保险法》第二十五条",
            5,
            1,
            ONLINE,
            (
                prior("新生儿户籍信息", BIRTH_REGISTRATION),
                data("监护人参保信息", MEDICAL_INSURANCE, "insurance_type", "status"),
            ),
            events=("birth", "medical"),
        ),
        DemoItem(
            f"{CITY}-hrss",
            1,
            "社会保障卡申领（新生儿）",
            "Social security card for a newborn",
            "public_service",
            "《中华人民共和国社会保险法》第五十八条",
            20,
            10,
            ("online", "mail"),
            (
                prior("新生儿户籍信息", BIRTH_REGISTRATION),
                prior("新生儿参保信息", NEWBORN_MEDICAL),
                upload("新生儿近期免冠照片", description="白色背景，可用手机拍摄上传。"),
            ),
            events=("birth", "social_security"),
            conditions="卡片制成后免费邮寄到家。",
        ),
    ]


def _enterprise_change_bundle() -> list[DemoItem]:
    """企业变更“一件事”: the registration change, and the tax, social insurance and housing fund records
    that follow it."""
    return [
        DemoItem(
            f"{COUNTY}-market",
            1,
            "企业变更登记（名称、住所、经营范围等）",
            "Change of an enterprise's registration",
            "licensing",
            "《中华人民共和国市场主体登记管理条例》第二十四条",
            3,
            1,
            ONLINE,
            (
                cert("营业执照", "business-licence"),
                data(
                    "企业登记信息",
                    ENTERPRISES,
                    "uscc",
                    "name",
                    "address",
                    "business_scope",
                    "legal_representative",
                ),
                upload("股东会决议或股东决定"),
                pledge("住所（经营场所）申报承诺书", "本企业承诺申报的住所真实存在且可以取得联系。"),
            ),
            events=("business_change",),
            conditions="变更事项自作出变更决议、决定或者法定变更事项发生之日起30日内申请。",
        ),
        DemoItem(
            f"{COUNTY}-tax",
            1,
            "税务登记信息变更",
            "Change of tax registration details",
            "other_power",
            "《中华人民共和国税收征收管理法》第十六条",
            5,
            0,
            ONLINE,
            (prior("市场监管部门变更登记结果", ENTERPRISE_CHANGE),),
            events=("business_change",),
        ),
        DemoItem(
            f"{CITY}-hrss",
            2,
            "社会保险单位信息变更登记",
            "Change of an employer's social insurance registration",
            "public_service",
            "《中华人民共和国社会保险法》第五十七条",
            5,
            1,
            ONLINE,
            (prior("市场监管部门变更登记结果", ENTERPRISE_CHANGE),),
            events=("business_change",),
        ),
        DemoItem(
            f"{CITY}-fund",
            7,
            "住房公积金单位缴存信息变更登记",
            "Change of an employer's housing fund registration",
            "public_service",
            "《住房公积金管理条例》第十四条",
            5,
            1,
            ONLINE,
            (
                prior("市场监管部门变更登记结果", ENTERPRISE_CHANGE),
                data("企业登记信息", ENTERPRISES, "uscc", "name", "address"),
            ),
            events=("business_change",),
        ),
    ]


def _items() -> list[DemoItem]:
    items = [*_newborn_bundle(), *_enterprise_change_bundle()]
    items += [
        # -- housing provident fund (杭州住房公积金管理中心) -----------------------------------------
        DemoItem(
            f"{CITY}-fund",
            1,
            "无房职工提取住房公积金支付房租",
            "Housing provident fund withdrawal for renting without own housing",
            "payment",
            "《住房公积金管理条例》第二十四条",
            3,
            0,
            ONLINE_OR_WINDOW,
            (
                exists("本人及配偶本市住房情况", REAL_ESTATE, description="查询本人在本省有无不动产登记。"),
                data("住房公积金账户信息", FUND_ACCOUNTS, "account_no", "status", "balance", "paid_through"),
                data("住房公积金缴存明细", FUND_CONTRIBUTIONS, "month", "personal_amount", "employer_amount"),
                pledge("无房租赁承诺书", "本人承诺本人及配偶在本市无自有住房，且在本市租赁住房居住。"),
            ),
            events=("renting",),
            is_instant=True,
            rules=FUND_RENTING_RULES,
            conditions="连续足额缴存住房公积金满3个月，本人及配偶在本市无自有住房且租赁住房的缴存职工。",
        ),
        DemoItem(
            f"{CITY}-fund",
            2,
            "购买自住住房提取住房公积金",
            "Housing fund withdrawal to buy a home",
            "payment",
            "《住房公积金管理条例》第二十四条",
            3,
            1,
            ONLINE,
            (
                cert("不动产权证书", "real-estate-title"),
                data("住房公积金账户信息", FUND_ACCOUNTS, "account_no", "status", "balance"),
                cert("结婚证", "marriage-certificate", "spouse_name", description="已婚的提供。"),
                upload("购房发票", held_by=LAND_REGISTER),
            ),
            events=("home_purchase",),
        ),
        DemoItem(
            f"{CITY}-fund",
            3,
            "退休提取住房公积金",
            "Housing fund withdrawal on retirement",
            "payment",
            "《住房公积金管理条例》第二十四条",
            3,
            1,
            ONLINE,
            (
                data("住房公积金账户信息", FUND_ACCOUNTS, "account_no", "status", "balance"),
                upload("退休审批表或退休证", held_by=INSURANCE_RECORD),
            ),
            events=("retirement",),
        ),
        DemoItem(
            f"{CITY}-fund",
            4,
            "住房公积金个人住房贷款",
            "Housing fund home loan",
            "public_service",
            "《住房公积金管理条例》第二十六条",
            15,
            10,
            ONLINE_OR_WINDOW,
            (
                onsite("借款人及配偶身份证原件"),
                onsite("结婚证原件", held_by=MARRIAGE_CERTIFICATE),
                upload("购房合同", held_by=LAND_REGISTER),
                upload("收入证明", held_by=INSURANCE_RECORD),
            ),
            steps=SIGN,
            step_names={"accept": "借款人与受托银行当面签订借款合同"},
            events=("home_purchase",),
        ),
        DemoItem(
            f"{CITY}-fund",
            5,
            "住房公积金缴存证明出具",
            "Housing fund contribution certificate",
            "public_service",
            "《住房公积金管理条例》第十七条",
            1,
            0,
            ONLINE,
            (
                data(
                    "住房公积金缴存明细",
                    FUND_CONTRIBUTIONS,
                    "month",
                    "base",
                    "personal_amount",
                    "employer_amount",
                ),
            ),
        ),
        DemoItem(
            f"{CITY}-fund",
            6,
            "单位住房公积金缴存登记",
            "An employer's housing fund registration",
            "public_service",
            "《住房公积金管理条例》第十四条",
            5,
            1,
            ONLINE,
            (
                cert("营业执照", "business-licence"),
                data("企业登记信息", ENTERPRISES, "uscc", "name", "address", "legal_representative"),
            ),
            events=("starting_business",),
        ),
        # -- civil affairs (民政) --------------------------------------------------------------------
        DemoItem(
            f"{COUNTY}-civil",
            1,
            "内地居民结婚登记（预约）",
            "Marriage registration (by appointment)",
            "confirmation",
            "《婚姻登记条例》第四条、第五条",
            1,
            0,
            ONLINE_OR_WINDOW,
            (
                onsite("双方居民户口簿", held_by=HOUSEHOLD_BOOK),
                onsite("双方居民身份证"),
                upload("双方2寸近期半身免冠合影照片"),
                pledge(
                    "无配偶及无直系血亲和三代以内旁系血亲关系的签字声明",
                    "本人无配偶，与对方当事人没有直系血亲和三代以内旁系血亲关系。",
                ),
            ),
            steps=IN_PERSON_AND_COLLECT,
            step_names={"accept": "男女双方亲自到场并签字", "issue": "当场颁发结婚证"},
            events=("marriage",),
            conditions="男女双方须共同亲自到婚姻登记机关办理，可在网上预约办理时间。",
        ),
        DemoItem(
            f"{COUNTY}-civil",
            2,
            "内地居民离婚登记",
            "Divorce registration",
            "confirmation",
            "《中华人民共和国民法典》第一千零七十六条、第一千零七十七条",
            30,
            30,
            WINDOW,
            (
                onsite("双方居民户口簿", held_by=HOUSEHOLD_BOOK),
                onsite("双方居民身份证"),
                onsite("结婚证", held_by=MARRIAGE_CERTIFICATE),
                upload("离婚协议书"),
            ),
            steps=IN_PERSON_AND_COLLECT,
            step_names={"accept": "双方亲自到场申请", "issue": "冷静期满后双方亲自到场领取离婚证"},
            events=("marriage",),
            conditions="自婚姻登记机关收到离婚登记申请之日起三十日内为离婚冷静期。",
        ),
        DemoItem(
            f"{COUNTY}-civil",
            3,
            "婚姻登记记录证明出具",
            "Certificate of marriage registration records",
            "public_service",
            "《婚姻登记档案管理办法》第十五条",
            3,
            0,
            ONLINE,
            (data("婚姻登记信息", MARRIAGES, "certificate_no", "registered_on", "registration_office"),),
            events=("marriage",),
        ),
        DemoItem(
            f"{COUNTY}-civil",
            4,
            "最低生活保障审核确认",
            "Minimum living allowance",
            "payment",
            "《社会救助暂行办法》第十一条",
            30,
            20,
            ONLINE,
            (
                data("家庭成员户籍信息", HOUSEHOLD, "name", "household_no", "relation_to_head"),
                exists("家庭成员不动产情况", REAL_ESTATE),
                data("家庭成员社会保险信息", SOCIAL_INSURANCE, "status", "contribution_base"),
                pledge("家庭经济状况核对授权及承诺书", "本人授权核对家庭经济状况，并承诺申报信息真实。"),
            ),
            steps=INSPECT,
            step_names={"review": "入户调查"},
        ),
        DemoItem(
            f"{COUNTY}-civil",
            5,
            "困难残疾人生活补贴申领",
            "Living allowance for people with disabilities in hardship",
            "payment",
            "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
            20,
            15,
            ONLINE_OR_WINDOW,
            (
                onsite("中华人民共和国残疾人证"),
                data("户籍信息", HOUSEHOLD, "name", "address"),
            ),
        ),
        DemoItem(
            f"{PROVINCE}-civil",
            1,
            "社会团体成立登记",
            "Registration of a social organisation",
            "licensing",
            "《社会团体登记管理条例》第九条",
            60,
            30,
            ONLINE,
            (
                upload("章程草案"),
                upload("验资报告"),
                onsite("住所使用权证明", held_by=LAND_REGISTER),
                data("拟任负责人身份信息", HOUSEHOLD, "name", "birth_date"),
            ),
            steps=COLLECT,
            step_names=COLLECT_PAPER,
        ),
        DemoItem(
            f"{COUNTY}-civil",
            6,
            "惠民殡葬补贴申领",
            "Funeral subsidy",
            "payment",
            "《浙江省殡葬管理条例》",
            20,
            10,
            ONLINE,
            (
                onsite("居民死亡医学证明（推断）书"),
                upload("火化证明"),
                data("逝者户籍信息", HOUSEHOLD, "name", "address"),
            ),
            events=("death",),
        ),
        # -- natural resources and real estate (自然资源和规划) -------------------------------------
        DemoItem(
            f"{CITY}-land",
            1,
            "不动产登记资料查询（无房证明）",
            "Real-estate records search (no-property certificate)",
            "public_service",
            "《不动产登记暂行条例》第二十七条",
            1,
            0,
            ONLINE,
            (exists("本人不动产登记情况", REAL_ESTATE),),
            events=("renting", "schooling"),
        ),
        DemoItem(
            f"{CITY}-land",
            2,
            "国有建设用地使用权及房屋所有权转移登记（二手房买卖）",
            "Transfer registration of a resold home",
            "confirmation",
            "《不动产登记暂行条例》第十四条",
            30,
            5,
            WINDOW,
            (
                onsite("不动产权证书", held_by=TITLE_CERTIFICATE),
                onsite("买卖双方身份证"),
                onsite("婚姻状况证明", held_by=MARRIAGE_CERTIFICATE),
                upload("存量房买卖合同"),
                prior("契税完税信息", RESALE_TAX),
            ),
            steps=SIGN,
            step_names={"accept": "买卖双方到场签署询问笔录"},
            events=("home_purchase",),
            fee_yuan=Decimal("80"),
            fee_basis=(
                "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号）"
            ),
        ),
        DemoItem(
            f"{CITY}-land",
            3,
            "不动产抵押权首次登记",
            "First registration of a mortgage",
            "confirmation",
            "《中华人民共和国民法典》第四百零二条",
            30,
            1,
            ONLINE,
            (cert("不动产权证书", "real-estate-title"), upload("抵押合同"), upload("主债权合同")),
            events=("home_purchase",),
        ),
        DemoItem(
            f"{CITY}-land",
            4,
            "不动产权证书补发",
            "Replacement of a lost real-estate title certificate",
            "confirmation",
            "《不动产登记暂行条例实施细则》第二十二条",
            30,
            20,
            WINDOW,
            (onsite("申请人身份证"), pledge("不动产权证书遗失声明", "本人声明所持不动产权证书已遗失。")),
            steps=COLLECT,
            step_names=COLLECT_PAPER,
            fee_yuan=Decimal("10"),
            fee_basis="《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》",
        ),
        DemoItem(
            f"{CITY}-land",
            5,
            "建设工程规划许可证核发",
            "Construction project planning permit",
            "licensing",
            "《中华人民共和国城乡规划法》第四十条",
            20,
            12,
            ONLINE,
            (
                onsite("营业执照副本", held_by=LICENCE),
                upload("建设工程设计方案"),
                upload("土地权属证明", held_by=LAND_REGISTER),
            ),
            steps=INSPECT_AND_COLLECT,
            step_names={"review": "现场踏勘", "issue": "窗口领取许可证"},
        ),
        # -- public security (公安) -------------------------------------------------------------------
        DemoItem(
            f"{COUNTY}-psb",
            2,
            "居民身份证换领",
            "Renewal of a resident identity card",
            "confirmation",
            "《中华人民共和国居民身份证法》第十一条",
            60,
            15,
            WINDOW,
            (onsite("原居民身份证"), onsite("居民户口簿", held_by=HOUSEHOLD_BOOK)),
            steps=SIGN,
            step_names={"accept": "现场采集人像和指纹"},
            fee_yuan=Decimal("20"),
            fee_basis="《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》；新证免费邮寄",
        ),
        DemoItem(
            f"{COUNTY}-psb",
            3,
            "夫妻投靠户口迁移",
            "Household transfer to join a spouse",
            "confirmation",
            "《中华人民共和国户口登记条例》第十条",
            20,
            5,
            WINDOW,
            (
                onsite("结婚证", held_by=MARRIAGE_CERTIFICATE),
                onsite("双方居民户口簿", held_by=HOUSEHOLD_BOOK),
                onsite("合法稳定住所证明", held_by=TITLE_CERTIFICATE),
            ),
            steps=COLLECT,
            step_names={"issue": "窗口领取新户口簿"},
            events=("marriage", "home_purchase"),
        ),
        DemoItem(
            f"{PROVINCE}-psb",
            1,
            "普通护照签发",
            "Issue of an ordinary passport",
            "licensing",
            "《中华人民共和国护照法》第五条",
            15,
            7,
            ONLINE_OR_WINDOW,
            (onsite("居民身份证"), data("户籍信息", HOUSEHOLD, "name", "sex", "birth_date")),
            steps=SIGN,
            step_names={"accept": "现场采集指纹和照片"},
            fee_yuan=Decimal("120"),
            fee_basis=(
                "《国家发展改革委 财政部关于降低部分行政事业性收费标准的通知》（发改价格〔2019〕914号）；"
                "证件邮寄到家"
            ),
        ),
        DemoItem(
            f"{CITY}-psb",
            1,
            "机动车驾驶证补领",
            "Replacement of a driving licence",
            "confirmation",
            "《机动车驾驶证申领和使用规定》第六十一条",
            1,
            1,
            ("online", "mail"),
            (data("身份信息", HOUSEHOLD, "name", "birth_date"), upload("本人近期免冠照片")),
            fee_yuan=Decimal("10"),
            fee_basis="《机动车驾驶证工本费收费标准》；新证邮寄到家",
        ),
        DemoItem(
            f"{COUNTY}-psb",
            4,
            "无犯罪记录证明开具",
            "Certificate of no criminal record",
            "public_service",
            "《公安机关办理无犯罪记录证明工作规定》",
            3,
            1,
            ONLINE,
            (data("身份信息", HOUSEHOLD, "name", "address"), upload("用途说明", required=False)),
            events=("employment",),
        ),
        # -- human resources and social security (人力社保) -----------------------------------------
        DemoItem(
            f"{CITY}-hrss",
            3,
            "失业保险金申领",
            "Unemployment benefit",
            "payment",
            "《中华人民共和国社会保险法》第四十五条",
            15,
            5,
            ONLINE,
            (
                data("失业保险参保信息", SOCIAL_INSURANCE, "insurance_type", "status", "months_paid"),
                upload("解除或终止劳动关系证明"),
            ),
            events=("employment",),
        ),
        DemoItem(
            f"{CITY}-hrss",
            4,
            "灵活就业人员参保登记",
            "Social insurance for the self-employed",
            "public_service",
            "《中华人民共和国社会保险法》第十条",
            5,
            0,
            ONLINE,
            (data("户籍信息", HOUSEHOLD, "name", "address", "division_code"),),
            events=("employment", "social_security"),
        ),
        DemoItem(
            f"{CITY}-hrss",
            5,
            "基本养老保险待遇申领（退休）",
            "Basic pension on retirement",
            "payment",
            "《中华人民共和国社会保险法》第十六条",
            20,
            15,
            ONLINE_OR_WINDOW,
            (
                data("参保缴费信息", SOCIAL_INSURANCE, "first_insured_on", "months_paid", "status"),
                data("户籍信息", HOUSEHOLD, "name", "birth_date"),
                onsite("职工人事档案", description="纸质档案由存档机构送审或本人携带。"),
            ),
            events=("retirement",),
        ),
        DemoItem(
            f"{COUNTY}-hrss",
            1,
            "就业登记",
            "Employment registration",
            "public_service",
            "《就业服务与就业管理规定》第六十二条",
            5,
            0,
            ONLINE,
            (
                data("用人单位登记信息", ENTERPRISES, "uscc", "name"),
                data("劳动者户籍信息", HOUSEHOLD, "name"),
            ),
            events=("employment",),
        ),
        DemoItem(
            f"{CITY}-hrss",
            6,
            "用人单位社会保险登记",
            "An employer's social insurance registration",
            "public_service",
            "《中华人民共和国社会保险法》第五十七条",
            15,
            1,
            ONLINE,
            (
                cert("营业执照", "business-licence"),
                data("企业登记信息", ENTERPRISES, "uscc", "name", "address"),
            ),
            events=("starting_business",),
        ),
        DemoItem(
            f"{CITY}-hrss",
            7,
            "社会保险参保缴费证明出具",
            "Certificate of social insurance contributions",
            "public_service",
            "《中华人民共和国社会保险法》第七十四条",
            1,
            0,
            ONLINE,
            (data("参保缴费信息", SOCIAL_INSURANCE, "insurance_type", "status", "months_paid"),),
            events=("social_security", "schooling"),
        ),
        DemoItem(
            f"{CITY}-hrss",
            8,
            "社会保障卡补换（遗失补办）",
            "Replacement of a lost social security card",
            "public_service",
            "《中华人民共和国社会保险法》第五十八条",
            20,
            0,
            ("window", "self_service"),
            (onsite("居民身份证"),),
            steps=IN_PERSON_AND_COLLECT,
            step_names={"accept": "合作银行网点即时制卡", "issue": "当场领取新卡"},
            events=("social_security",),
            fee_yuan=Decimal("15"),
            fee_basis="《浙江省物价局 浙江省财政厅关于社会保障卡收费问题的通知》",
        ),
        DemoItem(
            f"{COUNTY}-hrss",
            2,
            "城乡居民基本养老保险参保登记",
            "Enrolment in the basic pension for urban and rural residents",
            "public_service",
            "《中华人民共和国社会保险法》第二十条",
            5,
            1,
            ONLINE,
            (onsite("居民户口簿", held_by=HOUSEHOLD_BOOK),),
            events=("social_security", "retirement"),
        ),
        # -- healthcare security (医疗保障) ---------------------------------------------------------
        DemoItem(
            f"{CITY}-medical",
            1,
            "异地就医备案",
            "Registration for medical treatment outside the insured area",
            "public_service",
            "《中华人民共和国社会保险法》第二十九条",
            1,
            0,
            ONLINE,
            (data("医保参保信息", MEDICAL_INSURANCE, "insurance_type", "status", "division_code"),),
            events=("medical",),
        ),
        DemoItem(
            f"{CITY}-medical",
            2,
            "门诊慢特病待遇认定",
            "Recognition of chronic disease outpatient benefits",
            "confirmation",
            "《浙江省基本医疗保障办法》",
            15,
            10,
            WINDOW,
            (data("医保参保信息", MEDICAL_INSURANCE, "insurance_type", "status"), upload("病历及检查报告")),
            steps=SIGN,
            step_names={"accept": "在定点医疗机构现场评定"},
            events=("medical",),
        ),
        DemoItem(
            f"{CITY}-medical",
            3,
            "医疗费用零星报销",
            "Reimbursement of medical expenses paid in full",
            "payment",
            "《中华人民共和国社会保险法》第二十九条",
            30,
            20,
            ONLINE_OR_WINDOW,
            (
                onsite(
                    "医疗费用发票原件", description="纸质票据须交原件；已开具医疗收费电子票据的无需提供。"
                ),
                upload("费用明细清单"),
                data("医保参保信息", MEDICAL_INSURANCE, "insurance_type", "status"),
            ),
            events=("medical",),
        ),
        DemoItem(
            f"{COUNTY}-medical",
            2,
            "生育津贴申领",
            "Maternity allowance",
            "payment",
            "《中华人民共和国社会保险法》第五十六条",
            20,
            10,
            ONLINE,
            (
                # The demo family's mother holds her marriage certificate in the wallet: the demo shows it
                # fetched, verified and used to fill in the form. The birth comes from the birth register.
                cert("结婚证", "marriage-certificate", "spouse_name", "spouse_id", "registered_on"),
                data("新生儿出生信息", BIRTHS, "child_name", "birth_date", "hospital"),
                data("参保信息", MEDICAL_INSURANCE, "insurance_type", "status", "employer_uscc"),
            ),
            events=("birth",),
        ),
        # -- health (卫生健康) ----------------------------------------------------------------------
        DemoItem(
            f"{COUNTY}-health",
            2,
            "新冠病毒疫苗预防接种证明开具",
            "COVID-19 vaccination certificate",
            "public_service",
            "《中华人民共和国疫苗管理法》第四十七条",
            1,
            0,
            ONLINE,
            (data("预防接种记录", VACCINATIONS, "vaccine_kind", "product", "dose", "vaccinated_on", "site"),),
            events=("vaccination",),
        ),
        DemoItem(
            f"{COUNTY}-health",
            3,
            "儿童入托、入学预防接种证查验",
            "Vaccination record check for school entry",
            "public_service",
            "《中华人民共和国疫苗管理法》第四十八条",
            5,
            0,
            ONLINE,
            (data("儿童预防接种记录", VACCINATIONS, "vaccine_kind", "dose", "vaccinated_on"),),
            events=("vaccination", "schooling"),
        ),
        DemoItem(
            f"{PROVINCE}-health",
            1,
            "医师执业注册",
            "Registration of a medical practitioner",
            "licensing",
            "《中华人民共和国医师法》第十三条",
            20,
            10,
            ONLINE,
            (
                onsite("医师资格证书原件"),
                upload("健康体检证明"),
                upload("拟执业机构聘用证明"),
                data("身份信息", HOUSEHOLD, "name", "birth_date"),
            ),
            events=("employment",),
        ),
        DemoItem(
            f"{COUNTY}-health",
            4,
            "公共场所卫生许可",
            "Hygiene licence for a public place",
            "licensing",
            "《公共场所卫生管理条例》第八条",
            20,
            10,
            ONLINE,
            (
                onsite("营业执照", held_by=LICENCE),
                upload("卫生设施布局平面图"),
                upload("卫生管理制度"),
            ),
            steps=INSPECT_AND_COLLECT,
            step_names={"review": "现场审查", "issue": "窗口领取卫生许可证"},
            events=("starting_business",),
        ),
        DemoItem(
            f"{COUNTY}-health",
            5,
            "生育登记",
            "Birth registration with the health authority",
            "public_service",
            "《浙江省人口与计划生育条例》第十八条",
            5,
            1,
            ONLINE,
            (
                onsite("夫妻双方结婚证原件", held_by=MARRIAGE_CERTIFICATE),
                data("夫妻双方户籍信息", HOUSEHOLD, "name", "household_no", "address"),
            ),
            events=("birth", "marriage"),
        ),
        # -- market regulation (市场监管) -----------------------------------------------------------
        DemoItem(
            f"{COUNTY}-market",
            2,
            "有限责任公司设立登记",
            "Registration of a limited liability company",
            "licensing",
            "《中华人民共和国市场主体登记管理条例》第十九条",
            3,
            1,
            ONLINE,
            (
                upload("公司章程"),
                data("股东及法定代表人身份信息", HOUSEHOLD, "name", "address"),
                pledge("住所（经营场所）申报承诺书", "本企业承诺申报的住所真实存在且可以取得联系。"),
            ),
            events=("starting_business",),
        ),
        DemoItem(
            f"{COUNTY}-market",
            3,
            "食品经营许可",
            "Food business licence",
            "licensing",
            "《中华人民共和国食品安全法》第三十五条",
            20,
            10,
            ONLINE,
            (
                cert("营业执照", "business-licence"),
                upload("经营场所平面布局图"),
                upload("食品安全管理制度"),
                onsite("从业人员健康证明"),
            ),
            steps=INSPECT,
            step_names={"review": "现场核查"},
            events=("starting_business",),
        ),
        DemoItem(
            f"{COUNTY}-market",
            4,
            "企业简易注销登记",
            "Simplified deregistration of an enterprise",
            "licensing",
            "《中华人民共和国市场主体登记管理条例》第三十三条",
            3,
            1,
            ONLINE,
            (
                pledge("全体投资人承诺书", "全体投资人承诺企业不存在未结清债权债务。"),
                prior("清税证明", TAX_CLEARANCE),
            ),
            events=("business_change",),
        ),
        DemoItem(
            f"{COUNTY}-market",
            5,
            "个体工商户设立登记",
            "Registration of an individual business",
            "licensing",
            "《促进个体工商户发展条例》第八条",
            3,
            0,
            ONLINE,
            (data("经营者身份信息", HOUSEHOLD, "name", "address"), pledge("经营场所申报承诺书")),
            events=("starting_business",),
        ),
        DemoItem(
            f"{PROVINCE}-market",
            1,
            "特种设备使用登记",
            "Registration of special equipment in use",
            "licensing",
            "《中华人民共和国特种设备安全法》第三十三条",
            15,
            5,
            ONLINE,
            (onsite("产品合格证原件"), upload("监督检验证明"), cert("使用单位营业执照", "business-licence")),
            steps=INSPECT_AND_COLLECT,
            step_names={"review": "现场核查", "issue": "窗口领取使用登记证"},
        ),
        DemoItem(
            f"{COUNTY}-market",
            6,
            "个体工商户变更登记",
            "Change of an individual business's registration",
            "licensing",
            "《促进个体工商户发展条例》第十条",
            3,
            1,
            ONLINE,
            (
                onsite("营业执照正、副本", held_by=LICENCE),
                pledge("经营场所申报承诺书"),
            ),
            events=("business_change",),
        ),
        # -- taxation (税务) -------------------------------------------------------------------------
        DemoItem(
            f"{CITY}-tax",
            1,
            "存量房交易契税申报",
            "Deed tax return for a resold home",
            "levy",
            "《中华人民共和国契税法》第九条、第十条",
            1,
            0,
            WINDOW,
            (
                onsite("不动产权证书", held_by=TITLE_CERTIFICATE),
                onsite("婚姻状况证明", held_by=MARRIAGE_CERTIFICATE),
                onsite("买卖双方身份证"),
                upload("存量房买卖合同"),
            ),
            steps="accept:onsite;review;decide;issue",
            step_names={"accept": "办税窗口现场申报"},
            events=("home_purchase",),
        ),
        DemoItem(
            f"{COUNTY}-tax",
            2,
            "清税证明开具",
            "Tax clearance certificate",
            "other_power",
            "《中华人民共和国税收征收管理法实施细则》第十六条",
            5,
            0,
            ONLINE,
            (data("纳税人登记信息", ENTERPRISES, "uscc", "name", "status"),),
            events=("business_change",),
        ),
        DemoItem(
            f"{COUNTY}-tax",
            3,
            "首次发票领用",
            "First issue of invoices",
            "other_power",
            "《中华人民共和国发票管理办法》第十五条",
            5,
            1,
            ("online", "mail"),
            (cert("营业执照", "business-licence"), pledge("发票领用承诺书")),
            events=("starting_business",),
        ),
        DemoItem(
            f"{PROVINCE}-tax",
            1,
            "个人所得税专项附加扣除（住房租金）填报",
            "Income tax deduction for rent",
            "public_service",
            "《个人所得税专项附加扣除暂行办法》第二十二条",
            0,
            0,
            ONLINE,
            (exists("本人及配偶住房情况", REAL_ESTATE), upload("住房租赁合同", required=False)),
            events=("renting",),
        ),
        # -- education (教育) ------------------------------------------------------------------------
        DemoItem(
            f"{COUNTY}-education",
            1,
            "义务教育阶段小学新生入学报名",
            "Primary school enrolment",
            "public_service",
            "《中华人民共和国义务教育法》第十二条",
            20,
            15,
            ONLINE,
            (
                data("适龄儿童及父母户籍信息", HOUSEHOLD, "name", "birth_date", "household_no", "address"),
                data("家庭住房信息", REAL_ESTATE, "address", "ownership", "registered_on"),
                cert("出生医学证明", "birth-medical-certificate"),
                prior("预防接种证查验结果", SCHOOL_CHECK),
            ),
            events=("schooling",),
        ),
        DemoItem(
            f"{COUNTY}-education",
            2,
            "中小学教师资格认定",
            "Teacher qualification",
            "licensing",
            "《教师资格条例》第十三条",
            30,
            20,
            ONLINE,
            (
                onsite("学历证书原件"),
                upload("普通话水平测试等级证书"),
                upload("体检结论"),
                data("身份信息", HOUSEHOLD, "name", "birth_date"),
            ),
            steps=COLLECT,
            step_names={"issue": "窗口领取教师资格证书"},
            events=("employment",),
        ),
        DemoItem(
            f"{CITY}-education",
            1,
            "民办学校办学许可",
            "Licence to run a private school",
            "licensing",
            "《中华人民共和国民办教育促进法》第十二条",
            60,
            40,
            ONLINE,
            (
                onsite("举办者营业执照", held_by=LICENCE),
                onsite("校舍产权证明", held_by=TITLE_CERTIFICATE),
                upload("学校章程"),
                upload("资产来源证明"),
            ),
            steps=INSPECT_AND_COLLECT,
            step_names={"review": "现场评估", "issue": "窗口领取办学许可证"},
        ),
        # -- emergency management (应急管理) ---------------------------------------------------------
        DemoItem(
            f"{CITY}-emergency",
            1,
            "烟花爆竹经营（零售）许可证核发",
            "Fireworks retail licence",
            "licensing",
            "《烟花爆竹安全管理条例》第十九条",
            20,
            10,
            ONLINE,
            (
                cert("营业执照", "business-licence"),
                upload("安全评价报告"),
                upload("经营场所产权证明", held_by=LAND_REGISTER),
            ),
            steps=INSPECT_AND_COLLECT,
            step_names={"review": "现场核查", "issue": "窗口领取许可证"},
        ),
        DemoItem(
            f"{CITY}-emergency",
            2,
            "危险化学品经营许可（不带储存）",
            "Licence to trade hazardous chemicals",
            "licensing",
            "《危险化学品安全管理条例》第三十五条",
            30,
            15,
            ONLINE,
            (
                onsite("营业执照", held_by=LICENCE),
                onsite("主要负责人和安全管理人员安全生产知识和管理能力考核合格证"),
                upload("安全管理制度"),
            ),
            steps=INSPECT,
            step_names={"review": "现场核查"},
        ),
        # -- the data bureau (数据) -----------------------------------------------------------------
        DemoItem(
            f"{PROVINCE}-data",
            1,
            "受限开放公共数据使用申请",
            "Application to use restricted open data",
            "public_service",
            "《浙江省公共数据条例》第三十八条",
            10,
            5,
            ONLINE,
            (
                upload("数据利用方案"),
                pledge("数据安全承诺书", "申请人承诺按约定用途使用数据并落实安全保护措施。"),
            ),
        ),
    ]
    return items


def demo_items() -> tuple[DemoItem, ...]:
    """Every demo item, each after the items whose results it needs."""
    pending = _items()
    ordered: list[DemoItem] = []
    defined: set[str] = set()
    while pending:
        ready = [
            item
            for item in pending
            if all(m.source.ref in defined for m in item.materials if m.source.kind == "prior_result")
        ]
        if not ready:
            raise ValueError(f"these items need results no item gives: {[i.code for i in pending]}")
        ordered.extend(ready)
        defined.update(item.code for item in ready)
        pending = [item for item in pending if item.code not in defined]
    return tuple(ordered)


def build_service_catalogue(db: Session, *, actor: Actor, org_tree: OrgTree) -> list[Item]:
    """Define every demo item for its department through ``define_item`` (which checks that each datahub
    resource, field and earlier item it names exists). Adds and flushes; the caller commits."""
    defined = []
    for demo in demo_items():
        department = org_tree.get(demo.org)
        contact = f"{department.name}政务服务窗口"
        defined.append(catalogue.define_item(db, actor=actor, spec=demo.spec(department.id, contact)))
        if demo.rules is not None:
            db.flush()  # the rules are checked against the item's stored materials
            instant.define_rules(db, actor=actor, item_code=demo.code, spec=demo.rules)
    return defined


def set_up_service_platform(db: Session, *, actor: Actor, items: list[Item], settings: Settings) -> int:
    """Register the one-stop service platform as a datahub gateway consumer at the data administration
    and have the owning stewards (here ``actor``, the platform) grant it what each item's datahub
    materials read, for that item's purpose. Needs the demo datasets catalogued. Returns how many share
    requests were filed."""
    consumer = evidence.register_service_consumer(db, actor=actor, settings=settings.services)
    materials = list_materials(db, [i.id for i in items])
    filed = 0
    for item in items:
        for request in evidence.request_item_grants(
            db, consumer=consumer, item=item, materials=materials[item.id], settings=settings.datahub
        ):
            if request.status == "pending":
                sharing.approve_share_request(
                    db, actor=actor, number=request.number, settings=settings.datahub
                )
            filed += 1
    return filed
