"""Vaccination records (预防接种记录, health): COVID-19 doses for most people aged three and over in 2021,
and the national immunisation schedule for children under three, which booking reads for dose order and
intervals."""

from __future__ import annotations

import random
from datetime import date, timedelta

from zerotrip.demo.datasets.base import (
    PUBLIC_DATA_REGULATION,
    Dataset,
    Facts,
    Row,
    between,
    field,
    resource,
    rng_for,
)
from zerotrip.demo.people import REFERENCE_DATE, PersonPlan, age_on

COVID = "新冠病毒疫苗"
COVID_PRODUCT = "新冠病毒灭活疫苗（Vero细胞）"
COVID_MAKERS = ("北京科兴中维生物技术有限公司", "北京生物制品研究所有限责任公司")
# The national immunisation programme (2021 edition): kind, product, manufacturer, age in days at each dose.
SCHEDULE: tuple[tuple[str, str, str, tuple[int, ...]], ...] = (
    ("乙肝疫苗", "重组乙型肝炎疫苗（酿酒酵母）", "深圳康泰生物制品股份有限公司", (0, 30, 180)),
    ("卡介苗", "皮内注射用卡介苗", "上海生物制品研究所有限责任公司", (0,)),
    ("脊灰灭活疫苗", "Sabin株脊髓灰质炎灭活疫苗（Vero细胞）", "中国医学科学院医学生物学研究所", (60, 90)),
    (
        "二价脊灰减毒活疫苗",
        "二价脊髓灰质炎减毒活疫苗（人二倍体细胞）",
        "中国医学科学院医学生物学研究所",
        (120, 1461),
    ),
    ("百白破疫苗", "吸附无细胞百白破联合疫苗", "武汉生物制品研究所有限责任公司", (90, 120, 150, 540)),
    ("A群流脑多糖疫苗", "A群脑膜炎球菌多糖疫苗", "兰州生物制品研究所有限责任公司", (180, 270)),
    ("麻腮风疫苗", "麻疹腮腺炎风疹联合减毒活疫苗", "北京生物制品研究所有限责任公司", (240, 540)),
    ("乙脑减毒活疫苗", "乙型脑炎减毒活疫苗", "成都生物制品研究所有限责任公司", (240, 730)),
    ("甲肝减毒活疫苗", "甲型肝炎减毒活疫苗", "浙江普康生物技术股份有限公司", (540,)),
    ("A群C群流脑多糖疫苗", "A群C群脑膜炎球菌多糖疫苗", "兰州生物制品研究所有限责任公司", (1096, 2192)),
    ("白破疫苗", "吸附白喉破伤风联合疫苗", "武汉生物制品研究所有限责任公司", (2192,)),
)
VACCINE_KINDS = [COVID] + [kind for kind, *_ in SCHEDULE]
REACTIONS = ["无", "一般反应", "异常反应"]
# Childhood records are kept for the under-threes, whose next doses are the ones booking schedules.
CHILDHOOD_UNDER_DAYS = 3 * 365 + 1
_STREETS = ("城东", "城西", "城南", "城北", "新城", "东湖", "江滨", "文化", "湖畔", "长安")
# COVID-19 first doses by age in mid-2021: adults from spring, teenagers in summer, children from autumn.
_COVID_WINDOWS = (
    (60, date(2021, 4, 15), date(2021, 12, 31)),
    (18, date(2021, 3, 15), date(2021, 9, 30)),
    (12, date(2021, 7, 20), date(2021, 9, 30)),
    (3, date(2021, 10, 25), date(2021, 12, 31)),
)


