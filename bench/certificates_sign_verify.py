"""Certificate signing and verification throughput against the raw signature primitive, in one run.

Run: .venv/bin/python bench/certificates_sign_verify.py [--seconds 1.0] [--rounds 5] [--storage N]

For ES256 (P-256) and EdDSA (Ed25519), in the same process and interleaved round by round (so a noisy,
shared machine slows both sides alike), the median rate over the rounds of:

* raw sign: ``cryptography``'s ``sign`` over the exact signing input of a typical certificate (the
  issuer-signed JWT's ``header.payload``, ten fields, Chinese text), nothing else;
* issue: ``sdjwt.issue`` of that certificate (ten disclosures with fresh salts, decoys, sorted digests,
  JSON, base64url, the signature);
* raw verify: ``cryptography``'s ``verify`` of that signature over those bytes (DER for ECDSA);
* verify: ``verify.verify_token`` of the issued token with all ten disclosures against a trust list
  (parse, trust lookup, signature, every digest, validity period; offline, no status lookup);
* verify floor (for comparison): the least an SD-JWT check can do in Python (split, decode, the signature,
  one SHA-256 and one JSON decode per disclosure; nothing strict, no verdict);
* verify presentation (for information): a presentation of three fields with a KB-JWT, which costs two
  signature checks.

The issue's targets: verify at least half the raw verify rate; issue with storage at least a quarter of the
raw sign rate. With ``--storage N`` it also issues N certificates of a ten-field type to N different,
registered people through ``certificates.actions.issue_certificates`` in committed batches of
``--batch`` (as a department system's ``POST /api/certificates/batches`` would), on SQLite in a temporary
data directory and on PostgreSQL (``--pg-url``; a scratch database is created and dropped), and reports
that rate against the raw sign rate measured right after on the same key and bytes, plus ``--singles``
single issues (``issue_certificate``, one transaction each) as latency. Rates are per CPU second of this
process and per wall-clock second; on PostgreSQL the server's backend CPU (read from /proc for the
connection's backend) is added for a CPU ratio, and the wall-clock ratio is the one to quote. Prints the
figures and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from zerotrip.certificates import jose, sdjwt, signing
from zerotrip.certificates.trust import TrustList, build_jwks
from zerotrip.certificates.verify import verify_token
from zerotrip.keys import KeyStore, SigningKey

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
PUBLIC_URL = "https://zerotrip.example.gov.cn"
ISS = f"{PUBLIC_URL}/issuers/11330100MB1A2B3C4D"
FIELDS: dict[str, Any] = {
    "holder_name": "王小明",
    "holder_id": "330102199001011237",
    "address": "浙江省杭州市西湖区文三路 90 号",
    "household_registration": "杭州市西湖区",
    "real_estate_count": 0,
    "searched_regions": ["330100", "330106"],
    "search_date": "2026-11-28",
    "purpose": "住房公积金提取",
    "remarks": "经不动产登记信息系统查询，申请人在查询范围内无不动产登记记录。",
    "certifier": {"unit": "杭州市不动产登记中心", "window": 7},
}
CLAIMS: dict[str, Any] = {
    "iss": ISS,
    "vct": f"{PUBLIC_URL}/certificate-types/no-real-estate",
    "jti": "1.2.156.3005.2.11330000002500031X001.11330100MB1A2B3C4D.482915038271.001.K",
    "iat": NOW,
    "nbf": NOW,
    "exp": NOW + timedelta(days=90),
    "status": {"status_list": {"idx": 4242, "uri": f"{PUBLIC_URL}/api/certificates/status-lists/1"}},
    "issuer_name": "杭州市规划和自然资源局",
    "type_name": "无房证明",
}


def rate(action: Callable[[], object], seconds: float) -> float:
    """Operations per CPU second of ``action``, run repeatedly for about ``seconds`` of this process's CPU
    time (the machine is shared: wall-clock time would charge other processes' work to whoever ran)."""
    count = 0
    started = time.process_time()
    deadline = started + seconds
    while True:
        for _ in range(20):
            action()
        count += 20
        now = time.process_time()
        if now >= deadline:
            return count / (now - started)


def raw_primitives(key: SigningKey, message: bytes, jose_signature: bytes) -> dict[str, Callable[[], object]]:
    private = key.private_key
    public = key.public_key
    if isinstance(private, ed25519.Ed25519PrivateKey):
        assert isinstance(public, ed25519.Ed25519PublicKey)
        return {
            "raw_sign": lambda: private.sign(message),
            "raw_verify": lambda: public.verify(jose_signature, message),
        }
    assert isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(public, ec.EllipticCurvePublicKey)
    algorithm = ec.ECDSA(hashes.SHA256())
    half = len(jose_signature) // 2
    der = encode_dss_signature(
        int.from_bytes(jose_signature[:half], "big"), int.from_bytes(jose_signature[half:], "big")
    )
    return {
        "raw_sign": lambda: private.sign(message, algorithm),
        "raw_verify": lambda: public.verify(der, message, algorithm),
    }


def minimal_check(token: str, key: SigningKey) -> Callable[[], object]:
    """The least an SD-JWT check can do in Python, for comparison: split, decode the payload, verify the
    signature, and for each disclosure one SHA-256, one digest lookup and one JSON decode. No strictness,
    no trust list, no time or type checks, no verdict."""
    public = key.public_key

    def run() -> dict[str, Any]:
        jwt, *disclosures, _ = token.split("~")
        header, payload_segment, signature_segment = jwt.split(".")
        payload = json.loads(base64.urlsafe_b64decode(payload_segment + "=="))
        signature = base64.urlsafe_b64decode(signature_segment + "==")
        message = f"{header}.{payload_segment}".encode()
        if isinstance(public, ec.EllipticCurvePublicKey):
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public.verify(der, message, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, message)
        digests = set(payload["_sd"])
        claims = {}
        for disclosure in disclosures:
            found = base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode()).digest()).rstrip(b"=")
            assert found.decode() in digests
            _, name, value = json.loads(base64.urlsafe_b64decode(disclosure + "=="))
            claims[name] = value
        return claims

    return run


