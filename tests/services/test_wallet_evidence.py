"""E-certificate materials from the applicant's wallet: listed in the preview without being read, attached
on consent (verified, in the holder's use record, audited, the form prefilled), the upload path without a
valid certificate or when declined, revoked certificates refused, another person's never attached; and the
same through the API with problem+json."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.certificates import grants
from zerotrip.certificates.errors import CertificateNotFound, CertificateRevoked
from zerotrip.certificates.online import VERIFIED
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.keys import KeyStore
from zerotrip.services import application_queries, applying, uploads, wallet_evidence
from zerotrip.services.errors import EvidenceIncomplete
from zerotrip.services.evidence import CONSUMER_NAME
from zerotrip.services.models import Application

from .apply_world import ApplyWorld, Citizen
from .wallet_world import ITEM, WalletWorld, build_wallet_world
from .world import sign_in_api

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BASE = "/api/services/applications"


@pytest.fixture
def wallet_world(db: Session, apply_world: ApplyWorld, keys: KeyStore, settings: Settings) -> WalletWorld:
    return build_wallet_world(db, apply_world, keys, settings)


def holder_actions(db: Session, citizen: Citizen) -> list[str]:
    """The certificates context's events about the citizen, newest first."""
    return [
        e.action
        for e in list_events_for_subject(db, subject_type="person", subject_id=citizen.resident_id)
        if e.action.startswith("certificates.")
    ]


def start(db: Session, citizen: Citizen) -> Application:
    return applying.start_application(db, actor=citizen.actor, item_code=ITEM)


def consent(
    db: Session, w: WalletWorld, citizen: Citizen, number: str, keys: KeyStore, **chosen: str
) -> Application:
    access = wallet_evidence.WalletAccess(
        keys=keys, settings=w.apply.settings, chosen={int(k[1:]): v for k, v in chosen.items()}
    )
    return applying.consent_and_fetch(
        db, actor=citizen.actor, number=number, settings=w.apply.settings.services, wallet=access
    )


def test_the_preview_lists_the_applicants_certificates_and_reads_none(
    db: Session, wallet_world: WalletWorld
) -> None:
    renter = wallet_world.apply.renter
    draft = start(db, renter)
    preview = applying.preview_evidence(
        db, actor=renter.actor, number=draft.number, settings=wallet_world.apply.settings.services
    )
    material = preview.materials[0]
    assert (material.source_kind, material.resource_title, material.department) == (
        "certificate",
        "结婚证",
        "浙江省民政厅",
    )
    assert [f.title for f in material.fields] == ["配偶姓名", "登记日期"]
    assert material.is_available and material.suggested_certificate == wallet_world.renter_certificate
    (offered,) = material.certificates
    assert (offered.number, offered.issuer_name, offered.status, offered.is_usable) == (
        wallet_world.renter_certificate,
        "浙江省民政厅",
        "valid",
        True,
    )
    assert offered.issued_at is not None and material.certificate is None
    # Nothing was granted, used or verified by looking.
    assert holder_actions(db, renter) == ["certificates.certificate.issued"]
    # The spouse's certificate (another person's) is never offered to the renter.
    assert wallet_world.spouse_certificate not in {c.number for c in material.certificates}


