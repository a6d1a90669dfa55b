"""The data pages in a real browser: a steward loads a file with a bad row, a department system reads a
citizen's record through the gateway, and the citizen sees that read in their data-use log.

The server runs on a database of its own holding the small world of ``datahub_world`` (committed, not the
demo seed). Set ZEROTRIP_SCREENSHOT_DIR to keep the screenshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from zerotrip.app import create_app
from zerotrip.config import Settings
from zerotrip.datahub import sharing
from zerotrip.db import transaction

from .datahub_world import (
    CITIZEN_LOGIN,
    CONSUMER_NAME,
    CSV_HEADER,
    GRANTED,
    INSURANCE,
    PASSWORD,
    PURPOSE,
    SETTINGS,
    STEWARD_LOGIN,
    DataWorld,
    build_world,
    request_insurance,
)
from .live import DESKTOP, PHONE, serve

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class DataServer:
    url: str
    world: DataWorld


@pytest.fixture(scope="module")
def data_server(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("live-data"), database_url=new_database(migrate=True)
    )
    app = create_app(settings)
    with app.state.session_factory() as db, transaction(db):
        world = build_world(db)
        number = request_insurance(db, world)
        sharing.approve_share_request(db, actor=world.steward, number=number, settings=SETTINGS)
    with serve(app) as url:
        yield DataServer(url=url, world=world)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ZEROTRIP_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, url: str, login: str) -> None:
    page.goto(url)
    page.locator("#login_name").fill(login)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_steward_loads_a_file_and_the_citizen_sees_who_read_their_data(
    page: Page, data_server: DataServer, tmp_path: Path, shots: Path
) -> None:
    url, world = data_server.url, data_server.world
    a, b, c = world.others
    upload = tmp_path / "参保信息.csv"
    upload.write_text(
        "\n".join(
            [
                CSV_HEADER,
                f"{a},王小明,2018-03-01,9200.50,正常参保,330106",
                f"{b},李华,2020-11-15,7000,已退休,330106",
                f"{c},钱七,2021-06-01,6500,暂停缴费,330106",
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    # The steward finds the resource from the workbench and loads the file.
    sign_in(page, f"{url}/staff/login", STEWARD_LOGIN)
    page.wait_for_url(f"{url}/staff")
    page.get_by_role("link", name="数据资源目录").click()
    page.get_by_role("link", name="社会保险参保信息").click()
    page.get_by_role("link", name="归集文件").click()
    page.wait_for_url(f"{url}/staff/datahub/resources/{INSURANCE}/load")
    page.get_by_label("文件", exact=True).set_input_files(upload)
    page.get_by_role("button", name="开始归集").click()
    page.wait_for_url(f"{url}/staff/datahub/batches/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("归集结果")
    expect(page.locator(".stat-ok dd")).to_have_text("2")
    expect(page.locator(".stat-bad dd")).to_have_text("1")
    rejections = page.get_by_role("table", name="被拒绝的行")
    expect(rejections).to_contain_text("参保状态")
    expect(rejections).to_contain_text("取值须为以下之一：正常参保, 暂停缴费, 终止参保")
    expect(rejections).to_contain_text("已退休")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots / "steward-batch-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "steward-batch-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="退出登录").click()

    # The one-stop service platform reads the citizen's record through the gateway, as a system does.
    with httpx.Client(base_url=url) as api:
        token = api.post(
            "/api/identity/token",
            data={
                "grant_type": "client_credentials",
                "client_id": world.consumer_client_id,
                "client_secret": world.consumer_secret,
            },
        )
        assert token.status_code == 200, token.text
        read = api.post(
            f"/api/datahub/gateway/{INSURANCE}/lookup",
            json={"subjects": [world.resident_id], "fields": GRANTED, "purpose": PURPOSE},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert read.status_code == 200, read.text

    # The citizen sees that read: who, which items, why.
    sign_in(page, f"{url}/login", CITIZEN_LOGIN)
    page.wait_for_url(f"{url}/me")
    page.get_by_role("link", name="数据使用记录").click()
    page.wait_for_url(f"{url}/me/data-uses")
    expect(page.get_by_role("heading", level=1)).to_have_text("数据使用记录")
    use = page.locator(".use").first
    expect(use).to_contain_text(CONSUMER_NAME)
    expect(use).to_contain_text("浙江省数据局")
    expect(use).to_contain_text("社会保险参保信息")
    for title in ("姓名", "参保日期", "参保状态"):
        expect(use.get_by_role("listitem").filter(has_text=title)).to_be_visible()
    expect(use).to_contain_text(PURPOSE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots / "citizen-data-uses-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "citizen-data-uses-desktop.png"), full_page=True)
