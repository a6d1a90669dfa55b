"""Demo service items for enterprises: the enterprise change bundle's items (企业信息变更“一件事”), market
regulation, taxation, emergency management and the data bureau, each implemented by its department. Defined
by ``services.build_service_catalogue``."""

from __future__ import annotations

from zerotrip.demo.service_kit import (
    CITY,
    COUNTY,
    ENTERPRISE_CHANGE,
    ENTERPRISES,
    HOUSEHOLD,
    INSPECT,
    INSPECT_AND_COLLECT,
    LAND_REGISTER,
    LICENCE,
    MARRIAGE_CERTIFICATE,
    ONLINE,
    PROVINCE,
    REAL_ESTATE,
    TAX_CLEARANCE,
    TITLE_CERTIFICATE,
    WINDOW,
    DemoItem,
    cert,
    data,
    exists,
    onsite,
    pledge,
    prior,
    upload,
)


def enterprise_change_items() -> list[DemoItem]:
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


def market_regulation_items() -> list[DemoItem]:
    """Market regulation (市场监管)."""
    return [
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
    ]


def taxation_items() -> list[DemoItem]:
    """Taxation (税务)."""
    return [
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
    ]


def emergency_management_items() -> list[DemoItem]:
    """Emergency management (应急管理)."""
    return [
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
    ]


def data_bureau_items() -> list[DemoItem]:
    """The data bureau (数据)."""
    return [
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
