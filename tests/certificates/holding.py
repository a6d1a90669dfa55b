"""Certificates held by the test family for the wallet, presentation and use-grant tests: the wife's
marriage certificate, the newborn's birth medical certificate (the parents are linked to the child as in
household registration), the enterprise's business licence (the husband is its legal representative) and
a no-real-estate proof that expires after 30 days."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from zerotrip.certificates import actions, queries, urls, verify
from zerotrip.certificates.models import Certificate
from zerotrip.certificates.trust import TrustList
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity import actions as identity_actions
from zerotrip.keys import KeyStore

from .conftest import ROOT, CertWorld, marriage

# Issue times a minute apart, so "newest first" is decided by the clock.
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@dataclass
class Held:
    marriage: Certificate  # the wife's
    birth: Certificate  # the child's
    licence: Certificate  # the enterprise's
    proof: Certificate  # the wife's no-real-estate proof, valid for 30 days


def birth_claims(world: CertWorld) -> dict[str, object]:
    return {
        "certificate_no": "R330106-2026-08-0042",
        "sex": "女",
        "birth_date": "2026-08-20",
        "birth_time": "08:42",
        "birth_place": "浙江省杭州市西湖区",
        "gestational_weeks": 39,
        "weight_g": 3350,
        "length_cm": 50,
        "mother_name": world.wife.name,
        "mother_id": world.wife.resident_id,
        "father_name": world.husband.name,
        "father_id": world.husband.resident_id,
        "hospital": "浙江大学医学院附属妇产科医院",
    }


LICENCE = {
    "enterprise_type": "有限责任公司（自然人投资或控股）",
    "legal_representative": "陈建国",
    "registered_capital": "100",
    "established_on": "2021-03-15",
    "address": "浙江省杭州市西湖区文三路 90 号",
    "business_scope": "软件开发；信息技术咨询服务",
    "registration_authority": "杭州市西湖区市场监督管理局",
}


def hold(db: Session, world: CertWorld, keys: KeyStore, settings: Settings) -> Held:
    """Issue the family's certificates a minute apart from NOW (marriage oldest, proof newest) and record
    the child as the parents' child."""
    for parent in (world.husband, world.wife):
        identity_actions.link_relatives(
            db, actor=ROOT, person_id=parent.id, relative_id=world.child.id, kind="child"
        )
    with clock.frozen(NOW) as frozen:
        wed = marriage(db, world, keys, settings)
        frozen.advance(timedelta(minutes=1))
        birth = actions.issue_certificate(
            db,
            actor=ROOT,
            certificate_type="birth-medical-certificate",
            holder_key=world.child.resident_id,
            claims=birth_claims(world),
            keys=keys,
            settings=settings,
            source_ref="test",
        )
        frozen.advance(timedelta(minutes=1))
        licence = actions.issue_certificate(
            db,
            actor=ROOT,
            certificate_type="business-licence",
            holder_key=world.enterprise_uscc,
            claims=LICENCE,
            keys=keys,
            settings=settings,
            source_ref="test",
        )
        frozen.advance(timedelta(minutes=1))
        proof = actions.issue_no_real_estate_proof(
            db, actor=world.citizen(world.wife), keys=keys, settings=settings
        ).raise_for_refusal()
    db.flush()
    return Held(marriage=wed, birth=birth, licence=licence, proof=proof)


def held_family(db: Session, world: CertWorld, keys: KeyStore, settings: Settings) -> Iterator[Held]:
    """``hold``, for a fixture to ``yield from``: the clock stays ten minutes after NOW until the test ends,
    so what was issued at NOW is judged at a fixed time, not on the real date (the no-real-estate proof
    is valid for days, and would expire under a test run weeks later)."""
    with clock.frozen(NOW + timedelta(minutes=10)):
        yield hold(db, world, keys, settings)


def trust_of(db: Session, keys: KeyStore, settings: Settings) -> TrustList:
    return TrustList.from_jwks(queries.trust_list_jwks(db, keys=keys, settings=settings))


def status_lookup(db: Session, settings: Settings) -> Callable[[str, int], int]:
    """The certificates' status from this platform's records, as online verification reads it."""

    def lookup(uri: str, index: int) -> int:
        list_id = urls.parse_status_list_uri(settings.web.public_url, uri)
        assert list_id is not None
        return queries.status_at(db, list_id=list_id, index=index)

    return lookup


def verify_presentation(
    db: Session,
    keys: KeyStore,
    settings: Settings,
    token: str,
    *,
    now: datetime,
    audience: str | None = None,
) -> verify.Verdict:
    return verify.verify_token(
        token,
        trust=trust_of(db, keys, settings),
        status=status_lookup(db, settings),
        now=now,
        presentation_ttl_seconds=settings.certificates.presentation_ttl_seconds,
        require_key_binding=True,
        expected_audience=audience,
    )