def test_consent_attaches_the_wallet_certificate_verified_and_recorded(
    db: Session, wallet_world: WalletWorld, keys: KeyStore
) -> None:
    renter = wallet_world.apply.renter
    draft = start(db, renter)
    consent(db, wallet_world, renter, draft.number, keys)
    read = application_queries.application_read(db, draft, actor=renter.actor)
    ev = read.evidence[0]
    assert (ev.state, ev.consent, ev.needs_upload, ev.upload_name) == ("fetched", "given", False, None)
    assert ev.certificate is not None
    assert (ev.certificate.number, ev.certificate.status, ev.certificate.type_name) == (
        wallet_world.renter_certificate,
        "valid",
        "结婚证",
    )
    assert ev.certificate.kid and ev.certificate.issuer_name == "浙江省民政厅"
    assert ev.certificate.values["spouse_name"] == wallet_world.spouse.name
    assert "spouse_id" not in ev.certificate.values  # only the mapped fields and the holder's are used
    # The form is prefilled from the mapped fields, locked, with the certificate and its issue date.
    prefilled = {f.label: f for f in read.form if f.source == "certificate"}
    assert set(prefilled) == {"配偶姓名", "登记日期"}
    assert prefilled["配偶姓名"].value == wallet_world.spouse.name
    assert prefilled["登记日期"].value == "2020-05-20"
    assert all(f.is_locked and f.source_label == "结婚证（浙江省民政厅）" for f in prefilled.values())
    assert all(f.source_date == ev.certificate.issued_at for f in prefilled.values())
    # Audited on the application and under the holder, and in the holder's use record.
    attached = [
        e
        for e in list_events_for_subject(db, subject_type="service_application", subject_id=draft.number)
        if e.action == wallet_evidence.ATTACHED
    ]
    assert len(attached) == 1
    assert attached[0].data["number"] == wallet_world.renter_certificate
    assert attached[0].data["status"] == "valid" and attached[0].data["kid"] == ev.certificate.kid
    assert holder_actions(db, renter)[:3] == [VERIFIED, grants.USED, grants.GRANTED]  # newest first
    page = grants.list_use_grants(db, actor=renter.actor, now=clock.now())
    (grant,) = page.items
    assert (grant.audience, grant.number) == (CONSUMER_NAME, wallet_world.renter_certificate)
    assert [u.used_by for u in grant.uses] == [CONSUMER_NAME]
    assert draft.number in grant.uses[0].reason
    # No upload is asked for the certificate: only the invoice is missing.
    with pytest.raises(EvidenceIncomplete) as missing:
        applying.submit_application(
            db, actor=renter.actor, number=draft.number, keys=keys, settings=wallet_world.apply.settings
        )
    assert [e["pointer"] for e in missing.value.errors] == ["#/materials/1"]
    uploads.attach_upload(
        db,
        actor=renter.actor,
        number=draft.number,
        position=1,
        filename="发票.pdf",
        content=PDF,
        settings=wallet_world.apply.settings,
    )
    submitted = applying.submit_application(
        db, actor=renter.actor, number=draft.number, keys=keys, settings=wallet_world.apply.settings
    )
    assert submitted.status == "submitted"
    # Staff of the department read the attached certificate with the application.
    staff_view = application_queries.get_application(
        db, actor=wallet_world.apply.fund_reviewer, number=draft.number
    )
    shown = application_queries.application_read(db, staff_view, actor=wallet_world.apply.fund_reviewer)
    assert shown.evidence[0].certificate is not None
    assert shown.evidence[0].certificate.number == wallet_world.renter_certificate


def test_without_a_certificate_the_material_is_uploaded(
    db: Session, wallet_world: WalletWorld, keys: KeyStore
) -> None:
    newcomer = wallet_world.apply.newcomer
    draft = start(db, newcomer)
    preview = applying.preview_evidence(
        db, actor=newcomer.actor, number=draft.number, settings=wallet_world.apply.settings.services
    )
    assert preview.materials[0].certificates == [] and not preview.materials[0].is_available
    consent(db, wallet_world, newcomer, draft.number, keys)
    ev = application_queries.application_read(db, draft, actor=newcomer.actor).evidence[0]
    assert (ev.state, ev.needs_upload, ev.certificate) == ("unavailable", True, None)
    assert ev.note == wallet_evidence.NO_CERTIFICATE
    for position in (0, 1):
        uploads.attach_upload(
            db,
            actor=newcomer.actor,
            number=draft.number,
            position=position,
            filename="扫描件.pdf",
            content=PDF,
            settings=wallet_world.apply.settings,
        )
    submitted = applying.submit_application(
        db, actor=newcomer.actor, number=draft.number, keys=keys, settings=wallet_world.apply.settings
    )
    assert submitted.status == "submitted"
    assert holder_actions(db, newcomer) == []


def test_declining_uploads_instead_and_the_certificate_is_not_read(
    db: Session, wallet_world: WalletWorld, keys: KeyStore
) -> None:
    renter = wallet_world.apply.renter
    draft = start(db, renter)
    applying.decline_consent(db, actor=renter.actor, number=draft.number, position=0)
    consent(db, wallet_world, renter, draft.number, keys)  # nothing is left waiting for consent
    read = application_queries.application_read(db, draft, actor=renter.actor)
    ev = read.evidence[0]
    assert (ev.state, ev.consent, ev.needs_upload, ev.certificate) == ("pending", "declined", True, None)
    assert not [f for f in read.form if f.source == "certificate"]
    assert holder_actions(db, renter) == ["certificates.certificate.issued"]
    assert grants.list_use_grants(db, actor=renter.actor, now=clock.now()).total == 0
    actions = [
        e.action
        for e in list_events_for_subject(db, subject_type="service_application", subject_id=draft.number)
    ]
    assert applying.CONSENT_DECLINED in actions and wallet_evidence.ATTACHED not in actions


