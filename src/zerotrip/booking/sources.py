"""The booking system's data through datahub: household registration for profiles, vaccination records for
eligibility and the record lookup (随身查), and pushing the doses sites give.

Booking reads departments' data like any department system: as an API client, the appointment booking
system (预约接种系统) registered at the province's health commission (``booking.system_org_code``, the
owner of the vaccination records, so it may also push them with ``datahub.records.write``), under grants
the owning departments' stewards approve. Each read names its purpose and the person it is for
(``on_behalf_of``); the gateway writes it to that person's data-use log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from zerotrip.booking.errors import BookingSystemMissing, RecordRefused
from zerotrip.config import BookingSettings, DatahubSettings
from zerotrip.datahub import aggregation, gateway, sharing
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.datahub.errors import NoGrant, ResourceNotFound
from zerotrip.identity import auth as identity_auth
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import FieldError

SYSTEM_NAME = "预约接种系统"
HOUSEHOLD = "330000-psb.household"
VACCINATIONS = "330000-health.vaccinations"
WRITE_SCOPE = aggregation.WRITE_SCOPE
PROFILE_PURPOSE = "预防接种及预约服务建档"
RECORDS_PURPOSE = "预防接种预约资格核验与接种记录查询"
LEGAL_BASIS = "《中华人民共和国疫苗管理法》第四十七条；《浙江省公共数据条例》第二十九条"
HOUSEHOLD_FIELDS = ("resident_id", "name", "sex", "birth_date", "household_no", "division_code")
DOSE_FIELDS = (
    "resident_id",
    "vaccine_kind",
    "product",
    "manufacturer",
    "dose",
    "vaccinated_on",
    "batch_no",
    "site",
    "site_division",
)
SEXES = {"男": "male", "女": "female"}


# -- the system and its grants -------------------------------------------------------------------------------


def booking_system(db: Session, settings: BookingSettings) -> Actor:
    """The booking system as a datahub API client. Raises BookingSystemMissing."""
    org = identity_queries.find_organisation_by_code(db, settings.system_org_code)
    client = identity_queries.find_api_client(db, org_id=org.id, name=SYSTEM_NAME) if org else None
    if client is None:
        raise BookingSystemMissing(f"{SYSTEM_NAME} is not registered at {settings.system_org_code}")
    return Actor(
        kind="client",
        name=client.name,
        client_id=client.client_id,
        client_org_id=client.org_id,
        scopes=frozenset(client.scopes),
    )


class SystemCache:
    """The booking system's identity as a worker process keeps it for ``seconds`` (its client id, org and
    scopes), so a booking does not look the client up again. Grants are never kept: the gateway checks them
    on every read, so a revoked grant stops reads at once; a deactivated client stops within ``seconds``."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds
        self._kept: tuple[float, str, Actor] | None = None
        self._lock = threading.Lock()

    def get(self, db: Session, settings: BookingSettings) -> Actor:
        now = time.monotonic()
        with self._lock:
            kept = self._kept
        if kept is not None and kept[1] == settings.system_org_code and now - kept[0] < self.seconds:
            return kept[2]
        system = booking_system(db, settings)
        with self._lock:
            self._kept = (now, settings.system_org_code, system)
        return system


def system_of(db: Session, settings: BookingSettings, cache: SystemCache | None) -> Actor:
    """The booking system, from ``cache`` when one is given. Raises BookingSystemMissing."""
    return cache.get(db, settings) if cache is not None else booking_system(db, settings)


def set_up_booking_system(
    db: Session, *, actor: Actor, settings: BookingSettings, datahub: DatahubSettings
) -> Actor:
    """Register the booking system at the health commission (once) and file its share requests for
    household registration (profiles) and the vaccination records (eligibility, the record lookup), with
    clear values; a request still pending is approved when ``actor`` may decide it (the platform, or a
    steward of both owners). Needs both resources catalogued. Returns the system. Raises
    BookingSystemMissing (no such organisation), NotAllowed, ResourceNotFound, NotSteward."""
    org = identity_queries.find_organisation_by_code(db, settings.system_org_code)
    if org is None:
        raise BookingSystemMissing(f"there is no organisation {settings.system_org_code}")
    if identity_queries.find_api_client(db, org_id=org.id, name=SYSTEM_NAME) is None:
        identity_auth.register_api_client(
            db, actor=actor, org_id=org.id, name=SYSTEM_NAME, scopes=[WRITE_SCOPE]
        )
        db.flush()  # the system is looked up by name next
    system = booking_system(db, settings)
    for code, fields, purpose in (
        (HOUSEHOLD, HOUSEHOLD_FIELDS, PROFILE_PURPOSE),
        (VACCINATIONS, DOSE_FIELDS, RECORDS_PURPOSE),
    ):
        request = sharing.request_share(
            db,
            actor=system,
            resource_code=code,
            fields=list(fields),
            purpose=purpose,
            legal_basis=LEGAL_BASIS,
            is_clear_requested=True,
            settings=datahub,
        )
        if request.status == "pending":
            sharing.approve_share_request(db, actor=actor, number=request.number, settings=datahub)
    return system


