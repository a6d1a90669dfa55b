"""Civil status: household registration (public security), marriage registration (civil affairs) and
birth medical certificates (health)."""

from __future__ import annotations

from datetime import date, timedelta

from zerotrip.demo.datasets.base import (
    PUBLIC_DATA_REGULATION,
    SEXES,
    Dataset,
    Facts,
    Row,
    add_years,
    between,
    department_title,
    field,
    resource,
    rng_for,
    sex_zh,
)
from zerotrip.demo.people import REFERENCE_DATE

RESIDENT = "330000-psb.household.resident_id"
RELATIONS_TO_HEAD = ["户主", "配偶", "子女", "父母", "其他"]
# The birth medical certificate (出生医学证明) as a register entry: kept for births since this date.
BIRTHS_SINCE = date(2016, 1, 1)
# Certificate serials carry a letter for the print run; one per year is close enough for a demo.
_BIRTH_SERIES = "PQRSTUVWXYZ"


def household_registration(facts: Facts) -> Dataset:
    spec = resource(
        "330000-psb.household",
        "户籍人口信息",
        "Household registration",
        description="户籍登记的人口基本信息，一人一条，含户号与户内关系。",
        subject_kind="resident_id",
        subject_field="resident_id",
        region_field="division_code",
        share_type="conditional",
        update_frequency="realtime",
        legal_basis=f"《中华人民共和国户口登记条例》；《中华人民共和国居民身份证法》；{PUBLIC_DATA_REGULATION}",
        keywords=["户籍", "人口", "户口", "household"],
        fields=[
            field(
                "resident_id", "公民身份号码", 2, is_required=True, is_unique=True, check_kind="resident_id"
            ),
            field("name", "姓名", 2, is_required=True),
            field("sex", "性别", 1, is_required=True, enumeration=SEXES),
            field("birth_date", "出生日期", 2, type="date", is_required=True),
            field("household_no", "户号", 2, is_required=True, pattern=r"^\d{12}$"),
            field("relation_to_head", "与户主关系", 1, is_required=True, enumeration=RELATIONS_TO_HEAD),
            field("address", "住址", 3, is_required=True),
            field("division_code", "户籍地行政区划", 1, is_required=True, check_kind="division_code"),
        ],
    )
    rows: list[Row] = []
    for index, person in enumerate(facts.plan.people):
        rows.append(
            {
                "resident_id": person.resident_id,
                "name": person.name,
                "sex": sex_zh(person),
                "birth_date": person.birth_date.isoformat(),
                "household_no": person.household_no,
                "relation_to_head": _relation_to_head(facts, index),
                "address": person.address,
                "division_code": person.division_code,
            }
        )
    return Dataset("330000-psb", spec, tuple(rows))


def _relation_to_head(facts: Facts, index: int) -> str:
    head = facts.household_of[index].members[0]  # the planner adds the husband or the single person first
    if index == head:
        return "户主"
    if facts.spouse_of.get(head) == index:
        return "配偶"
    if head in facts.parents_of.get(index, ()):
        return "子女"
    if index in facts.parents_of.get(head, ()):
        return "父母"
    return "其他"


def marriage_registration(facts: Facts) -> Dataset:
    spec = resource(
        "330000-civil.marriages",
        "婚姻登记信息",
        "Marriage registrations",
        description="结婚登记记录。每对婚姻两条，双方各为一条记录的主体，以结婚证字号和本人身份证号区分。",
        subject_kind="resident_id",
        subject_field="resident_id",
        key_fields=["certificate_no", "resident_id"],
        region_field="division_code",
        share_type="conditional",
        update_frequency="daily",
        legal_basis=f"《中华人民共和国民法典》第一千零四十九条；《婚姻登记条例》；{PUBLIC_DATA_REGULATION}",
        keywords=["婚姻", "结婚登记", "marriage"],
        fields=[
            field("certificate_no", "结婚证字号", 2, is_required=True, pattern=r"^J\d{6}-\d{4}-\d{6}$"),
            field(
                "resident_id",
                "本人公民身份号码",
                2,
                is_required=True,
                check_kind="resident_id",
                reference=RESIDENT,
            ),
            field("name", "本人姓名", 2, is_required=True),
            field("sex", "本人性别", 1, is_required=True, enumeration=SEXES),
            field(
                "spouse_id",
                "配偶公民身份号码",
                2,
                is_required=True,
                check_kind="resident_id",
                reference=RESIDENT,
            ),
            field("spouse_name", "配偶姓名", 2, is_required=True),
            field("registered_on", "登记日期", 1, type="date", is_required=True),
            field("registration_office", "婚姻登记机关", 1, is_required=True),
            field("division_code", "登记机关行政区划", 1, is_required=True, check_kind="division_code"),
        ],
    )
    rng = rng_for(facts.plan, "marriages")
    serials: dict[tuple[str, int], int] = {}
    first_child: dict[frozenset[int], date] = {}
    for child, parents in facts.parents_of.items():
        couple = frozenset(parents)
        born = facts.person(child).birth_date
        first_child[couple] = min(born, first_child.get(couple, born))
    rows: list[Row] = []
    for relation in facts.plan.relations:
        if relation.kind != "spouse":
            continue
        husband, wife = facts.person(relation.person), facts.person(relation.relative)
        # At the legal ages (22 for men, 20 for women) or later, and before their first child was born.
        earliest = max(add_years(husband.birth_date, 22), add_years(wife.birth_date, 20))
        latest = REFERENCE_DATE - timedelta(days=30)
        first_born = first_child.get(frozenset((relation.person, relation.relative)))
        if first_born is not None:
            latest = min(latest, first_born - timedelta(days=300))
        registered = min(between(rng, earliest, max(earliest, latest)), REFERENCE_DATE)
        county = husband.division_code
        serial = serials[county, registered.year] = serials.get((county, registered.year), 0) + 1
        certificate_no = f"J{county}-{registered.year}-{serial:06d}"
        office = department_title(facts, "civil", county) + "婚姻登记处"
        for me, spouse in ((husband, wife), (wife, husband)):
            rows.append(
                {
                    "certificate_no": certificate_no,
                    "resident_id": me.resident_id,
                    "name": me.name,
                    "sex": sex_zh(me),
                    "spouse_id": spouse.resident_id,
                    "spouse_name": spouse.name,
                    "registered_on": registered.isoformat(),
                    "registration_office": office,
                    "division_code": county,
                }
            )
    return Dataset("330000-civil", spec, tuple(rows))


