"""Holders are notified through messaging: of a new certificate (one per certificate, a batch in one go;
not of a decision letter, which the application's decision announces) and of every status change."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.certificates import actions
from zerotrip.config import Settings
from zerotrip.identity.actor import system
from zerotrip.keys import KeyStore
from zerotrip.messaging.models_notifications import Notification

from .conftest import CertWorld, api_client, client_actor, marriage
from .test_actions import LETTER
from .test_batches import CARD, card, register


def told(db: Session, person_id: uuid.UUID) -> list[tuple[str, dict[str, object]]]:
    rows = db.scalars(
        select(Notification).where(Notification.person_id == person_id).order_by(Notification.created_at)
    )
    return [(n.template, n.params) for n in rows]


def test_the_holder_is_told_of_a_new_certificate(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    ((template, params),) = told(db, world.wife.id)
    assert template == "certificates.certificate.issued"
    assert params == {
        "type_name": "结婚证",
        "type_name_en": "Marriage certificate",
        "number": certificate.number,
    }
    notification = db.scalars(select(Notification).where(Notification.person_id == world.wife.id)).one()
    assert notification.link == f"/me/certificates/{certificate.number}"
    assert told(db, world.husband.id) == []


def test_a_batch_tells_each_holder_once(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    holders = register(db, 5)
    client, _ = api_client(db, world.departments["hrss"], ["certificates.issue"])
    outcome = actions.issue_certificates(
        db,
        actor=client_actor(client),
        certificate_type=CARD,
        items=[(h, card(i)) for i, h in enumerate(holders)],
        keys=keys,
        settings=settings,
    )
    numbers = {item.number for item in outcome.issued}
    rows = db.scalars(
        select(Notification).where(Notification.template == "certificates.certificate.issued")
    ).all()
    assert {n.params["number"] for n in rows} == numbers and len(rows) == 5


def test_a_decision_letter_is_not_announced_on_its_own(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    actions.issue_certificate(
        db,
        actor=system("services"),
        certificate_type="decision-letter",
        holder_key=world.wife.resident_id,
        claims=LETTER,
        keys=keys,
        settings=settings,
        issuer_org_code="330100-fund",
        source_ref="ZT2026000001",
    )
    assert told(db, world.wife.id) == []


def test_every_status_change_is_told_with_its_reason(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    number = marriage(db, world, keys, settings).number
    issuer = world.civil_issuer
    actions.suspend_certificate(db, actor=issuer, number=number, reason="登记信息核查中")
    actions.reinstate_certificate(db, actor=issuer, number=number, reason="核查无误")
    actions.suspend_certificate(db, actor=issuer, number=number, reason="再次核查")
    actions.revoke_certificate(db, actor=issuer, number=number, reason="登记错误，已撤销登记")
    changes = [(t.rsplit(".", 1)[1], p.get("reason")) for t, p in told(db, world.wife.id)]
    assert changes == [
        ("issued", None),
        ("suspended", "登记信息核查中"),
        ("reinstated", "核查无误"),
        ("suspended", "再次核查"),  # a second suspension is a second notification
        ("revoked", "登记错误，已撤销登记"),
    ]


def test_an_enterprises_legal_representative_is_told(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    client, _ = api_client(db, world.departments["market"], ["certificates.issue"])
    licence = actions.issue_certificate(
        db,
        actor=client_actor(client),
        certificate_type="business-licence",
        holder_key=world.enterprise_uscc,
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
    assert told(db, world.husband.id) == [
        (
            "certificates.certificate.issued",
            {"type_name": "营业执照", "type_name_en": "Business licence", "number": licence.number},
        )
    ]