def measure_algorithm(
    keys: KeyStore, algorithm: str, *, seconds: float, rounds: int
) -> tuple[dict[str, float], SigningKey]:
    key = signing.issuer_signing_key(keys, 1 if algorithm == "ES256" else 2, algorithm=algorithm)
    holder = signing.holder_private_key(keys, "330102199001011237")
    holder_jwk = signing.public_jwk(holder)
    trust = TrustList.from_jwks(build_jwks([(key, ISS, "杭州市规划和自然资源局")]))

    def issue() -> str:
        return sdjwt.issue(key=key, claims=CLAIMS, disclosable=FIELDS, holder_public_jwk=holder_jwk)

    token = issue()
    jwt = token.split("~", 1)[0]
    signing_input = jwt.rsplit(".", 1)[0].encode("ascii")
    jose_signature = jose.b64url_decode(jwt.rsplit(".", 1)[1])
    shown = sdjwt.present(
        token,
        disclose=["holder_name", "real_estate_count", "search_date"],
        holder_key=holder,
        audience="https://verifier.example.cn",
        nonce="bench",
        now=NOW,
    )

    def check(text: str) -> Callable[[], object]:
        def run() -> None:
            verdict = verify_token(text, trust=trust, status=None, now=NOW, presentation_ttl_seconds=300)
            assert verdict.ok, verdict

        return run

    actions = {
        **raw_primitives(key, signing_input, jose_signature),
        "issue": issue,
        "verify": check(token),
        "verify_floor": minimal_check(token, key),
        "verify_presentation": check(shown),
    }
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            samples[name].append(rate(action, seconds))
    result = {name: statistics.median(values) for name, values in samples.items()}
    result["token_bytes"] = len(token)
    return result, key


