"""Registers of things people and businesses own: enterprise registration (market regulation) and
real-estate registration (natural resources)."""

from __future__ import annotations

from datetime import date, timedelta

from zerotrip.common.divisions import counties
from zerotrip.demo.datasets.base import (
    PUBLIC_DATA_REGULATION,
    Dataset,
    Facts,
    Row,
    add_years,
    between,
    department_title,
    field,
    resource,
    rng_for,
)
from zerotrip.demo.names import NameGenerator
from zerotrip.demo.people import REFERENCE_DATE

ENTERPRISE_TYPES = [
    "有限责任公司（自然人投资或控股）",
    "有限责任公司（自然人独资）",
    "有限责任公司（非自然人投资或控股的法人独资）",
]
ENTERPRISE_STATUSES = ["存续", "在业", "迁出", "注销", "吊销"]
_SCOPES = {
    "科技": "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发",
    "信息技术": "信息系统集成服务；信息技术咨询服务；软件开发；数据处理服务",
    "贸易": "货物进出口；技术进出口；日用百货销售；五金产品批发",
    "建设工程": "建设工程施工；建筑装饰、装修；园林绿化工程施工",
    "电子商务": "互联网销售（除销售需要许可的商品）；供应链管理服务",
    "食品": "食品销售；食用农产品批发；食品互联网销售",
    "服饰": "服装制造；服装服饰批发；服装服饰零售",
    "机械": "通用设备制造；机械零件、零部件加工；机械设备销售",
    "文化传媒": "组织文化艺术交流活动；广告设计、代理；会议及展览服务",
    "餐饮": "餐饮管理；餐饮服务；食品经营",
    "物流": "普通货物仓储服务；国内货物运输代理；道路货物运输",
    "医疗器械": "第一类医疗器械销售；第二类医疗器械销售；医疗器械技术咨询",
    "农业": "农业技术开发；蔬菜种植；水果种植；农产品的生产、销售、加工",
    "新材料": "新材料技术研发；塑料制品制造；合成材料销售",
    "智能装备": "智能机器人的研发；工业自动控制系统装置制造；智能控制系统集成",
    "环保": "环境保护专用设备制造；固体废物治理；水污染治理",
    "教育咨询": "教育咨询服务（不含涉许可审批的教育培训活动）；组织文化艺术交流活动",
}
_GENERAL_SCOPE = "企业管理咨询；市场营销策划"
_SCOPE_NOTE = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
USAGES = ["住宅", "商业", "办公", "车位"]
OWNERSHIPS = ["单独所有", "共同共有", "按份共有"]
# Commodity housing as it is registered today dates from the housing reform.
HOUSING_REFORM = date(1998, 12, 1)
# Unified real-estate registration (不动产统一登记) replaced separate house titles from this date.
UNIFIED_REGISTRATION = date(2015, 3, 1)
CERTIFICATE_PATTERN = r"^(浙（\d{4}）\S+?不动产权第\d{7}号|\S+?房权证\S+?字第\d{10}号)$"


def enterprise_registration(facts: Facts) -> Dataset:
    spec = resource(
        "330000-market.enterprises",
        "企业登记信息",
        "Enterprise registrations",
        description="市场主体登记的企业基本信息，一企一条。除法定代表人证件号码外均依法公示。",
        subject_kind="uscc",
        subject_field="uscc",
        region_field="division_code",
        share_type="unconditional",
        update_frequency="realtime",
        legal_basis=f"《中华人民共和国市场主体登记管理条例》；《企业信息公示暂行条例》；{PUBLIC_DATA_REGULATION}",
        keywords=["企业", "营业执照", "市场主体", "enterprise"],
        fields=[
            field("uscc", "统一社会信用代码", 1, is_required=True, is_unique=True, check_kind="uscc"),
            field("name", "企业名称", 1, is_required=True, is_unique=True),
            field("enterprise_type", "企业类型", 1, is_required=True, enumeration=ENTERPRISE_TYPES),
            field("legal_representative", "法定代表人", 2, is_required=True),
            field(
                "legal_representative_id",
                "法定代表人公民身份号码",
                2,
                is_required=True,
                check_kind="resident_id",
                reference="330000-psb.household.resident_id",
            ),
            field("registered_capital", "注册资本（万元）", 1, type="decimal", is_required=True),
            field("business_scope", "经营范围", 1, is_required=True),
            field("address", "住所", 1, is_required=True, description="企业住所依法公示。"),
            field("established_on", "成立日期", 1, type="date", is_required=True),
            field("status", "登记状态", 1, is_required=True, enumeration=ENTERPRISE_STATUSES),
            field("registration_authority", "登记机关", 1, is_required=True),
            field("division_code", "登记机关行政区划", 1, is_required=True, check_kind="division_code"),
        ],
    )
    rng = rng_for(facts.plan, "enterprises")
    rows: list[Row] = []
    for enterprise in facts.plan.enterprises:
        representative = facts.person(enterprise.legal_representative)
        scope = next((text for word, text in _SCOPES.items() if word in enterprise.name), _GENERAL_SCOPE)
        rows.append(
            {
                "uscc": enterprise.uscc,
                "name": enterprise.name,
                "enterprise_type": rng.choices(ENTERPRISE_TYPES, [70, 25, 5])[0],
                "legal_representative": representative.name,
                "legal_representative_id": representative.resident_id,
                "registered_capital": str(rng.choice((10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000))),
                "business_scope": "一般项目：" + scope + _SCOPE_NOTE,
                "address": enterprise.address,
                "established_on": enterprise.established_on.isoformat(),
                "status": "存续" if rng.random() < 0.9 else "在业",
                "registration_authority": department_title(facts, "market", enterprise.division_code),
                "division_code": enterprise.division_code,
            }
        )
    return Dataset("330000-market", spec, tuple(rows))


