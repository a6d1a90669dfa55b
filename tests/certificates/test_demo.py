"""The demo seed's certificates: issued through the real actions, agreeing with the departments' records,
and valid when verified online."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.certificates import actions, queries
from zerotrip.certificates.models import Certificate, CertificateType
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.datahub.models import Record, Resource
from zerotrip.demo.people import plan_population
from zerotrip.demo.seed import seed_demo
from zerotrip.identity.actor import ANONYMOUS
from zerotrip.keys import KeyStore


def test_the_demo_family_holds_certificates_that_match_the_registers_and_verify(
    db: Session, keys: KeyStore, settings: Settings
) -> None:
    logins = seed_demo(db, keys=keys, settings=settings, citizens=60, seed=7)
    plan = plan_population(citizens=60, seed=7)
    family = plan.households[0]
    father, mother, newborn = (
        plan.people[i] for i in (family.members[0], family.members[1], family.members[-1])
    )
    rows = db.execute(
        select(CertificateType.code, Certificate).join(
            CertificateType, CertificateType.id == Certificate.type_id
        )
    ).all()
    assert logins.counts["certificates"] == len(rows) >= 12
    held: dict[str, set[str]] = {}
    for code, certificate in rows:
        held.setdefault(certificate.holder_key, set()).add(code)
    assert held[mother.resident_id] >= {
        "household-register-extract",
        "marriage-certificate",
        "social-security-card",
        "decision-letter",
        "no-real-estate",
    }
    assert held[father.resident_id] >= {"household-register-extract", "marriage-certificate"}
    assert held[newborn.resident_id] == {"birth-medical-certificate", "household-register-extract"}
    assert "business-licence" in held[plan.enterprises[0].uscc]

    # The birth medical certificate says what the birth register says.
    birth = next(c for code, c in rows if code == "birth-medical-certificate")
    births = db.scalar(select(Resource).where(Resource.code == "330000-health.births"))
    assert births is not None
    record = next(
        r
        for r in db.scalars(
            select(Record).where(Record.resource_id == births.id, Record.subject_key == mother.resident_id)
        )
        if r.data["child_id"] == newborn.resident_id
    )
    assert record is not None
    assert birth.claims["certificate_no"] == record.data["certificate_no"]
    assert birth.claims["mother_id"] == mother.resident_id
    assert birth.holder_name == newborn.name

    cache = queries.PublishedCache()
    for _, certificate in rows:
        verdict = actions.verify_online(
            db,
            actor=ANONYMOUS,
            token=certificate.token,
            keys=keys,
            settings=settings,
            now=clock.now(),
            cache=cache,
        )
        assert verdict.code == "valid", (certificate.number, verdict.detail)
