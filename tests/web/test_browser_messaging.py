"""Emergency notice in a real browser (issue #7's acceptance test): a staff member's inbox is open; a
publisher sends an emergency notice; it appears on the open inbox without a reload (server-sent events);
the staff member opens and acknowledges it; the publisher's roll-up shows the acknowledgement.

The server runs on a committed database of its own holding the notices world (tests/messaging).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from zerotrip.app import create_app
from zerotrip.config import AuditSettings, DatahubSettings, NoticesSettings, Settings
from zerotrip.db import transaction

from ..messaging.notices_world import PASSWORD, NoticesWorld, build_notices_world
from .live import CHROMIUM, DESKTOP, PHONE, serve
from .test_browser_services import watch

pytestmark = pytest.mark.browser
TITLE = "关于防御第9号台风“利奇马”的紧急通知"


@dataclass(frozen=True)
class NoticesServer:
    url: str
    world: NoticesWorld


@pytest.fixture(scope="module")
def notices_server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NoticesServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-messaging"),
        database_url=new_database(migrate=True),
        audit=AuditSettings(checkpoint_interval_seconds=0),
        datahub=DatahubSettings(escalation_interval_seconds=0),
        notices=NoticesSettings(live_poll_seconds=0.3),
    )
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        world = build_notices_world(db)
    with serve(app) as url:
        yield NoticesServer(url=url, world=world)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ZEROTRIP_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, url: str, login: str) -> None:
    page.goto(f"{url}/staff/login")
    page.get_by_label("工作人员账号").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/staff")


def test_an_emergency_notice_arrives_live_is_acknowledged_and_rolled_up(
    browser: Browser, notices_server: NoticesServer, shots: Path
) -> None:
    assert CHROMIUM.exists()
    url = notices_server.url
    errors: list[str] = []
    staff_context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    publisher_context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    try:
        # The duty officer of 西湖区应急管理局 has the inbox open, empty, and listening.
        staff = staff_context.new_page()
        watch(staff, errors)
        sign_in(staff, url, "xh-em-2")
        staff.get_by_role("navigation", name="主菜单").get_by_role("link", name="工作通知").click()
        staff.wait_for_url(f"{url}/staff/notices")
        expect(staff.locator("#inbox")).to_have_attribute("data-live", "open")
        expect(staff.locator("#unread-count")).to_have_text("0")

        # The bureau's publisher sends an emergency notice that asks for acknowledgement.
        publisher = publisher_context.new_page()
        watch(publisher, errors)
        sign_in(publisher, url, "xh-em-pub")
        publisher.get_by_role("link", name="发布通知").first.click()
        publisher.wait_for_url(f"{url}/staff/notices/new")
        publisher.get_by_label("标题").fill(TITLE)
        publisher.get_by_label("正文").fill("各单位立即进入防台风应急状态，做好人员转移。")
        publisher.get_by_label("紧急", exact=True).check()
        publisher.get_by_label("要求接收人确认回执").check()
        publisher.get_by_placeholder("查找单位").fill("西湖区应急")
        publisher.get_by_label("杭州市西湖区应急管理局").check()
        publisher.screenshot(path=str(shots / "messaging-compose-desktop.png"), full_page=True)
        publisher.get_by_role("button", name="发布", exact=True).click()
        publisher.wait_for_url(f"{url}/staff/notices/*")
        notice_url = publisher.url
        expect(publisher.locator("#status")).to_have_text("已发布")

        # It appears on the open inbox without a reload, first, marked emergency and unread.
        item = staff.locator("#inbox li").first
        expect(item).to_contain_text(TITLE, timeout=5_000)
        expect(item.locator(".badge-danger")).to_have_text("紧急")
        expect(staff.locator("#unread-count")).to_have_text("1")
        expect(staff.locator("#live-status")).to_contain_text("新通知")
        staff.screenshot(path=str(shots / "messaging-inbox-live-phone.png"), full_page=True)
        assert staff.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # The duty officer opens and acknowledges it.
        item.get_by_role("link", name=TITLE).click()
        staff.wait_for_url(notice_url)
        expect(staff.get_by_role("heading", level=1)).to_have_text(TITLE)
        staff.get_by_role("button", name="确认收到").click()
        staff.wait_for_url(notice_url)
        expect(staff.locator("#acked-at")).not_to_have_text("—")
        assert staff.get_by_role("button", name="确认收到").count() == 0
        staff.screenshot(path=str(shots / "messaging-notice-acked-phone.png"), full_page=True)

        # The publisher's roll-up: of the bureau's four, two have read (the publisher works there too and
        # read it on publishing) and one acknowledged; who has not read is listed.
        publisher.get_by_role("link", name="阅读情况").click()
        publisher.wait_for_url(f"{notice_url}/rollup")
        total = publisher.locator("#rollup-table tr.total")
        expect(total.locator(".recipients")).to_have_text("4")
        expect(total.locator(".read")).to_have_text("2")
        expect(total.locator(".acked")).to_have_text("1")
        expect(total.locator(".acked-pct")).to_have_text("25.0%")
        expect(publisher.locator("#non-readers")).not_to_contain_text("陈值班")
        expect(publisher.locator("#non-readers")).not_to_contain_text("王发布")
        expect(publisher.locator("#non-readers")).to_contain_text("冯审核")
        publisher.screenshot(path=str(shots / "messaging-rollup-desktop.png"), full_page=True)
    finally:
        staff_context.close()
        publisher_context.close()
    assert not errors, errors
