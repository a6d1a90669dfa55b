"""The record lookup (随身查) and the COVID-19 vaccination certificate, both from the health department's
vaccination records in datahub, which the doses sites record are pushed to.

The lookup reads the person's doses through the gateway as the booking system, for the person who asks
(audited under the person, so it shows in their data-use log), and lists their bookings beside them. The
certificate (``covid-vaccination``, issued by the health commission through the certificates context)
states the COVID-19 doses the records hold: recording a COVID-19 dose issues a new one and revokes the
earlier ones as superseded, and a resident may obtain theirs at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.booking import sources
from zerotrip.booking.errors import NoDosesRecorded
from zerotrip.booking.products import COVID
from zerotrip.certificates import actions as certificates_actions
from zerotrip.certificates import queries as certificates_queries
from zerotrip.certificates.errors import CertificateTypeNotFound
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor, system
from zerotrip.keys import KeyStore
from zerotrip.problems import Problem

CERTIFICATE_TYPE = "covid-vaccination"
BOOKING = system("booking")


@dataclass(frozen=True)
class Issued:
    """A certificate issued, or why not after the records were read (the edge commits, then raises)."""

    number: str | None
    doses: int
    refusal: Problem | None = None

    def raise_for_refusal(self) -> str:
        if self.refusal is not None:
            raise self.refusal
        assert self.number is not None
        return self.number


def covid_claims(doses: list[sources.DoseRecord]) -> dict[str, Any] | None:
    """The certificate's values from the person's COVID-19 doses (None when there are none): how many,
    the last dose's product, manufacturer and site, the first and last dates."""
    covid = sorted((d for d in doses if d.vaccine_kind == COVID), key=lambda d: (d.dose, d.vaccinated_on))
    if not covid:
        return None
    last = covid[-1]
    return {
        "doses": len(covid),
        "product": last.product,
        "manufacturer": last.manufacturer,
        "first_dose_on": covid[0].vaccinated_on.isoformat(),
        "last_dose_on": last.vaccinated_on.isoformat(),
        "site": last.site,
    }


def issue_covid_certificate(
    db: Session,
    *,
    resident_id: str,
    doses: list[sources.DoseRecord],
    keys: KeyStore,
    settings: Settings,
    source_ref: str,
    now: datetime | None = None,
) -> Issued:
    """Issue the certificate stating ``doses`` to the person, and revoke the valid ones issued before it
    (superseded). The platform issues for the booking context, naming what caused it (``source_ref``: a
    booking number, a resident's request). Issues nothing (``number`` None) when no COVID-19 dose is
    recorded or the deployment's catalogue has no such certificate type."""
    claims = covid_claims(doses)
    if claims is None:
        return Issued(number=None, doses=0, refusal=NoDosesRecorded())
    try:
        earlier, _ = certificates_queries.search_issued(
            db,
            actor=BOOKING,
            certificate_type=CERTIFICATE_TYPE,
            holder_key=resident_id,
            status="valid",
            per_page=100,
        )
        certificate = certificates_actions.issue_certificate(
            db,
            actor=BOOKING,
            certificate_type=CERTIFICATE_TYPE,
            holder_key=resident_id,
            claims=claims,
            keys=keys,
            settings=settings,
            source_ref=source_ref,
        )
    except CertificateTypeNotFound:
        return Issued(number=None, doses=int(claims["doses"]))
    for old in earlier:
        certificates_actions.revoke_certificate(
            db, actor=BOOKING, number=old.number, reason=f"superseded by {certificate.number}"
        )
    return Issued(number=certificate.number, doses=int(claims["doses"]))


def obtain_covid_certificate(
    db: Session, *, actor: Actor, system_actor: Actor, resident_id: str, keys: KeyStore, settings: Settings
) -> Issued:
    """A resident obtains the certificate of the doses the records hold now (for themselves or a person
    they act for, as the caller checked). Returns NoDosesRecorded as the refusal when there are none."""
    doses = sources.read_doses(db, system=system_actor, resident_id=resident_id, on_behalf_of=actor.principal)
    return issue_covid_certificate(
        db,
        resident_id=resident_id,
        doses=doses,
        keys=keys,
        settings=settings,
        source_ref=f"resident request {clock.now().astimezone(clock.CHINA):%Y-%m-%d}",
    )
