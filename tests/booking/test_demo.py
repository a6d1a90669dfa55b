"""The demo's booking: 1,789 vaccination sites run by their counties' health bureaus, a week of slots, and
a demo mother who builds her profile and books, whose booking the demo site operator sees."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.booking import actions, oversight, profiles, queries, site_queries
from zerotrip.booking.models import Service, Site, Slot
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.demo.booking_sites import SITE_COUNT
from zerotrip.demo.seed import seed_demo
from zerotrip.identity import auth
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Account
from zerotrip.keys import KeyStore


def test_the_demo_has_its_sites_slots_and_a_working_booking_system(
    db: Session, keys: KeyStore, settings: Settings
) -> None:
    logins = seed_demo(db, keys=keys, settings=settings, citizens=300, seed=42)
    assert (
        logins.counts["vaccination sites"] == SITE_COUNT == db.scalar(select(func.count()).select_from(Site))
    )
    today = clock.now_in_china().date()
    days = db.scalars(select(Slot.day).distinct().order_by(Slot.day)).all()
    assert days[0] == today and days[-1] == today + timedelta(days=6)
    # Every site is run by its own county's health bureau.
    runs = db.execute(select(Site.division_code, Site.org_id)).all()
    for division, org_id in runs[:: max(1, len(runs) // 40)]:
        assert identity_queries.get_organisation(db, org_id).code == f"{division}-health"
    assert db.scalar(select(func.count()).select_from(Service)) > 3 * SITE_COUNT

    mother = next(login for login in logins if login.portal == "citizen")
    account = db.scalar(select(Account).where(Account.login_name == mother.login_name))
    assert account is not None
    citizen = Actor(kind="citizen", name="demo", account_id=account.id, person_id=account.person_id)
    profiles.build_profile(
        db, actor=citizen, settings=settings.booking, phone="13800000000", consent=True
    ).raise_for_refusal()
    found = queries.search_sites(
        db, near="330106", division_code="330106", product_code="hepb-adult", per_page=5
    )
    slot = next(s for site in found.items for s in site.next_free)
    assert slot.day >= today
    booked = actions.book_appointment(
        db, actor=citizen, slot_id=slot.id, settings=settings.booking
    ).raise_for_refusal()
    db.flush()
    assert booked.dose == 1

    operator_login = next(login for login in logins if login.login_name == "hz-xh-health-site")
    operator = auth.find_staff_actor(db, operator_login.login_name)
    assert operator is not None
    day = site_queries.day_list(db, actor=operator, site_code=slot.site_code, day=slot.day)
    assert booked.number in [e.number for e in day.entries]
    sites, total = oversight.list_operated_sites(db, actor=operator)
    assert sites and total == len(sites)
    assert {s.division_code for s in sites} == {"330106"}