def test_withdrawing_consent_drops_the_certificate_and_its_fields(
    db: Session, wallet_world: WalletWorld, keys: KeyStore
) -> None:
    renter = wallet_world.apply.renter
    draft = start(db, renter)
    consent(db, wallet_world, renter, draft.number, keys)
    applying.decline_consent(db, actor=renter.actor, number=draft.number, position=0)
    read = application_queries.application_read(db, draft, actor=renter.actor)
    assert (read.evidence[0].certificate, read.evidence[0].needs_upload) == (None, True)
    assert not [f for f in read.form if f.source == "certificate"]


def test_a_revoked_certificate_is_refused_with_its_reason(
    db: Session, wallet_world: WalletWorld, keys: KeyStore
) -> None:
    owner = wallet_world.apply.owner
    draft = start(db, owner)
    material = applying.preview_evidence(
        db, actor=owner.actor, number=draft.number, settings=wallet_world.apply.settings.services
    ).materials[0]
    (offered,) = material.certificates
    assert (offered.status, offered.is_usable, offered.refusal) == (
        "revoked",
        False,
        wallet_evidence.REFUSALS["revoked"],
    )
    assert not material.is_available and material.suggested_certificate is None
    with pytest.raises(CertificateRevoked), db.begin_nested():  # as a request's transaction is undone
        consent(db, wallet_world, owner, draft.number, keys, p0=wallet_world.owner_certificate)
    # Left to the applicant's choice, the revoked one is not used: the material is uploaded.
    consent(db, wallet_world, owner, draft.number, keys)
    ev = application_queries.application_read(db, draft, actor=owner.actor).evidence[0]
    assert (ev.state, ev.needs_upload, ev.note) == ("unavailable", True, wallet_evidence.NONE_VALID)
    assert grants.list_use_grants(db, actor=owner.actor, now=clock.now()).total == 0


def test_another_persons_certificate_is_never_attached(
    db: Session, wallet_world: WalletWorld, keys: KeyStore
) -> None:
    renter, owner = wallet_world.apply.renter, wallet_world.apply.owner
    draft = start(db, renter)
    for other in (wallet_world.spouse_certificate, wallet_world.owner_certificate):
        with pytest.raises(CertificateNotFound), db.begin_nested():
            consent(db, wallet_world, renter, draft.number, keys, p0=other)
    theirs = start(db, owner)
    with pytest.raises(CertificateNotFound), db.begin_nested():
        consent(db, wallet_world, owner, theirs.number, keys, p0=wallet_world.renter_certificate)
    assert grants.list_use_grants(db, actor=renter.actor, now=clock.now()).total == 0
    assert holder_actions(db, wallet_world.spouse) == ["certificates.certificate.issued"]


def test_the_api_attaches_the_chosen_certificate_and_refuses_a_revoked_one(
    client: TestClient, db: Session, wallet_world: WalletWorld
) -> None:
    renter_headers = sign_in_api(client, db, wallet_world.apply.renter.login_name, portal="citizen")
    number = client.post(BASE, json={"item_code": ITEM}, headers=renter_headers).json()["number"]
    preview = client.get(f"{BASE}/{number}/preview").json()["materials"][0]
    assert preview["suggested_certificate"] == wallet_world.renter_certificate
    assert preview["certificates"][0]["issuer_name"] == "浙江省民政厅"
    wrong = client.post(
        f"{BASE}/{number}/consent",
        json={"certificates": {"0": wallet_world.spouse_certificate}},
        headers=renter_headers,
    )
    assert wrong.status_code == 404, wrong.text
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["type"] == "/problems/certificates/certificate-not-found"
    consented = client.post(
        f"{BASE}/{number}/consent",
        json={"certificates": {"0": wallet_world.renter_certificate}},
        headers=renter_headers,
    )
    assert consented.status_code == 200, consented.text
    ev = consented.json()["evidence"][0]
    assert ev["state"] == "fetched" and ev["certificate"]["number"] == wallet_world.renter_certificate
    assert {f["source"] for f in consented.json()["form"]} == {"identity", "certificate"}

    client.cookies.clear()
    owner_headers = sign_in_api(client, db, wallet_world.apply.owner.login_name, portal="citizen")
    theirs = client.post(BASE, json={"item_code": ITEM}, headers=owner_headers).json()["number"]
    revoked = client.post(
        f"{BASE}/{theirs}/consent",
        json={"certificates": {"0": wallet_world.owner_certificate}},
        headers=owner_headers,
    )
    assert revoked.status_code == 409, revoked.text
    assert revoked.json()["type"] == "/problems/certificates/certificate-revoked"
    still = client.get(f"{BASE}/{theirs}").json()["evidence"][0]
    assert (still["state"], still["consent"]) == ("pending", None)  # nothing was kept of the refused consent
