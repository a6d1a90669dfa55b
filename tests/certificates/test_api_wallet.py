"""The holder's JSON API: the wallet, presentations, use grants and public uses by code — who may call
what (anonymous 401, staff 403, another citizen 404), CSRF on writes, problems, and the rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.app import create_app
from zerotrip.certificates import numbers, pdf, sdjwt
from zerotrip.common import clock
from zerotrip.config import CertificatesSettings, Settings
from zerotrip.keys import KeyStore

from .conftest import CertWorld, citizen_login, sign_in
from .holding import Held, held_family, verify_presentation
from .test_wallet import decode_qr

PROBLEM = "application/problem+json"
ME = "/api/certificates/me"


@pytest.fixture
def held(db: Session, world: CertWorld, keys: KeyStore, settings: Settings) -> Iterator[Held]:
    yield from held_family(db, world, keys, settings)


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


def as_citizen(client: TestClient, db: Session, person: Any) -> dict[str, str]:
    return sign_in(client, db, citizen_login(db, person), portal="citizen")


def grant_body(**changes: Any) -> dict[str, Any]:
    body = {
        "audience": "中国工商银行杭州西湖支行",
        "audience_kind": "business",
        "fields": ["holder_name", "spouse_name"],
        "purpose": "办理个人住房贷款",
        "days": 30,
    }
    return body | changes


def test_the_wallet_lists_and_opens_the_holders_certificates(
    client: TestClient, db: Session, world: CertWorld, held: Held
) -> None:
    problem(client.get(f"{ME}/certificates"), 401, "not-authenticated")
    as_citizen(client, db, world.wife)
    listed = client.get(f"{ME}/certificates", params={"per_page": 2})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert (body["total"], body["per_page"]) == (3, 2)
    assert [i["number"] for i in body["items"]] == [held.proof.number, held.birth.number]
    assert [(i["relation"], i["status"]) for i in body["items"]] == [("self", "valid"), ("guardian", "valid")]
    opened = client.get(f"{ME}/certificates/{held.marriage.number}")
    assert opened.status_code == 200, opened.text
    read = opened.json()
    assert (read["type_name"], read["issuer_name"], read["status"]) == ("结婚证", "浙江省民政厅", "valid")
    assert read["fields"][0] == {
        "name": "holder_name",
        "label": "持证人",
        "label_en": "Holder",
        "value": "林晓雯",
        "disclosable": True,
    }
    assert read["token"] == held.marriage.token
    problem(client.get(f"{ME}/certificates/{held.licence.number}"), 404, "certificates/certificate-not-found")
    problem(client.get(f"{ME}/certificates/1.2.156.3005.2.x"), 404, "certificates/certificate-not-found")


def test_another_citizen_gets_404_and_staff_403(
    client: TestClient, db: Session, world: CertWorld, held: Held
) -> None:
    csrf = as_citizen(client, db, world.owner)
    assert client.get(f"{ME}/certificates").json()["total"] == 0
    number = held.marriage.number
    problem(client.get(f"{ME}/certificates/{number}"), 404, "certificates/certificate-not-found")
    problem(
        client.post(
            f"{ME}/certificates/{number}/presentations", json={"fields": ["holder_name"]}, headers=csrf
        ),
        404,
        "certificates/certificate-not-found",
    )
    problem(
        client.post(f"{ME}/certificates/{number}/grants", json=grant_body(), headers=csrf),
        404,
        "certificates/certificate-not-found",
    )
    problem(client.get(f"{ME}/grants", params={"number": number}), 404, "certificates/certificate-not-found")
    csrf = sign_in(client, db, "zj-civil-issuer")
    problem(client.get(f"{ME}/certificates"), 403, "identity/not-your-record")
    problem(client.get(f"{ME}/certificates/{number}"), 403, "identity/not-your-record")
    problem(
        client.post(
            f"{ME}/certificates/{number}/presentations", json={"fields": ["holder_name"]}, headers=csrf
        ),
        403,
        "identity/not-your-record",
    )


def test_showing_a_certificate_needs_csrf_and_discloses_only_the_chosen_fields(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    csrf = as_citizen(client, db, world.wife)
    url = f"{ME}/certificates/{held.proof.number}/presentations"
    choice = {"fields": ["holder_name", "result"]}
    problem(client.post(url, json=choice), 403, "csrf-failed")
    made = client.post(url, json=choice, headers=csrf)
    assert made.status_code == 201, made.text
    shown = made.json()
    assert (shown["audience"], shown["fields"]) == ("zerotrip-verify", ["holder_name", "result"])
    assert world.wife.resident_id not in shown["token"] and world.wife.resident_id not in shown["qr_payload"]
    verdict = verify_presentation(db, keys, settings, shown["token"], now=clock.now())
    assert (verdict.code, dict(verdict.claims)) == (
        "valid",
        {"holder_name": "林晓雯", "result": "无不动产登记记录"},
    )
    bad = problem(client.post(url, json={"fields": ["scope"]}, headers=csrf), 422, "validation-failed")
    assert bad["errors"][0]["pointer"] == "#/fields"
    problem(client.post(url, json={"fields": "holder_name"}, headers=csrf), 422, "validation-failed")


def test_grant_use_and_withdraw_over_the_api(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings, held: Held
) -> None:
    csrf = as_citizen(client, db, world.wife)
    url = f"{ME}/certificates/{held.marriage.number}/grants"
    problem(client.post(url, json=grant_body()), 403, "csrf-failed")
    too_long = grant_body(days=settings.certificates.use_grant_max_days + 1)
    assert (
        problem(client.post(url, json=too_long, headers=csrf), 422, "validation-failed")["errors"][0][
            "pointer"
        ]
        == "#/days"
    )
    created = client.post(url, json=grant_body(), headers=csrf)
    assert created.status_code == 201, created.text
    grant = created.json()
    code = grant["code"]
    assert numbers.is_grant_code(code) and grant["link"].endswith(f"/certificates/use/{code}")
    assert (grant["state"], grant["uses"], grant["field_labels"]) == ("active", [], ["持证人", "配偶姓名"])

    # Anyone holding the code: an anonymous visitor here (a fresh client without the cookie).
    with TestClient(client.app, base_url="http://testserver") as visitor:
        use = {"code": code, "used_by": "工行西湖支行 张三", "reason": "贷款审批"}
        used = visitor.post("/api/certificates/uses", json=use)
        assert used.status_code == 200, used.text
        copy = used.json()
        assert copy["note"].startswith("仅供中国工商银行杭州西湖支行用于办理个人住房贷款，")
        assert [f["name"] for f in copy["fields"]] == ["holder_name", "spouse_name"]
        assert set(sdjwt.disclosures(copy["presentation"])) == {"holder_name", "spouse_name"}
        assert held.marriage.token not in used.text
        verdict = verify_presentation(
            db, keys, settings, copy["presentation"], now=clock.now(), audience="中国工商银行杭州西湖支行"
        )
        assert verdict.code == "valid"
        problem(
            visitor.post("/api/certificates/uses", json=use | {"code": "2345-6789-ABCD"}),
            404,
            "certificates/use-grant-not-found",
        )
        problem(visitor.post("/api/certificates/uses", json=use | {"reason": ""}), 422, "validation-failed")

    listed = client.get(f"{ME}/grants").json()
    assert listed["total"] == 1
    assert [(u["used_by"], u["reason"]) for u in listed["items"][0]["uses"]] == [
        ("工行西湖支行 张三", "贷款审批")
    ]

    # Another citizen cannot withdraw it (404); the holder can, once.
    other = TestClient(client.app, base_url="http://testserver")
    other_csrf = as_citizen(other, db, world.owner)
    withdraw = f"{ME}/grants/{grant['id']}/withdraw"
    problem(other.post(withdraw, headers=other_csrf), 404, "certificates/use-grant-not-found")
    assert other.get(f"{ME}/grants").json()["total"] == 0
    withdrawn = client.post(withdraw, headers=csrf)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    problem(client.post(withdraw, headers=csrf), 410, "certificates/use-grant-withdrawn")
    problem(
        client.post("/api/certificates/uses", json=use, headers=csrf), 410, "certificates/use-grant-withdrawn"
    )


def test_uses_by_code_are_rate_limited_per_address(
    settings: Settings,
    session_factory: sessionmaker[Session],
    keys: KeyStore,
    db: Session,
    world: CertWorld,
    held: Held,
) -> None:
    strict = settings.model_copy(update={"certificates": CertificatesSettings(use_rate_per_minute=2)})
    app = create_app(strict, session_factory=session_factory, keys=keys)
    with TestClient(app, base_url="http://testserver") as visitor:
        guess = {"code": "2345-6789-ABCD", "used_by": "某人", "reason": "试"}
        for _ in range(2):
            problem(
                visitor.post("/api/certificates/uses", json=guess), 404, "certificates/use-grant-not-found"
            )
        limited = visitor.post("/api/certificates/uses", json=guess)
        problem(limited, 429, "certificates/uses-rate-limited")
        assert int(limited.headers["Retry-After"]) >= 1


def test_the_openapi_document_lists_the_holder_endpoints(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/certificates/me/certificates",
        "/api/certificates/me/certificates/{number}",
        "/api/certificates/me/certificates/{number}.pdf",
        "/api/certificates/me/certificates/{number}/qr.png",
        "/api/certificates/me/certificates/{number}/presentations",
        "/api/certificates/me/certificates/{number}/grants",
        "/api/certificates/me/grants",
        "/api/certificates/me/grants/{grant_id}/withdraw",
        "/api/certificates/uses",
    ):
        assert path in paths, path


def test_the_pdf_and_qr_downloads_are_the_holders_alone(
    client: TestClient, db: Session, world: CertWorld, settings: Settings, held: Held
) -> None:
    number = held.marriage.number
    problem(client.get(f"{ME}/certificates/{number}.pdf"), 401, "not-authenticated")
    as_citizen(client, db, world.wife)
    got = client.get(f"{ME}/certificates/{number}.pdf")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="certificate-{number}.pdf"; ')
    assert f"filename*=UTF-8''{quote('结婚证')}-{number}.pdf" in disposition
    assert pdf.extract_token(got.content) == held.marriage.token
    svg = client.get(f"{ME}/certificates/{number}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    png = client.get(f"{ME}/certificates/{number}/qr.png", params={"scale": 3})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decode_qr(png.content) == f"{settings.web.public_url}/verify#{held.marriage.token}"
    as_citizen(client, db, world.owner)
    for path in (f"{number}.pdf", f"{number}/qr.svg", f"{number}/qr.png"):
        problem(client.get(f"{ME}/certificates/{path}"), 404, "certificates/certificate-not-found")
    sign_in(client, db, "zj-civil-issuer")
    problem(client.get(f"{ME}/certificates/{number}.pdf"), 403, "identity/not-your-record")


def test_a_parent_reads_a_minor_childs_certificate_through_both_endpoints_until_the_18th_birthday(
    client: TestClient, db: Session, world: CertWorld, held: Held
) -> None:
    """The issuers' read (``/api/certificates/{number}``) and the wallet's follow one rule of who holds
    what: the parent of a minor holder reads the child's certificate through either, and through neither
    from the child's 18th birthday (2044-08-20 in China; the child was born on 2026-08-20)."""
    number = held.birth.number
    logins = {p.id: citizen_login(db, p) for p in (world.wife, world.husband, world.child, world.owner)}
    eve = datetime(2044, 8, 19, 2, 0, tzinfo=UTC)  # 10:00 in China, the day before the birthday
    birthday = datetime(2044, 8, 19, 16, 0, tzinfo=UTC)  # midnight in China: the birthday begins
    for at, readable in ((eve, True), (birthday - timedelta(seconds=1), True), (birthday, False)):
        with clock.frozen(at):
            for parent in (world.wife, world.husband):
                sign_in(client, db, logins[parent.id], portal="citizen")
                issuers_read = client.get(f"/api/certificates/{number}")
                wallet_read = client.get(f"{ME}/certificates/{number}")
                if readable:
                    assert issuers_read.status_code == 200, (at, issuers_read.text)
                    assert issuers_read.json()["holder_key"] == world.child.resident_id
                    assert issuers_read.json()["token"] == held.birth.token
                    assert wallet_read.status_code == 200, (at, wallet_read.text)
                    assert wallet_read.json()["relation"] == "guardian"
                else:
                    problem(issuers_read, 404, "certificates/certificate-not-found")
                    problem(wallet_read, 404, "certificates/certificate-not-found")
            # The child, grown up, still reads their own; a stranger never could.
            sign_in(client, db, logins[world.child.id], portal="citizen")
            assert client.get(f"/api/certificates/{number}").status_code == 200
            sign_in(client, db, logins[world.owner.id], portal="citizen")
            problem(client.get(f"/api/certificates/{number}"), 404, "certificates/certificate-not-found")
