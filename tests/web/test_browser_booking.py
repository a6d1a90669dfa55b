"""Booking in a real browser (issue #6's acceptance test): a resident builds the profile with consent,
finds a site, books a slot, sees the confirmation with its QR code, and cancels it; then books a slot of
today, and a site operator checks them in by scanning the code shown on the resident's phone (the
screenshot of the QR is decoded, as a scanner would, and typed into the check-in field) and records the
dose, which the resident's vaccination record then shows.

The server runs on a database of its own with the booking world of ``tests/booking/world.py`` built on the
real clock, plus a slot starting in a few minutes, so that it is today's whatever the time of the run.
Screenshots are kept in ZEROTRIP_SCREENSHOT_DIR (default: the test's temporary folder).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect

from zerotrip.app import create_app
from zerotrip.booking import schedule
from zerotrip.booking.schemas import TemplateSpec
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction

from ..booking.world import COVID, OTHER_SITE, PASSWORD, SITE, build_world
from .live import CHROMIUM, PHONE, serve

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class BookingServer:
    url: str
    citizen: str  # 林晓雯's login name
    soon: str  # when today's slot starts, HH:MM in China


@pytest.fixture(scope="module")
def booking_server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BookingServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-booking"), database_url=new_database(migrate=True)
    )
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        world = build_world(db, settings)
        # A slot of today starting in a few minutes, so the check-in is for today at any time of the run.
        start = (clock.now_in_china() + timedelta(minutes=3)).replace(second=0, microsecond=0)
        # A slot ends on the day it starts: shortened before midnight (a run in the last minutes of a day in
        # China would find the slot started already).
        minutes = max(5, min(20, 24 * 60 - (start.hour * 60 + start.minute)))
        schedule.add_templates(
            db,
            actor=world.operator,
            site_code=SITE,
            product_code=COVID,
            spec=TemplateSpec(
                weekdays=[start.isoweekday()],
                starts_at=start.time(),
                minutes=minutes,
                capacity=3,
                valid_from=start.date(),
            ),
        )
        db.flush()
        schedule.generate_slots(
            db, actor=world.operator, site_code=SITE, first_day=start.date(), last_day=start.date()
        )
        citizen = world.adult.login_name
    with serve(app) as url:
        yield BookingServer(url=url, citizen=citizen, soon=start.strftime("%H:%M"))


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


def sign_in(page: Page, url: str, login: str) -> None:
    page.goto(url)
    page.locator("#login_name").fill(login)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_resident_books_and_cancels_and_a_site_operator_checks_them_in(
    browser: Browser, booking_server: BookingServer, shots: Path
) -> None:
    assert CHROMIUM.exists()
    url = booking_server.url
    errors: list[str] = []
    # The resident's phone is at 滨江区 (its site is nearer than 西湖区's).
    resident = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        device_scale_factor=2,
        geolocation={"latitude": 30.21, "longitude": 120.21},
        permissions=["geolocation"],
    )
    operator = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        page = resident.new_page()
        watch(page, errors)
        sign_in(page, f"{url}/login", booking_server.citizen)
        page.wait_for_url(f"{url}/me")

        # 建档: the profile is filled in from household registration once she consents.
        page.get_by_role("link", name="我的预约").first.click()
        page.wait_for_url(f"{url}/me/bookings")
        page.get_by_role("navigation", name="预约服务").get_by_role("link", name="建档").click()
        own = page.locator("#person-1")
        expect(own).to_contain_text("林晓雯（本人）")
        own.get_by_label("接收通知的手机号码").fill("13912345678")
        own.get_by_role("checkbox").check()
        own.get_by_role("button", name="建档").click()
        page.wait_for_url(f"{url}/me/profile?done=profile")
        expect(page.locator("#notice")).to_have_text("档案已保存。")
        expect(page.locator("#person-1")).to_contain_text("浙江省公安厅")

        # Sites near me (the phone's position): the nearest first, with its distance.
        page.goto(f"{url}/booking")
        page.get_by_role("button", name="使用我的位置").click()
        page.wait_for_url(re.compile(r".*/booking\?.*near=30\.2100%2C120\.2100.*"))
        expect(page.locator("#results > li").first).to_have_attribute("id", f"site-{OTHER_SITE}")
        expect(page.locator(f"#site-{OTHER_SITE}")).to_contain_text("公里")

        # Search in 西湖区 for the inactivated vaccine, open the site, pick Wednesday 09:00.
        page.goto(f"{url}/booking")
        page.locator("#product").select_option(COVID)
        page.locator("#county").select_option("330106")
        page.get_by_role("button", name="搜索").click()
        page.wait_for_url(re.compile(r".*/booking\?.*county=330106.*"))
        card = page.locator(f"#site-{SITE}")
        expect(card).to_contain_text("剩余")
        page.screenshot(path=str(shots / "booking-search-phone.png"), full_page=True)
        card.get_by_role("link", name=f"{SITE}接种门诊").click()
        page.wait_for_url(f"{url}/booking/sites/{SITE}?product={COVID}")
        page.locator("#day-2026-12-02").get_by_role("link", name=re.compile("^09:00–09:30")).click()
        page.wait_for_url(re.compile(rf".*/booking/sites/{SITE}/slots/\d+$"))
        expect(page.locator("#slot")).to_contain_text("2026-12-02 星期三 09:00–09:30")
        page.get_by_role("button", name="确认预约").click()
        page.wait_for_url(re.compile(r".*/booking/appointments/[0-9A-Z]+\?done=booked$"))

        # The confirmation: booked, with the QR to show and the calendar file.
        expect(page.locator("#notice")).to_contain_text("预约成功")
        confirmation = page.locator("#confirmation")
        expect(confirmation.get_by_role("heading")).to_have_text("已预约")
        expect(confirmation).to_contain_text("2026-12-02 09:00–09:30")
        expect(page.locator("#qr svg")).to_be_visible()
        expect(page.locator("#calendar")).to_have_attribute("href", re.compile(r"/calendar\.ics$"))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shots / "booking-confirmation-phone.png"), full_page=True)

        # Cancel it: the seat goes back at once.
        page.get_by_role("button", name="取消预约").click()
        page.wait_for_url(re.compile(r".*\?done=cancelled$"))
        expect(page.locator("#notice")).to_contain_text("预约已取消，名额已释放")
        expect(page.locator("#confirmation").get_by_role("heading")).to_have_text("已取消")
        expect(page.locator("#qr")).to_have_count(0)
        page.screenshot(path=str(shots / "booking-cancelled-phone.png"), full_page=True)

        # Book today's slot, and keep the phone's screen with the code open.
        page.goto(f"{url}/booking/sites/{SITE}?product={COVID}")
        page.locator("ul.slots").first.get_by_role("link", name=re.compile(f"^{booking_server.soon}")).click()
        page.get_by_role("button", name="确认预约").click()
        page.wait_for_url(re.compile(r".*/booking/appointments/[0-9A-Z]+\?done=booked$"))
        number = page.url.rsplit("/", 1)[1].split("?")[0]
        shown = page.locator("#qr").screenshot()
        [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(shown)))
        assert code.text.startswith("zerotrip:booking:")

        # At the site: the operator signs in, opens the site's day, scans the code and records the dose.
        desk = operator.new_page()
        watch(desk, errors)
        sign_in(desk, f"{url}/staff/login", "xh-site")
        desk.wait_for_url(f"{url}/staff")
        desk.get_by_role("navigation", name="主菜单").get_by_role("link", name="接种单位").click()
        desk.wait_for_url(f"{url}/staff/booking")
        desk.get_by_role("link", name=f"{SITE}接种门诊").click()
        entry = desk.locator(f"#entry-{number}")
        expect(entry).to_contain_text("林晓雯")
        expect(entry).to_contain_text("已预约")
        desk.get_by_label("扫描预约二维码").fill(code.text)
        desk.get_by_role("button", name="签到").click()
        desk.wait_for_url(re.compile(rf".*done=checked_in&ref={number}#entry-{number}$"))
        expect(desk.locator("#notice")).to_have_text(f"林晓雯 已签到（预约号 {number}）。")
        expect(entry).to_contain_text("已签到")
        entry.get_by_label("疫苗批号").fill("20261120A")
        entry.get_by_role("button", name="接种登记").click()
        desk.wait_for_url(re.compile(rf".*done=recorded&ref={number}#entry-{number}$"))
        expect(desk.locator(f"#entry-{number}")).to_contain_text("已完成")
        desk.screenshot(path=str(shots / "booking-site-day-phone.png"), full_page=True)

        # The resident's record lookup shows the dose at once.
        page.goto(f"{url}/me/vaccinations")
        expect(page.locator("#doses")).to_contain_text("20261120A")
        expect(page.locator("#doses")).to_contain_text("新冠病毒疫苗")
    finally:
        resident.close()
        operator.close()
    assert not errors, errors
