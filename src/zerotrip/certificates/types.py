"""The certificate type catalogue (证照目录): what each kind of certificate holds and who issues it.

The platform operator defines types. A type names its issuing department (or none: then any department
issues it under its own key, as with application decision letters), its holder kind, its fields in display
order with Chinese and English labels, and how long a certificate stays valid. ``check_claims`` holds
certificate values to a type's fields; ``DEMO_TYPES`` is the demo catalogue (``define_demo_types``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.certificates import numbers
from zerotrip.certificates.errors import (
    CertificateTypeCodeTaken,
    CertificateTypeNotFound,
    InvalidCertificateType,
)
from zerotrip.certificates.models import CertificateType
from zerotrip.certificates.permissions import can_define_types
from zerotrip.certificates.schemas import CertificateField, CertificateTypeSpec
from zerotrip.common import clock
from zerotrip.common.checks import InvalidIdentifier, is_division_code, parse_resident_id, parse_uscc
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import OrganisationNotFound
from zerotrip.problems import FieldError, NotAllowed, ValidationFailed

MAX_TEXT = 500


class Department(Protocol):
    """What this context reads of an organisation (identity's rows, typed without importing them)."""

    @property
    def id(self) -> int: ...

    @property
    def code(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def division_code(self) -> str: ...


_DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- defining and reading types ---------------------------------------------------------------------------


def define_certificate_type(db: Session, *, actor: Actor, spec: CertificateTypeSpec) -> CertificateType:
    """Add a type to the catalogue. The platform operator does this.

    Without a ``type_code`` the GB/T 36902 type code is derived from the issuing department's credit code
    and the next free serial; a type any department may issue needs an explicit one. Raises NotAllowed,
    CertificateTypeCodeTaken, InvalidCertificateType (naming the field), OrganisationNotFound.
    """
    if not can_define_types(actor):
        raise NotAllowed("defining certificate types is the platform operator's")
    if find_certificate_type(db, spec.code) is not None:
        raise CertificateTypeCodeTaken()
    issuer = _issuer_org(db, spec.issuer_org_code)
    type_code = spec.type_code or (_next_type_code(db, issuer) if issuer is not None else None)
    if type_code is None:
        raise InvalidCertificateType.field("type_code", "a type any department may issue needs a type code")
    if not numbers.is_type_code(type_code):
        raise InvalidCertificateType.field(
            "type_code", "a type code is an 18-character credit code and a three-digit serial"
        )
    if db.scalar(select(CertificateType.id).where(CertificateType.type_code == type_code)) is not None:
        raise CertificateTypeCodeTaken(f"the type code {type_code} is taken")
    now = clock.now()
    row = CertificateType(
        code=spec.code,
        type_code=type_code,
        name=spec.name,
        name_en=spec.name_en,
        issuer_org_id=issuer.id if issuer is not None else None,
        holder_kind=spec.holder_kind,
        fields=[f.model_dump(exclude_none=True) for f in spec.fields],
        validity_days=spec.validity_days,
        template=spec.template,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    record_event(
        db,
        actor=actor.principal,
        action="certificates.type.defined",
        subject_type="certificate_type",
        subject_id=spec.code,
        data={
            "type_code": type_code,
            "issuer_org_id": row.issuer_org_id,
            "holder_kind": spec.holder_kind,
            "fields": [f.name for f in spec.fields],
            "validity_days": spec.validity_days,
        },
    )
    return row


def find_certificate_type(db: Session, code: str) -> CertificateType | None:
    return db.scalar(select(CertificateType).where(CertificateType.code == code))


def get_certificate_type(db: Session, code: str) -> CertificateType:
    """Raises CertificateTypeNotFound."""
    row = find_certificate_type(db, code)
    if row is None:
        raise CertificateTypeNotFound(f"no certificate type has the code {code!r}")
    return row


def list_certificate_types(db: Session, *, is_active_only: bool = True) -> list[CertificateType]:
    """The catalogue in code order (public: a type says nothing about anyone)."""
    query = select(CertificateType)
    if is_active_only:
        query = query.where(CertificateType.is_active.is_(True))
    return list(db.scalars(query.order_by(CertificateType.code)))


def type_fields(row: CertificateType) -> list[CertificateField]:
    return [CertificateField.model_validate(f) for f in row.fields]


def _issuer_org(db: Session, code: str | None) -> Department | None:
    if code is None:
        return None
    org = identity_queries.find_organisation_by_code(db, code)
    if org is None:
        raise OrganisationNotFound(f"no organisation has the code {code!r}")
    if org.kind != "department":
        raise InvalidCertificateType.field("issuer_org_code", "certificates are issued by departments")
    return org


def _next_type_code(db: Session, issuer: Department) -> str:
    credit_code = numbers.issuer_credit_code(issuer)
    taken = db.scalar(
        select(func.count())
        .select_from(CertificateType)
        .where(CertificateType.type_code.startswith(credit_code, autoescape=True))
    )
    return numbers.type_code(credit_code, (taken or 0) + 1)


# -- certificate values -----------------------------------------------------------------------------------


def check_claims(fields: Sequence[CertificateField], claims: Mapping[str, Any]) -> dict[str, Any]:
    """The values normalised for storage and signing (dates and decimals as strings, codes upper case),
    in field order, without empty optional fields. Raises ValidationFailed naming every bad field with a
    pointer ``#/claims/<name>``."""
    by_name = {f.name: f for f in fields}
    errors: list[FieldError] = [
        {"detail": "not a field of this certificate type", "pointer": f"#/claims/{name}"}
        for name in claims
        if name not in by_name
    ]
    result: dict[str, Any] = {}
    for f in fields:
        value = claims.get(f.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if f.required:
                errors.append(
                    {"detail": f"{f.label}（{f.label_en}）is required", "pointer": f"#/claims/{f.name}"}
                )
            continue
        try:
            result[f.name] = _check_value(f, value)
        except ValueError as exc:
            errors.append({"detail": str(exc), "pointer": f"#/claims/{f.name}"})
    if errors:
        names = ", ".join(e["pointer"].removeprefix("#/claims/") for e in errors)
        raise ValidationFailed(f"check these fields: {names}", errors=errors)
    return result


def _check_value(f: CertificateField, value: Any) -> Any:
    """One value of one field, normalised; raises ValueError with a reason fit to show."""
    if f.type == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if f.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("must be a whole number")
        try:
            return int(str(value).strip())
        except ValueError as exc:
            raise ValueError("must be a whole number") from exc
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be text")
    text = str(value).strip()
    if f.type == "decimal":
        if not _DECIMAL.match(text):
            raise ValueError("must be a decimal number such as 89.50")
        try:
            return str(Decimal(text))
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
            raise ValueError("must be a decimal number") from exc
    if not isinstance(value, str):
        raise ValueError("must be text")
    if f.type == "date":
        try:
            if not _DATE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise ValueError("must be a date as YYYY-MM-DD") from exc
    if f.type == "resident_id":
        try:
            return parse_resident_id(text).value
        except InvalidIdentifier as exc:
            raise ValueError(f"not a valid resident ID number: {exc.reason}") from exc
    if f.type == "uscc":
        try:
            return parse_uscc(text).value
        except InvalidIdentifier as exc:
            raise ValueError(f"not a valid unified social credit code: {exc.reason}") from exc
    if f.type == "division_code":
        if not is_division_code(text):
            raise ValueError("not a GB/T 2260 administrative division code")
        return text
    if len(text) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    if f.options is not None and text not in f.options:
        raise ValueError(f"must be one of {'、'.join(f.options)}")
    return text


# -- the demo catalogue -----------------------------------------------------------------------------------


def _f(
    name: str,
    label: str,
    label_en: str,
    type: str = "text",
    *,
    required: bool = True,
    disclosable: bool = True,
    options: list[str] | None = None,
) -> CertificateField:
    return CertificateField.model_validate(
        {
            "name": name,
            "label": label,
            "label_en": label_en,
            "type": type,
            "required": required,
            "disclosable": disclosable,
            "options": options,
        }
    )


SEXES = ["男", "女"]
NO_REAL_ESTATE = "no-real-estate"
DECISION_LETTER = "decision-letter"
# The body that defines the types any department issues (GB/T 36902 needs a defining body in the code).
DECISION_LETTER_DEFINER = "330000-data"

DEMO_TYPES: tuple[CertificateTypeSpec, ...] = (
    CertificateTypeSpec(
        code="birth-medical-certificate",
        name="出生医学证明",
        name_en="Birth medical certificate",
        issuer_org_code="330000-health",
        holder_kind="person",
        fields=[
            _f("certificate_no", "出生医学证明编号", "Certificate serial"),
            _f("sex", "性别", "Sex", options=SEXES),
            _f("birth_date", "出生日期", "Date of birth", "date"),
            _f("birth_time", "出生时间", "Time of birth"),
            _f("birth_place", "出生地点", "Place of birth"),
            _f("gestational_weeks", "出生孕周", "Gestational age (weeks)", "integer"),
            _f("weight_g", "出生体重（克）", "Birth weight (g)", "integer"),
            _f("length_cm", "出生身长（厘米）", "Birth length (cm)", "integer"),
            _f("mother_name", "母亲姓名", "Mother's name"),
            _f("mother_id", "母亲公民身份号码", "Mother's resident ID number", "resident_id"),
            _f("father_name", "父亲姓名", "Father's name", required=False),
            _f("father_id", "父亲公民身份号码", "Father's resident ID number", "resident_id", required=False),
            _f("hospital", "接生机构", "Delivering institution"),
        ],
    ),
    CertificateTypeSpec(
        code="household-register-extract",
        name="户口簿（电子户籍证明）",
        name_en="Household register extract",
        issuer_org_code="330000-psb",
        holder_kind="person",
        fields=[
            _f("household_no", "户号", "Household number"),
            _f("relation_to_head", "与户主关系", "Relation to the head of household"),
            _f("sex", "性别", "Sex", options=SEXES),
            _f("birth_date", "出生日期", "Date of birth", "date"),
            _f("address", "住址", "Address"),
            _f("division_code", "户籍地行政区划", "Division of registration", "division_code"),
        ],
    ),
    CertificateTypeSpec(
        code="marriage-certificate",
        name="结婚证",
        name_en="Marriage certificate",
        issuer_org_code="330000-civil",
        holder_kind="person",
        fields=[
            _f("certificate_no", "结婚证字号", "Certificate number"),
            _f("sex", "性别", "Sex", options=SEXES),
            _f("spouse_name", "配偶姓名", "Spouse's name"),
            _f("spouse_id", "配偶公民身份号码", "Spouse's resident ID number", "resident_id"),
            _f("registered_on", "登记日期", "Date of registration", "date"),
            _f("registration_office", "婚姻登记机关", "Registration office"),
        ],
    ),
    CertificateTypeSpec(
        code="real-estate-title",
        name="不动产权证书",
        name_en="Real-estate title certificate",
        issuer_org_code="330000-land",
        holder_kind="person",
        fields=[
            _f("certificate_no", "不动产权证号", "Title number"),
            _f("ownership", "共有情况", "Co-ownership"),
            _f("address", "坐落", "Location"),
            _f("area", "建筑面积（平方米）", "Floor area (m²)", "decimal"),
            _f("usage", "用途", "Use"),
            _f("registered_on", "登记日期", "Date of registration", "date"),
            _f("district", "所在区县", "District", "division_code"),
        ],
    ),
    CertificateTypeSpec(
        code=NO_REAL_ESTATE,
        name="无房证明",
        name_en="Proof of holding no real estate",
        issuer_org_code="330000-land",
        holder_kind="person",
        validity_days=30,
        fields=[
            _f("result", "查询结果", "Result", options=["无不动产登记记录"]),
            _f("scope", "查询范围", "Registers searched", disclosable=False),
            _f("checked_on", "查询日期", "Date searched", "date", disclosable=False),
        ],
    ),
    CertificateTypeSpec(
        code="business-licence",
        name="营业执照",
        name_en="Business licence",
        issuer_org_code="330000-market",
        holder_kind="enterprise",
        template="licence",
        fields=[
            _f("enterprise_type", "类型", "Type"),
            _f("legal_representative", "法定代表人", "Legal representative"),
            _f("registered_capital", "注册资本（万元）", "Registered capital (10,000 yuan)", "decimal"),
            _f("established_on", "成立日期", "Date of establishment", "date"),
            _f("address", "住所", "Domicile"),
            _f("business_scope", "经营范围", "Business scope"),
            _f("registration_authority", "登记机关", "Registration authority"),
        ],
    ),
    CertificateTypeSpec(
        code="social-security-card",
        name="电子社保卡",
        name_en="Electronic social security card",
        issuer_org_code="330000-hrss",
        holder_kind="person",
        validity_days=3650,
        fields=[
            _f("card_no", "社会保障卡卡号", "Card number"),
            _f("sex", "性别", "Sex", options=SEXES),
            _f("insured_division", "参保地行政区划", "Division insured in", "division_code"),
            _f("issued_on", "发卡日期", "Date issued", "date"),
        ],
    ),
    CertificateTypeSpec(
        code="covid-vaccination",
        name="新冠病毒疫苗接种证明",
        name_en="COVID-19 vaccination certificate",
        issuer_org_code="330000-health",
        holder_kind="person",
        fields=[
            _f("doses", "接种剂次", "Doses received", "integer"),
            _f("product", "疫苗名称", "Vaccine"),
            _f("manufacturer", "生产企业", "Manufacturer"),
            _f("first_dose_on", "首剂接种日期", "First dose", "date"),
            _f("last_dose_on", "末剂接种日期", "Last dose", "date"),
            _f("site", "接种单位", "Vaccination site"),
        ],
    ),
    CertificateTypeSpec(
        code=DECISION_LETTER,
        name="办件结果通知书",
        name_en="Application decision letter",
        issuer_org_code=None,
        holder_kind="person",
        template="letter",
        fields=[
            _f("application_no", "办件编号", "Application number"),
            _f("service_item", "办理事项", "Service item"),
            _f("decision", "办理结果", "Decision", options=["准予许可", "不予许可", "办结"]),
            _f("decision_text", "决定内容", "Decision"),
            _f("decided_on", "办结日期", "Date decided", "date"),
        ],
    ),
)


def define_demo_types(db: Session, *, actor: Actor) -> list[CertificateType]:
    """Define ``DEMO_TYPES`` (the issuing departments must exist: the demo tree's provincial departments).
    The decision letter's type code names the provincial data bureau as its defining body."""
    rows = []
    for spec in DEMO_TYPES:
        if spec.issuer_org_code is None and spec.type_code is None:
            definer = _issuer_org(db, DECISION_LETTER_DEFINER)
            assert definer is not None
            spec = spec.model_copy(update={"type_code": _next_type_code(db, definer)})
        rows.append(define_certificate_type(db, actor=actor, spec=spec))
        db.flush()  # the next derived type code counts this one
    return rows
