"""Zero-trip application in a real browser (issue #5's acceptance test): a demo citizen completes the
housing-fund withdrawal for renting with no upload and no typed field besides consent and confirmation,
sees the decision at once, finds the decision letter in the wallet, and finds both datahub reads (the
real-estate "exists?" check and the fund contributions) in the data-use log.

The server runs on a database of its own seeded with the demo: the mother of the demo family rents (the
register holds no real estate for her) and has paid into the housing fund for two years, so the item's
rules pass. Screenshots are kept in ZEROTRIP_SCREENSHOT_DIR (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, expect

from zerotrip.app import create_app
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.demo.seed import DemoLogin, seed_demo
from zerotrip.demo.service_bundles import NEWBORN_BUNDLE
from zerotrip.demo.service_kit import MATERNITY_ALLOWANCE

from .live import CHROMIUM, PHONE, serve

pytestmark = pytest.mark.browser
ITEM = "无房职工提取住房公积金支付房租"


@dataclass(frozen=True)
class ServicesServer:
    url: str
    mother: DemoLogin


@pytest.fixture(scope="module")
def services_server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServicesServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-services"), database_url=new_database(migrate=True)
    )
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        logins = seed_demo(db, keys=app.state.keys, settings=settings, citizens=60)
    mother = next(login for login in logins if login.portal == "citizen" and "母亲" in login.who)
    with serve(app) as url:
        yield ServicesServer(url=url, mother=mother)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ZEROTRIP_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def watch(page: Page, errors: list[str]) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)


def signed_in_mother(context: BrowserContext, server: ServicesServer, errors: list[str]) -> Page:
    """A page of ``context`` on which the demo mother has signed in, its errors collected in ``errors``."""
    page = context.new_page()
    watch(page, errors)
    page.goto(f"{server.url}/login")
    page.get_by_label("手机号码或公民身份号码").fill(server.mother.login_name)
    page.get_by_label("密码").fill(server.mother.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server.url}/me")
    return page


def test_a_demo_citizen_withdraws_from_the_housing_fund_without_a_trip_an_upload_or_typing(
    browser: Browser, services_server: ServicesServer, shots: Path
) -> None:
    assert CHROMIUM.exists()
    url = services_server.url
    errors: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    try:
        page = signed_in_mother(context, services_server, errors)

        # The service guide, then the item's page, then 在线办理.
        page.get_by_role("navigation", name="主菜单").get_by_role("link", name="办事指南").click()
        page.wait_for_url(f"{url}/services")
        page.get_by_role("link", name=ITEM).click()
        page.wait_for_url(f"{url}/services/items/**")
        expect(page.get_by_role("heading", level=1)).to_have_text(ITEM)
        expect(page.locator("#trip-count")).to_have_text("0")
        page.get_by_role("button", name="在线办理").click()
        page.wait_for_url(re.compile(r".*/me/applications/BJ[0-9A-Z]{10}$"))
        number = page.url.rsplit("/", 1)[1]

        # What will be read, from which department, and why; nothing to type, nothing to upload.
        sources = page.locator("#sources")
        expect(sources.get_by_role("heading", level=2)).to_have_text("将使用的数据")
        expect(sources).to_contain_text("一站式服务平台")
        expect(page.locator("#purpose")).to_contain_text(ITEM)
        expect(page.locator("#source-0 .source-department")).to_have_text("浙江省自然资源厅")
        expect(page.locator("#source-0")).to_contain_text("仅核验是否存在与您有关的记录")
        expect(page.locator("#source-2 .source-department")).to_have_text("杭州住房公积金管理中心")
        expect(page.locator("#source-2")).to_contain_text("缴存年月")
        page.screenshot(path=str(shots / "services-consent-phone.png"), full_page=True)
        page.get_by_role("button", name="同意并获取我的数据").click()
        page.wait_for_url(f"{url}/me/applications/{number}#form-title")

        # The form is filled in from the departments' data and locked, each field with its source and date.
        form = page.locator("#prefilled")
        status_row = form.locator("tr", has_text="账户状态")
        expect(status_row).to_contain_text("正常")
        expect(status_row).to_contain_text("已锁定")
        expect(status_row).to_contain_text("杭州住房公积金管理中心")
        expect(form.locator("tr", has_text="本人及配偶本市住房情况")).to_contain_text("无记录")
        expect(form.locator("tr", has_text="连续月数")).to_contain_text("24 个月")
        assert form.locator("tr", has_text="已锁定").count() == form.locator("tbody tr").count()
        assert page.locator("input[type=file]").count() == 0, "nothing to upload"
        assert page.locator("input[type=text], input:not([type]), textarea, select").count() == 0
        page.screenshot(path=str(shots / "services-form-phone.png"), full_page=True)

        # Confirm: tick the pledge (告知承诺) and submit. The decision is there at once.
        page.get_by_role("checkbox", name=re.compile("无房租赁承诺书")).check()
        page.get_by_role("button", name="确认提交").click()
        page.wait_for_url(f"{url}/me/applications/{number}")
        decision = page.locator("#decision")
        expect(decision.get_by_role("heading")).to_have_text("已准予")
        expect(page.locator("#status")).to_have_text("已准予")
        expect(page.locator("#rules")).to_contain_text("连续缴存住房公积金满3个月")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shots / "services-decision-phone.png"), full_page=True)

        # The decision letter is in the wallet.
        page.get_by_role("link", name="在卡包中查看办件结果通知书").click()
        page.wait_for_url(f"{url}/me/certificates/**")
        expect(page.get_by_role("heading", level=1)).to_have_text("办件结果通知书")
        expect(page.locator("main")).to_contain_text(number)
        expect(page.locator("main")).to_contain_text("准予许可")
        letter_url = page.url
        page.get_by_role("navigation", name="主菜单").get_by_role("link", name="卡包").click()
        page.wait_for_url(f"{url}/me/certificates")
        assert page.locator(f'#wallet a[href="{letter_url.removeprefix(url)}"]').count() == 1

        # Both datahub reads, made for this application, are in the data-use log.
        page.goto(f"{url}/me/data-uses")
        uses = page.locator("li.use", has_text=number)
        expect(uses.filter(has_text="不动产登记信息")).to_have_count(1)
        expect(uses.filter(has_text="住房公积金缴存明细")).to_have_count(1)
        for use in (uses.filter(has_text="不动产登记信息"), uses.filter(has_text="住房公积金缴存明细")):
            expect(use).to_contain_text("一站式服务平台")
            expect(use).to_contain_text(ITEM)
        page.screenshot(path=str(shots / "services-data-uses-phone.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors


def test_a_demo_citizen_uses_her_marriage_certificate_from_the_wallet_instead_of_uploading_it(
    browser: Browser, services_server: ServicesServer, shots: Path
) -> None:
    """The maternity allowance asks for the marriage certificate: the demo mother holds hers, so the draft
    lists it, the consent attaches it (verified), and the form takes her spouse's name from it."""
    url = services_server.url
    errors: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    try:
        page = signed_in_mother(context, services_server, errors)
        page.goto(f"{url}/services/items/{MATERNITY_ALLOWANCE}")
        expect(page.locator("#trip-count")).to_have_text("0")
        page.get_by_role("button", name="在线办理").click()
        page.wait_for_url(re.compile(r".*/me/applications/BJ[0-9A-Z]{10}$"))

        card = page.locator("#certificate-0")
        expect(card.locator(".certificate-type")).to_have_text("结婚证")
        expect(card.locator(".source-department")).to_have_text("浙江省民政厅")
        expect(card).to_contain_text("配偶姓名")
        expect(card.locator(".wallet-certificates tr.usable")).to_have_count(1)
        expect(card.get_by_label("使用的证照")).to_be_visible()
        page.screenshot(path=str(shots / "services-wallet-consent-phone.png"), full_page=True)
        page.get_by_role("button", name="同意并获取我的数据").click()
        page.wait_for_url(re.compile(r".*#form-title$"))

        expect(page.locator("#certificate-0 .source-state")).to_contain_text("核验并使用")
        spouse = page.locator("#prefilled tr", has_text="配偶姓名")
        expect(spouse).to_contain_text("结婚证（浙江省民政厅）")
        expect(spouse).to_contain_text("已锁定")
        expect(spouse).to_contain_text("颁发于")
        assert page.locator("input[type=file]").count() == 0, "the certificate is not uploaded"
        page.screenshot(path=str(shots / "services-wallet-form-phone.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors


def test_a_demo_citizen_applies_for_the_newborn_bundle_with_her_marriage_certificate_from_the_wallet(
    browser: Browser, services_server: ServicesServer, shots: Path
) -> None:
    """The newborn bundle's household registration asks for the parents' marriage certificate: the bundle
    page shows it as a certificate card of that part, listing the mother's one valid certificate; the one
    consent for all parts attaches it (verified), so it is not among the uploads."""
    url = services_server.url
    errors: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    try:
        page = signed_in_mother(context, services_server, errors)
        page.goto(f"{url}/services/bundles/{NEWBORN_BUNDLE}")
        page.get_by_role("button", name="一次在线办理").click()
        page.wait_for_url(re.compile(r".*/me/bundles/YJ[0-9A-Z]{10}$"))

        card = page.locator("#certificate-1-2")  # the registration's (part 1) marriage certificate
        expect(card.locator(".card-title")).to_contain_text("出生登记")
        expect(card.locator(".certificate-type")).to_have_text("结婚证")
        expect(card.locator(".source-department")).to_have_text("浙江省民政厅")
        expect(card).to_contain_text("配偶姓名")
        expect(card.locator(".wallet-certificates tr.usable")).to_have_count(1)
        expect(card.locator(".source-state")).to_have_text("等待您同意")
        expect(card.get_by_role("button", name="不使用我的证照，我自行上传")).to_be_visible()
        expect(page.locator("#upload-parts-1-materials-2")).to_have_count(0)
        page.screenshot(path=str(shots / "services-bundle-certificate-consent-phone.png"), full_page=True)
        page.get_by_role("button", name="我同意：为全部事项调取我的数据").click()
        page.wait_for_url(re.compile(r".*#form-title$"))

        card = page.locator("#certificate-1-2")
        expect(card.locator(".source-state")).to_contain_text("核验并使用")
        expect(card.locator(".used-certificate .certificate-number")).to_have_text(
            re.compile(r"^1\.2\.156\.3005\.2\.")
        )
        expect(card.locator(".used-certificate")).to_contain_text("配偶姓名")
        expect(card.get_by_role("button", name="撤回同意，改为上传")).to_be_visible()
        expect(page.locator("#upload-parts-1-materials-2")).to_have_count(0)
        page.screenshot(path=str(shots / "services-bundle-certificate-used-phone.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors
