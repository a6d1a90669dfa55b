"""Social insurance (human resources and social security) and basic medical insurance (healthcare
security): most adults are covered, employees through the same employer and wage as their housing fund."""

from __future__ import annotations

from datetime import date, timedelta

from zerotrip.datahub.schemas import FieldSpec
from zerotrip.demo.datasets.base import (
    PUBLIC_DATA_REGULATION,
    Dataset,
    Facts,
    Row,
    add_years,
    between,
    field,
    money,
    resource,
    rng_for,
)
from zerotrip.demo.people import REFERENCE_DATE, EnterprisePlan, PersonPlan

EMPLOYEE_PENSION = "企业职工基本养老保险"
RESIDENT_PENSION = "城乡居民基本养老保险"
SOCIAL_INSURANCE_TYPES = [EMPLOYEE_PENSION, RESIDENT_PENSION, "失业保险", "工伤保险"]
SOCIAL_STATUSES = ["参保缴费", "暂停缴费", "领取待遇", "终止参保"]
EMPLOYEE_MEDICAL = "职工基本医疗保险"
RESIDENT_MEDICAL = "城乡居民基本医疗保险"
MEDICAL_TYPES = [EMPLOYEE_MEDICAL, RESIDENT_MEDICAL]
MEDICAL_STATUSES = ["正常参保", "暂停参保", "终止参保"]
# Zhejiang's contribution base: 60 % to 300 % of the provincial average wage, roughly.
SOCIAL_BASE_LIMITS = (4_462, 24_930)
# A newborn is enrolled in resident medical insurance within three months of birth (the birth bundle does it).
NEWBORN_ENROLMENT_DAYS = 90
RESIDENT_COVER_SINCE = date(2008, 1, 1)
ENTERPRISES = "330000-market.enterprises.uscc"
RESIDENTS = "330000-psb.household.resident_id"


def _employer_fields(employer_title: str) -> list[FieldSpec]:
    return [
        field(
            "employer_uscc", f"{employer_title}统一社会信用代码", 1, check_kind="uscc", reference=ENTERPRISES
        ),
        field("employer_name", f"{employer_title}名称", 1),
    ]


def social_insurance(facts: Facts) -> Dataset:
    spec = resource(
        "330000-hrss.social-insurance",
        "社会保险参保信息",
        "Social insurance enrolment",
        description="养老、失业、工伤保险的参保登记，一人一险种一条。",
        subject_kind="resident_id",
        subject_field="resident_id",
        key_fields=["resident_id", "insurance_type"],
        region_field="division_code",
        share_type="conditional",
        update_frequency="daily",
        legal_basis=f"《中华人民共和国社会保险法》；《社会保险费征缴暂行条例》；{PUBLIC_DATA_REGULATION}",
        keywords=["社保", "养老保险", "参保", "social insurance"],
        fields=[
            field(
                "resident_id",
                "公民身份号码",
                2,
                is_required=True,
                check_kind="resident_id",
                reference=RESIDENTS,
            ),
            field("name", "姓名", 2, is_required=True),
            field("insurance_type", "险种", 1, is_required=True, enumeration=SOCIAL_INSURANCE_TYPES),
            field("status", "参保状态", 1, is_required=True, enumeration=SOCIAL_STATUSES),
            *_employer_fields("参保单位"),
            field("first_insured_on", "首次参保日期", 1, type="date", is_required=True),
            field("months_paid", "累计缴费月数", 1, type="integer", is_required=True),
            field("contribution_base", "缴费基数（元）", 3, type="decimal"),
            field("division_code", "参保地行政区划", 1, is_required=True, check_kind="division_code"),
        ],
    )
    rng = rng_for(facts.plan, "social-insurance")
    rows: list[Row] = []
    for index, person in enumerate(facts.plan.people):
        age = facts.ages[index]
        if age < 20:
            continue
        adult_at = add_years(person.birth_date, 20)
        employer = facts.employer_of.get(index)
        enterprise = facts.plan.enterprises[employer] if employer is not None else None

        if employer is not None:
            first = between(rng, adult_at, REFERENCE_DATE - timedelta(days=60))
            months = max(1, int((REFERENCE_DATE - first).days / 30.4 * rng.uniform(0.85, 1.0)))
            base = money(min(SOCIAL_BASE_LIMITS[1], max(SOCIAL_BASE_LIMITS[0], facts.wage_of[index])))
            for kind in (EMPLOYEE_PENSION, "失业保险", "工伤保险"):
                rows.append(_social_row(person, enterprise, kind, "参保缴费", first, months, base))
        elif index in facts.retired_employees:
            first = between(rng, adult_at, add_years(person.birth_date, 30))
            rows.append(
                _social_row(person, None, EMPLOYEE_PENSION, "领取待遇", first, rng.randint(180, 480), None)
            )
        elif age >= 60 and rng.random() < 0.9:
            first = between(
                rng, max(adult_at, REFERENCE_DATE.replace(year=2010)), REFERENCE_DATE.replace(year=2015)
            )
            rows.append(
                _social_row(person, None, RESIDENT_PENSION, "领取待遇", first, rng.randint(15, 180), None)
            )
        elif 20 <= age < 60 and rng.random() < 0.7:
            first = between(
                rng, max(adult_at, REFERENCE_DATE.replace(year=2010)), REFERENCE_DATE - timedelta(days=60)
            )
            status = "参保缴费" if rng.random() < 0.85 else "暂停缴费"
            months = max(
                1, (REFERENCE_DATE - first).days // 365 * 12 if status == "参保缴费" else rng.randint(1, 60)
            )
            rows.append(_social_row(person, None, RESIDENT_PENSION, status, first, months, None))
    return Dataset("330000-hrss", spec, tuple(rows))


