"""Security headers, error pages for people and problem+json for programs, static files, health."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from zerotrip.app import create_app
from zerotrip.config import Settings
from zerotrip.deps import SESSION_COOKIE
from zerotrip.keys import KeyStore
from zerotrip.problems import NotAuthenticated
from zerotrip.web.pages import error_view
from zerotrip.web.render import TEMPLATE_DIR

from .conftest import HTML, People, sign_in


@pytest.fixture
def https_client(
    settings: Settings, session_factory: sessionmaker[Session], keys: KeyStore
) -> Iterator[TestClient]:
    web = settings.web.model_copy(update={"public_url": "https://zerotrip.example.gov.cn"})
    app = create_app(settings.model_copy(update={"web": web}), session_factory=session_factory, keys=keys)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_pages_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/login", "/static/zerotrip.css", "/no-such-page"):
        headers = client.get(path, headers=HTML).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers, "no HSTS over plain http"


def test_https_deployments_add_hsts_and_secure_cookies(https_client: TestClient, people: People) -> None:
    page = https_client.get("/login", headers=HTML)
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert "secure" in page.headers["set-cookie"].lower()
    response = sign_in(https_client, people.citizen_login)
    assert response.status_code == 303
    session_cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")
    )
    assert "secure" in session_cookie.lower() and "httponly" in session_cookie.lower()
    assert people.citizen_name in https_client.get("/me", headers=HTML).text


def test_templates_have_no_inline_scripts_styles_or_handlers() -> None:
    """The CSP forbids inline code, so the templates must not rely on it."""
    for template in Path(TEMPLATE_DIR).glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script" not in text, template.name
        assert "<style" not in text, template.name
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


def test_every_page_is_labelled_and_has_landmarks(client: TestClient, people: People) -> None:
    for path in ("/", "/login", "/staff/login", "/no-such-page"):
        text = client.get(path, headers=HTML).text
        assert 'class="skip-link" href="#main"' in text
        assert '<main id="main"' in text and "<header" in text and "<footer" in text
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
        assert text.count("<h1") == 1, path
    login = client.get("/login", headers=HTML).text
    for field in ("login_name", "password"):
        assert f'<label for="{field}">' in login and f'id="{field}"' in login


def test_a_missing_page_is_an_html_page_for_browsers(client: TestClient) -> None:
    response = client.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "页面或记录不存在" in response.text and 'href="/"' in response.text


def test_a_missing_api_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/no-such-thing", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_the_error_page_follows_the_language(client: TestClient) -> None:
    client.get("/lang/en")
    response = client.get("/no-such-page", headers=HTML)
    assert '<html lang="en">' in response.text and "Not found" in response.text


def test_static_files_are_served(client: TestClient) -> None:
    css = client.get("/static/zerotrip.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@media (min-width" in css.text


def test_the_health_check_asks_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_pages_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert not any(path in paths for path in ("/", "/login", "/me", "/staff", "/healthz"))


def test_the_error_page_offers_to_sign_in_when_signing_in_would_help() -> None:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/staff/inbox",
        "query_string": b"page=2",
        "headers": [],
    }
    view = error_view(Request(scope), NotAuthenticated())
    assert view.status == 401 and view.sign_in_url == "/staff/login?next=%2Fstaff%2Finbox%3Fpage%3D2"
    scope = {**scope, "path": "/me/applications", "query_string": b"", "method": "POST"}
    assert error_view(Request(scope), NotAuthenticated()).sign_in_url == "/login"
