"""Pure permission rules, exhaustively over small trees and property-based over division codes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from zerotrip.identity import permissions
from zerotrip.identity.actor import ANONYMOUS, Actor, Grant, system

counties = st.sampled_from(["330102", "330106", "330203", "330381", "331121"])


def staff(*grants: Grant) -> Actor:
    return Actor(kind="staff", account_id=uuid.uuid4(), grants=grants)


def test_division_prefixes() -> None:
    assert permissions.division_prefix("330000") == "33"
    assert permissions.division_prefix("330100") == "3301"
    assert permissions.division_prefix("330106") == "330106"


@given(counties)
def test_a_province_covers_every_county_and_a_county_only_itself(county: str) -> None:
    assert permissions.division_covers("330000", county)
    assert permissions.division_covers(county, county)
    assert permissions.division_covers(county[:4] + "00", county)
    other_city = "3302" if not county.startswith("3302") else "3301"
    assert not permissions.division_covers(other_city + "00", county)


def test_roles_reach_down_the_subtree_never_up_or_sideways() -> None:
    reviewer = staff(Grant(org_id=3, org_path="/1/2/3/", division_code="330106", role="reviewer"))
    assert permissions.has_role_over(reviewer, "reviewer", "/1/2/3/")
    assert permissions.has_role_over(reviewer, "reviewer", "/1/2/3/40/")
    assert not permissions.has_role_over(reviewer, "reviewer", "/1/2/")  # up
    assert not permissions.has_role_over(reviewer, "reviewer", "/1/2/33/")  # sideways, same prefix digits
    assert not permissions.has_role_over(reviewer, "certificate_issuer", "/1/2/3/")


def test_only_a_root_level_administrator_is_a_platform_administrator() -> None:
    city_admin = staff(Grant(org_id=2, org_path="/1/2/", division_code="330100", role="platform_admin"))
    root_admin = staff(Grant(org_id=1, org_path="/1/", division_code="330000", role="platform_admin"))
    assert not permissions.is_platform_admin(city_admin)
    assert permissions.is_platform_admin(root_admin)
    assert permissions.can_manage_org(city_admin, "/1/2/9/")
    assert not permissions.can_manage_org(city_admin, "/1/5/")


def test_who_may_read_a_person() -> None:
    me = uuid.uuid4()
    citizen = Actor(kind="citizen", account_id=uuid.uuid4(), person_id=me)
    assert permissions.can_read_person(citizen, person_id=me, division_code="330106")
    assert not permissions.can_read_person(citizen, person_id=uuid.uuid4(), division_code="330106")
    assert not permissions.can_read_person(ANONYMOUS, person_id=me, division_code="330106")
    client = Actor(kind="client", client_id="c", scopes=frozenset({"identity.orgs.read"}))
    assert not permissions.can_read_person(client, person_id=me, division_code="330106")
    reader = Actor(kind="client", client_id="c", scopes=frozenset({"identity.persons.read"}))
    assert permissions.can_read_person(reader, person_id=me, division_code="330106")
    assert permissions.can_read_person(system("t"), person_id=me, division_code="330106")
