"""A staff member's inbox page and marking a notice read, with 1.21 million staff and 1,000 live notices on
PostgreSQL.

Run: .venv/bin/python bench/notice_inbox.py [--staff 1210000] [--notices 1000] [--sample 2000]
     [--http-sample 500] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--database NAME] [--keep]

Makes a throwaway database (``notices_staff.py``) and publishes ``--notices`` notices through the action,
spread over the last seven days: 5 % to the whole province, 25 % to a city, 40 % to a county, 20 % to one
department, 10 % to one role across the province (reviewers, data stewards …); 15 % urgent and 5 %
emergency. Then ``--sample`` staff are drawn at random; for each, half of the notices addressed to them
(worked out by the targeting rules) get a receipt, written with COPY, and 300,000 other staff have read
the first province-wide notice, so the receipts table is not empty around them. Each sampled staff member then
(1) opens their inbox: page 1 of 20, unread urgent first, with the totals, as the API route runs it
(``notices_inbox.inbox_json`` under ``one_statement``: the page's JSON from one statement, in autocommit),
and (2) marks the first unread notice on it read (``mark_read`` under ``one_statement``). Their grants are
loaded beforehand, as signing in does. Reports p50/p95/p99 of both (wall clock and this process's CPU),
the inbox query's own time in the database (EXPLAIN ANALYZE of every tenth), the machine's floor measured
alongside (one round trip: ``SELECT 1`` in autocommit; an empty read transaction; a one-row UPDATE and
commit) and the load average, and how many notices an inbox held. Then the first ``--http-sample`` of them
do the same through ``zerotrip serve`` (one worker, a session cookie each, one kept-alive connection):
``GET /api/messaging/notices/inbox`` and ``POST …/read`` of the first unread notice, as the client sees
them (a secondary figure: it adds the HTTP stack and the session's resolution). A reused database
(``--database``) keeps the notices it has. Drops the database at the end unless ``--keep``. Prints the
figures and, last, one JSON line.

Target (issue 7): p99 under 20 ms for both.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import orjson
import psycopg
from notices_staff import STAFF, libpq_url, open_database, percentile, publisher
from sqlalchemy import event, func, select, text

from zerotrip.common import clock
from zerotrip.config import NoticesSettings
from zerotrip.db import make_engine, make_sessionmaker, one_statement, transaction
from zerotrip.identity import auth
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Membership, Organisation, WebSession
from zerotrip.identity.secrets import new_token, token_hash
from zerotrip.messaging import notices, notices_inbox, notices_receipts
from zerotrip.messaging.models_notices import Notice, NoticeTarget
from zerotrip.messaging.notices_targeting import Target, positions_of, reached_positions
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec

SETTINGS = NoticesSettings(approve_province_wide_emergency=False)
ROLES = ["reviewer", "data_steward", "certificate_issuer", "site_operator"]


def publish_live_notices(factory: object, count: int, rng: random.Random) -> None:
    """``count`` notices from publishers at the units they target, published over the last seven days."""
    with factory() as session:  # type: ignore[operator]
        units = session.execute(select(Organisation.code, Organisation.kind, Organisation.id)).all()
    cities = [u for u in units if u.kind == "city"]
    counties = [u for u in units if u.kind == "county"]
    departments = [u for u in units if u.kind == "department"]
    now = datetime.now(UTC)
    with factory() as session, transaction(session):  # type: ignore[operator]
        actors: dict[str, Actor] = {}

        def actor_for(code: str) -> Actor:
            if code not in actors:
                actors[code] = publisher(session, code, f"bench-pub-{code}")
            return actors[code]

        for n in range(count):
            share = n / count
            if share < 0.05:
                code, target = "330000", TargetSpec()
            elif share < 0.30:
                code, target = rng.choice(cities).code, TargetSpec()
            elif share < 0.70:
                code, target = rng.choice(counties).code, TargetSpec()
            elif share < 0.90:
                code, target = rng.choice(departments).code, TargetSpec()
            else:
                code, target = "330000", TargetSpec(roles=[rng.choice(ROLES)])
            roll = rng.random()
            priority = "emergency" if roll < 0.05 else "urgent" if roll < 0.20 else "normal"
            spec = NoticeCreate(
                title=f"通知 {n}",
                body="请各单位按要求落实。",
                priority=priority,
                requires_ack=priority != "normal",
                targets=[target],
                publish=True,
            )
            with clock.frozen(now - timedelta(days=7) + timedelta(days=7) * share):
                notices.create_notice(session, actor=actor_for(code), spec=spec, settings=SETTINGS)


def copy_receipts(url: str, rows: list[tuple[int, str, int, str]]) -> None:
    """COPY the receipts into a scratch table and insert those not already there (a reused database)."""
    now = datetime.now(UTC).isoformat()
    buffer = io.StringIO()
    for notice_id, account_id, org_id, path in rows:
        buffer.write(f"{notice_id}\t{account_id}\t{org_id}\t{path}\t{now}\t\\N\n")
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE staged (LIKE messaging_notice_receipt) ON COMMIT DROP")
            with cur.copy("COPY staged FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            cur.execute(
                "INSERT INTO messaging_notice_receipt SELECT * FROM staged"
                " ORDER BY notice_id, account_id, org_id ON CONFLICT DO NOTHING"
            )
        conn.commit()


def first_unread(answer: bytes) -> int | None:
    """The first unread published notice on an inbox page (the API's JSON)."""
    items = orjson.loads(answer)["items"]
    return next((i["id"] for i in items if i["read_at"] is None and i["status"] == "published"), None)


def start_server(url: str, data_dir: str, log: str) -> tuple[subprocess.Popen[bytes], int]:
    """``zerotrip serve --workers 1`` on a free port, its periodic duties off; waits for /healthz."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        **os.environ,
        "ZEROTRIP_DATA_DIR": data_dir,
        "ZEROTRIP_DATABASE_URL": url,
        "ZEROTRIP_AUDIT__CHECKPOINT_INTERVAL_SECONDS": "0",
        "ZEROTRIP_BOOKING__DUTY_INTERVAL_SECONDS": "0",
        "ZEROTRIP_DATAHUB__ESCALATION_INTERVAL_SECONDS": "0",
        "ZEROTRIP_SERVICES__ESCALATION_INTERVAL_SECONDS": "0",
        "ZEROTRIP_NOTICES__REMINDER_INTERVAL_SECONDS": "0",
        "ZEROTRIP_NOTICES__HEADCOUNT_CHECK_SECONDS": "0",
    }
    command = [sys.executable, "-m", "zerotrip", "serve", "--port", str(port), "--workers", "1"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    process.wait()
    raise TimeoutError("the server did not come up")


def over_http(factory: object, url: str, actors: list[Actor]) -> dict[str, list[float]]:
    """Each actor signed in (a session row, as signing in writes), then through ``zerotrip serve`` on one
    kept-alive connection: GET the inbox's page 1 and POST ``read`` for its first unread notice. Returns
    the wall times in ms, as the client sees them."""
    now = datetime.now(UTC)
    tokens = []
    with factory() as session, transaction(session):  # type: ignore[operator]
        for actor in actors:
            token = new_token("zs_")
            session.add(
                WebSession(
                    token_hash=token_hash(token),
                    account_id=actor.account_id,
                    csrf_token=token,
                    created_at=now,
                    expires_at=now + timedelta(hours=2),
                    client_address="127.0.0.1",
                )
            )
            tokens.append(token)
    timings: dict[str, list[float]] = {"inbox": [], "read": []}
    with tempfile.TemporaryDirectory(prefix="zerotrip-inbox-") as folder:
        process, port = start_server(url, folder, f"{folder}/server.log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for token in tokens:
                headers = {"Cookie": f"zt_session={token}"}
                started = time.perf_counter()
                conn.request("GET", "/api/messaging/notices/inbox?per_page=20", headers=headers)
                response = conn.getresponse()
                body = response.read()
                timings["inbox"].append((time.perf_counter() - started) * 1000)
                assert response.status == 200, body[:300]
                unread = first_unread(body)
                if unread is None:
                    continue
                headers["X-CSRF-Token"] = token
                started = time.perf_counter()
                conn.request("POST", f"/api/messaging/notices/{unread}/read", headers=headers)
                response = conn.getresponse()
                body = response.read()
                timings["read"].append((time.perf_counter() - started) * 1000)
                assert response.status == 200, body[:300]
            conn.close()
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--staff", type=int, default=STAFF)
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", help="Reuse a database made with --keep.")
    parser.add_argument(
        "--http-sample",
        type=int,
        default=500,
        help="How many of the sampled staff then do the same over HTTP (0: skip that part).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the database for another run.")
    args = parser.parse_args()
    rng = random.Random(20190809)

    database = open_database(args.pg_url, reuse=args.database, staff=args.staff)
    engine = make_engine(database.url)
    factory = make_sessionmaker(engine)
    result: dict[str, object] = {}
    try:
        with factory() as session:
            already = session.scalar(
                select(func.count()).select_from(Notice).where(Notice.status == "published")
            )
        if already:
            print(f"reusing {already:,} published notices")
        else:
            started = time.perf_counter()
            publish_live_notices(factory, args.notices, rng)
            print(f"published {args.notices:,} notices in {time.perf_counter() - started:.1f} s")
        with factory() as session:
            live = session.scalar(
                select(func.count()).select_from(Notice).where(Notice.status == "published")
            )
            targets = [
                (notice_id, Target(path, prefix, mask))
                for notice_id, path, prefix, mask in session.execute(
                    select(
                        NoticeTarget.notice_id,
                        NoticeTarget.scope_path,
                        NoticeTarget.division_prefix,
                        NoticeTarget.role_mask,
                    )
                )
            ]
            province_wide = [i for i, t in targets if t.scope_path.count("/") == 2 and not t.role_mask]
            sample_ids = session.scalars(
                select(Membership.account_id).order_by(func.random()).limit(args.sample)
            ).all()
            sample = [auth.load_grants(session, a) for a in sample_ids]
        actors = [
            Actor(kind="staff", name="bench", account_id=a, grants=g)
            for a, g in zip(sample_ids, sample, strict=True)
        ]
        receipts: list[tuple[int, str, int, str]] = []
        addressed_counts = []
        for actor in actors:
            positions = positions_of(actor)
            addressed = sorted({i for i, t in targets if reached_positions([t], positions)})
            addressed_counts.append(len(addressed))
            for notice_id in addressed:
                if rng.random() < 0.5:
                    p = reached_positions([t for i, t in targets if i == notice_id], positions)[0]
                    receipts.append((notice_id, str(actor.account_id), p.org_id, p.org_path))
        started = time.perf_counter()
        copy_receipts(libpq_url(database.url), receipts)
        with factory() as session, transaction(session):
            # About 300,000 others (those whose account id starts with 0-3) read the province-wide notices.
            background = session.execute(
                text(
                    "INSERT INTO messaging_notice_receipt (notice_id, account_id, org_id, org_path, read_at)"
                    " SELECT n.id, m.account_id, m.org_id, m.org_path, now()"
                    " FROM (SELECT DISTINCT ON (account_id) account_id, org_id, org_path"
                    " FROM identity_membership WHERE account_id < '40000000-0000-0000-0000-000000000000'"
                    " ORDER BY account_id, id) m"
                    " CROSS JOIN (SELECT unnest(CAST(:ids AS integer[])) AS id) n"
                    " ON CONFLICT DO NOTHING"
                ),
                {"ids": province_wide[:1]},
            ).rowcount
        with factory() as session, transaction(session):
            # And the units' tallies, which reading keeps in the same transaction as the receipt.
            session.execute(
                text(
                    "INSERT INTO messaging_notice_tally"
                    " (notice_id, org_id, org_path, read_count, acked_count)"
                    " SELECT notice_id, org_id, min(org_path), count(*), count(acked_at)"
                    " FROM messaging_notice_receipt GROUP BY notice_id, org_id"
                    " ON CONFLICT (notice_id, org_id) DO UPDATE SET read_count = excluded.read_count,"
                    " acked_count = excluded.acked_count"
                )
            )
        with psycopg.connect(libpq_url(database.url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE messaging_notice_receipt")
            conn.execute("VACUUM ANALYZE messaging_notice_tally")
        receipts_total = len(receipts) + background
        print(
            f"receipts: {len(receipts):,} for the sample (COPY), {background:,} others,"
            f" in {time.perf_counter() - started:.1f} s"
        )

        with factory() as session, transaction(session):
            session.execute(text("CREATE TABLE IF NOT EXISTS bench_ping (id integer PRIMARY KEY, n integer)"))
            session.execute(text("INSERT INTO bench_ping VALUES (1, 0) ON CONFLICT DO NOTHING"))
        captured: list[tuple[str, object]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if "messaging_notice_target" in statement and "OVER ()" in statement:
                captured.append((statement, parameters))

        timings: dict[str, list[float]] = {
            name: [] for name in ("inbox", "read", "ping1", "ping", "write", "inbox_cpu", "read_cpu")
        }
        server_ms: list[float] = []
        for n, actor in enumerate(actors):
            # The machine's floor at this moment: one round trip, an empty read transaction, a one-row write.
            started = time.perf_counter()
            with factory() as session, one_statement(session):
                session.execute(text("SELECT 1"))
            timings["ping1"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with factory() as session, transaction(session):
                session.execute(text("SELECT 1"))
            timings["ping"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with factory() as session, transaction(session):
                session.execute(text("UPDATE bench_ping SET n = n + 1 WHERE id = 1"))
            timings["write"].append((time.perf_counter() - started) * 1000)

            cpu, started = time.process_time(), time.perf_counter()
            with factory() as session, one_statement(session):
                answer = notices_inbox.inbox_json(session, actor=actor, page=1, per_page=20)
            timings["inbox"].append((time.perf_counter() - started) * 1000)
            timings["inbox_cpu"].append((time.process_time() - cpu) * 1000)
            if n % 10 == 0:  # what the database itself spends on the inbox query
                statement, parameters = captured[-1]
                with engine.connect() as conn:
                    plan = conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
                    ).scalar()
                server_ms.append(float(plan[0]["Planning Time"]) + float(plan[0]["Execution Time"]))
            captured.clear()
            unread = first_unread(answer)
            if unread is None:
                continue
            cpu, started = time.process_time(), time.perf_counter()
            with factory() as session, one_statement(session):
                notices_receipts.mark_read(session, actor=actor, notice_id=unread)
            timings["read"].append((time.perf_counter() - started) * 1000)
            timings["read_cpu"].append((time.process_time() - cpu) * 1000)

        def summary(values: list[float]) -> dict[str, float]:
            return {
                "p50_ms": round(statistics.median(values), 2),
                "p95_ms": round(percentile(values, 95), 2),
                "p99_ms": round(percentile(values, 99), 2),
                "max_ms": round(max(values), 2),
            }

        if args.http_sample:
            web = over_http(factory, database.url, actors[: args.http_sample])
            timings["http_inbox"], timings["http_read"] = web["inbox"], web["read"]
        figures = {name: summary(values) for name, values in timings.items()}
        figures["inbox_server"] = summary(server_ms)
        print(
            f"live notices: {live:,}; notices per sampled inbox:"
            f" mean {statistics.fmean(addressed_counts):.0f}, max {max(addressed_counts)}"
        )
        labels = {
            "inbox": f"inbox page 1, wall ({len(timings['inbox']):,} staff)",
            "inbox_cpu": "inbox page 1, this process's CPU",
            "inbox_server": f"inbox query in the database (EXPLAIN ANALYZE, {len(server_ms)} of them)",
            "read": f"mark as read, wall ({len(timings['read']):,})",
            "read_cpu": "mark as read, this process's CPU",
            "ping1": "floor: one round trip (SELECT 1 in autocommit), wall",
            "ping": "floor: empty read transaction (BEGIN, SELECT 1, COMMIT), wall",
            "write": "floor: one-row UPDATE and commit, wall",
        }
        if args.http_sample:
            labels["http_inbox"] = (
                f"over HTTP (zerotrip serve, 1 worker, session cookie): GET inbox, wall"
                f" ({len(timings['http_inbox']):,})"
            )
            labels["http_read"] = f"over HTTP: POST read, wall ({len(timings['http_read']):,})"
        for name, label in labels.items():
            f = figures[name]
            print(f"{label}: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms,", end=" ")
            print(f"p99 {f['p99_ms']} ms, max {f['max_ms']} ms")
        with open("/proc/loadavg", encoding="ascii") as handle:
            load = handle.read().split()[:3]
        print(f"load average at the end: {' '.join(load)}")
        with factory() as session:
            staff = session.scalar(select(func.count(func.distinct(Membership.account_id)))) or 0
        result = {
            "bench": "notice_inbox",
            "staff": staff,
            "live_notices": live,
            "receipts_before": receipts_total,
            "inbox_notices_mean": round(statistics.fmean(addressed_counts), 1),
            "inbox": figures["inbox"],
            "mark_read": figures["read"],
            "inbox_cpu": figures["inbox_cpu"],
            "mark_read_cpu": figures["read_cpu"],
            "inbox_server": figures["inbox_server"],
            "floor_round_trip": figures["ping1"],
            "floor_read": figures["ping"],
            "floor_write": figures["write"],
            "http_inbox": figures.get("http_inbox"),
            "http_mark_read": figures.get("http_read"),
            "load_average": [float(x) for x in load],
            "target_p99_ms": 20,
            "met": figures["inbox"]["p99_ms"] < 20 and figures["read"]["p99_ms"] < 20,
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
