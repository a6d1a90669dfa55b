"""Importing many sites at once (a province's 1,789 vaccination sites): sites, their services, and weekly
templates from their opening hours, each in a few multi-row INSERTs.

Each opening period of a day (``08:00``–``11:30``) becomes one slot template per service, as vaccination
sites book by half day (上午/下午); its capacity is the site's hourly capacity times the period's length.
For the platform, or a platform administrator over every department named.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.booking import bulk
from zerotrip.booking.errors import InvalidSchedule, NotSiteOperator, SiteCodeTaken
from zerotrip.booking.models import Service, Site, SlotTemplate
from zerotrip.booking.permissions import can_manage_site
from zerotrip.booking.products import find_product, get_product
from zerotrip.booking.schemas import WEEKDAYS, SiteImport
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor

IMPORTED = "booking.sites.imported"
CHUNK = 2_000
_site = cast(Table, Site.__table__)
_service = cast(Table, Service.__table__)
_template = cast(Table, SlotTemplate.__table__)
TEMPLATE_COLUMNS = (
    "service_id",
    "weekday",
    "starts_at",
    "minutes",
    "capacity",
    "valid_from",
    "valid_until",
    "created_at",
)


def _minutes(start: str, end: str) -> int:
    return (
        datetime.combine(date.min, time.fromisoformat(end))
        - datetime.combine(date.min, time.fromisoformat(start))
    ).seconds // 60


def import_sites(db: Session, *, actor: Actor, sites: Sequence[SiteImport], valid_from: date) -> int:
    """Add ``sites`` with their services and a template per service and opening period, valid from
    ``valid_from``. Returns how many sites were added. Raises InvalidSchedule (an organisation that is not
    a department, a product outside the catalogue; ``#/sites/N/...``), SiteCodeTaken, NotSiteOperator."""
    orgs: dict[str, tuple[int, str]] = {}
    for index, spec in enumerate(sites):
        if spec.org_code not in orgs:
            org = identity_queries.find_organisation_by_code(db, spec.org_code)
            if org is None or org.kind != "department":
                raise InvalidSchedule.field(
                    f"sites/{index}/org_code", "name the department that runs the site"
                )
            orgs[spec.org_code] = (org.id, org.path)
        if not can_manage_site(actor, orgs[spec.org_code][1]):
            raise NotSiteOperator(f"this needs the site operator role at {spec.org_code}")
        unknown = [p for p in spec.product_codes if find_product(p) is None]
        if unknown:
            raise InvalidSchedule.field(
                f"sites/{index}/product_codes", f"not in the catalogue: {', '.join(unknown)}"
            )
    codes = [s.code for s in sites]
    taken = {
        code for chunk in _chunks(codes) for code in db.scalars(select(Site.code).where(Site.code.in_(chunk)))
    }
    if taken or len(set(codes)) != len(codes):
        raise SiteCodeTaken(
            f"codes already in use: {', '.join(sorted(taken)[:5]) or 'repeated in the import'}"
        )
    now = clock.now()
    site_rows = [
        {
            "code": s.code,
            "name": s.name,
            "division_code": s.division_code,
            "org_id": orgs[s.org_code][0],
            "address": s.address,
            "latitude": s.latitude,
            "longitude": s.longitude,
            "phone": s.phone,
            "opening_hours": {k: [list(p) for p in v] for k, v in s.opening_hours.items()},
            "is_active": True,
            "created_at": now,
        }
        for s in sites
    ]
    _insert(db, _site, site_rows)
    site_ids = {
        code: id_
        for chunk in _chunks(codes)
        for code, id_ in db.execute(select(Site.code, Site.id).where(Site.code.in_(chunk)))
    }
    service_rows = [
        {
            "site_id": site_ids[s.code],
            "product_code": product,
            "has_waitlist": get_product(product).is_vaccine,
            "is_active": True,
            "created_at": now,
        }
        for s in sites
        for product in s.product_codes
    ]
    _insert(db, _service, service_rows)
    service_ids = {
        (site_id, product): service_id
        for chunk in _chunks(list(site_ids.values()))
        for service_id, site_id, product in db.execute(
            select(Service.id, Service.site_id, Service.product_code).where(Service.site_id.in_(chunk))
        )
    }
    template_rows: list[tuple[Any, ...]] = []
    for s in sites:
        for weekday, name in enumerate(WEEKDAYS, start=1):
            for start, end in s.opening_hours.get(name, []):
                minutes = _minutes(start, end)
                capacity = max(1, s.capacity_per_hour * minutes // 60)
                starts = time.fromisoformat(start)
                template_rows.extend(
                    (
                        service_ids[site_ids[s.code], product],
                        weekday,
                        starts,
                        minutes,
                        capacity,
                        valid_from,
                        None,
                        now,
                    )
                    for product in s.product_codes
                )
    bulk.insert_rows(db, _template, TEMPLATE_COLUMNS, template_rows)
    record_event(
        db,
        actor=actor.principal,
        action=IMPORTED,
        subject_type="site",
        subject_id="*",
        data={"sites": len(site_rows), "services": len(service_rows), "templates": len(template_rows)},
    )
    return len(site_rows)


def _insert(db: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.execute(insert(table), rows[start : start + CHUNK])


def _chunks(values: list[Any], size: int = 900) -> list[list[Any]]:
    """Values in lists short enough for one IN (well inside both engines' limits on bound parameters)."""
    return [values[i : i + size] for i in range(0, len(values), size)]