# -- household registration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdEntry:
    """A person's household registration as the profile is prefilled from it, with its provenance."""

    resident_id: str
    name: str
    sex: str  # male or female
    birth_date: date
    household_no: str | None
    division_code: str
    source_org_name: str
    source_updated_at: datetime


def read_household(
    db: Session, *, system: Actor, resident_id: str, on_behalf_of: str
) -> HouseholdEntry | None:
    """The person's household registration, read through the gateway for the profile (None: the register
    holds nothing for them). Raises BookingSystemMissing (no live grant)."""
    return read_households(db, system=system, resident_ids=[resident_id], on_behalf_of=on_behalf_of).get(
        resident_id.strip().upper()
    )


def read_households(
    db: Session, *, system: Actor, resident_ids: Sequence[str], on_behalf_of: str
) -> dict[str, HouseholdEntry]:
    """Household registration of up to ``MAX_BATCH`` people in one gateway read, by resident ID (people the
    register does not hold are left out). Raises BookingSystemMissing (no live grant)."""
    try:
        results = gateway.lookup(
            db,
            actor=system,
            resource_code=HOUSEHOLD,
            subject_keys=list(resident_ids),
            fields=list(HOUSEHOLD_FIELDS),
            purpose=PROFILE_PURPOSE,
            on_behalf_of=on_behalf_of,
        )
    except (NoGrant, ResourceNotFound) as exc:
        raise BookingSystemMissing(f"the booking system cannot read {HOUSEHOLD}: {exc}") from exc
    found = {}
    for result in results:
        if not result.records:
            continue
        record = result.records[-1]
        values = {name: cell.value for name, cell in record.fields.items()}
        key = str(values["resident_id"])
        found[result.subject] = HouseholdEntry(
            resident_id=key,
            name=str(values["name"]),
            sex=SEXES.get(str(values.get("sex")), "female" if int(key[16]) % 2 == 0 else "male"),
            birth_date=date.fromisoformat(str(values["birth_date"])),
            household_no=str(values["household_no"]) if values.get("household_no") else None,
            division_code=str(values["division_code"]),
            source_org_name=record.source,
            source_updated_at=record.updated_at,
        )
    return found


# -- vaccination records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRecord:
    """One dose the health department's records hold for a person (one record per vaccine kind and dose)."""

    vaccine_kind: str
    product: str
    manufacturer: str
    dose: int
    vaccinated_on: date
    batch_no: str
    site: str
    site_division: str
    source: str  # the department whose records hold it
    version: int
    updated_at: datetime


def read_doses(
    db: Session,
    *,
    system: Actor,
    resident_id: str,
    on_behalf_of: str,
    catalogue: CatalogueCache | None = None,
) -> list[DoseRecord]:
    """Every dose recorded for the person, oldest first, read through the gateway for eligibility and the
    record lookup. Raises BookingSystemMissing (no live grant)."""
    try:
        (result,) = gateway.lookup(
            db,
            actor=system,
            resource_code=VACCINATIONS,
            subject_keys=[resident_id],
            fields=list(DOSE_FIELDS),
            purpose=RECORDS_PURPOSE,
            on_behalf_of=on_behalf_of,
            catalogue=catalogue,
        )
    except (NoGrant, ResourceNotFound) as exc:
        raise BookingSystemMissing(f"the booking system cannot read {VACCINATIONS}: {exc}") from exc
    doses = []
    for record in result.records:
        v = {name: cell.value for name, cell in record.fields.items()}
        doses.append(
            DoseRecord(
                vaccine_kind=str(v["vaccine_kind"]),
                product=str(v["product"]),
                manufacturer=str(v["manufacturer"]),
                dose=int(str(v["dose"])),
                vaccinated_on=date.fromisoformat(str(v["vaccinated_on"])),
                batch_no=str(v["batch_no"]),
                site=str(v["site"]),
                site_division=str(v["site_division"]),
                source=record.source,
                version=record.version,
                updated_at=record.updated_at,
            )
        )
    doses.sort(key=lambda d: (d.vaccinated_on, d.vaccine_kind, d.dose))
    return doses


def push_dose(db: Session, *, system: Actor, row: Mapping[str, str]) -> None:
    """Push one dose to the vaccination records as the health commission's system would: a new record, or
    a new version of the person's record for that vaccine kind and dose. Raises RecordRefused (the
    records' quality rules refused it, with the fields), BookingSystemMissing (no write scope)."""
    if WRITE_SCOPE not in system.scopes:
        raise BookingSystemMissing(f"the booking system lacks the {WRITE_SCOPE} scope")
    batch = aggregation.push_records(db, actor=system, resource_code=VACCINATIONS, records=[dict(row)])
    if batch.rows_rejected:
        examples = batch.report.get("examples", []) if isinstance(batch.report, dict) else []
        errors: list[FieldError] = [
            {"detail": str(e.get("reason", "")), "pointer": f"#/{e.get('field') or ''}"}
            for e in examples
            if isinstance(e, dict)
        ]
        raise RecordRefused("the vaccination records refused this dose", errors=errors)
