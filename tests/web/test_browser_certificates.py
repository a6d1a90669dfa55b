"""The certificates pages in a real browser: a demo citizen opens the wallet, opens a certificate, chooses
what to show and shows its QR code; the code is read back from a screenshot (zxing-cpp), and an anonymous
visitor in a fresh browser opens the verify page with it and sees a valid verdict with exactly the chosen
fields, and without the holder's resident ID number.

The server runs on a database of its own seeded with the demo (its certificates are issued and signed by
the seed). Screenshots of the wallet and the verdict are kept in ZEROTRIP_SCREENSHOT_DIR (default: the
test's temporary folder).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Response, expect

from zerotrip.app import create_app
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.demo.seed import DemoLogin, seed_demo

from .live import CHROMIUM, PHONE, serve

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class CertificateServer:
    url: str
    public_url: str
    mother: DemoLogin


@pytest.fixture(scope="module")
def certificate_server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-certificates"), database_url=new_database(migrate=True)
    )
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        logins = seed_demo(db, keys=app.state.keys, settings=settings, citizens=60)
    mother = next(login for login in logins if login.portal == "citizen" and "母亲" in login.who)
    with serve(app) as url:
        yield CertificateServer(url=url, public_url=settings.web.public_url, mother=mother)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ZEROTRIP_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def watched(context: BrowserContext, errors: list[str]) -> Page:
    """A page that records console errors (a CSP violation shows up as one) and failed subresources."""
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return page


def test_a_citizen_shows_a_certificate_and_an_anonymous_verifier_accepts_it(
    browser: Browser, certificate_server: CertificateServer, shots: Path
) -> None:
    assert CHROMIUM.exists()
    url = certificate_server.url
    errors: list[str] = []
    # A phone with a dense screen, as the holder's would be.
    holder = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=3)
    try:
        page = watched(holder, errors)
        page.goto(f"{url}/login")
        page.get_by_label("手机号码或公民身份号码").fill(certificate_server.mother.login_name)
        page.get_by_label("密码").fill(certificate_server.mother.password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{url}/me")

        # The wallet, from the main menu.
        page.get_by_role("navigation", name="主菜单").get_by_role("link", name="卡包").click()
        page.wait_for_url(f"{url}/me/certificates")
        expect(page.get_by_role("heading", level=1)).to_have_text("卡包")
        wallet = page.locator("#wallet")
        for name in ("结婚证", "无房证明", "出生医学证明"):
            expect(wallet.get_by_role("link", name=name)).to_be_visible()
        expect(page.get_by_role("button", name="开具无房证明")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shots / "certificates-wallet-phone.png"), full_page=True)

        # One certificate: its fields, issuer and number, then 亮证.
        wallet.get_by_role("link", name="结婚证").click()
        page.wait_for_url(f"{url}/me/certificates/**")
        expect(page.get_by_role("heading", level=1)).to_have_text("结婚证")
        resident_id = page.locator('[data-claim="holder_id"] dd').inner_text().strip()
        spouse = page.locator('[data-claim="spouse_name"] dd').inner_text().strip()
        registered_on = page.locator('[data-claim="registered_on"] dd').inner_text().strip()
        holder_name = page.locator('[data-claim="holder_name"] dd').inner_text().strip()
        assert len(resident_id) == 18
        page.get_by_role("link", name="亮证").click()

        # The defaults: the name and the key fact, never the ID number. The holder adds the spouse's name.
        def choice(name: str) -> Locator:
            return page.locator(f'input[name="field"][value="{name}"]')

        expect(choice("holder_name")).to_be_checked()
        expect(choice("registered_on")).to_be_checked()
        expect(choice("holder_id")).not_to_be_checked()
        expect(choice("spouse_id")).not_to_be_checked()
        page.get_by_role("checkbox", name=f"配偶姓名：{spouse}").check()
        page.get_by_role("button", name="生成亮证二维码").click()
        code = page.locator("#qr svg")
        expect(code).to_be_visible()
        expect(page.locator("#countdown")).not_to_have_text("0")

        # Read the QR code as a verifier's camera would: from pixels.
        image = Image.open(io.BytesIO(page.locator("#qr").screenshot()))
        found = zxingcpp.read_barcodes(image)
        assert len(found) == 1, "the QR code on the screen could not be decoded"
        payload = found[0].text
        assert payload == page.locator("[data-payload]").get_attribute("data-payload")
        assert payload.startswith(f"{certificate_server.public_url}/verify#")
        assert resident_id not in payload
    finally:
        holder.close()

    # Anyone, anonymously, in a fresh browser: the QR's URL on this server opens the verify page, whose
    # script moves the fragment into the form and submits it.
    fragment = payload.split("#", 1)[1]
    verifier = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        page = watched(verifier, errors)
        page.goto(f"{url}/verify#{fragment}")
        verdict = page.locator("[data-verdict]")
        expect(verdict).to_have_attribute("data-verdict", "valid")
        expect(verdict.get_by_role("heading")).to_have_text("有效")
        assert "#" not in page.url
        shown = page.locator("#disclosed")
        labels = [text.strip() for text in shown.locator("dt").all_inner_texts()]
        values = [text.strip() for text in shown.locator("dd").all_inner_texts()]
        assert dict(zip(labels, values, strict=True)) == {
            "持证人": holder_name,
            "配偶姓名": spouse,
            "登记日期": registered_on,
        }
        expect(page.locator("main")).to_contain_text("由持证人从卡包出示")
        expect(page.locator("main")).to_contain_text("民政")
        assert resident_id not in page.content()
        page.screenshot(path=str(shots / "certificates-verify-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        verifier.close()
    assert not errors, errors
