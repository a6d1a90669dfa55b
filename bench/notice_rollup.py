"""The province's per-city roll-up of a province-wide notice after 600,000 of its 1.21 million staff have
read it, on PostgreSQL.

Run: .venv/bin/python bench/notice_rollup.py [--staff 1210000] [--reads 600000] [--runs 20]
     [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--database NAME] [--keep]

Makes a throwaway database (``notices_staff.py``), publishes one emergency notice to the whole province
(asking for acknowledgement) through the action, and gives ``--reads`` staff drawn at random a receipt for
their unit, half of them acknowledged, and the units' tallies (two INSERT … SELECT: the rows ``mark_read``
and ``acknowledge`` would have written). Then
times ``rollups.rollup`` for the province (reached, read and acknowledged for the province and each of its
11 cities and 12 provincial departments), each in its own transaction as the API route runs it, first
right after the reads (the receipts not yet vacuumed, as while reads pour in) and again after VACUUM
ANALYZE (as autovacuum leaves it). For scale it also times the roll-up of 杭州市 (per county) and the first
page of 西湖区应急管理局's staff who have not read. Checks the figures against the receipts (the province's
read count equals ``--reads``). Drops the database at the end unless ``--keep``. Prints the figures and,
last, one JSON line.

Target (issue 7): the province's per-city roll-up under 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import psycopg
from notices_staff import STAFF, libpq_url, open_database, percentile, publisher, unit
from sqlalchemy import func, select, text

from zerotrip.config import NoticesSettings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Membership
from zerotrip.messaging import notices, rollups
from zerotrip.messaging.schemas_notices import NoticeCreate, RollupRead, TargetSpec

SETTINGS = NoticesSettings(approve_province_wide_emergency=False)


def timed(factory: object, runs: int, work: object) -> tuple[list[float], object]:
    values, last = [], None
    for _ in range(runs):
        started = time.perf_counter()
        with factory() as session, transaction(session):  # type: ignore[operator]
            last = work(session)  # type: ignore[operator]
        values.append((time.perf_counter() - started) * 1000)
    return values, last


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--staff", type=int, default=STAFF)
    parser.add_argument("--reads", type=int, default=600_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", help="Reuse a database made with --keep.")
    parser.add_argument("--keep", action="store_true", help="Keep the database for another run.")
    args = parser.parse_args()

    database = open_database(args.pg_url, reuse=args.database, staff=args.staff)
    engine = make_engine(database.url)
    factory = make_sessionmaker(engine)
    result: dict[str, object] = {}
    try:
        with factory() as session, transaction(session):
            actor: Actor = publisher(session, "330000", "bench-zj-notice")
            notice = notices.create_notice(
                session,
                actor=actor,
                spec=NoticeCreate(
                    title="关于防御第9号台风“利奇马”的紧急通知",
                    body="各单位立即启动防台风应急响应。",
                    priority="emergency",
                    requires_ack=True,
                    targets=[TargetSpec()],
                    publish=True,
                ),
                settings=SETTINGS,
            )
            notice_id = notice.id
            hangzhou = unit(session, "330100").id
            bureau = unit(session, "330106-emergency").id
        started = time.perf_counter()
        with factory() as session, transaction(session):
            reads = session.execute(
                text(
                    "INSERT INTO messaging_notice_receipt"
                    " (notice_id, account_id, org_id, org_path, read_at, acked_at)"
                    " SELECT :notice, account_id, org_id, org_path, now(), CASE WHEN n % 2 = 0 THEN now() END"
                    " FROM (SELECT account_id, org_id, org_path, row_number() OVER () AS n"
                    "       FROM (SELECT DISTINCT ON (account_id) account_id, org_id, org_path"
                    "             FROM identity_membership ORDER BY account_id, id) m"
                    "       ORDER BY random() LIMIT :reads) r"
                ),
                {"notice": notice_id, "reads": args.reads},
            ).rowcount
            # And the units' tallies, which reading keeps in the same transaction as the receipt.
            session.execute(
                text(
                    "INSERT INTO messaging_notice_tally"
                    " (notice_id, org_id, org_path, read_count, acked_count)"
                    " SELECT notice_id, org_id, min(org_path), count(*), count(acked_at)"
                    " FROM messaging_notice_receipt WHERE notice_id = :notice GROUP BY notice_id, org_id"
                ),
                {"notice": notice_id},
            )
        print(f"{reads:,} reads (receipts) written in {time.perf_counter() - started:.1f} s")

        def province(session: object) -> RollupRead:
            return rollups.rollup(session, actor=actor, notice_id=notice_id)  # type: ignore[arg-type]

        timed(factory, 2, province)  # warm the caches
        fresh, found = timed(factory, args.runs, province)
        assert isinstance(found, RollupRead)
        with psycopg.connect(libpq_url(database.url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE messaging_notice_receipt")
        vacuumed, found = timed(factory, args.runs, province)
        assert isinstance(found, RollupRead)
        with factory() as session:
            positions = session.scalar(
                select(func.count()).select_from(
                    select(Membership.account_id, Membership.org_id).distinct().subquery()
                )
            )
        assert found.unit.read == reads, (found.unit.read, reads)
        assert found.unit.recipients == positions, (found.unit.recipients, positions)
        assert sum(c.read for c in found.children) + (found.own.read if found.own else 0) == reads
        city, _ = timed(
            factory,
            args.runs,
            lambda s: rollups.rollup(s, actor=actor, notice_id=notice_id, unit_id=hangzhou),
        )
        missing, page = timed(
            factory,
            args.runs,
            lambda s: rollups.list_non_readers(
                s, actor=actor, notice_id=notice_id, unit_id=bureau, per_page=50
            ),
        )
        print(
            f"province: {found.unit.recipients:,} reached, {found.unit.read:,} read"
            f" ({found.unit.read_pct} %), {found.unit.acked:,} acknowledged;"
            f" {len(found.children)} units directly under it"
        )
        for child in found.children[:3]:
            print(f"  {child.name}: {child.read:,} / {child.recipients:,} read ({child.read_pct} %)")
        figures = {
            "province_rollup_fresh": summary(fresh),
            "province_rollup_vacuumed": summary(vacuumed),
            "city_rollup": summary(city),
            "bureau_non_readers_page": summary(missing),
        }
        for name, f in figures.items():
            print(
                f"{name}: p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms ({args.runs} runs)"
            )
        result = {
            "bench": "notice_rollup",
            "staff_positions": positions,
            "reads": reads,
            **figures,
            "non_readers_in_bureau": page.total,  # type: ignore[attr-defined]
            "target_ms": 1000,
            "met": figures["province_rollup_fresh"]["p99_ms"] < 1000
            and figures["province_rollup_vacuumed"]["p99_ms"] < 1000,
        }
    finally:
        engine.dispose()
        if not args.keep and not args.database:
            database.drop()
        elif args.keep:
            print(f"kept database {database.name}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
