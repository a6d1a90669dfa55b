"""A small world for page tests: a county with one citizen, a reviewer, and an administrator with TOTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import system
from zerotrip.keys import KeyStore
from zerotrip.web.auth_pages import totp_fernet

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
