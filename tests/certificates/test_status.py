"""Suspension, reinstatement and revocation: the published status list, online verdicts, the audit trail,
and key rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.audit.queries import list_events_for_subject
from zerotrip.certificates import actions, queries, sdjwt, signing, statuslist, verify
from zerotrip.certificates.errors import (
    CertificateNotFound,
    CertificateRevoked,
    CertificateStatusConflict,
    IssuingNotAllowed,
    StatusListNotFound,
)
from zerotrip.certificates.models import Certificate, StatusList
from zerotrip.certificates.trust import TrustList
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity.actor import ANONYMOUS
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

from .conftest import CertWorld, api_client, client_actor, marriage

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def trust_of(db: Session, keys: KeyStore, settings: Settings) -> TrustList:
    return TrustList.from_jwks(queries.trust_list_jwks(db, keys=keys, settings=settings))


def published(
    db: Session, keys: KeyStore, settings: Settings, list_id: int, cache: queries.PublishedCache | None = None
) -> statuslist.StatusListToken:
    """The status list as a verifier gets it: signed, then checked against the trust list."""
    token = queries.status_list_token(
        db, list_id=list_id, keys=keys, settings=settings, now=clock.now(), cache=cache
    )
    return statuslist.read_status_list_token(token, trust=trust_of(db, keys, settings), now=clock.now())


def online(db: Session, keys: KeyStore, settings: Settings, token: str, **kwargs: object) -> verify.Verdict:
    return actions.verify_online(
        db,
        actor=kwargs.pop("actor", ANONYMOUS),  # type: ignore[arg-type]
        token=token,
        keys=keys,
        settings=settings,
        now=clock.now(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_suspend_reinstate_revoke_show_in_the_list_and_in_online_verdicts(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    with clock.frozen(NOW):
        certificate = marriage(db, world, keys, settings)
        bystander = marriage(db, world, keys, settings)
        idx, list_id = certificate.status_index, certificate.status_list_id
        assert published(db, keys, settings, list_id).status(idx) == statuslist.VALID
        assert online(db, keys, settings, certificate.token).code == "valid"

        actions.suspend_certificate(
            db, actor=world.civil_issuer, number=certificate.number, reason="核查登记信息"
        )
        assert certificate.status == "suspended"
        status_list = published(db, keys, settings, list_id)
        assert status_list.status(idx) == statuslist.SUSPENDED
        assert status_list.status(bystander.status_index) == statuslist.VALID
        assert status_list.uri == f"{settings.web.public_url}/api/certificates/status-lists/{list_id}"
        assert status_list.ttl_seconds == settings.certificates.status_list_ttl_seconds
        verdict = online(db, keys, settings, certificate.token)
        assert (verdict.ok, verdict.code) == (False, "suspended")

        actions.reinstate_certificate(
            db, actor=world.civil_issuer, number=certificate.number, reason="核查无误"
        )
        assert published(db, keys, settings, list_id).status(idx) == statuslist.VALID
        assert online(db, keys, settings, certificate.token).code == "valid"

        actions.revoke_certificate(
            db, actor=world.civil_issuer, number=certificate.number, reason="登记错误，已更正"
        )
        assert published(db, keys, settings, list_id).status(idx) == statuslist.INVALID
        verdict = online(db, keys, settings, certificate.token)
        assert (verdict.ok, verdict.code) == (False, "revoked")
        assert "revoked" in verdict.detail
        assert online(db, keys, settings, bystander.token).code == "valid"

    events = [
        e
        for e in reversed(
            list_events_for_subject(db, subject_type="person", subject_id=world.wife.resident_id)
        )
        if e.data.get("number") == certificate.number and e.action != actions.VERIFIED
    ]
    assert [(e.action, e.data.get("reason")) for e in events] == [
        ("certificates.certificate.issued", None),
        ("certificates.certificate.suspended", "核查登记信息"),
        ("certificates.certificate.reinstated", "核查无误"),
        ("certificates.certificate.revoked", "登记错误，已更正"),
    ]
    assert all(e.actor == world.civil_issuer.principal for e in events)


def test_revocation_is_final_and_status_changes_need_a_reason_and_the_issuer(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    number = certificate.number
    with pytest.raises(ValidationFailed):
        actions.revoke_certificate(db, actor=world.civil_issuer, number=number, reason="  ")
    for actor in (world.land_issuer, world.civil_steward, world.citizen(world.wife)):
        with pytest.raises(IssuingNotAllowed):
            actions.suspend_certificate(db, actor=actor, number=number, reason="x")
    other, _ = api_client(db, world.departments["land"], ["certificates.issue"])
    with pytest.raises(IssuingNotAllowed):
        actions.revoke_certificate(db, actor=client_actor(other), number=number, reason="x")
    with pytest.raises(CertificateStatusConflict):
        actions.reinstate_certificate(db, actor=world.civil_issuer, number=number, reason="x")
    with pytest.raises(CertificateNotFound):
        actions.revoke_certificate(db, actor=world.civil_issuer, number=number[:-1] + "0", reason="x")

    own, _ = api_client(db, world.departments["civil"], ["certificates.issue"])
    actions.suspend_certificate(db, actor=client_actor(own), number=number, reason="暂停")
    with pytest.raises(CertificateStatusConflict):
        actions.suspend_certificate(db, actor=world.civil_issuer, number=number, reason="again")
    actions.revoke_certificate(db, actor=world.civil_issuer, number=number.lower(), reason="吊销")
    for change in (actions.suspend_certificate, actions.reinstate_certificate, actions.revoke_certificate):
        with pytest.raises(CertificateRevoked):
            change(db, actor=world.civil_issuer, number=number, reason="x")
    assert (certificate.status, certificate.status_reason) == ("revoked", "吊销")


def test_the_status_list_is_cached_until_it_moves_even_when_the_clock_stands_still(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    cache = queries.PublishedCache()
    with clock.frozen(NOW) as frozen:
        certificate = marriage(db, world, keys, settings)
        list_id = certificate.status_list_id
        first = queries.status_list_token(
            db, list_id=list_id, keys=keys, settings=settings, now=NOW, cache=cache
        )
        again = queries.status_list_token(
            db, list_id=list_id, keys=keys, settings=settings, now=NOW, cache=cache
        )
        assert again == first  # not signed again (ECDSA signatures differ each time)
        before = db.get(StatusList, list_id)
        assert before is not None
        stamp = before.updated_at
        actions.suspend_certificate(db, actor=world.civil_issuer, number=certificate.number, reason="x")
        assert before.updated_at > stamp  # moved although no time passed
        moved = queries.status_list_token(
            db, list_id=list_id, keys=keys, settings=settings, now=NOW, cache=cache
        )
        assert moved != first
        assert (
            published(db, keys, settings, list_id, cache).status(certificate.status_index)
            == statuslist.SUSPENDED
        )
        # A cached token is signed again once half its ttl has passed, so verifiers never get a stale one.
        frozen.advance(timedelta(seconds=settings.certificates.status_list_ttl_seconds))
        later = queries.status_list_token(
            db, list_id=list_id, keys=keys, settings=settings, now=clock.now(), cache=cache
        )
        assert later != moved
    with pytest.raises(StatusListNotFound):
        queries.status_list_token(db, list_id=list_id + 99, keys=keys, settings=settings, now=NOW)


def test_every_online_verification_is_audited_with_its_result(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    assert online(db, keys, settings, certificate.token).code == "valid"
    tampered = certificate.token.replace(
        certificate.token.split("~")[1], sdjwt.make_disclosure("spouse_name", "某某")
    )
    assert online(db, keys, settings, tampered, actor=world.fund_issuer).code == "tampered_disclosure"
    assert online(db, keys, settings, "not a certificate").code == "malformed"
    db.flush()
    events = list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == actions.VERIFIED).order_by(AuditEvent.id))
    )
    assert [(e.actor, e.data["result"]) for e in events] == [
        ("anonymous", "valid"),
        (world.fund_issuer.principal, "tampered_disclosure"),
        ("anonymous", "malformed"),
    ]
    # A verification of one of this platform's certificates is an event about its holder.
    assert (events[0].subject_type, events[0].subject_id) == ("person", world.wife.resident_id)
    assert events[0].data["number"] == certificate.number
    assert events[2].subject_type == "certificate"


def test_a_status_list_elsewhere_is_unavailable_online(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    foreign = settings.model_copy(
        update={"web": settings.web.model_copy(update={"public_url": "https://elsewhere.example.org"})}
    )
    # The same keys, signing as another deployment would name itself: its status list is not ours.
    certificate = marriage(db, world, keys, foreign)
    trust = TrustList.from_jwks(queries.trust_list_jwks(db, keys=keys, settings=foreign))
    cache = queries.PublishedCache()
    cache.keep_trust_list(trust)
    verdict = online(db, keys, settings, certificate.token, cache=cache)
    assert verdict.code == "status_unavailable"


def test_after_a_rotation_old_certificates_still_verify_and_new_ones_use_the_new_key(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    cache = queries.PublishedCache()
    old = marriage(db, world, keys, settings)
    assert online(db, keys, settings, old.token, cache=cache).code == "valid"  # fills the cache
    civil = world.departments["civil"]
    new_key = signing.rotate_issuer_key(keys, civil.id, algorithm=settings.certificates.algorithm)
    new = marriage(db, world, keys, settings)
    assert (new.kid, old.kid != new.kid) == (new_key.kid, True)
    jwks = queries.trust_list_jwks(db, keys=keys, settings=settings)
    civil_kids = {k["kid"] for k in jwks["keys"] if k["name"] == civil.name}
    assert {old.kid, new.kid} <= civil_kids
    # The cached trust list predates the new key; a certificate it really signed makes it reload.
    assert online(db, keys, settings, new.token, cache=cache).code == "valid"
    assert online(db, keys, settings, old.token, cache=cache).code == "valid"
    actions.revoke_certificate(db, actor=world.civil_issuer, number=old.number, reason="换发新证")
    assert online(db, keys, settings, old.token, cache=cache).code == "revoked"


def test_a_forged_kid_does_not_reload_the_trust_list(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings, tmp_path: object
) -> None:
    certificate = marriage(db, world, keys, settings)
    cache = queries.PublishedCache()
    assert online(db, keys, settings, certificate.token, cache=cache).code == "valid"
    kept = cache.trust_list()
    stranger = KeyStore(tmp_path)  # type: ignore[arg-type]
    forged_key = signing.issuer_signing_key(stranger, world.departments["civil"].id, algorithm="ES256")
    payload = sdjwt.parse(certificate.token).payload
    claims = {k: v for k, v in payload.items() if k not in ("_sd", "_sd_alg", "cnf")}
    forged = sdjwt.issue(
        key=forged_key, claims=claims, disclosable={"holder_name": "冒名"}, holder_public_jwk=None
    )
    assert online(db, keys, settings, forged, cache=cache).code == "unknown_issuer"
    assert cache.trust_list() is kept


def test_status_at_reads_the_certificates(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    list_id = certificate.status_list_id
    free = (certificate.status_index + 1) % settings.certificates.status_list_size
    assert db.scalar(select(Certificate.id).where(Certificate.status_index == free)) is None
    assert queries.status_at(db, list_id=list_id, index=free) == statuslist.VALID
    with pytest.raises(verify.StatusUnavailable):
        queries.status_at(db, list_id=list_id, index=settings.certificates.status_list_size)
    with pytest.raises(verify.StatusUnavailable):
        queries.status_at(db, list_id=list_id + 5, index=0)