def _social_row(
    person: PersonPlan,
    enterprise: EnterprisePlan | None,
    kind: str,
    status: str,
    first: date,
    months: int,
    base: str | None,
) -> Row:
    return {
        "resident_id": person.resident_id,
        "name": person.name,
        "insurance_type": kind,
        "status": status,
        "employer_uscc": enterprise.uscc if enterprise else None,
        "employer_name": enterprise.name if enterprise else None,
        "first_insured_on": first.isoformat(),
        "months_paid": str(months),
        "contribution_base": base,
        "division_code": person.division_code,
    }


def medical_insurance(facts: Facts) -> Dataset:
    spec = resource(
        "330000-medical.insurance",
        "基本医疗保险参保信息",
        "Basic medical insurance enrolment",
        description="职工医保与城乡居民医保的参保登记，一人一条；新生儿经出生“一件事”参保。",
        subject_kind="resident_id",
        subject_field="resident_id",
        region_field="division_code",
        share_type="conditional",
        update_frequency="daily",
        legal_basis=f"《中华人民共和国社会保险法》第二十三条、第二十五条；{PUBLIC_DATA_REGULATION}",
        keywords=["医保", "医疗保险", "参保", "medical insurance"],
        fields=[
            field(
                "resident_id",
                "公民身份号码",
                2,
                is_required=True,
                is_unique=True,
                check_kind="resident_id",
                reference=RESIDENTS,
            ),
            field("name", "姓名", 2, is_required=True),
            field("insurance_type", "险种", 1, is_required=True, enumeration=MEDICAL_TYPES),
            field("status", "参保状态", 1, is_required=True, enumeration=MEDICAL_STATUSES),
            *_employer_fields("参保单位"),
            field("insured_on", "参保日期", 1, type="date", is_required=True),
            field("account_balance", "个人账户余额（元）", 3, type="decimal"),
            field("division_code", "参保地行政区划", 1, is_required=True, check_kind="division_code"),
        ],
    )
    rng = rng_for(facts.plan, "medical-insurance")
    rows: list[Row] = []
    for index, person in enumerate(facts.plan.people):
        too_young = person.birth_date > REFERENCE_DATE - timedelta(days=NEWBORN_ENROLMENT_DAYS)
        if index == facts.newborn or too_young or (rng.random() > 0.97 and index not in facts.parents):
            continue
        employer = facts.employer_of.get(index)
        enterprise = facts.plan.enterprises[employer] if employer is not None else None
        is_employee = enterprise is not None or index in facts.retired_employees
        if enterprise is not None:
            insured = between(
                rng, max(enterprise.established_on, add_years(person.birth_date, 20)), REFERENCE_DATE
            )
        else:
            insured = between(
                rng, person.birth_date + timedelta(days=30), person.birth_date + timedelta(days=90)
            )
            if insured < RESIDENT_COVER_SINCE:  # born before resident cover reached everyone
                insured = between(rng, RESIDENT_COVER_SINCE, RESIDENT_COVER_SINCE.replace(year=2012))
        rows.append(
            {
                "resident_id": person.resident_id,
                "name": person.name,
                "insurance_type": EMPLOYEE_MEDICAL if is_employee else RESIDENT_MEDICAL,
                "status": "正常参保" if rng.random() < 0.97 or index in facts.parents else "暂停参保",
                "employer_uscc": enterprise.uscc if enterprise else None,
                "employer_name": enterprise.name if enterprise else None,
                "insured_on": min(insured, REFERENCE_DATE).isoformat(),
                "account_balance": money(rng.uniform(200, 30_000)) if is_employee else None,
                "division_code": person.division_code,
            }
        )
    return Dataset("330000-medical", spec, tuple(rows))
