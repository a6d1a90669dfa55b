"""Issuing: who may, what is checked, what the credential holds, and the no-real-estate proof."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.audit.queries import list_events_for_subject
from zerotrip.certificates import actions, jose, numbers, sdjwt, signing, status_entries, urls, verify
from zerotrip.certificates.errors import (
    CertificateTypeNotFound,
    GatewayConsumerMissing,
    IssuingNotAllowed,
    RealEstateOnRecord,
)
from zerotrip.certificates.models import Certificate, StatusList, StatusListUsage
from zerotrip.certificates.queries import trust_list_jwks
from zerotrip.certificates.trust import TrustList
from zerotrip.common import clock
from zerotrip.common.checks import make_resident_id
from zerotrip.config import Settings
from zerotrip.datahub import sharing, uselog
from zerotrip.datahub.models import Grant
from zerotrip.identity.actor import system
from zerotrip.identity.errors import NotYourRecord, ScopeNotGranted
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

from .conftest import MARRIAGE, CertWorld, api_client, client_actor, marriage

LETTER = {
    "application_no": "ZT2026000001",
    "service_item": "住房公积金提取（租赁住房）",
    "decision": "准予许可",
    "decision_text": "准予提取。",
    "decided_on": "2026-11-20",
}


def trust_of(db: Session, keys: KeyStore, settings: Settings) -> TrustList:
    return TrustList.from_jwks(trust_list_jwks(db, keys=keys, settings=settings))


def segment(token: str, index: int) -> dict[str, object]:
    part = token.split("~")[0].split(".")[index]
    return json.loads(jose.b64url_decode(part))


# -- issuing by staff, by a department system, by another context -----------------------------------------


def test_staff_issue_a_credential_as_the_contract_describes(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    public_url = settings.web.public_url
    civil = world.departments["civil"]
    credit_code = numbers.issuer_credit_code(civil)
    assert numbers.parse_certificate_number(certificate.number).issuer_credit_code == credit_code
    assert (certificate.holder_name, certificate.holder_kind, certificate.status) == (
        "林晓雯",
        "person",
        "valid",
    )
    assert (certificate.source, certificate.issued_by) == ("staff", world.civil_issuer.principal)
    assert certificate.valid_until is None  # a marriage certificate does not expire

    header, payload = segment(certificate.token, 0), segment(certificate.token, 1)
    key = signing.issuer_signing_key(keys, civil.id, algorithm=settings.certificates.algorithm)
    assert header == {"alg": settings.certificates.algorithm, "typ": "dc+sd-jwt", "kid": key.kid}
    assert certificate.kid == key.kid
    assert payload["iss"] == f"{public_url}/issuers/{credit_code}"
    assert payload["vct"] == f"{public_url}/certificate-types/marriage-certificate"
    assert payload["jti"] == certificate.number
    assert payload["status"] == {
        "status_list": {
            "idx": certificate.status_index,
            "uri": f"{public_url}/api/certificates/status-lists/{certificate.status_list_id}",
        }
    }
    holder_jwk = signing.public_jwk(signing.holder_private_key(keys, world.wife.resident_id))
    assert payload["cnf"] == {"jwk": holder_jwk}
    assert (payload["issuer_name"], payload["type_name"]) == ("浙江省民政厅", "结婚证")
    assert "exp" not in payload
    # Nothing personal is in the always-disclosed part; everything personal is a disclosure.
    for secret in (world.wife.resident_id, world.husband.resident_id, "林晓雯", "陈建国"):
        assert secret not in json.dumps(payload, ensure_ascii=False)
    disclosed = sdjwt.disclosures(certificate.token)
    assert disclosed == {
        "holder_name": "林晓雯",
        "holder_id": world.wife.resident_id,
        **MARRIAGE,
        "spouse_id": world.husband.resident_id,
    }
    assert certificate.claims == {k: v for k, v in disclosed.items() if not k.startswith("holder_")}

    verdict = verify.verify_token(
        certificate.token,
        trust=trust_of(db, keys, settings),
        status=None,
        now=clock.now(),
        presentation_ttl_seconds=300,
    )
    assert (verdict.ok, verdict.code, verdict.number) == (True, "valid", certificate.number)

    events = list_events_for_subject(db, subject_type="person", subject_id=world.wife.resident_id)
    issued = [e for e in events if e.action == "certificates.certificate.issued"]
    assert len(issued) == 1
    assert issued[0].actor == world.civil_issuer.principal
    assert issued[0].data["number"] == certificate.number
    assert issued[0].data["type"] == "marriage-certificate"


def test_a_department_system_with_the_scope_issues_for_its_department(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    client, _ = api_client(db, world.departments["civil"], ["certificates.issue"])
    certificate = marriage(db, world, keys, settings, actor=client_actor(client))
    assert (certificate.source, certificate.issued_by) == ("api", f"client:{client.client_id}")


def test_the_platform_issues_for_another_context_and_says_why(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    services = system("services")
    with pytest.raises(ValidationFailed) as excinfo:
        actions.issue_certificate(
            db,
            actor=services,
            certificate_type="decision-letter",
            holder_key=world.wife.resident_id,
            claims=LETTER,
            keys=keys,
            settings=settings,
            issuer_org_code="330100-fund",
        )
    assert excinfo.value.errors[0]["pointer"] == "#/source_ref"
    certificate = actions.issue_certificate(
        db,
        actor=services,
        certificate_type="decision-letter",
        holder_key=world.wife.resident_id,
        claims=LETTER,
        keys=keys,
        settings=settings,
        issuer_org_code="330100-fund",
        source_ref="ZT2026000001",
    )
    assert (certificate.source, certificate.source_ref) == ("context", "ZT2026000001")
    assert certificate.issuer_org_id == world.fund.id
    assert segment(certificate.token, 1)["issuer_name"] == "杭州住房公积金管理中心"


def test_any_department_issues_a_decision_letter_under_its_own_key(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    def letter(actor: object, code: str | None) -> Certificate:
        return actions.issue_certificate(
            db,
            actor=actor,  # type: ignore[arg-type]
            certificate_type="decision-letter",
            holder_key=world.wife.resident_id,
            claims=LETTER,
            keys=keys,
            settings=settings,
            issuer_org_code=code,
        )

    by_fund = letter(world.fund_issuer, "330100-fund")
    by_civil = letter(world.civil_issuer, "330000-civil")
    assert by_fund.kid != by_civil.kid
    assert by_fund.kid == signing.issuer_signing_key(keys, world.fund.id, algorithm="ES256").kid
    with pytest.raises(IssuingNotAllowed):
        letter(world.civil_issuer, "330100-fund")
    with pytest.raises(ValidationFailed) as excinfo:
        letter(world.fund_issuer, None)
    assert excinfo.value.errors[0]["pointer"] == "#/issuer_org_code"
    with pytest.raises(ValidationFailed):
        letter(world.fund_issuer, "330000")  # a region, not a department
    # A department system issues as its own department without naming it.
    client, _ = api_client(db, world.fund, ["certificates.issue"])
    assert letter(client_actor(client), None).issuer_org_id == world.fund.id


def test_an_enterprise_holds_its_business_licence(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    with pytest.raises(IssuingNotAllowed):  # the platform operator is not an issuer
        actions.issue_certificate(
            db,
            actor=world.admin,
            certificate_type="business-licence",
            holder_key=world.enterprise_uscc,
            claims={},
            keys=keys,
            settings=settings,
        )
    client, _ = api_client(db, world.departments["market"], ["certificates.issue"])
    licence = actions.issue_certificate(
        db,
        actor=client_actor(client),
        certificate_type="business-licence",
        holder_key=world.enterprise_uscc.lower(),
        claims={
            "enterprise_type": "有限责任公司（自然人投资或控股）",
            "legal_representative": "陈建国",
            "registered_capital": "100",
            "established_on": "2021-03-01",
            "address": "浙江省杭州市西湖区文三路90号",
            "business_scope": "一般项目：技术服务、技术开发",
            "registration_authority": "杭州市西湖区市场监督管理局",
        },
        keys=keys,
        settings=settings,
    )
    assert (licence.holder_kind, licence.holder_key, licence.holder_name) == (
        "enterprise",
        world.enterprise_uscc,
        "杭州零跑科技有限公司",
    )
    assert sdjwt.disclosures(licence.token)["holder_id"] == world.enterprise_uscc
    events = list_events_for_subject(db, subject_type="enterprise", subject_id=world.enterprise_uscc)
    assert [e.action for e in events] == ["certificates.certificate.issued"]


# -- refusals ----------------------------------------------------------------------------------------------


def test_issuing_is_refused_outside_the_issuing_department(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    for actor in (world.fund_issuer, world.land_issuer, world.civil_steward, world.citizen(world.wife)):
        with pytest.raises(IssuingNotAllowed):
            marriage(db, world, keys, settings, actor=actor)
    other, _ = api_client(db, world.departments["land"], ["certificates.issue"])
    with pytest.raises(IssuingNotAllowed):
        marriage(db, world, keys, settings, actor=client_actor(other))
    unscoped, _ = api_client(db, world.departments["civil"], [])
    with pytest.raises(ScopeNotGranted):
        marriage(db, world, keys, settings, actor=client_actor(unscoped))
    # Naming another department for a type with a fixed issuer does not move it.
    with pytest.raises(IssuingNotAllowed):
        actions.issue_certificate(
            db,
            actor=world.civil_issuer,
            certificate_type="marriage-certificate",
            holder_key=world.wife.resident_id,
            claims=MARRIAGE | {"spouse_id": world.husband.resident_id},
            keys=keys,
            settings=settings,
            issuer_org_code="330100-fund",
        )
    assert db.scalar(select(Certificate.id)) is None
    assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == actions.ISSUED)) is None


def test_values_and_holders_are_checked_and_named(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    def issue(holder_key: str, claims: dict[str, object]) -> Certificate:
        return actions.issue_certificate(
            db,
            actor=world.civil_issuer,
            certificate_type="marriage-certificate",
            holder_key=holder_key,
            claims=claims,
            keys=keys,
            settings=settings,
        )

    good = MARRIAGE | {"spouse_id": world.husband.resident_id}
    wrong_check = world.husband.resident_id[:-1] + ("1" if world.husband.resident_id[-1] != "1" else "2")
    with pytest.raises(ValidationFailed) as excinfo:
        issue(world.wife.resident_id, good | {"spouse_id": wrong_check, "registered_on": "2019-13-01"})
    assert {e["pointer"] for e in excinfo.value.errors} == {"#/claims/spouse_id", "#/claims/registered_on"}
    with pytest.raises(ValidationFailed) as excinfo:
        issue(wrong_check, good)
    assert excinfo.value.errors[0]["pointer"] == "#/holder_key"
    unregistered = make_resident_id(
        division_code="110105", birth_date=date(1990, 1, 1), sequence=3, sex="male"
    )
    with pytest.raises(ValidationFailed) as excinfo:
        issue(unregistered, good)
    assert "no registered person" in excinfo.value.errors[0]["detail"]
    with pytest.raises(CertificateTypeNotFound):
        actions.issue_certificate(
            db,
            actor=world.civil_issuer,
            certificate_type="divorce-certificate",
            holder_key=world.wife.resident_id,
            claims=good,
            keys=keys,
            settings=settings,
        )


# -- numbers and status entries ----------------------------------------------------------------------------


def test_numbers_are_unique_and_entries_are_random_in_the_newest_list(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    issued = [marriage(db, world, keys, settings) for _ in range(12)]
    assert len({c.number for c in issued}) == 12
    assert all(numbers.is_valid_certificate_number(c.number) for c in issued)
    assert len({c.status_list_id for c in issued}) == 1
    indices = [c.status_index for c in issued]
    assert len(set(indices)) == 12
    assert indices != sorted(indices)  # drawn at random, not handed out in order
    status_list = db.get(StatusList, issued[0].status_list_id)
    assert status_list is not None
    assert (status_list.size, status_list.bits) == (settings.certificates.status_list_size, 2)
    assert status_entries.used_by_list(db, [status_list.id]) == {status_list.id: 12}
    # Counted over several shard rows (twelve issues all on one of 32 shards: odds of 32**-11).
    shards = db.scalars(select(StatusListUsage.shard).where(StatusListUsage.list_id == status_list.id)).all()
    assert 1 < len(shards) <= status_entries.USAGE_SHARDS


def test_a_full_list_starts_a_new_one_and_a_nearly_full_one_is_filled(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    first = marriage(db, world, keys, settings)
    size = settings.certificates.status_list_size
    # Nearly full (past the random-draw threshold): a free index is picked from what is left.
    status_entries.count_used(db, {first.status_list_id: size - 2})  # with ``first``: size - 1 used
    second = marriage(db, world, keys, settings)
    assert second.status_list_id == first.status_list_id
    assert second.status_index != first.status_index
    # Full: a new list.
    assert status_entries.used_by_list(db, [first.status_list_id]) == {first.status_list_id: size}
    third = marriage(db, world, keys, settings)
    assert third.status_list_id > first.status_list_id
    assert segment(third.token, 1)["status"] == {
        "status_list": {
            "idx": third.status_index,
            "uri": urls.status_list_uri(settings.web.public_url, third.status_list_id),
        }
    }


def test_certificates_with_a_validity_expire_and_verify_as_expired(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    at = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    with clock.frozen(at):
        proof = actions.issue_no_real_estate_proof(
            db, actor=world.citizen(world.wife), keys=keys, settings=settings
        ).raise_for_refusal()
    assert proof.valid_until == at + timedelta(days=30)
    assert segment(proof.token, 1)["exp"] == int((at + timedelta(days=30)).timestamp())
    trust = trust_of(db, keys, settings)
    later = verify.verify_token(
        proof.token, trust=trust, status=None, now=at + timedelta(days=31), presentation_ttl_seconds=300
    )
    assert later.code == "expired"


# -- the no-real-estate proof (无房证明) -------------------------------------------------------------------


def test_a_citizen_gets_a_proof_when_the_register_holds_nothing_and_sees_the_check(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    wife = world.citizen(world.wife)
    outcome = actions.issue_no_real_estate_proof(db, actor=wife, keys=keys, settings=settings)
    proof = outcome.raise_for_refusal()
    assert proof.issuer_org_id == world.departments["land"].id
    assert (proof.holder_key, proof.source, proof.source_ref) == (
        world.wife.resident_id,
        "context",
        "citizen self-service",
    )
    payload = segment(proof.token, 1)
    # What was searched and when is signed in the open; the result is the holder's to show.
    assert payload["scope"] == actions.REAL_ESTATE_SCOPE
    assert sdjwt.disclosures(proof.token)["result"] == "无不动产登记记录"
    uses = uselog.list_data_uses(db, actor=wife)
    assert len(uses) == 1
    assert (uses[0].kind, uses[0].resource_code, uses[0].purpose) == (
        "checked",
        actions.REAL_ESTATE_RESOURCE,
        actions.REAL_ESTATE_PURPOSE,
    )
    assert uses[0].consumer_name == actions.GATEWAY_CLIENT_NAME
    assert uses[0].on_behalf_of == wife.principal


def test_no_proof_when_the_register_holds_a_title_and_the_check_is_still_recorded(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    owner = world.citizen(world.owner)
    outcome = actions.issue_no_real_estate_proof(db, actor=owner, keys=keys, settings=settings)
    assert outcome.certificate is None
    with pytest.raises(RealEstateOnRecord):
        outcome.raise_for_refusal()
    assert db.scalar(select(Certificate.id)) is None
    checks = [
        e
        for e in list_events_for_subject(db, subject_type="person", subject_id=world.owner.resident_id)
        if e.action == "datahub.record.checked"
    ]
    assert len(checks) == 1 and checks[0].data["answer"] is True
    assert [u.kind for u in uselog.list_data_uses(db, actor=owner)] == ["checked"]


def test_who_may_ask_for_a_proof(db: Session, world: CertWorld, keys: KeyStore, settings: Settings) -> None:
    with pytest.raises(NotYourRecord):
        actions.issue_no_real_estate_proof(
            db,
            actor=world.citizen(world.wife),
            keys=keys,
            settings=settings,
            resident_id=world.husband.resident_id,
        )
    with pytest.raises(IssuingNotAllowed):
        actions.issue_no_real_estate_proof(
            db, actor=world.civil_issuer, keys=keys, settings=settings, resident_id=world.husband.resident_id
        )
    with pytest.raises(ValidationFailed):
        actions.issue_no_real_estate_proof(db, actor=world.land_issuer, keys=keys, settings=settings)
    # Nothing was asked of the register by those refused.
    assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "datahub.record.checked")) is None
    proof = actions.issue_no_real_estate_proof(
        db, actor=world.land_issuer, keys=keys, settings=settings, resident_id=world.husband.resident_id
    ).raise_for_refusal()
    assert (proof.holder_name, proof.source) == ("陈建国", "staff")


def test_without_a_live_grant_the_proof_is_not_issued(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    for grant in db.scalars(select(Grant)):
        sharing.revoke_grant(db, actor=world.admin, grant_id=grant.id, reason="test")
    with pytest.raises(GatewayConsumerMissing):
        actions.issue_no_real_estate_proof(db, actor=world.citizen(world.wife), keys=keys, settings=settings)


def test_a_clash_on_a_status_entry_is_redrawn(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = marriage(db, world, keys, settings)
    # Another transaction drew the same entry: the first draw hits the unique constraint, the next is free.
    draws = iter([first.status_index, (first.status_index + 1) % settings.certificates.status_list_size])
    monkeypatch.setattr(status_entries, "secrets", SimpleNamespace(randbelow=lambda _n: next(draws)))
    second = marriage(db, world, keys, settings)
    assert second.status_list_id == first.status_list_id
    assert second.status_index == (first.status_index + 1) % settings.certificates.status_list_size
    assert db.scalar(select(func.count()).select_from(Certificate)) == 2
    issued = db.scalar(select(func.count()).where(AuditEvent.action == actions.ISSUED))
    assert issued == 2  # the undone attempt left no event behind