def birth_certificates(facts: Facts) -> Dataset:
    spec = resource(
        "330000-health.births",
        "出生医学证明信息",
        "Birth medical certificates",
        description=(
            "助产机构签发的出生医学证明登记信息，一证一条，以母亲为记录主体。"
            "用于出生“一件事”联办：户口登记、医保参保、预防接种建档。"
        ),
        subject_kind="resident_id",
        subject_field="mother_id",
        key_fields=["certificate_no"],
        region_field="division_code",
        share_type="conditional",
        update_frequency="realtime",
        legal_basis=f"《中华人民共和国母婴保健法》第二十三条；{PUBLIC_DATA_REGULATION}",
        keywords=["出生", "出生医学证明", "新生儿", "birth"],
        fields=[
            field(
                "certificate_no",
                "出生医学证明编号",
                2,
                is_required=True,
                is_unique=True,
                pattern=r"^[A-Z]\d{9}$",
            ),
            field("child_name", "新生儿姓名", 2, is_required=True),
            field("child_sex", "新生儿性别", 1, is_required=True, enumeration=SEXES),
            field("birth_date", "出生日期", 2, type="date", is_required=True),
            field("birth_time", "出生时间", 1, is_required=True, pattern=r"^([01]\d|2[0-3]):[0-5]\d$"),
            field("gestational_weeks", "出生孕周", 3, type="integer", is_required=True),
            field("weight_g", "出生体重（克）", 3, type="integer", is_required=True),
            field("length_cm", "出生身长（厘米）", 3, type="integer", is_required=True),
            field("birth_place", "出生地点", 1, is_required=True),
            field("hospital", "接生机构名称", 1, is_required=True),
            field(
                "mother_id",
                "母亲公民身份号码",
                2,
                is_required=True,
                check_kind="resident_id",
                reference=RESIDENT,
            ),
            field("mother_name", "母亲姓名", 2, is_required=True),
            field("father_id", "父亲公民身份号码", 2, check_kind="resident_id", reference=RESIDENT),
            field("father_name", "父亲姓名", 2),
            field(
                "child_id",
                "新生儿公民身份号码",
                2,
                description="户口登记后回填。",
                check_kind="resident_id",
                reference=RESIDENT,
            ),
            field("issued_on", "签发日期", 1, type="date", is_required=True),
            field("division_code", "出生地行政区划", 1, is_required=True, check_kind="division_code"),
        ],
    )
    rng = rng_for(facts.plan, "births")
    rows: list[Row] = []
    for index, child in enumerate(facts.plan.people):
        parents = facts.parents_of.get(index, ())
        if child.birth_date < BIRTHS_SINCE or len(parents) != 2:
            continue
        father, mother = sorted(parents, key=lambda p: facts.person(p).sex != "male")
        county = child.division_code
        place = facts.county_name(county)
        series = _BIRTH_SERIES[child.birth_date.year - BIRTHS_SINCE.year]
        weeks = rng.choices([35, 36, 37, 38, 39, 40, 41], [2, 4, 12, 24, 30, 22, 6])[0]
        weight = int(min(4800, max(1800, rng.gauss(3300 - (39 - weeks) * 180, 380))))
        rows.append(
            {
                "certificate_no": f"{series}33{len(rows) + 1:07d}",
                "child_name": child.name,
                "child_sex": sex_zh(child),
                "birth_date": child.birth_date.isoformat(),
                "birth_time": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
                "gestational_weeks": str(weeks),
                "weight_g": str(weight),
                "length_cm": str(rng.randint(47, 53)),
                "birth_place": "浙江省" + place,
                "hospital": place + rng.choice(("妇幼保健院", "人民医院", "第一人民医院", "中医院")),
                "mother_id": facts.person(mother).resident_id,
                "mother_name": facts.person(mother).name,
                "father_id": facts.person(father).resident_id,
                "father_name": facts.person(father).name,
                "child_id": child.resident_id,
                "issued_on": min(
                    REFERENCE_DATE, child.birth_date + timedelta(days=rng.randint(1, 5))
                ).isoformat(),
                "division_code": county,
            }
        )
    return Dataset("330000-health", spec, tuple(rows))
