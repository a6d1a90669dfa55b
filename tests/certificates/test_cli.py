"""``zerotrip certificates``: offline verification (no server, no database), the trust list, key rotation."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.certificates.credentials import (
    HOLDER,
    NOW,
    STATUS_IDX,
    Deployment,
    issue,
    make_deployment,
    present,
    status_list_file,
)
from zerotrip.audit.models import AuditEvent
from zerotrip.certificates import pdf, qr, sdjwt, signing
from zerotrip.certificates.numbers import issuer_credit_code
from zerotrip.certificates.statuslist import INVALID, SUSPENDED
from zerotrip.certificates.urls import issuer_url
from zerotrip.cli import app
from zerotrip.common import clock
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions as identity_actions
from zerotrip.identity.actor import system
from zerotrip.keys import KeyStore

runner = CliRunner()


@pytest.fixture
def offline(tmp_path: Path) -> tuple[Deployment, Path, Path]:
    """A deployment's keys, its trust list written to a file, and an empty data dir for the CLI."""
    deployment = make_deployment(tmp_path / "issuer", "ES256")
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(json.dumps(deployment.trust.to_jwks()))
    verifier_dir = tmp_path / "verifier"
    return deployment, trust_file, verifier_dir


def verify(verifier_dir: Path, *args: str, stdin: str | None = None) -> Result:
    with clock.frozen(NOW + timedelta(seconds=10)):
        return runner.invoke(
            app, ["--data-dir", str(verifier_dir), "certificates", "verify", *args], input=stdin
        )


def test_offline_verify_of_a_valid_certificate(
    offline: tuple[Deployment, Path, Path], tmp_path: Path
) -> None:
    deployment, trust_file, verifier_dir = offline
    token_file = tmp_path / "certificate.txt"
    token_file.write_text(issue(deployment) + "\n")
    result = verify(verifier_dir, str(token_file), "--trust-list", str(trust_file))
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "not checked" in result.output
    assert "王小明" in result.output and "无房证明" in result.output
    # Offline means offline: no database, no key store was made in the data dir.
    assert not verifier_dir.exists()


def test_offline_verify_of_a_qr_url_a_bare_token_and_stdin(offline: tuple[Deployment, Path, Path]) -> None:
    deployment, trust_file, verifier_dir = offline
    token = issue(deployment)
    url = f"https://zerotrip.example.gov.cn/verify#{token}"
    assert verify(verifier_dir, url, "--trust-list", str(trust_file)).exit_code == 0
    assert verify(verifier_dir, token, "--trust-list", str(trust_file)).exit_code == 0
    assert verify(verifier_dir, "-", "--trust-list", str(trust_file), stdin=url).exit_code == 0


def test_offline_verify_of_a_presentation(offline: tuple[Deployment, Path, Path]) -> None:
    deployment, trust_file, verifier_dir = offline
    shown = present(deployment, issue(deployment), ["holder_name"])
    result = verify(verifier_dir, shown, "--trust-list", str(trust_file), "--require-key-binding", "--json")
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["key_bound"] and verdict["claims"] == {"holder_name": "王小明"}
    unbound = verify(
        verifier_dir, issue(deployment), "--trust-list", str(trust_file), "--require-key-binding"
    )
    assert unbound.exit_code == 1 and "bad_key_binding" in unbound.output


@pytest.mark.parametrize(("status", "code"), [(INVALID, "revoked"), (SUSPENDED, "suspended")])
def test_offline_verify_with_a_status_list_file(
    offline: tuple[Deployment, Path, Path], tmp_path: Path, status: int, code: str
) -> None:
    deployment, trust_file, verifier_dir = offline
    status_file = tmp_path / "status.jwt"
    status_file.write_text(status_list_file(deployment, [(STATUS_IDX, status)]))
    result = verify(
        verifier_dir, issue(deployment), "--trust-list", str(trust_file), "--status-list", str(status_file)
    )
    assert result.exit_code == 1
    assert code.upper() in result.output and f"({code})" in result.output
    status_file.write_text(status_list_file(deployment, [(STATUS_IDX + 1, status)]))
    result = verify(
        verifier_dir, issue(deployment), "--trust-list", str(trust_file), "--status-list", str(status_file)
    )
    assert result.exit_code == 0 and "checked against the status list of" in result.output


def test_offline_verify_with_an_altered_status_list_says_status_unknown(
    offline: tuple[Deployment, Path, Path], tmp_path: Path
) -> None:
    deployment, trust_file, verifier_dir = offline
    header, _, signature = status_list_file(deployment, []).split(".")
    payload = status_list_file(deployment, [(STATUS_IDX, INVALID)]).split(".")[1]
    status_file = tmp_path / "status.jwt"
    status_file.write_text(f"{header}.{payload}.{signature}")
    result = verify(
        verifier_dir, issue(deployment), "--trust-list", str(trust_file), "--status-list", str(status_file)
    )
    assert result.exit_code == 1 and "status_unavailable" in result.output


