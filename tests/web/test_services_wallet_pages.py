"""E-certificate materials on the applying and review pages: the applicant's certificates listed before
consent (a revoked one with its reason), the chosen certificate attached on consent with the prefilled
fields showing the certificate and its issue date, a refused choice explained on the page, English on
request, and the reviewing staff seeing the attached certificate."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.keys import KeyStore
from zerotrip.services import applying
from zerotrip.web.i18n import LANG_COOKIE

from ..services.apply_world import ApplyWorld, Citizen, build_apply_world
from ..services.wallet_world import ITEM, WalletWorld, build_wallet_world
from ..services.world import sign_in_api
from .conftest import HTML

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def wallet_world(db: Session, settings: Settings, keys: KeyStore) -> WalletWorld:
    world: ApplyWorld = build_apply_world(db, settings)
    return build_wallet_world(db, world, keys, settings)


def start(client: TestClient, db: Session, citizen: Citizen) -> tuple[str, str]:
    token = sign_in_api(client, db, citizen.login_name, portal="citizen")["X-CSRF-Token"]
    started = client.post(f"/services/items/{ITEM}/apply", data={"csrf_token": token}, follow_redirects=False)
    assert started.status_code == 303, started.text
    return started.headers["location"], token


def test_the_applicant_sees_their_certificate_consents_and_staff_see_it_attached(
    client: TestClient, db: Session, wallet_world: WalletWorld
) -> None:
    renter = wallet_world.apply.renter
    url, token = start(client, db, renter)
    draft = client.get(url, headers=HTML).text
    for shown in (
        "您卡包中的电子证照",
        "结婚证",
        "浙江省民政厅",
        "配偶姓名",
        "登记日期",
        "有效",
        "使用的证照",
    ):
        assert shown in draft, shown
    assert wallet_world.renter_certificate in draft
    assert wallet_world.spouse_certificate not in draft  # another person's certificate is never offered
    consented = client.post(
        f"{url}/consent",
        data={"csrf_token": token, "certificate": f"0 {wallet_world.renter_certificate}"},
        follow_redirects=False,
    )
    assert consented.status_code == 303, consented.text
    page = client.get(url, headers=HTML).text
    assert "已于" in page and "核验并使用" in page
    assert wallet_world.spouse.name in page  # the prefilled spouse's name
    assert "结婚证（浙江省民政厅）" in page and "颁发于" in page
    client.cookies.set(LANG_COOKIE, "en")
    english = client.get(url, headers=HTML).text
    assert "E-certificate from your wallet" in english and "Issued on" in english
    client.cookies.delete(LANG_COOKIE)
    number = url.rsplit("/", 1)[-1]
    client.post(f"{url}/materials/1/upload", data={"csrf_token": token}, files={"file": ("发票.pdf", PDF)})
    submitted = client.post(f"{url}/submit", data={"csrf_token": token}, follow_redirects=False)
    assert submitted.status_code == 303, submitted.text

    client.cookies.clear()
    sign_in_api(client, db, "hz-fund-reviewer")
    review = client.get(f"/staff/services/applications/{number}", headers=HTML)
    assert review.status_code == 200, review.text
    assert wallet_world.renter_certificate in review.text and "核验" in review.text


def test_a_revoked_certificate_is_shown_with_its_reason_and_refused_on_the_page(
    client: TestClient, db: Session, wallet_world: WalletWorld
) -> None:
    owner = wallet_world.apply.owner
    url, token = start(client, db, owner)
    draft = client.get(url, headers=HTML).text
    assert wallet_world.owner_certificate in draft
    assert "已被发证机关撤销，不能再使用。" in draft and "您的卡包中没有此类有效证照" in draft
    refused = client.post(
        f"{url}/consent",
        data={"csrf_token": token, "certificate": f"0 {wallet_world.owner_certificate}"},
        follow_redirects=False,
    )
    assert refused.status_code == 409
    assert "该证照无法使用" in refused.text and "发证部门已撤销该证照" in refused.text
    number = url.rsplit("/", 1)[-1]
    application = applying.applications.own_application(db, owner.actor, number)
    evidence = applying.applications.evidence_of(db, application)
    assert (evidence[0].consent, evidence[0].state) == (None, "pending")  # nothing kept of the refusal
