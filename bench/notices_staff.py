"""A throwaway PostgreSQL database with the demo's organisation tree and 1.21 million staff, for the
staff-notice benchmarks (``notice_publish.py``, ``notice_inbox.py``, ``notice_rollup.py``).

The 1,326 units are made by the demo builder through identity's actions. The staff are written with COPY
straight into ``identity_account`` and ``identity_membership`` (the actions would take an hour): spread
over the 1,224 departments, three times as many per department at the province as in a county and twice
as many in a city, 70 % without a platform role and the rest with one of identity's roles; one in fifty
also holds a second role in the same department. Names are drawn from the demo's name generator. Then the
tables are vacuumed and analysed, and the notices' per-unit headcount is derived (timed).

``--database NAME`` on a benchmark reuses a database made earlier with ``--keep`` (the tree and staff are
not made again, and nothing is dropped).
"""

from __future__ import annotations

import io
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from sqlalchemy.orm import Session

from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.demo.names import NameGenerator
from zerotrip.demo.orgs import OrgTree, build_org_tree
from zerotrip.identity import actions, auth
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import Organisation
from zerotrip.messaging.rollups_headcount import rebuild_headcount
from zerotrip.migrations import upgrade

ROOT = system("bench")
STAFF = 1_210_000
ROLES = (
    (None, 70),
    ("reviewer", 10),
    ("certificate_issuer", 5),
    ("data_steward", 5),
    ("site_operator", 3),
    ("notice_publisher", 5),
    ("platform_admin", 2),
)
LEVEL_WEIGHT = {"330000": 3, "city": 2, "county": 1}


@dataclass
class StaffDatabase:
    name: str
    url: str  # SQLAlchemy URL
    admin_url: str
    seconds: dict[str, float]

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def sqlalchemy_url(admin_url: str, name: str) -> str:
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def open_database(admin_url: str, *, reuse: str | None, staff: int = STAFF, seed: int = 7) -> StaffDatabase:
    """Make (or, with ``reuse``, open) the database; prints what it does and how long each step took."""
    if reuse:
        found = StaffDatabase(reuse, sqlalchemy_url(admin_url, reuse), admin_url, {})
        engine = make_engine(found.url)
        upgrade(engine)  # a database kept by an older version of the benchmarks gets the newer migrations
        engine.dispose()
        return found
    name = f"zerotrip_bench_notices_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = StaffDatabase(name, sqlalchemy_url(admin_url, name), admin_url, {})
    try:
        engine = make_engine(db.url)
        started = time.perf_counter()
        upgrade(engine)
        with make_sessionmaker(engine)() as session, transaction(session):
            tree = build_org_tree(session, actor=ROOT)
        took = db.seconds["migrate, and the units through the actions"] = time.perf_counter() - started
        print(f"database {name}: {len(tree.nodes):,} units in {took:.1f} s")
        started = time.perf_counter()
        accounts, memberships = copy_staff(libpq_url(db.url), tree, staff, seed)
        took = db.seconds["COPY staff"] = time.perf_counter() - started
        print(f"COPY {accounts:,} staff accounts and {memberships:,} memberships: {took:.1f} s")
        started = time.perf_counter()
        with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE identity_account")
            conn.execute("VACUUM ANALYZE identity_membership")
        db.seconds["VACUUM ANALYZE"] = time.perf_counter() - started
        started = time.perf_counter()
        with make_sessionmaker(engine)() as session, transaction(session):
            rows = rebuild_headcount(session)
        db.seconds["headcount rebuild"] = time.perf_counter() - started
        print(f"headcount from the memberships: {rows:,} rows in {db.seconds['headcount rebuild']:.2f} s")
        engine.dispose()
    except BaseException:
        db.drop()
        raise
    return db


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def unit(session: Session, code: str) -> Organisation:
    found = identity_queries.find_organisation_by_code(session, code)
    assert found is not None, code
    return found


def publisher(session: Session, code: str, login: str) -> Actor:
    """A notice publisher at the unit ``code`` (made through identity's action the first time)."""
    actor = auth.find_staff_actor(session, login)
    if actor is None:
        actions.add_staff_member(
            session,
            actor=ROOT,
            org_id=unit(session, code).id,
            login_name=login,
            display_name=login,
            role="notice_publisher",
        )
        session.flush()
        actor = auth.find_staff_actor(session, login)
    assert actor is not None
    return actor


def _department_counts(tree: OrgTree, staff: int) -> list[tuple[int, str, int]]:
    departments = sorted(tree.departments(), key=lambda d: d.code)
    weights = []
    for d in departments:
        if d.division_code == "330000":
            weights.append(LEVEL_WEIGHT["330000"])
        elif d.division_code.endswith("00"):
            weights.append(LEVEL_WEIGHT["city"])
        else:
            weights.append(LEVEL_WEIGHT["county"])
    total = sum(weights)
    counts = [staff * w // total for w in weights]
    counts[-1] += staff - sum(counts)
    return [(d.id, d.path, n) for d, n in zip(departments, counts, strict=True)]


def copy_staff(url: str, tree: OrgTree, staff: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    names = NameGenerator(rng)
    pool = [
        names.full_name(sex=rng.choice(("male", "female")), birth_year=rng.randint(1965, 2000))
        for _ in range(5000)
    ]
    roles = [r for r, weight in ROLES for _ in range(weight)]
    second_roles = [r for r, _ in ROLES if r is not None]
    now = datetime.now(UTC).isoformat()
    plan = _department_counts(tree, staff)

    def accounts_and_memberships() -> Iterator[tuple[str, str]]:
        n = 0
        for org_id, path, count in plan:
            for _ in range(count):
                n += 1
                account = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                role = rng.choice(roles)
                yield (
                    f"{account}\tstaff\tb{n:07d}\t{pool[n % len(pool)]}\tt\t0\t{now}\n",
                    f"{account}\t{org_id}\t{path}\t{role or chr(92) + 'N'}\t\\N\t{now}\n",
                )
                if n % 50 == 0:
                    extra = rng.choice([r for r in second_roles if r != role])
                    yield "", f"{account}\t{org_id}\t{path}\t{extra}\t\\N\t{now}\n"

    accounts = io.StringIO()
    memberships = io.StringIO()
    n_accounts = n_memberships = 0
    for account_line, membership_line in accounts_and_memberships():
        if account_line:
            accounts.write(account_line)
            n_accounts += 1
        memberships.write(membership_line)
        n_memberships += 1
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY identity_account"
                " (id, kind, login_name, display_name, is_active, failed_logins, created_at) FROM STDIN"
            ) as copy:
                copy.write(accounts.getvalue())
            with cur.copy(
                "COPY identity_membership (account_id, org_id, org_path, role, title, created_at) FROM STDIN"
            ) as copy:
                copy.write(memberships.getvalue())
        conn.commit()
    return n_accounts, n_memberships


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]
