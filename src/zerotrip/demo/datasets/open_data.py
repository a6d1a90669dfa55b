"""An open dataset for the open-data portal: registered population per county by sex and age band,
aggregated from household registration (no personal data, every field L1)."""

from __future__ import annotations

from collections import Counter

from zerotrip.common.divisions import counties
from zerotrip.demo.datasets.base import (
    PUBLIC_DATA_REGULATION,
    SEXES,
    Dataset,
    Facts,
    Row,
    field,
    resource,
    sex_zh,
)
from zerotrip.demo.people import REFERENCE_DATE

AGE_BANDS = (
    ("0-6岁", 0, 6),
    ("7-17岁", 7, 17),
    ("18-34岁", 18, 34),
    ("35-59岁", 35, 59),
    ("60-79岁", 60, 79),
)
OLDEST_BAND = "80岁及以上"
AGE_BAND_NAMES = [name for name, *_ in AGE_BANDS] + [OLDEST_BAND]


def _band(age: int) -> str:
    return next((name for name, low, high in AGE_BANDS if low <= age <= high), OLDEST_BAND)


def county_population(facts: Facts) -> Dataset:
    spec = resource(
        "330000-data.county-population",
        "各县（市、区）户籍人口数（按性别、年龄段）",
        "Registered population by county, sex and age band",
        description="由户籍人口信息按县（市、区）、性别和年龄段汇总，不含个人信息，无条件开放。",
        subject_kind="division_code",
        subject_field="division_code",
        key_fields=["division_code", "sex", "age_band"],
        region_field="division_code",
        share_type="unconditional",
        open_type="open",
        update_frequency="monthly",
        legal_basis=f"{PUBLIC_DATA_REGULATION}；《浙江省公共数据开放与安全管理暂行办法》",
        keywords=["人口", "户籍人口", "统计", "开放数据", "population"],
        fields=[
            field("division_code", "县（市、区）代码", 1, is_required=True, check_kind="division_code"),
            field("county_name", "县（市、区）", 1, is_required=True),
            field("city_name", "所属设区市", 1, is_required=True),
            field("sex", "性别", 1, is_required=True, enumeration=SEXES),
            field("age_band", "年龄段", 1, is_required=True, enumeration=AGE_BAND_NAMES),
            field("population", "户籍人口数（人）", 1, type="integer", is_required=True),
            field("as_of", "统计截止日期", 1, type="date", is_required=True),
        ],
    )
    tally = Counter(
        (person.division_code, sex_zh(person), _band(facts.ages[index]))
        for index, person in enumerate(facts.plan.people)
    )
    rows: list[Row] = []
    for county in sorted(counties(), key=lambda d: d.code):
        for sex in SEXES:
            for band in AGE_BAND_NAMES:
                rows.append(
                    {
                        "division_code": county.code,
                        "county_name": county.name,
                        "city_name": facts.regions[county.code[:4] + "00"].name,
                        "sex": sex,
                        "age_band": band,
                        "population": str(tally[county.code, sex, band]),
                        "as_of": REFERENCE_DATE.isoformat(),
                    }
                )
    return Dataset("330000-data", spec, tuple(rows))