def real_estate(facts: Facts) -> Dataset:
    spec = resource(
        "330000-land.real-estate",
        "不动产登记信息",
        "Real-estate registrations",
        description=(
            "全省不动产权登记，一证一权利人一条（共有房产每位权利人各一条）。"
            "用于住房公积金提取、购房资格、入学等审核，可据以证明“在本省无房产”。"
        ),
        subject_kind="resident_id",
        subject_field="holder_id",
        key_fields=["certificate_no", "holder_id"],
        region_field="district",
        share_type="conditional",
        update_frequency="daily",
        legal_basis=f"《不动产登记暂行条例》第二十五条；{PUBLIC_DATA_REGULATION}",
        keywords=["不动产", "房产", "产权", "real estate"],
        fields=[
            field(
                "certificate_no",
                "不动产权证号",
                2,
                is_required=True,
                pattern=CERTIFICATE_PATTERN,
            ),
            field("holder_id", "权利人公民身份号码", 2, is_required=True, check_kind="resident_id"),
            field("holder_name", "权利人姓名", 2, is_required=True),
            field("ownership", "共有情况", 1, is_required=True, enumeration=OWNERSHIPS),
            field("address", "坐落", 3, is_required=True),
            field("area", "建筑面积（平方米）", 1, type="decimal", is_required=True),
            field("usage", "用途", 1, is_required=True, enumeration=USAGES),
            field("registered_on", "登记日期", 1, type="date", is_required=True),
            field("district", "所在区县", 1, is_required=True, check_kind="division_code"),
        ],
    )
    rng = rng_for(facts.plan, "real-estate")
    addresses = NameGenerator(rng)
    by_city: dict[str, list[str]] = {}
    for county in counties():
        by_city.setdefault(county.code[:4] + "00", []).append(county.code)
    serials: dict[tuple[str, int], int] = {}
    rows: list[Row] = []

    def register(holders: list[int], *, address: str, district: str, usage: str, since: date) -> None:
        registered = between(rng, since, REFERENCE_DATE - timedelta(days=30))
        # Districts register with their city's office; counties and county-level cities with their own.
        office = district if not facts.regions[district].name.endswith("区") else district[:4] + "00"
        serial = serials[office, registered.year] = serials.get((office, registered.year), 0) + 1
        if registered >= UNIFIED_REGISTRATION:
            certificate_no = f"浙（{registered.year}）{facts.regions[office].name}不动产权第{serial:07d}号"
        else:  # a house title from before unified registration, carried over with its old number
            city, county = facts.regions[district[:4] + "00"], facts.regions[district]
            certificate_no = f"{city.short_name}房权证{county.short_name}字第{registered.year}{serial:06d}号"
        low, high = {"住宅": (450, 1800), "车位": (120, 160)}.get(usage, (300, 3000))
        area = str(rng.randint(low, high) / 10)
        for holder in holders:
            rows.append(
                {
                    "certificate_no": certificate_no,
                    "holder_id": facts.person(holder).resident_id,
                    "holder_name": facts.person(holder).name,
                    "ownership": "单独所有" if len(holders) == 1 else "共同共有",
                    "address": address,
                    "area": area,
                    "usage": usage,
                    "registered_on": registered.isoformat(),
                    "district": district,
                }
            )

    for household in facts.plan.households[1:]:  # the demo family owns nothing: they rent
        head = household.members[0]
        if facts.ages[head] < 25 or rng.random() > (0.85 if household.kind == "elderly" else 0.62):
            continue
        spouse = facts.spouse_of.get(head)
        holders = [head] if spouse is None else [head, spouse]
        since = max(HOUSING_REFORM, add_years(facts.person(head).birth_date, 23))
        home = facts.person(head)
        register(holders, address=home.address, district=home.division_code, usage="住宅", since=since)
        if rng.random() < 0.2:
            city = home.division_code[:4] + "00"
            district = rng.choice(by_city[city])
            address = addresses.address(city=facts.regions[city].name, county=facts.regions[district].name)
            usage = rng.choices(USAGES, [60, 10, 5, 25])[0]
            register([head], address=address, district=district, usage=usage, since=since)
    return Dataset("330000-land", spec, tuple(rows))
