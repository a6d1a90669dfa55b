"""The reviewer and supplement (补正) round trip in a real browser, each side with its own login: the demo
mother applies online for a certificate of no criminal record (无犯罪记录证明, reviewed by a person at
公安西湖分局); the office's demo reviewer accepts it and asks, at once, for a better file and a missing
explanation; the mother supplies both and resubmits; the reviewer completes the review and approves; the
mother sees the decision and finds the decision letter in her wallet.

The server runs on a database of its own seeded with the demo (which already has other applications in the
office's queue). Screenshots are kept in ZEROTRIP_SCREENSHOT_DIR (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from zerotrip.app import create_app
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.demo.seed import DemoLogin, seed_demo
from zerotrip.demo.service_work import scan

from .live import CHROMIUM, DESKTOP, PHONE, serve
from .test_browser_services import watch

pytestmark = pytest.mark.browser
ITEM_CODE = "330106-psb-0004"
ITEM = "无犯罪记录证明开具"
REVIEWER = "hz-xh-psb-reviewer"


@dataclass(frozen=True)
class Server:
    url: str
    mother: DemoLogin
    reviewer: DemoLogin


@pytest.fixture(scope="module")
def server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-supplement"), database_url=new_database(migrate=True)
    )
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        logins = seed_demo(db, keys=app.state.keys, settings=settings, citizens=60)
    mother = next(login for login in logins if login.portal == "citizen" and "母亲" in login.who)
    reviewer = next(login for login in logins if login.login_name == REVIEWER)
    with serve(app) as url:
        yield Server(url=url, mother=mother, reviewer=reviewer)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ZEROTRIP_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, url: str, login: DemoLogin) -> None:
    if login.portal == "staff":
        page.goto(f"{url}/staff/login")
        page.get_by_label("工作人员账号").fill(login.login_name)
    else:
        page.goto(f"{url}/login")
        page.get_by_label("手机号码或公民身份号码").fill(login.login_name)
    page.get_by_label("密码").fill(login.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/staff" if login.portal == "staff" else f"{url}/me")


def test_a_reviewer_asks_for_a_supplement_the_citizen_supplies_it_and_the_decision_reaches_the_wallet(
    browser: Browser, server: Server, shots: Path, tmp_path: Path
) -> None:
    assert CHROMIUM.exists()
    url = server.url
    errors: list[str] = []
    citizen_context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    staff_context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    purpose, seal = tmp_path / "用途说明.pdf", tmp_path / "用途说明-盖章.pdf"
    purpose.write_bytes(scan("Purpose: job application"))
    seal.write_bytes(scan("Purpose: job application, signed and sealed"))
    try:
        citizen, staff = citizen_context.new_page(), staff_context.new_page()
        watch(citizen, errors)
        watch(staff, errors)

        # The mother applies: her household record is read with her consent, the purpose is uploaded.
        sign_in(citizen, url, server.mother)
        citizen.goto(f"{url}/services/items/{ITEM_CODE}")
        expect(citizen.get_by_role("heading", level=1)).to_have_text(ITEM)
        citizen.get_by_role("button", name="在线办理").click()
        citizen.wait_for_url(re.compile(r".*/me/applications/BJ[0-9A-Z]{10}$"))
        number = citizen.url.rsplit("/", 1)[1]
        citizen.get_by_role("button", name="同意并获取我的数据").click()
        citizen.wait_for_url(f"{url}/me/applications/{number}#form-title")
        citizen.locator("#file-1").set_input_files(purpose)
        citizen.locator("#upload-1").get_by_role("button", name="上传").click()
        expect(citizen.locator("#upload-1")).to_contain_text("用途说明.pdf")
        citizen.get_by_role("button", name="确认提交").click()
        citizen.wait_for_url(f"{url}/me/applications/{number}")
        expect(citizen.locator("#status")).to_have_text("已提交")

        # The office's reviewer finds it in the queue and accepts it.
        sign_in(staff, url, server.reviewer)
        staff.goto(f"{url}/staff/services/applications")
        staff.get_by_role("link", name=re.compile(number)).click()
        staff.wait_for_url(f"{url}/staff/services/applications/{number}")
        expect(staff.locator("#applicant")).to_contain_text(server.mother.who.split("（")[0])
        staff.locator("#accept-form button[type=submit]").click()
        expect(staff.locator("#status")).to_have_text("已受理")

        # Everything missing, at once: the uploaded file again, and an explanation in words.
        staff.locator("#material-detail-1").fill("用途说明未加盖单位公章，请重新上传盖章版本。")
        staff.locator("#others").fill("请说明拟应聘单位的名称。")
        staff.locator("#supplement-form button[type=submit]").click()
        expect(staff.locator("#status")).to_have_text("待补正")
        staff.screenshot(path=str(shots / "supplement-requested-desktop.png"), full_page=True)

        # The mother sees both items on her page, supplies them and resubmits.
        citizen.reload()
        request = citizen.locator("#supplement")
        expect(request).to_contain_text("用途说明未加盖单位公章")
        expect(request).to_contain_text("请说明拟应聘单位的名称")
        expect(citizen.locator("#status")).to_have_text("待补正")
        citizen.screenshot(path=str(shots / "supplement-asked-phone.png"), full_page=True)
        citizen.locator("#file-0").set_input_files(seal)
        citizen.locator("#answer-0 button[type=submit]").click()
        expect(request).to_contain_text("用途说明-盖章.pdf")
        citizen.locator("#text-1").fill("杭州某科技有限公司")
        citizen.locator("#answer-1 button[type=submit]").click()
        expect(request).to_contain_text("杭州某科技有限公司")
        citizen.locator("#resubmit-form button[type=submit]").click()
        citizen.wait_for_url(f"{url}/me/applications/{number}**")
        expect(citizen.locator("#status")).to_have_text("已受理")
        expect(citizen.locator("#supplement")).to_have_count(0)

        # The reviewer sees the answers, completes the review and approves.
        staff.reload()
        history = staff.locator("#supplements-title").locator("xpath=..")
        expect(history).to_contain_text("杭州某科技有限公司")
        expect(history).to_contain_text("用途说明-盖章.pdf")
        staff.locator("#review-note").fill("经核查，申请人无犯罪记录。")
        staff.locator("#review-form button[type=submit]").click()
        staff.locator("#approve-form button[type=submit]").click()
        expect(staff.locator("#status")).to_have_text("已准予")

        # The mother sees the decision and the decision letter in her wallet.
        citizen.goto(f"{url}/me/applications/{number}")
        expect(citizen.locator("#decision").get_by_role("heading")).to_have_text("已准予")
        assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        citizen.screenshot(path=str(shots / "supplement-decided-phone.png"), full_page=True)
        citizen.locator("#letter").click()
        citizen.wait_for_url(f"{url}/me/certificates/**")
        expect(citizen.get_by_role("heading", level=1)).to_have_text("办件结果通知书")
        expect(citizen.locator("main")).to_contain_text(number)
        letter = citizen.url.removeprefix(url)
        citizen.goto(f"{url}/me/certificates")
        assert citizen.locator(f'#wallet a[href="{letter}"]').count() == 1
    finally:
        citizen_context.close()
        staff_context.close()
    assert not errors, errors