def vaccinations(facts: Facts) -> Dataset:
    spec = resource(
        "330000-health.vaccinations",
        "预防接种记录",
        "Vaccination records",
        description="接种单位登记的预防接种信息，一人一疫苗一剂次一条，供预约接种核验剂次与间隔。",
        subject_kind="resident_id",
        subject_field="resident_id",
        key_fields=["resident_id", "vaccine_kind", "dose"],
        region_field="site_division",
        share_type="conditional",
        update_frequency="realtime",
        legal_basis=f"《中华人民共和国疫苗管理法》；《中华人民共和国传染病防治法》；{PUBLIC_DATA_REGULATION}",
        keywords=["疫苗", "接种", "预防接种", "vaccination"],
        fields=[
            field(
                "resident_id",
                "受种者公民身份号码",
                2,
                is_required=True,
                check_kind="resident_id",
                reference="330000-psb.household.resident_id",
            ),
            field("name", "受种者姓名", 2, is_required=True),
            field("vaccine_kind", "疫苗种类", 1, is_required=True, enumeration=VACCINE_KINDS),
            field("product", "疫苗名称", 1, is_required=True),
            field("manufacturer", "生产企业", 1, is_required=True),
            field("dose", "剂次", 1, type="integer", is_required=True),
            field("vaccinated_on", "接种日期", 1, type="date", is_required=True),
            field("batch_no", "疫苗批号", 1, is_required=True, pattern=r"^[0-9A-Z]{8,12}$"),
            field("site", "接种单位", 1, is_required=True),
            field("site_division", "接种单位行政区划", 1, is_required=True, check_kind="division_code"),
            field("adverse_reaction", "不良反应", 3, is_required=True, enumeration=REACTIONS),
        ],
    )
    rng = rng_for(facts.plan, "vaccinations")
    rows: list[Row] = []
    for index, person in enumerate(facts.plan.people):
        county = person.division_code
        place = facts.county_name(county)
        clinic = f"{place}{rng.choice(_STREETS)}街道社区卫生服务中心"

        for dose, day in enumerate(_covid_doses(facts, index, rng), start=1):
            rows.append(_row(rng, person, COVID, COVID_PRODUCT, COVID_MAKERS[index % 2], dose, day, clinic))
        if person.birth_date > REFERENCE_DATE - timedelta(days=CHILDHOOD_UNDER_DAYS):
            for kind, product, maker, ages in SCHEDULE:
                for dose, age_days in enumerate(ages, start=1):
                    # Birth doses are given on the ward; the rest at the clinic, up to three weeks late.
                    delay = rng.randint(0, 1) if age_days == 0 else rng.randint(0, 21)
                    day = person.birth_date + timedelta(days=age_days + delay)
                    if day >= REFERENCE_DATE:
                        break
                    site = f"{place}妇幼保健院" if age_days == 0 else clinic
                    rows.append(_row(rng, person, kind, product, maker, dose, day, site))
    return Dataset("330000-health", spec, tuple(rows))


def _row(
    rng: random.Random,
    person: PersonPlan,
    kind: str,
    product: str,
    maker: str,
    dose: int,
    day: date,
    site: str,
) -> Row:
    made = day - timedelta(days=rng.randint(60, 240))
    return {
        "resident_id": person.resident_id,
        "name": person.name,
        "vaccine_kind": kind,
        "product": product,
        "manufacturer": maker,
        "dose": str(dose),
        "vaccinated_on": day.isoformat(),
        "batch_no": f"{made:%Y%m}{rng.randrange(1000):03d}",
        "site": site,
        "site_division": person.division_code,
        "adverse_reaction": "无" if rng.random() < 0.98 else "一般反应",
    }


def _covid_doses(facts: Facts, index: int, rng: random.Random) -> list[date]:
    """Two doses three to six weeks apart, and for most adults a booster six to ten months later. The demo
    mother has had three, the father two."""
    person = facts.person(index)
    age = age_on(person.birth_date, date(2021, 7, 1))
    window = next(((first, last) for least, first, last in _COVID_WINDOWS if age >= least), None)
    if index in facts.parents:
        count = 3 if index == facts.mother else 2
    elif window is None or rng.random() > (0.75 if age >= 70 else 0.92):
        return []
    else:
        count = 3 if age >= 18 and rng.random() < 0.7 else 2
    assert window is not None
    days = [between(rng, *window)]
    days.append(days[0] + timedelta(days=rng.randint(21, 42)))
    if count == 3:
        days.append(days[1] + timedelta(days=rng.randint(180, 300)))
    return days