def test_offline_verify_of_a_tampered_certificate(offline: tuple[Deployment, Path, Path]) -> None:
    deployment, trust_file, verifier_dir = offline
    jwt, _first, *rest = issue(deployment).split("~")
    forged = "~".join([jwt, sdjwt.make_disclosure("holder_name", "李四"), *rest])
    result = verify(verifier_dir, forged, "--trust-list", str(trust_file))
    assert result.exit_code == 1 and "tampered_disclosure" in result.output
    assert "李四" not in result.output


def test_offline_verify_usage_errors(offline: tuple[Deployment, Path, Path], tmp_path: Path) -> None:
    deployment, trust_file, verifier_dir = offline
    token = issue(deployment)
    assert verify(verifier_dir, token, "--trust-list", str(tmp_path / "missing.json")).exit_code == 2
    assert verify(verifier_dir, str(tmp_path / "missing.txt"), "--trust-list", str(trust_file)).exit_code == 2
    assert verify(verifier_dir, token).exit_code == 2  # --trust-list is required
    bad_trust = tmp_path / "bad.json"
    bad_trust.write_text('{"keys": [{"kid": "x"}]}')
    assert verify(verifier_dir, token, "--trust-list", str(bad_trust)).exit_code == 2
    assert verify(verifier_dir, "garbage~", "--trust-list", str(trust_file)).exit_code == 1


def test_trust_list_and_rotate_key(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = new_database(migrate=True)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            province = identity_actions.create_organisation(
                db, actor=system("test"), kind="province", code="ZJ", name="浙江省", division_code="330000"
            )
            department = identity_actions.create_organisation(
                db,
                actor=system("test"),
                kind="department",
                code="ZJ-CIVIL",
                name="浙江省民政厅",
                division_code="330000",
                parent_id=province.id,
            )
            org_id, credit_code = department.id, issuer_credit_code(department)
    finally:
        engine.dispose()
    base = ["--data-dir", str(tmp_path), "--database-url", url, "certificates"]

    public_url = "http://127.0.0.1:8000"

    def issuer_entries() -> list[dict[str, str]]:
        result = runner.invoke(app, [*base, "trust-list"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        jwks = json.loads(result.output)
        # Besides the issuers' keys, only the platform's status-list keys.
        assert all(jwk["iss"] == public_url for jwk in jwks["keys"] if "/issuers/" not in jwk["iss"])
        return [jwk for jwk in jwks["keys"] if jwk["iss"] != public_url]

    assert issuer_entries() == []
    first = runner.invoke(app, [*base, "rotate-key", "ZJ-CIVIL"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*base, "rotate-key", "ZJ-CIVIL"], catch_exceptions=False)
    assert second.exit_code == 0 and "Retired keys still trusted" in second.output
    assert runner.invoke(app, [*base, "rotate-key", "NO-SUCH-ORG"]).exit_code == 2

    entries = issuer_entries()
    keys = signing.issuer_keys(KeyStore(tmp_path / "secrets"), org_id)
    assert len(keys) == 2
    assert {jwk["kid"] for jwk in entries} == {key.kid for key in keys}
    assert all(jwk["iss"] == issuer_url(public_url, credit_code) for jwk in entries)
    assert all(jwk["name"] == "浙江省民政厅" and jwk["alg"] == "ES256" for jwk in entries)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            events = db.scalars(
                select(AuditEvent).where(AuditEvent.action == "certificates.issuer_key.rotated")
            ).all()
    finally:
        engine.dispose()
    assert [event.subject_id for event in events] == [str(org_id), str(org_id)]
    assert events[1].data["previous_kids"] == [events[0].data["kid"]]


def test_offline_verify_of_a_certificate_pdf(offline: tuple[Deployment, Path, Path], tmp_path: Path) -> None:
    """Round trip through paper: the PDF a holder downloads verifies offline with the trust list alone, and
    the QR printed on it carries a token the same command accepts."""
    deployment, trust_file, verifier_dir = offline
    token = issue(deployment, fields={"holder_name": "王小明", "holder_id": HOLDER, "real_estate_count": 0})
    qr_data = qr.qr_payload("https://zerotrip.example.gov.cn", token)
    view = pdf.CertificatePdfView(
        type_name="无房证明",
        type_name_en="Proof of holding no real estate",
        number=sdjwt.parse(token).payload["jti"],
        issuer_name="浙江省自然资源厅",
        holder_name="王小明",
        fields=[("查询结果", "无不动产登记记录")],
        issued_at=NOW,
        valid_from=NOW,
        valid_until=NOW + timedelta(days=30),
        token=token,
        qr_data=qr_data,
    )
    pdf_file = tmp_path / "certificate.pdf"
    pdf_file.write_bytes(pdf.render_certificate_pdf(view))
    result = verify(verifier_dir, str(pdf_file), "--trust-list", str(trust_file))
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "王小明" in result.output
    assert verify(verifier_dir, qr_data, "--trust-list", str(trust_file)).exit_code == 0
