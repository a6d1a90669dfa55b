"""Property: over random organisation trees, staff, targets, reads and acknowledgements, the roll-up of
every unit (its whole subtree, its own staff and each child) equals what the per-person receipts say,
the list of those who have not read is exactly the reached positions without a receipt, and the inbox
holds the notice for exactly the staff it reaches.

The brute force works from the plan (who works where with which roles) and the pure targeting rules;
the system answers from SQL over the headcount, the targets and the receipts.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.common.divisions import children_of, cities
from zerotrip.config import NoticesSettings
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system
from zerotrip.messaging import notices, notices_queries, notices_receipts, rollups
from zerotrip.messaging.models_notices import NoticeReceipt, NoticeTally
from zerotrip.messaging.notices_targeting import (
    ROLE_BITS,
    Position,
    Target,
    matches,
    region_prefix,
    role_bit,
    role_mask,
)
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec

ROOT = system("test")
ROLES: list[str | None] = [None, *ROLE_BITS]
CITIES = [c.code for c in cities()[:4]]


@dataclass(frozen=True)
class UnitPlan:
    kind: str
    division_code: str
    parent: int | None  # index into the plan


@st.composite
def trees(draw: st.DrawFn) -> list[UnitPlan]:
    units = [UnitPlan("province", "330000", None)]
    regions = [0]
    for city in draw(st.lists(st.sampled_from(CITIES), min_size=1, max_size=3, unique=True)):
        units.append(UnitPlan("city", city, 0))
        city_index = len(units) - 1
        regions.append(city_index)
        counties = [c.code for c in children_of(city)][:4]
        for county in draw(st.lists(st.sampled_from(counties), max_size=2, unique=True)):
            units.append(UnitPlan("county", county, city_index))
            regions.append(len(units) - 1)
    everywhere = [u.division_code for u in units]
    for region in list(regions):
        for _ in range(draw(st.integers(0, 2))):
            # Most departments carry their region's code; some sit elsewhere (a provincial bureau's branch).
            code = draw(st.sampled_from([units[region].division_code] * 3 + everywhere))
            units.append(UnitPlan("department", code, region))
    return units


@st.composite
def worlds(
    draw: st.DrawFn,
) -> tuple[list[UnitPlan], list[list[tuple[int, str | None]]], list[dict[str, object]]]:
    units = draw(trees())
    people = draw(
        st.lists(
            st.lists(
                st.tuples(st.integers(0, len(units) - 1), st.sampled_from(ROLES)), min_size=1, max_size=3
            ),
            min_size=1,
            max_size=14,
        )
    )
    target = st.fixed_dictionaries(
        {
            "unit": st.none() | st.integers(0, len(units) - 1),
            "region": st.none() | st.sampled_from([u.division_code for u in units]),
            "roles": st.lists(st.sampled_from(list(ROLE_BITS)), max_size=2, unique=True),
        }
    )
    return units, people, draw(st.lists(target, min_size=1, max_size=3))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=worlds(), data=st.data())
def test_rollups_equal_the_receipts_at_every_level(db: Session, plan: tuple, data: st.DataObject) -> None:  # type: ignore[type-arg]
    units_plan, people, target_plans = plan
    savepoint = db.begin_nested()
    try:
        check(db, units_plan, people, target_plans, data)
    finally:
        savepoint.rollback()


def check(
    db: Session,
    units_plan: list[UnitPlan],
    people: list[list[tuple[int, str | None]]],
    target_plans: list[dict[str, object]],
    data: st.DataObject,
) -> None:
    units = []
    for n, u in enumerate(units_plan):
        parent = units[u.parent] if u.parent is not None else None
        units.append(
            actions.create_organisation(
                db,
                actor=ROOT,
                kind=u.kind,
                code=f"{u.division_code}-u{n}",
                name=f"unit {n}",
                division_code=u.division_code,
                parent_id=parent.id if parent else None,
            )
        )
    db.flush()
    publisher = _staff(db, "publisher", [(units[0].id, "notice_publisher")])
    actors = [publisher]
    for i, memberships in enumerate(people):
        actors.append(_staff(db, f"p{i}", [(units[u].id, role) for u, role in memberships]))

    specs, targets = [], []
    for t in target_plans:
        unit = units[t["unit"]] if t["unit"] is not None else None  # type: ignore[index]
        scope = unit or units[0]
        region = t["region"]
        if region is not None and not _covers(scope.division_code, str(region)):
            region = None  # a region outside the unit is refused; that rule has its own tests
        specs.append(TargetSpec(org_id=unit.id if unit else None, division_code=region, roles=t["roles"]))  # type: ignore[arg-type]
        prefix = "" if region is None else region_prefix(str(region))
        targets.append(Target(scope.path, prefix, role_mask(t["roles"])))  # type: ignore[arg-type]
    notice = notices.create_notice(
        db,
        actor=publisher,
        spec=NoticeCreate(title="t", body="b", targets=specs, requires_ack=True, publish=True),
        settings=NoticesSettings(approve_province_wide_emergency=False),
    )
    db.flush()

    # Brute force: every (person, unit) position and whether the notice reaches it.
    by_id = {u.id: u for u in units}
    positions: dict[tuple[int, int], Position] = {}
    for a, actor in enumerate(actors):
        for g in actor.grants:
            key = (a, g.org_id)
            held = positions.get(key)
            mask = (held.mask if held else 0) | role_bit(g.role)
            positions[key] = Position(g.org_id, by_id[g.org_id].path, by_id[g.org_id].division_code, mask)
    reached = {key for key, p in positions.items() if any(matches(t, p) for t in targets)}

    for a, actor in enumerate(actors):
        in_inbox = notice.id in {
            i.id for i in notices_queries.list_inbox(db, actor=actor, per_page=100).items
        }
        assert in_inbox == any(key[0] == a for key in reached), actor.name

    readers = (
        data.draw(st.sets(st.sampled_from(sorted({a for a, _ in reached}))), label="readers")
        if reached
        else set()
    )
    ackers = data.draw(st.sets(st.sampled_from(sorted(readers))), label="ackers") if readers else set()
    for a in readers:
        notices_receipts.mark_read(db, actor=actors[a], notice_id=notice.id)
    for a in ackers:
        notices_receipts.acknowledge(db, actor=actors[a], notice_id=notice.id)
    db.flush()

    # The per-unit tallies say what the receipts say.
    tallies = {
        t.org_id: (t.read_count, t.acked_count)
        for t in db.scalars(select(NoticeTally).where(NoticeTally.notice_id == notice.id))
    }
    counted = {
        org_id: (int(read), int(acked))
        for org_id, read, acked in db.execute(
            select(NoticeReceipt.org_id, func.count(), func.count(NoticeReceipt.acked_at))
            .where(NoticeReceipt.notice_id == notice.id)
            .group_by(NoticeReceipt.org_id)
        )
    }
    assert tallies == counted

    def expected(path: str, *, exact: bool = False) -> tuple[int, int, int]:
        keys = [
            k
            for k in reached
            if (positions[k].org_path == path if exact else positions[k].org_path.startswith(path))
        ]
        return len(keys), sum(1 for a, _ in keys if a in readers), sum(1 for a, _ in keys if a in ackers)

    for unit in units:
        found = rollups.rollup(db, actor=publisher, notice_id=notice.id, unit_id=unit.id)
        assert (found.unit.recipients, found.unit.read, found.unit.acked) == expected(unit.path), unit.code
        own = expected(unit.path, exact=True)
        if found.own is None:
            assert own == (0, 0, 0)
        else:
            assert (found.own.recipients, found.own.read, found.own.acked) == own
        for child in found.children:
            path = by_id[child.org_id].path
            assert (child.recipients, child.read, child.acked) == expected(path), child.name
        assert sum(c.recipients for c in found.children) + (own[0]) == found.unit.recipients

        not_read = rollups.list_non_readers(
            db, actor=publisher, notice_id=notice.id, unit_id=unit.id, per_page=100
        )
        want = {
            (actors[a].account_id, org_id)
            for a, org_id in reached
            if a not in readers and positions[(a, org_id)].org_path.startswith(unit.path)
        }
        assert {(p.account_id, p.org_id) for p in not_read.items} == want and not_read.total == len(want)
        not_acked = rollups.list_non_readers(
            db, actor=publisher, notice_id=notice.id, unit_id=unit.id, missing="unacknowledged", per_page=100
        )
        assert not_acked.total == expected(unit.path)[0] - expected(unit.path)[2]


def _staff(db: Session, login: str, memberships: list[tuple[int, str | None]]) -> Actor:
    account_id = None
    held: set[tuple[int, str]] = set()
    for org_id, role in memberships:
        if role is not None and (org_id, role) in held:
            continue  # a role is held once per unit (a member without a role may be listed twice)
        if role is not None:
            held.add((org_id, role))
        membership = actions.add_staff_member(
            db, actor=ROOT, org_id=org_id, login_name=login, display_name=login, role=role
        )
        db.flush()
        account_id = membership.account_id
    assert account_id is not None
    return Actor(kind="staff", name=login, account_id=account_id, grants=auth.load_grants(db, account_id))


def _covers(outer: str, inner: str) -> bool:
    return inner.startswith(region_prefix(outer))