STORED_TYPE_FIELDS = [
    ("address", "坐落", "Address", "text"),
    ("household_registration", "户籍地", "Household registration", "text"),
    ("real_estate_count", "不动产数量", "Real-estate count", "integer"),
    ("searched_region", "查询范围", "Searched region", "division_code"),
    ("search_date", "查询日期", "Search date", "date"),
    ("purpose", "用途", "Purpose", "text"),
    ("remarks", "备注", "Remarks", "text"),
    ("certifier_unit", "出具单位", "Certifying unit", "text"),
]
STORED_CLAIMS = {
    "address": FIELDS["address"],
    "household_registration": FIELDS["household_registration"],
    "real_estate_count": 0,
    "searched_region": "330100",
    "search_date": "2026-11-28",
    "purpose": FIELDS["purpose"],
    "remarks": FIELDS["remarks"],
    "certifier_unit": "杭州市不动产登记中心",
}


class Database:
    """A database of the benchmark's own: a temporary SQLite file, or a scratch PostgreSQL database."""

    def __init__(self, kind: str, folder: Path, pg_url: str) -> None:
        self.kind, self.pg_url = kind, pg_url
        if kind == "sqlite":
            self.url = f"sqlite:///{folder / 'bench.db'}"
        else:
            import psycopg

            self.name = f"zerotrip_bench_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            base = pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def backend_cpu_seconds(db: Any) -> float:
    """CPU time used so far by the PostgreSQL backend serving ``db``'s connection (same machine)."""
    from sqlalchemy import text

    pid = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_storage(
    kind: str, *, count: int, batch: int, singles: int, seconds: float, pg_url: str
) -> dict[str, Any]:
    """Issue ``count`` certificates of a ten-field type (eight type fields, holder name and ID) to as many
    registered people through ``issue_certificates`` in committed batches of ``batch`` (holder lookup,
    claim checks, numbers, status entries, holder keys, signing, one insert of the rows and one of their
    audit events, the status list counters, commit), then ``singles`` through ``issue_certificate``, one
    transaction each. The raw sign rate is measured right after, on the same key and exact bytes."""
    from sqlalchemy import select

    from zerotrip.certificates import actions, types
    from zerotrip.certificates.models import Certificate
    from zerotrip.certificates.schemas import CertificateField, CertificateTypeSpec
    from zerotrip.common.checks import make_resident_id
    from zerotrip.config import Settings
    from zerotrip.db import make_engine, make_sessionmaker, transaction
    from zerotrip.identity import actions as identity_actions
    from zerotrip.identity.actor import system
    from zerotrip.migrations import upgrade

    root = system("bench")
    result: dict[str, Any] = {"engine": kind, "count": count, "batch": batch, "singles": singles}
    for algorithm in ("ES256", "EdDSA"):
        with tempfile.TemporaryDirectory() as folder:
            database = Database(kind, Path(folder), pg_url)
            try:
                settings = Settings(  # type: ignore[call-arg]
                    data_dir=Path(folder),
                    database_url=database.url,
                    certificates={"algorithm": algorithm},  # type: ignore[arg-type]
                )
                engine = make_engine(settings.resolved_database_url)
                upgrade(engine)
                sessions = make_sessionmaker(engine)
                keys = KeyStore(settings.secrets_dir)
                holders: list[str] = []
                with sessions() as db, transaction(db):
                    province = identity_actions.create_organisation(
                        db, actor=root, kind="province", code="330000", name="浙江省", division_code="330000"
                    )
                    department_id = identity_actions.create_organisation(
                        db,
                        actor=root,
                        kind="department",
                        code="330000-land",
                        name="浙江省自然资源厅",
                        division_code="330000",
                        parent_id=province.id,
                    ).id
                    types.define_certificate_type(
                        db,
                        actor=root,
                        spec=CertificateTypeSpec(
                            code="bench-no-real-estate",
                            name="无房证明",
                            name_en="No real estate",
                            issuer_org_code="330000-land",
                            holder_kind="person",
                            fields=[
                                CertificateField(name=name, label=label, label_en=label_en, type=field_type)  # type: ignore[arg-type]
                                for name, label, label_en, field_type in STORED_TYPE_FIELDS
                            ],
                            validity_days=90,
                        ),
                    )
                    for i in range(batch + count + singles):
                        resident_id = make_resident_id(
                            division_code="330106",
                            birth_date=datetime(1940, 1, 1).date() + timedelta(days=7 * i),
                            sequence=i % 999 + 1,
                            sex="male" if i % 2 else "female",
                        )
                        identity_actions.register_person(
                            db,
                            actor=root,
                            resident_id=resident_id,
                            name=f"测试{i:05d}",
                            division_code="330106",
                        )
                        holders.append(resident_id)

                def issue_batch(
                    people: list[str],
                    sessions: Any = sessions,
                    keys: KeyStore = keys,
                    settings: Any = settings,
                ) -> float:
                    """One committed batch; returns the PostgreSQL backend's CPU seconds it took."""
                    with sessions() as db:
                        backend = backend_cpu_seconds(db) if kind == "postgresql" else 0.0
                        with transaction(db):
                            outcome = actions.issue_certificates(
                                db,
                                actor=root,
                                certificate_type="bench-no-real-estate",
                                items=[(holder, STORED_CLAIMS) for holder in people],
                                keys=keys,
                                settings=settings,
                                source_ref="bench",
                            )
                        assert len(outcome.issued) == len(people), outcome.rejected[:3]
                        return backend_cpu_seconds(db) - backend if kind == "postgresql" else 0.0

                # The first batch makes the department's key and the first status list.
                issue_batch(holders[:batch])
                cpu, wall, backend = time.process_time(), time.perf_counter(), 0.0
                for start in range(batch, batch + count, batch):
                    backend += issue_batch(holders[start : min(start + batch, batch + count)])
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall

                latencies: list[float] = []
                single_cpu = time.process_time()
                for holder in holders[batch + count :]:
                    started = time.perf_counter()
                    with sessions() as db, transaction(db):
                        actions.issue_certificate(
                            db,
                            actor=root,
                            certificate_type="bench-no-real-estate",
                            holder_key=holder,
                            claims=STORED_CLAIMS,
                            keys=keys,
                            settings=settings,
                            source_ref="bench",
                        )
                    latencies.append(time.perf_counter() - started)
                single_cpu = time.process_time() - single_cpu

                with sessions() as db:
                    token = db.scalars(select(Certificate.token).limit(1)).one()
                engine.dispose()
            finally:
                database.drop()
            # The raw primitive on the same key and the exact bytes a stored certificate's signature covers.
            key = signing.issuer_signing_key(keys, department_id, algorithm=algorithm)
            jwt = token.split("~", 1)[0]
            signing_input, _, signature = jwt.rpartition(".")
            raw_sign = raw_primitives(key, signing_input.encode("ascii"), jose.b64url_decode(signature))
            raw_cpu, raw_wall = rate_both(raw_sign["raw_sign"], seconds)
        per_cpu, per_wall = count / cpu, count / wall
        entry: dict[str, Any] = {
            "issued_per_cpu_s": round(per_cpu, 1),
            "issued_per_wall_s": round(per_wall, 1),
            "raw_sign_per_cpu_s": round(raw_cpu, 1),
            "raw_sign_per_wall_s": round(raw_wall, 1),
            "cpu_ratio": round(per_cpu / raw_cpu, 4),
            "wall_ratio": round(per_wall / raw_wall, 4),
            "single_p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
            "single_cpu_ms": round(single_cpu / len(latencies) * 1000, 2) if latencies else None,
        }
        if kind == "postgresql":
            entry["backend_cpu_s"] = round(backend, 3)
            entry["issued_per_cpu_s_with_backend"] = round(count / (cpu + backend), 1)
            entry["cpu_ratio_with_backend"] = round(count / (cpu + backend) / raw_cpu, 4)
        result[algorithm] = entry
    return result


