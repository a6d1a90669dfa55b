"""Publishing a staff notice to the whole province against publishing one to a single county bureau, with
1.21 million staff on PostgreSQL.

Run: .venv/bin/python bench/notice_publish.py [--staff 1210000] [--rounds 200]
     [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--database NAME] [--keep]

Makes a throwaway database (``notices_staff.py``: the demo's 1,326 units through the actions, the staff
by COPY), then publishes ``--rounds`` notices of each kind, alternating, each in its own transaction
committed as a request would (``messaging.notices.create_notice`` with ``publish``: the notice, its target,
the audit events): the province's publisher to every staff member of the province, and 西湖区's emergency
bureau's publisher to that bureau's staff. Reports p50/p99/mean per kind, their ratio, and the rows each
publish added to the notices' tables (the same for both: nothing per recipient). Drops the database at
the end unless ``--keep``. Prints the figures and, last, one JSON line.

Target (issue 7): a province-wide publish under 1 s, and the same cost as one to a county.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from notices_staff import STAFF, open_database, percentile, publisher, unit
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.config import NoticesSettings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Membership
from zerotrip.messaging import notices
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeTarget
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec

SETTINGS = NoticesSettings(approve_province_wide_emergency=False)


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Notice)) or 0,
        session.scalar(select(func.count()).select_from(NoticeTarget)) or 0,
        session.scalar(select(func.count()).select_from(NoticeReceipt)) or 0,
    )


def publish(factory: object, actor: Actor, target: TargetSpec, n: int) -> float:
    spec = NoticeCreate(
        title=f"关于防御第9号台风“利奇马”的紧急通知（{n}）",
        body="各单位立即启动防台风应急响应，落实人员转移。",
        priority="emergency",
        requires_ack=True,
        targets=[target],
        form=[{"key": "evacuated", "label": "转移人数", "unit": "人"}],
        publish=True,
    )
    started = time.perf_counter()
    with factory() as session, transaction(session):  # type: ignore[operator]
        notices.create_notice(session, actor=actor, spec=spec, settings=SETTINGS)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--staff", type=int, default=STAFF)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", help="Reuse a database made with --keep.")
    parser.add_argument("--keep", action="store_true", help="Keep the database for another run.")
    args = parser.parse_args()

    database = open_database(args.pg_url, reuse=args.database, staff=args.staff)
    engine = make_engine(database.url)
    factory = make_sessionmaker(engine)
    try:
        with factory() as session, transaction(session):
            province_publisher = publisher(session, "330000", "bench-zj-notice")
            county_publisher = publisher(session, "330106-emergency", "bench-xh-emergency-notice")
            province = TargetSpec(org_id=unit(session, "330000").id)
            county = TargetSpec(org_id=unit(session, "330106-emergency").id)
            staff = session.scalar(select(func.count(func.distinct(Membership.account_id)))) or 0
            bureau = (
                session.scalar(
                    select(func.count(func.distinct(Membership.account_id))).where(
                        Membership.org_path == unit(session, "330106-emergency").path
                    )
                )
                or 0
            )
        print(f"recipients: province {staff:,}, 西湖区应急管理局 {bureau:,}")
        for n in range(5):  # warm the connection pool, the statement caches and the server's buffers
            publish(factory, province_publisher, province, -n)
            publish(factory, county_publisher, county, -n)
        timings: dict[str, list[float]] = {"province": [], "county": []}
        added: dict[str, list[tuple[int, int, int]]] = {"province": [], "county": []}
        for n in range(args.rounds):
            for kind, actor, target in (
                ("province", province_publisher, province),
                ("county", county_publisher, county),
            ):
                with factory() as session:
                    before = counts(session)
                timings[kind].append(publish(factory, actor, target, n))
                if n < 10:
                    with factory() as session:
                        after = counts(session)
                    added[kind].append(tuple(a - b for a, b in zip(after, before, strict=True)))  # type: ignore[arg-type]
        figures = {}
        for kind, values in timings.items():
            ms = [v * 1000 for v in values]
            figures[kind] = {
                "p50_ms": round(statistics.median(ms), 2),
                "p99_ms": round(percentile(ms, 99), 2),
                "mean_ms": round(statistics.fmean(ms), 2),
                "rows": list(added[kind][0]),
            }
            print(
                f"{kind:>8}: p50 {figures[kind]['p50_ms']:.2f} ms, p99 {figures[kind]['p99_ms']:.2f} ms,"
                f" mean {figures[kind]['mean_ms']:.2f} ms over {len(ms)} publishes;"
                f" rows added (notice, target, receipt): {tuple(added[kind][0])}"
            )
        same_rows = len({r for rows in added.values() for r in rows}) == 1
        ratio = figures["province"]["p50_ms"] / figures["county"]["p50_ms"]
        print(f"province / county p50: {ratio:.2f}; the same rows for both: {same_rows}")
        result = {
            "bench": "notice_publish",
            "staff": staff,
            "county_recipients": bureau,
            "rounds": args.rounds,
            "province": figures["province"],
            "county": figures["county"],
            "ratio_p50": round(ratio, 3),
            "same_rows": same_rows,
            "setup_seconds": {k: round(v, 1) for k, v in database.seconds.items()},
            "target_ms": 1000,
            "met": figures["province"]["p99_ms"] < 1000 and same_rows,
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
