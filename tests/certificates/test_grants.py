"""Use grants (用证授权) and uses (用证): granting, the code shown once, what a user receives, every use
recorded, withdrawal, and each refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.certificates import actions, grants, numbers, sdjwt
from zerotrip.certificates.errors import (
    CertificateExpired,
    CertificateNotFound,
    CertificateRevoked,
    CertificateSuspended,
    UseGrantExpired,
    UseGrantNotFound,
    UseGrantWithdrawn,
)
from zerotrip.certificates.models import CertificateUse, UseGrant
from zerotrip.certificates.schemas import UsedCertificateRead
from zerotrip.config import CertificatesSettings, Settings
from zerotrip.identity.actor import ANONYMOUS, Actor
from zerotrip.identity.errors import NotYourRecord
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

from .conftest import CertWorld
from .holding import NOW, Held, held_family, verify_presentation
from .test_wallet import decode_everything

LATER = NOW + timedelta(hours=1)
BANK = "中国工商银行杭州西湖支行"
PURPOSE = "办理个人住房贷款"


@pytest.fixture
def held(db: Session, world: CertWorld, keys: KeyStore, settings: Settings) -> Iterator[Held]:
    yield from held_family(db, world, keys, settings)


def grant(
    db: Session,
    world: CertWorld,
    settings: Settings,
    number: str,
    *,
    actor: Actor | None = None,
    fields: list[str] | None = None,
    days: int = 30,
    audience: str = BANK,
    audience_kind: str = "business",
    purpose: str = PURPOSE,
) -> tuple[UseGrant, str]:
    return grants.create_use_grant(
        db,
        actor=actor or world.citizen(world.wife),
        settings=settings,
        number=number,
        audience=audience,
        audience_kind=audience_kind,
        fields=fields or ["holder_name", "spouse_name", "registered_on"],
        purpose=purpose,
        days=days,
        now=LATER,
    )


def use(
    db: Session,
    keys: KeyStore,
    settings: Settings,
    code: str,
    *,
    actor: Actor = ANONYMOUS,
    now: datetime = LATER,
    used_by: str = "工行西湖支行 信贷部 张三",
    reason: str = "个人住房贷款审批",
) -> UsedCertificateRead:
    return grants.use_certificate(
        db,
        actor=actor,
        keys=keys,
        settings=settings,
        code=code,
        used_by=used_by,
        reason=reason,
        now=now,
    )


# -- granting ----------------------------------------------------------------------------------------------


def test_a_grant_stores_only_the_codes_hash_and_is_audited(
    db: Session, world: CertWorld, settings: Settings, held: Held
) -> None:
    row, code = grant(db, world, settings, held.marriage.number)
    assert numbers.is_grant_code(code)
    assert row.code_hash == numbers.grant_code_hash(code) and code not in row.code_hash
    assert (row.audience, row.audience_kind, row.purpose) == (BANK, "business", PURPOSE)
    assert row.fields == ["holder_name", "spouse_name", "registered_on"]
    assert row.expires_at == LATER + timedelta(days=30)
    assert grants.use_link(settings.web.public_url, code) == f"http://127.0.0.1:8000/certificates/use/{code}"
    event = next(
        e
        for e in list_events_for_subject(db, subject_type="person", subject_id=world.wife.resident_id)
        if e.action == "certificates.use_grant.created"
    )
    assert event.data["grant_id"] == row.id and event.data["fields"] == row.fields
    assert code not in json.dumps(event.data) and numbers.normalise_grant_code(code) not in json.dumps(
        event.data
    )


def test_a_grant_is_limited_to_the_maximum_and_the_certificates_validity(
    db: Session, world: CertWorld, settings: Settings, held: Held
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        grant(db, world, settings, held.marriage.number, days=settings.certificates.use_grant_max_days + 1)
    assert failed.value.errors[0]["pointer"] == "#/days"
    short = settings.model_copy(update={"certificates": CertificatesSettings(use_grant_max_days=7)})
    with pytest.raises(ValidationFailed):
        grant(db, world, short, held.marriage.number, days=8)
    assert grant(db, world, short, held.marriage.number, days=7)[0].expires_at == LATER + timedelta(days=7)
    # The no-real-estate proof is valid for 30 days from its issue: a 90-day grant ends with it.
    row, _ = grant(db, world, settings, held.proof.number, fields=["holder_name", "result"], days=90)
    assert held.proof.valid_until is not None and row.expires_at == held.proof.valid_until


def test_only_the_holder_grants_and_only_disclosable_fields(
    db: Session, world: CertWorld, settings: Settings, held: Held
) -> None:
    with pytest.raises(CertificateNotFound):
        grant(db, world, settings, held.marriage.number, actor=world.citizen(world.owner))
    with pytest.raises(CertificateNotFound):
        grant(db, world, settings, held.marriage.number, actor=world.citizen(world.husband))
    for staff in (world.civil_issuer, world.admin):
        with pytest.raises(NotYourRecord):
            grant(db, world, settings, held.marriage.number, actor=staff)
    for fields, pointer in ((["scope"], "#/fields"), (["holder_name", "jti"], "#/fields")):
        with pytest.raises(ValidationFailed) as failed:
            grant(db, world, settings, held.proof.number, fields=fields)
        assert failed.value.errors[0]["pointer"] == pointer
    with pytest.raises(ValidationFailed) as failed:
        grant(db, world, settings, held.marriage.number, audience_kind="anyone")
    assert failed.value.errors[0]["pointer"] == "#/audience_kind"
    with pytest.raises(ValidationFailed):
        grant(db, world, settings, held.marriage.number, purpose="  ")
    # A parent grants for a minor child; the enterprise's legal representative for the enterprise.
    husband = world.citizen(world.husband)
    grant(db, world, settings, held.birth.number, actor=husband, fields=["holder_name", "birth_date"])
    grant(db, world, settings, held.licence.number, actor=husband, fields=["holder_name"])


def test_no_grant_for_a_certificate_that_cannot_be_used(
    db: Session, world: CertWorld, settings: Settings, held: Held
) -> None:
    with pytest.raises(CertificateExpired):
        grants.create_use_grant(
            db,
            actor=world.citizen(world.wife),
            settings=settings,
            number=held.proof.number,
            audience=BANK,
            audience_kind="business",
            fields=["result"],
            purpose=PURPOSE,
            days=1,
            now=NOW + timedelta(days=31),
        )
    actions.suspend_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="核查中")
    with pytest.raises(CertificateSuspended):
        grant(db, world, settings, held.marriage.number)
    actions.revoke_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="登记错误")
    with pytest.raises(CertificateRevoked):
        grant(db, world, settings, held.marriage.number)


# -- using ---------------------------------------------------------------------------------------------------


def test_anyone_with_the_code_receives_an_annotated_copy_of_the_granted_fields_only(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    _, code = grant(db, world, settings, held.marriage.number)
    # Any spelling of the code works: lower case, spaces instead of hyphens.
    copy = use(db, keys, settings, code.lower().replace("-", " "))
    assert copy.number == held.marriage.number
    assert [f.name for f in copy.fields] == ["holder_name", "spouse_name", "registered_on"]
    assert copy.note == f"仅供{BANK}用于{PURPOSE}，2026年12月29日11:00前有效"
    token = copy.presentation
    assert token != held.marriage.token and not token.startswith(held.marriage.token)
    # Not the original: only the granted disclosures, and a KB-JWT for the grant's audience.
    assert set(sdjwt.disclosures(token)) == {"holder_name", "spouse_name", "registered_on"}
    verdict = verify_presentation(db, keys, settings, token, now=LATER, audience=BANK)
    assert (verdict.code, verdict.key_bound) == ("valid", True)
    assert dict(verdict.claims) == {
        "holder_name": "林晓雯",
        "spouse_name": "陈建国",
        "registered_on": "2019-05-20",
    }
    for text in (token, copy.qr_payload):
        decoded = decode_everything(text)
        for hidden in (world.wife.resident_id, world.husband.resident_id, "J330106-2019-000123"):
            assert hidden not in decoded
    # Time-limited: the copy's presentation expires like any other.
    late = verify_presentation(
        db,
        keys,
        settings,
        token,
        now=copy.presentation_expires_at + timedelta(seconds=1),
    )
    assert late.code == "presentation_expired"


def test_every_use_is_recorded_audited_and_listed_for_the_holder(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    row, code = grant(db, world, settings, held.marriage.number)
    use(db, keys, settings, code, used_by="工行 张三", reason="贷款初审")
    use(
        db,
        keys,
        settings,
        code,
        actor=world.civil_steward,
        used_by="民政厅 钱数据",
        reason="复核",
        now=LATER + timedelta(hours=2),
    )
    rows = list(db.scalars(select(CertificateUse).where(CertificateUse.grant_id == row.id)))
    assert sorted(u.used_by for u in rows) == ["工行 张三", "民政厅 钱数据"]
    events = [
        e
        for e in list_events_for_subject(db, subject_type="person", subject_id=world.wife.resident_id)
        if e.action == "certificates.certificate.used"
    ]
    assert [(e.actor, e.data["reason"]) for e in events] == [
        (world.civil_steward.principal, "复核"),
        ("anonymous", "贷款初审"),
    ]
    page = grants.list_use_grants(db, actor=world.citizen(world.wife), now=LATER + timedelta(hours=3))
    assert page.total == 1
    listed = page.items[0]
    assert (listed.id, listed.state, listed.audience) == (row.id, "active", BANK)
    assert listed.field_labels == ["持证人", "配偶姓名", "登记日期"]
    assert [(u.used_by, u.reason) for u in listed.uses] == [
        ("民政厅 钱数据", "复核"),
        ("工行 张三", "贷款初审"),
    ]


def test_withdrawn_and_expired_grants_and_unusable_certificates_refuse(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    wife = world.citizen(world.wife)
    with pytest.raises(UseGrantNotFound):
        use(db, keys, settings, "ABCD-EFGH-JKMN")
    with pytest.raises(UseGrantNotFound):
        use(db, keys, settings, "not a code")
    row, code = grant(db, world, settings, held.marriage.number, days=1)
    with pytest.raises(ValidationFailed) as failed:
        use(db, keys, settings, code, reason=" ")
    assert failed.value.errors[0]["pointer"] == "#/reason"
    with pytest.raises(UseGrantExpired):
        use(db, keys, settings, code, now=row.expires_at)
    use(db, keys, settings, code, now=row.expires_at - timedelta(seconds=1))
    grants.withdraw_use_grant(db, actor=wife, grant_id=row.id, now=LATER)
    with pytest.raises(UseGrantWithdrawn):
        use(db, keys, settings, code)
    with pytest.raises(UseGrantWithdrawn):
        grants.withdraw_use_grant(db, actor=wife, grant_id=row.id, now=LATER)
    states = {g.id: g.state for g in grants.list_use_grants(db, actor=wife, now=LATER).items}
    assert states[row.id] == "withdrawn"

    _, live = grant(db, world, settings, held.marriage.number)
    actions.suspend_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="核查中")
    with pytest.raises(CertificateSuspended):
        use(db, keys, settings, live)
    actions.revoke_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="登记错误")
    with pytest.raises(CertificateRevoked):
        use(db, keys, settings, live)
    _, proof_code = grant(db, world, settings, held.proof.number, fields=["result"])
    with pytest.raises(UseGrantExpired):  # a grant never outlives its certificate
        use(db, keys, settings, proof_code, now=NOW + timedelta(days=31))


def test_grants_are_the_holders_alone_to_see_and_withdraw(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    row, _ = grant(db, world, settings, held.marriage.number)
    child_grant, _ = grant(
        db, world, settings, held.birth.number, actor=world.citizen(world.husband), fields=["holder_name"]
    )
    # Both parents act for the child: the mother sees the father's grant for it and may withdraw it.
    wife_page = grants.list_use_grants(db, actor=world.citizen(world.wife), now=LATER)
    assert {g.id for g in wife_page.items} == {row.id, child_grant.id}
    husband_page = grants.list_use_grants(db, actor=world.citizen(world.husband), now=LATER)
    assert {g.id for g in husband_page.items} == {child_grant.id}
    only = grants.list_use_grants(db, actor=world.citizen(world.wife), now=LATER, number=held.marriage.number)
    assert [g.id for g in only.items] == [row.id]
    owner = world.citizen(world.owner)
    assert grants.list_use_grants(db, actor=owner, now=LATER).total == 0
    with pytest.raises(CertificateNotFound):
        grants.list_use_grants(db, actor=owner, now=LATER, number=held.marriage.number)
    with pytest.raises(UseGrantNotFound):
        grants.withdraw_use_grant(db, actor=owner, grant_id=row.id, now=LATER)
    with pytest.raises(UseGrantNotFound):
        grants.withdraw_use_grant(db, actor=world.citizen(world.husband), grant_id=row.id, now=LATER)
    with pytest.raises(NotYourRecord):
        grants.withdraw_use_grant(db, actor=world.civil_issuer, grant_id=row.id, now=LATER)
    withdrawn = grants.withdraw_use_grant(
        db, actor=world.citizen(world.wife), grant_id=child_grant.id, now=LATER
    )
    assert withdrawn.withdrawn_at == LATER


def test_a_code_offers_the_type_audience_purpose_and_field_names_without_values(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    row, code = grant(db, world, settings, held.marriage.number, fields=["holder_name", "registered_on"])
    offer = grants.get_use_grant_offer(db, code=code.lower().replace("-", " "), now=LATER)
    assert (offer.certificate_type, offer.type_name, offer.issuer_name) == (
        "marriage-certificate",
        "结婚证",
        "浙江省民政厅",
    )
    assert (offer.audience, offer.audience_kind, offer.purpose) == (BANK, "business", PURPOSE)
    assert [(f.name, f.label) for f in offer.fields] == [
        ("holder_name", "持证人"),
        ("registered_on", "登记日期"),
    ]
    assert offer.expires_at == row.expires_at
    dumped = offer.model_dump_json()
    assert world.wife.name not in dumped and held.marriage.claims["registered_on"] not in dumped
    assert db.scalar(select(CertificateUse).where(CertificateUse.grant_id == row.id)) is None, "reads only"

    with pytest.raises(UseGrantNotFound):
        grants.get_use_grant_offer(db, code="ABCD-EFGH-JKMN", now=LATER)
    with pytest.raises(UseGrantExpired):
        grants.get_use_grant_offer(db, code=code, now=row.expires_at)
    actions.revoke_certificate(db, actor=world.civil_issuer, number=held.marriage.number, reason="登记错误")
    with pytest.raises(CertificateRevoked):
        grants.get_use_grant_offer(db, code=code, now=LATER)
    grants.withdraw_use_grant(db, actor=world.citizen(world.wife), grant_id=row.id, now=LATER)
    with pytest.raises(UseGrantWithdrawn):  # withdrawn is said before anything about the certificate
        grants.get_use_grant_offer(db, code=code, now=LATER)
