"""Demo e-certificates: the type catalogue and certificates for the demo family and a demo enterprise.

Everything goes through ``certificates.actions`` (``issue_certificate``, the no-real-estate proof through
the datahub gateway), so the demo's certificates are signed, numbered, audited and listed in the status
lists exactly as real ones. The values come from the departments' demo datasets, so a certificate agrees
with the record the department holds: the newborn's birth medical certificate with the birth register,
the parents' marriage certificate with the marriage register, and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.certificates import actions
from zerotrip.certificates.types import DECISION_LETTER, define_demo_types
from zerotrip.config import Settings
from zerotrip.demo.datasets import Dataset, Row
from zerotrip.demo.people import REFERENCE_DATE, PersonPlan, PopulationPlan
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore

Progress = Callable[[str, int, int], None]
SOURCE = "demo seed"
COVID = "新冠病毒疫苗"


def build_demo_certificates(
    db: Session,
    *,
    actor: Actor,
    plan: PopulationPlan,
    datasets: Sequence[Dataset],
    keys: KeyStore,
    settings: Settings,
    progress: Progress | None = None,
) -> int:
    """Define the demo types, set up the certificates system as a gateway consumer of the real-estate
    register, and issue the demo certificates. ``actor`` is the platform (the seed). Returns how many
    certificates were issued."""
    define_demo_types(db, actor=actor)
    actions.set_up_gateway_consumer(db, actor=actor, settings=settings.datahub)
    rows = {d.spec.code: d.rows for d in datasets}
    family = plan.households[0]
    father, mother, newborn = (
        plan.people[i] for i in (family.members[0], family.members[1], family.members[-1])
    )
    issued = 0

    def issue(certificate_type: str, holder_key: str, claims: dict[str, Any], **extra: Any) -> None:
        nonlocal issued
        actions.issue_certificate(
            db,
            actor=actor,
            certificate_type=certificate_type,
            holder_key=holder_key,
            claims=claims,
            keys=keys,
            settings=settings,
            source_ref=extra.pop("source_ref", SOURCE),
            **extra,
        )
        issued += 1
        if progress is not None:
            progress("certificates", issued, issued)

    birth = _one(rows["330000-health.births"], child_id=newborn.resident_id)
    issue("birth-medical-certificate", newborn.resident_id, _birth_claims(birth))
    for person in (father, mother, newborn):
        entry = _one(rows["330000-psb.household"], resident_id=person.resident_id)
        issue("household-register-extract", person.resident_id, _pick(entry, _HOUSEHOLD))
    for person in (father, mother):
        marriage = _one(rows["330000-civil.marriages"], resident_id=person.resident_id)
        issue("marriage-certificate", person.resident_id, _pick(marriage, _MARRIAGE))
        doses = [
            r
            for r in rows["330000-health.vaccinations"]
            if r["resident_id"] == person.resident_id and r["vaccine_kind"] == COVID
        ]
        if doses:
            issue("covid-vaccination", person.resident_id, _vaccination_claims(doses))
        insured = [r for r in rows["330000-hrss.social-insurance"] if r["resident_id"] == person.resident_id]
        issue("social-security-card", person.resident_id, _card_claims(person, insured))
    if plan.enterprises:
        enterprise = plan.enterprises[0]
        licence = _one(rows["330000-market.enterprises"], uscc=enterprise.uscc)
        issue("business-licence", enterprise.uscc, _pick(licence, _LICENCE))
    titles = rows["330000-land.real-estate"]
    if titles:
        title = titles[0]
        issue("real-estate-title", str(title["holder_id"]), _pick(title, _TITLE))
    issue(
        DECISION_LETTER,
        mother.resident_id,
        {
            "application_no": "DEMO00000001",
            "service_item": "住房公积金提取（租赁住房）",
            "decision": "准予许可",
            "decision_text": "经审核，准予提取住房公积金，款项将于三个工作日内转入本人账户。",
            "decided_on": REFERENCE_DATE.isoformat(),  # fixed, so a seed always gives the same values
        },
        issuer_org_code="330100-fund",
        source_ref="DEMO00000001",
    )
    # The family rents: the register holds nothing for the mother, so her proof is issued.
    actions.issue_no_real_estate_proof(
        db, actor=actor, keys=keys, settings=settings, resident_id=mother.resident_id, source_ref=SOURCE
    ).raise_for_refusal()
    issued += 1
    if progress is not None:
        progress("certificates", issued, issued)
    return issued


_HOUSEHOLD = ("household_no", "relation_to_head", "sex", "birth_date", "address", "division_code")
_MARRIAGE = ("certificate_no", "sex", "spouse_name", "spouse_id", "registered_on", "registration_office")
_LICENCE = (
    "enterprise_type",
    "legal_representative",
    "registered_capital",
    "established_on",
    "address",
    "business_scope",
    "registration_authority",
)
_TITLE = ("certificate_no", "ownership", "address", "area", "usage", "registered_on", "district")


def _one(rows: Iterable[Row], **match: str) -> Row:
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    raise LookupError(f"no demo row matches {match}")


def _pick(row: Row, names: Iterable[str]) -> dict[str, Any]:
    return {name: row[name] for name in names if row.get(name) is not None}


def _birth_claims(row: Row) -> dict[str, Any]:
    claims = _pick(
        row,
        (
            "certificate_no",
            "birth_date",
            "birth_time",
            "birth_place",
            "gestational_weeks",
            "weight_g",
            "length_cm",
            "mother_name",
            "mother_id",
            "father_name",
            "father_id",
            "hospital",
        ),
    )
    claims["sex"] = row["child_sex"]
    return claims


def _vaccination_claims(doses: list[Row]) -> dict[str, Any]:
    ordered = sorted(doses, key=lambda r: int(str(r["dose"])))
    last = ordered[-1]
    return {
        "doses": len(ordered),
        "product": last["product"],
        "manufacturer": last["manufacturer"],
        "first_dose_on": ordered[0]["vaccinated_on"],
        "last_dose_on": last["vaccinated_on"],
        "site": last["site"],
    }


def _card_claims(person: PersonPlan, insured: list[Row]) -> dict[str, Any]:
    resident_id = person.resident_id
    first = min((str(r["first_insured_on"]) for r in insured), default=None)
    return {
        # A social security card number is the resident ID's first 17 characters in Zhejiang's scheme; the
        # demo uses a distinct, readable one.
        "card_no": f"A{resident_id[6:14]}{resident_id[-4:]}",
        "sex": "男" if person.sex == "male" else "女",
        "insured_division": person.division_code,
        "issued_on": first or person.birth_date.isoformat(),
    }
