"""A small world for page tests (a county with one citizen, a reviewer, and an administrator with TOTP),
and the browser fixtures the live-server tests share (see ``live.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import system
from zerotrip.keys import KeyStore
from zerotrip.web.auth_pages import totp_fernet

from .datahub_world import DataWorld, build_world
from .live import CHROMIUM, CHROMIUM_ARGS, PHONE

PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class People:
    citizen_login: str
    citizen_name: str
    resident_id: str
    reviewer_login: str
    reviewer_name: str
    admin_login: str
    admin_name: str
    admin_totp_secret: str


@pytest.fixture
def people(db: Session, keys: KeyStore) -> People:
    root = system("test")
    province = actions.create_organisation(
        db,
        actor=root,
        kind="province",
        code="330000",
        name="浙江省",
        name_en="Zhejiang",
        division_code="330000",
    )
    city = actions.create_organisation(
        db,
        actor=root,
        kind="city",
        code="330100",
        name="杭州市",
        name_en="Hangzhou",
        division_code="330100",
        parent_id=province.id,
    )
    county = actions.create_organisation(
        db,
        actor=root,
        kind="county",
        code="330106",
        name="西湖区",
        name_en="Xihu District",
        division_code="330106",
        parent_id=city.id,
    )
    resident_id = make_resident_id(
        division_code="330106", birth_date=date(1990, 5, 17), sequence=21, sex="female"
    )
    person = actions.register_person(
        db, actor=root, name="林晓雯", division_code="330106", resident_id=resident_id
    )
    actions.create_citizen_account(
        db, actor=root, person_id=person.id, login_name="13812345678", password=PASSWORD
    )
    actions.add_staff_member(
        db,
        actor=root,
        org_id=county.id,
        login_name="xh-reviewer",
        display_name="赵审核",
        role="reviewer",
        password=PASSWORD,
    )
    admin = actions.add_staff_member(
        db,
        actor=root,
        org_id=city.id,
        login_name="hz-admin",
        display_name="王管理",
        role="platform_admin",
        password=PASSWORD,
    )
    db.flush()
    uri = auth.enable_totp(db, actor=root, account_id=admin.account_id, fernet=totp_fernet(keys))
    db.flush()
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    return People(
        citizen_login="13812345678",
        citizen_name="林晓雯",
        resident_id=resident_id,
        reviewer_login="xh-reviewer",
        reviewer_name="赵审核",
        admin_login="hz-admin",
        admin_name="王管理",
        admin_totp_secret=secret,
    )


@pytest.fixture
def world(db: Session) -> DataWorld:
    """The small datahub world of ``datahub_world``, in the test's transaction."""
    return build_world(db)


def csrf_token(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(
    client: TestClient,
    login_name: str,
    password: str = PASSWORD,
    *,
    portal: str = "/login",
    next_path: str | None = None,
) -> httpx.Response:
    """Open the login form (which hands out the pre-session token) and submit it."""
    form = client.get(portal, headers=HTML)
    assert form.status_code == 200
    data = {"login_name": login_name, "password": password, "csrf_token": csrf_token(form.text)}
    if next_path is not None:
        data["next"] = next_path
    return client.post(portal, data=data, headers=HTML, follow_redirects=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's Chromium is not installed at {CHROMIUM}. Run `make system-deps` "
            "(scripts/ensure-chromium; `make test` runs it) to install chromium and a CJK font.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in Chinese that fails the test on a console error (a CSP violation shows up as
    one) or a failed subresource."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Pages answered with 4xx on purpose (a refused login) are logged as failed loads too; failed
        # subresources are caught below instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    try:
        yield page
        assert not errors, errors
    finally:
        context.close()
