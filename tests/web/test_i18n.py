"""Simplified Chinese by default, English on request, and a catalogue that covers every message."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

import zerotrip.identity.errors
import zerotrip.problems
from zerotrip.problems import Problem
from zerotrip.web import i18n
from zerotrip.web.i18n import LANG_COOKIE, Catalogs
from zerotrip.web.render import safe_next

from .conftest import HTML

WEB = Path(i18n.__file__).parent
PO = WEB / "locale" / "zh_Hans" / "LC_MESSAGES" / "messages.po"


def extracted_messages() -> set[str]:
    """Every message in the templates and the web package's Python, as `pybabel extract` would see it."""
    found = extract_from_dir(
        str(WEB),
        method_map=[("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
        options_map={"templates/**.html": {"silent": "false"}},
    )
    messages: set[str] = set()
    for _filename, _lineno, message, _comments, _context in found:
        if isinstance(message, tuple):
            messages.update(part for part in message if part)
        else:
            messages.add(message)
    return messages


def problem_titles() -> set[str]:
    """The kernel's and identity's problems: their titles are shown, translated, on the error page."""
    modules = {zerotrip.problems.__name__, zerotrip.identity.errors.__name__}
    return {cls.title for cls in Problem.registry.values() if cls.__module__ in modules} | {Problem.title}


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_Hans")


def test_extraction_finds_the_pages_messages() -> None:
    messages = extracted_messages()
    assert {"Sign in", "Hello, %(name)s", "Reviewer", "Enter your login name and password."} <= messages


def test_every_message_has_a_chinese_translation(catalog) -> None:  # type: ignore[no-untyped-def]
    missing = sorted(
        message
        for message in extracted_messages() | problem_titles()
        if message not in catalog or not catalog[message].string or catalog[message].fuzzy
    )
    assert not missing, f"add these to {PO.relative_to(WEB.parent.parent.parent)}: {missing}"


def test_the_catalogue_has_no_stale_entries(catalog) -> None:  # type: ignore[no-untyped-def]
    wanted = extracted_messages() | problem_titles()
    stale = sorted(message.id for message in catalog if message.id and message.id not in wanted)
    assert not stale, f"no longer used; remove from messages.po: {stale}"


def test_translations_keep_their_placeholders(catalog) -> None:  # type: ignore[no-untyped-def]
    problems = [(message.id, errors) for message, errors in catalog.check() if errors]
    assert not problems


def test_the_catalogue_compiles_in_memory() -> None:
    catalogs = Catalogs("zh_Hans")
    assert catalogs.for_locale("zh_Hans").gettext("Sign in") == "登录"
    assert catalogs.for_locale("zh_Hans").gettext("Hello, %(name)s", name="林晓雯") == "您好，林晓雯"
    assert catalogs.for_locale("en").gettext("Sign in") == "Sign in"
    with pytest.raises(ValueError, match="default_locale"):
        Catalogs("fr")


def test_the_public_home_is_in_chinese_by_default(client: TestClient) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text
    assert "个人登录" in page.text and "工作人员登录" in page.text
    assert "办事服务" in page.text and "电子证照" in page.text and "开放数据" in page.text
    assert 'href="/lang/en?next=%2F"' in page.text


def test_the_language_switch_turns_the_pages_english_and_back(client: TestClient) -> None:
    switched = client.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    cookie = switched.headers["set-cookie"].lower()
    assert cookie.startswith(f"{LANG_COOKIE}=en") and "samesite=lax" in cookie and "httponly" in cookie
    page = client.get("/", headers=HTML)
    assert '<html lang="en">' in page.text
    assert "Citizen sign in" in page.text and "个人登录" not in page.text
    assert "简体中文" in page.text, "the switch back names the language in its own script"
    client.get("/lang/zh-Hans", follow_redirects=False)
    assert '<html lang="zh-Hans">' in client.get("/", headers=HTML).text


def test_an_unknown_language_is_not_found(client: TestClient) -> None:
    assert client.get("/lang/fr", headers=HTML, follow_redirects=False).status_code == 404


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\r\nLocation: https://evil.example",
    ],
)
def test_the_language_switch_refuses_an_open_redirect(client: TestClient, hostile: str) -> None:
    response = client.get("/lang/en", params={"next": hostile}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_safe_next() -> None:
    assert safe_next("/me?tab=1#x", "/") == "/me?tab=1#x"
    for hostile in ("", "me", "//x.example", "/\\x.example", "http://x.example", "/\n", "/a\tb"):
        assert safe_next(hostile, "/home") == "/home", hostile
