"""The certificate type catalogue: the demo types, who may define types, and how values are checked."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.certificates import numbers
from zerotrip.certificates.errors import (
    CertificateTypeCodeTaken,
    CertificateTypeNotFound,
    InvalidCertificateType,
)
from zerotrip.certificates.schemas import CertificateField, CertificateTypeSpec
from zerotrip.certificates.types import (
    DEMO_TYPES,
    check_claims,
    define_certificate_type,
    get_certificate_type,
    list_certificate_types,
    type_fields,
)
from zerotrip.common.checks import make_resident_id
from zerotrip.identity.errors import OrganisationNotFound
from zerotrip.problems import NotAllowed, ValidationFailed

from .conftest import CertWorld

ISSUE_NINE = {
    "birth-medical-certificate": ("出生医学证明", "330000-health", "person", None),
    "household-register-extract": ("户口簿（电子户籍证明）", "330000-psb", "person", None),
    "marriage-certificate": ("结婚证", "330000-civil", "person", None),
    "real-estate-title": ("不动产权证书", "330000-land", "person", None),
    "no-real-estate": ("无房证明", "330000-land", "person", 30),
    "business-licence": ("营业执照", "330000-market", "enterprise", None),
    "social-security-card": ("电子社保卡", "330000-hrss", "person", 3650),
    "covid-vaccination": ("新冠病毒疫苗接种证明", "330000-health", "person", None),
    "decision-letter": ("办件结果通知书", None, "person", None),
}


def spec(**changes: Any) -> CertificateTypeSpec:
    base: dict[str, Any] = {
        "code": "fishing-licence",
        "name": "捕捞许可证",
        "name_en": "Fishing licence",
        "issuer_org_code": "330000-market",
        "holder_kind": "person",
        "fields": [
            {"name": "waters", "label": "作业水域", "label_en": "Waters"},
            {
                "name": "tonnage",
                "label": "船舶吨位",
                "label_en": "Tonnage",
                "type": "decimal",
                "required": False,
            },
        ],
    }
    return CertificateTypeSpec.model_validate(base | changes)


def test_the_demo_catalogue_has_the_nine_types_of_the_issue(db: Session, world: CertWorld) -> None:
    rows = {row.code: row for row in list_certificate_types(db)}
    assert set(rows) == set(ISSUE_NINE)
    codes = {d.id: d.code for d in world.departments.values()}
    for code, (name, issuer, holder_kind, validity) in ISSUE_NINE.items():
        row = rows[code]
        assert (row.name, row.holder_kind, row.validity_days) == (name, holder_kind, validity)
        assert (codes[row.issuer_org_id] if row.issuer_org_id else None) == issuer
        assert numbers.is_type_code(row.type_code)
        for f in type_fields(row):
            assert f.label and f.label_en and f.type
    assert len({row.type_code for row in rows.values()}) == len(rows)
    # The letter any department issues names the data bureau as its defining body.
    letter = rows["decision-letter"].type_code
    assert letter[:18] == numbers.issuer_credit_code(world.departments["data"])


def test_demo_fields_are_disclosable_when_they_are_personal() -> None:
    for spec_ in DEMO_TYPES:
        for f in spec_.fields:
            if f.type == "resident_id":
                assert f.disclosable, (spec_.code, f.name)
    proof = next(s for s in DEMO_TYPES if s.code == "no-real-estate")
    # The holder chooses to show the result; what was searched and when are in the signed part.
    assert {f.name: f.disclosable for f in proof.fields} == {
        "result": True,
        "scope": False,
        "checked_on": False,
    }


def test_only_the_platform_operator_defines_types(db: Session, world: CertWorld) -> None:
    with pytest.raises(NotAllowed):
        define_certificate_type(db, actor=world.civil_issuer, spec=spec())
    row = define_certificate_type(db, actor=world.admin, spec=spec())
    db.flush()
    assert row.issuer_org_id == world.departments["market"].id
    # The next serial of the market regulator's credit code: it already defines the business licence.
    assert row.type_code == numbers.issuer_credit_code(world.departments["market"]) + "002"
    assert get_certificate_type(db, "fishing-licence").name == "捕捞许可证"
    events = list_events_for_subject(db, subject_type="certificate_type", subject_id="fishing-licence")
    assert [e.action for e in events] == ["certificates.type.defined"]
    assert events[0].data["fields"] == ["waters", "tonnage"]


def test_type_codes_and_issuers_are_checked(db: Session, world: CertWorld) -> None:
    with pytest.raises(CertificateTypeCodeTaken):
        define_certificate_type(db, actor=world.admin, spec=spec(code="marriage-certificate"))
    with pytest.raises(OrganisationNotFound):
        define_certificate_type(db, actor=world.admin, spec=spec(issuer_org_code="330000-nowhere"))
    with pytest.raises(InvalidCertificateType) as excinfo:
        define_certificate_type(db, actor=world.admin, spec=spec(issuer_org_code="330000"))
    assert excinfo.value.errors[0]["pointer"] == "#/issuer_org_code"
    with pytest.raises(InvalidCertificateType) as excinfo:
        define_certificate_type(db, actor=world.admin, spec=spec(issuer_org_code=None))
    assert excinfo.value.errors[0]["pointer"] == "#/type_code"
    with pytest.raises(InvalidCertificateType):
        define_certificate_type(db, actor=world.admin, spec=spec(type_code="123"))
    taken = get_certificate_type(db, "marriage-certificate").type_code
    with pytest.raises(CertificateTypeCodeTaken):
        define_certificate_type(db, actor=world.admin, spec=spec(type_code=taken))
    with pytest.raises(CertificateTypeNotFound):
        get_certificate_type(db, "no-such-type")


@pytest.mark.parametrize(
    "field",
    [
        {"name": "holder_name", "label": "姓名", "label_en": "Name"},
        {"name": "iss", "label": "签发", "label_en": "Issuer"},
        {"name": "id_no", "label": "证件号", "label_en": "ID", "type": "resident_id", "disclosable": False},
        {"name": "kind", "label": "种类", "label_en": "Kind", "type": "integer", "options": ["1"]},
        {"name": "Bad-Name", "label": "x", "label_en": "x"},
    ],
)
def test_fields_that_would_break_the_credential_are_refused(field: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CertificateField.model_validate(field)


FIELDS = [
    CertificateField(name="note", label="备注", label_en="Note", required=False),
    CertificateField(name="kind", label="种类", label_en="Kind", options=["甲", "乙"]),
    CertificateField(name="count", label="数量", label_en="Count", type="integer"),
    CertificateField(name="area", label="面积", label_en="Area", type="decimal"),
    CertificateField(name="on", label="日期", label_en="Date", type="date"),
    CertificateField(name="who", label="身份证号", label_en="ID", type="resident_id"),
    CertificateField(name="firm", label="信用代码", label_en="Credit code", type="uscc", required=False),
    CertificateField(name="ok", label="是否", label_en="Yes?", type="boolean", required=False),
]
RESIDENT = make_resident_id(division_code="330106", birth_date=date(1990, 1, 1), sequence=1, sex="male")


def test_values_are_normalised_in_field_order() -> None:
    values = check_claims(
        FIELDS,
        {"on": "2024-02-29", "kind": "乙", "count": "3", "area": 89.5, "who": RESIDENT.lower(), "note": "  "},
    )
    assert list(values) == ["kind", "count", "area", "on", "who"]
    assert values == {"kind": "乙", "count": 3, "area": "89.5", "on": "2024-02-29", "who": RESIDENT}


def test_every_bad_value_is_named_with_its_pointer() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        check_claims(
            FIELDS,
            {
                "kind": "丙",
                "count": "three",
                "area": "1e5",
                "on": "2024-02-30",
                "who": RESIDENT[:-1] + ("0" if RESIDENT[-1] != "0" else "1"),
                "firm": "91330106MA2XXXXXXX",
                "ok": "yes",
                "extra": 1,
            },
        )
    pointers = {e["pointer"]: e["detail"] for e in excinfo.value.errors}
    assert set(pointers) == {
        "#/claims/extra",
        "#/claims/kind",
        "#/claims/count",
        "#/claims/area",
        "#/claims/on",
        "#/claims/who",
        "#/claims/firm",
        "#/claims/ok",
    }
    assert "check character" in pointers["#/claims/who"]
    assert "甲" in pointers["#/claims/kind"]


def test_missing_required_values_are_named() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        check_claims(FIELDS, {"kind": "甲"})
    assert {e["pointer"] for e in excinfo.value.errors} == {
        "#/claims/count",
        "#/claims/area",
        "#/claims/on",
        "#/claims/who",
    }
