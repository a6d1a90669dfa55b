"""The pages in a real browser: Debian's Chromium, driven by Playwright, against a real server.

The server is uvicorn in a background thread on a database of its own, seeded with the demo. A missing
Chromium fails these tests (it does not skip them): ``make system-deps`` installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from zerotrip.app import create_app
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.demo.seed import DemoLogin, seed_demo

from .live import PHONE, serve

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveServer:
    url: str
    citizen: DemoLogin
    staff: DemoLogin

    @property
    def citizen_name(self) -> str:
        # "林晓雯（母亲）" → "林晓雯"
        return self.citizen.who.split("（", 1)[0]


@pytest.fixture(scope="module")
def live_server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path_factory.mktemp("live"), database_url=new_database(migrate=True))
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        logins = seed_demo(db, keys=app.state.keys, settings=settings, citizens=60)
    citizen = next(login for login in logins if login.portal == "citizen")
    staff = next(login for login in logins if login.portal == "staff")
    with serve(app) as url:
        yield LiveServer(url=url, citizen=citizen, staff=staff)


def test_a_citizen_signs_in_on_a_phone(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    page.goto(f"{live_server.url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_label("手机号码或公民身份号码").fill(live_server.citizen.login_name)
    page.get_by_label("密码").fill(live_server.citizen.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/me")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{live_server.citizen_name}")
    expect(page.get_by_text("西湖区")).to_be_visible()
    expect(page.get_by_role("heading", name="我的办件")).to_be_visible()
    page.screenshot(path=str(tmp_path / "citizen-home.png"), full_page=True)

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="主菜单").get_by_role("link", name="个人登录")).to_be_visible()
    page.goto(f"{live_server.url}/me")
    expect(page).to_have_url(f"{live_server.url}/login?next=/me")


def test_a_wrong_password_is_explained_in_chinese(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/login")
    page.get_by_label("手机号码或公民身份号码").fill(live_server.citizen.login_name)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("登录名或密码错误")
    expect(page.get_by_label("手机号码或公民身份号码")).to_have_value(live_server.citizen.login_name)


def test_staff_sign_in_and_switch_to_english(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/staff/login")
    page.get_by_label("工作人员账号").fill(live_server.staff.login_name)
    page.get_by_label("密码").fill(live_server.staff.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.get_by_role("table")).to_contain_text("平台管理员")

    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{live_server.url}/staff")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workbench")
    expect(page.get_by_role("table")).to_contain_text("Platform administrator")


def test_the_layout_fits_a_phone_and_styles_load(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    background = page.locator(".site-header").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(29, 79, 145)", "the stylesheet did not load"


def test_the_skip_link_is_the_first_stop_for_the_keyboard(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