def rate_both(action: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Operations per CPU second and per wall-clock second of ``action`` over about ``seconds`` of CPU."""
    count = 0
    cpu, wall = time.process_time(), time.perf_counter()
    while True:
        for _ in range(20):
            action()
        count += 20
        used = time.process_time() - cpu
        if used >= seconds:
            return count / used, count / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="Length of one timed burst.")
    parser.add_argument("--rounds", type=int, default=5, help="Interleaved rounds; the median is reported.")
    parser.add_argument(
        "--storage", type=int, default=2000, help="Certificates issued through the database (0: skip)."
    )
    parser.add_argument("--batch", type=int, default=500, help="Certificates per committed batch.")
    parser.add_argument("--singles", type=int, default=100, help="Single issues timed for latency.")
    parser.add_argument("--engines", default="sqlite,postgresql", help="Databases for --storage.")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("ZEROTRIP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="A PostgreSQL server where a scratch database may be created.",
    )
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        keys = KeyStore(Path(folder) / "secrets")
        for algorithm in ("ES256", "EdDSA"):
            results[algorithm], _ = measure_algorithm(
                keys, algorithm, seconds=args.seconds, rounds=args.rounds
            )

    print(
        f"{'algorithm':<8} {'raw sign/s':>11} {'issue/s':>9} {'ratio':>6}  "
        f"{'raw verify/s':>12} {'verify/s':>9} {'ratio':>6}  "
        f"{'floor/s':>8} {'ratio':>6}  {'presentation/s':>14}"
    )
    summary: dict[str, Any] = {"seconds": args.seconds, "rounds": args.rounds}
    for algorithm, r in results.items():
        issue_ratio = r["issue"] / r["raw_sign"]
        verify_ratio = r["verify"] / r["raw_verify"]
        floor_ratio = r["verify_floor"] / r["raw_verify"]
        print(
            f"{algorithm:<8} {r['raw_sign']:>11,.0f} {r['issue']:>9,.0f} {issue_ratio:>6.2f}  "
            f"{r['raw_verify']:>12,.0f} {r['verify']:>9,.0f} {verify_ratio:>6.2f}  "
            f"{r['verify_floor']:>8,.0f} {floor_ratio:>6.2f}  {r['verify_presentation']:>14,.0f}"
        )
        summary[algorithm] = {
            **{name: round(value, 1) for name, value in r.items()},
            "issue_over_raw_sign": round(issue_ratio, 3),
            "verify_over_raw_verify": round(verify_ratio, 3),
            "floor_over_raw_verify": round(floor_ratio, 3),
        }
    if args.storage:
        summary["storage"] = {}
        for kind in args.engines.split(","):
            stored = measure_storage(
                kind,
                count=args.storage,
                batch=args.batch,
                singles=args.singles,
                seconds=args.seconds,
                pg_url=args.pg_url,
            )
            print(
                f"\nissue_certificates on {kind}: {args.storage} certificates to as many people,"
                f" committed batches of {args.batch}; then {args.singles} single issues"
            )
            print(
                f"{'algorithm':<8} {'issued/CPU s':>12} {'raw sign/CPU s':>14} {'ratio':>6}  "
                f"{'issued/wall s':>13} {'raw sign/wall s':>15} {'ratio':>6}  {'single p50 ms':>13}"
                f" {'single CPU ms':>13}"
            )
            for algorithm in ("ES256", "EdDSA"):
                r = stored[algorithm]
                print(
                    f"{algorithm:<8} {r['issued_per_cpu_s']:>12,.0f} {r['raw_sign_per_cpu_s']:>14,.0f}"
                    f" {r['cpu_ratio']:>6.3f}  {r['issued_per_wall_s']:>13,.0f}"
                    f" {r['raw_sign_per_wall_s']:>15,.0f} {r['wall_ratio']:>6.3f}"
                    f"  {r['single_p50_ms']:>13.2f} {r['single_cpu_ms']:>13.2f}"
                )
                if kind == "postgresql":
                    print(
                        f"{'':<8} with the backend's CPU: {r['issued_per_cpu_s_with_backend']:,.0f}/CPU s,"
                        f" ratio {r['cpu_ratio_with_backend']:.3f}"
                    )
            summary["storage"][kind] = stored
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
