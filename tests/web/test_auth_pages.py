"""Signing in and out through the pages: CSRF on every form, lockout, TOTP, who may open which home."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity.models import Account, LoginAttempt, WebSession
from zerotrip.identity.secrets import token_hash
from zerotrip.web.csrf import PRE_SESSION_COOKIE

from .conftest import HTML, PASSWORD, People, csrf_token, sign_in


def set_cookie_headers(response) -> list[str]:  # type: ignore[no-untyped-def]
    return response.headers.get_list("set-cookie")


def cookie_header(response, name: str) -> str:  # type: ignore[no-untyped-def]
    found = [h for h in set_cookie_headers(response) if h.startswith(f"{name}=")]
    assert found, f"no Set-Cookie for {name}"
    return found[0]


def session_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(WebSession)) or 0


def test_the_login_form_hands_out_a_strict_http_only_pre_session_token(client: TestClient) -> None:
    page = client.get("/login", headers=HTML)
    assert page.status_code == 200
    header = cookie_header(page, PRE_SESSION_COOKIE).lower()
    assert "httponly" in header and "samesite=strict" in header and "secure" not in header
    assert csrf_token(page.text) == client.cookies[PRE_SESSION_COOKIE]
    assert page.headers["cache-control"] == "no-store"
    # A second visit keeps the same token instead of racing another tab's form.
    again = client.get("/staff/login", headers=HTML)
    assert PRE_SESSION_COOKIE not in " ".join(set_cookie_headers(again))
    assert csrf_token(again.text) == client.cookies[PRE_SESSION_COOKIE]


def test_a_login_form_without_its_csrf_token_is_refused(
    client: TestClient, db: Session, people: People
) -> None:
    client.get("/login", headers=HTML)
    for token in ("", "forged-token-forged-token-forged-token"):
        response = client.post(
            "/login",
            data={"login_name": people.citizen_login, "password": PASSWORD, "csrf_token": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "表单已失效" in response.text
    assert session_count(db) == 0
    attempts = db.scalar(select(func.count()).select_from(LoginAttempt))
    assert attempts == 0, "a refused form must not even reach the password check"


def test_a_wrong_password_shows_a_chinese_error_and_is_recorded(
    client: TestClient, db: Session, people: People
) -> None:
    response = sign_in(client, people.citizen_login, "not the password")
    assert response.status_code == 401
    assert "登录名或密码错误" in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'value="{people.citizen_login}"' in response.text, "the login name is kept for a retry"
    recorded = db.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.login_name == people.citizen_login)
    )
    assert recorded == 1
    account = db.scalar(select(Account).where(Account.login_name == people.citizen_login))
    assert account is not None
    db.refresh(account)
    assert account.failed_logins == 1
    assert SESSION_COOKIE not in client.cookies


def test_the_account_locks_after_the_configured_number_of_failures(
    client: TestClient, db: Session, people: People, settings: Settings
) -> None:
    for _ in range(settings.identity.login_max_failures):
        assert sign_in(client, people.citizen_login, "not the password").status_code == 401
    locked = sign_in(client, people.citizen_login, PASSWORD)
    assert locked.status_code == 401
    assert "账号已被暂时锁定" in locked.text
    account = db.scalar(select(Account).where(Account.login_name == people.citizen_login))
    assert account is not None
    db.refresh(account)
    assert account.locked_until is not None


def test_empty_fields_are_asked_for_again(client: TestClient, people: People) -> None:
    response = sign_in(client, "", "")
    assert response.status_code == 422
    assert "请输入登录名和密码" in response.text


def test_a_citizen_signs_in_and_sees_their_own_home(client: TestClient, db: Session, people: People) -> None:
    response = sign_in(client, people.citizen_login)
    assert response.status_code == 303
    assert response.headers["location"] == "/me"
    header = cookie_header(response, SESSION_COOKIE).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "secure" not in header, "plain-http deployments cannot use Secure cookies"

    home = client.get("/me", headers=HTML)
    assert home.status_code == 200
    assert people.citizen_name in home.text
    assert "您好，林晓雯" in home.text
    masked = people.resident_id[:4] + "*" * 10 + people.resident_id[-4:]
    assert masked in home.text
    assert people.resident_id not in home.text
    assert "浙江省杭州市西湖区" in home.text
    assert "您还没有办件" in home.text
    assert 'href="/me/bookings"' in home.text and 'href="/me/vaccinations"' in home.text
    assert 'href="/me/certificates"' in home.text, "the home page leads to the wallet"
    assert "退出登录" in home.text
    assert home.headers["cache-control"] == "no-store"


def test_the_citizen_home_in_english(client: TestClient, people: People) -> None:
    sign_in(client, people.citizen_login)
    client.get("/lang/en?next=/me", follow_redirects=False)
    home = client.get("/me", headers=HTML)
    assert 'lang="en"' in home.text
    assert "Hello, 林晓雯" in home.text
    assert "Xihu District, Hangzhou, Zhejiang" in home.text
    assert "You have no applications yet." in home.text


def test_login_goes_back_to_a_same_site_next_only(client: TestClient, people: People) -> None:
    assert sign_in(client, people.citizen_login, next_path="/me?tab=bookings").headers["location"] == (
        "/me?tab=bookings"
    )
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = sign_in(client, people.citizen_login, next_path=hostile)
        assert response.headers["location"] == "/me", hostile


def test_signing_in_again_ends_the_previous_session(client: TestClient, db: Session, people: People) -> None:
    sign_in(client, people.citizen_login)
    first = client.cookies[SESSION_COOKIE]
    sign_in(client, people.reviewer_login, portal="/staff/login")
    assert db.get(WebSession, token_hash(first)) is None
    assert session_count(db) == 1


def test_anonymous_visitors_are_sent_to_the_right_login(client: TestClient) -> None:
    me = client.get("/me", headers=HTML, follow_redirects=False)
    assert me.status_code == 303 and me.headers["location"] == "/login?next=/me"
    staff = client.get("/staff", headers=HTML, follow_redirects=False)
    assert staff.status_code == 303 and staff.headers["location"] == "/staff/login?next=/staff"


def test_a_citizen_cannot_open_the_staff_pages(client: TestClient, people: People) -> None:
    sign_in(client, people.citizen_login)
    response = client.get("/staff", headers=HTML)
    assert response.status_code == 403
    assert "您无权进行此操作" in response.text and "此页面仅供工作人员使用" in response.text
    assert client.get("/staff/security", headers=HTML).status_code == 403


def test_citizens_cannot_sign_in_at_the_staff_portal_nor_staff_at_the_citizen_one(
    client: TestClient, people: People
) -> None:
    assert sign_in(client, people.citizen_login, portal="/staff/login").status_code == 401
    assert sign_in(client, people.reviewer_login, portal="/login").status_code == 401


def test_staff_sign_in_and_see_their_units_and_roles(client: TestClient, people: People) -> None:
    response = sign_in(client, people.reviewer_login, portal="/staff/login")
    assert response.status_code == 303 and response.headers["location"] == "/staff"
    home = client.get("/staff", headers=HTML)
    assert home.status_code == 200
    assert people.reviewer_name in home.text
    assert "西湖区" in home.text and "审核人员" in home.text
    me = client.get("/me", headers=HTML, follow_redirects=False)
    assert me.status_code == 303 and me.headers["location"] == "/staff"


def test_logout_needs_the_session_csrf_token_and_ends_the_session(
    client: TestClient, db: Session, people: People
) -> None:
    sign_in(client, people.citizen_login)
    token = client.cookies[SESSION_COOKIE]
    assert db.get(WebSession, token_hash(token)) is not None

    refused = client.post("/logout", data={"csrf_token": "nope"}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403
    db.expire_all()
    assert db.get(WebSession, token_hash(token)) is not None

    home = client.get("/me", headers=HTML)
    response = client.post(
        "/logout", data={"csrf_token": csrf_token(home.text)}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert cookie_header(response, SESSION_COOKIE).startswith(f'{SESSION_COOKIE}=""') or (
        "max-age=0" in cookie_header(response, SESSION_COOKIE).lower()
    )
    db.expire_all()
    assert db.get(WebSession, token_hash(token)) is None
    # Even a replayed cookie no longer works.
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/me", headers=HTML, follow_redirects=False).status_code == 303


def test_logout_is_not_a_get(client: TestClient) -> None:
    response = client.get("/logout", headers=HTML)
    assert response.status_code == 405 and "不支持该请求方式" in response.text


def test_staff_with_totp_sign_in_in_two_steps(client: TestClient, db: Session, people: People) -> None:
    first = sign_in(client, people.admin_login, portal="/staff/login")
    assert first.status_code == 303
    assert first.headers["location"] == "/login/verify?next=%2Fstaff"
    # Half signed in: no staff page yet.
    assert client.get("/staff", headers=HTML, follow_redirects=False).status_code == 303

    form = client.get("/login/verify?next=%2Fstaff", headers=HTML)
    assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.text
    code = pyotp.TOTP(people.admin_totp_secret).now()
    done = client.post(
        "/login/verify",
        data={"code": code, "csrf_token": csrf_token(form.text), "next": "/staff"},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/staff"
    home = client.get("/staff", headers=HTML)
    assert home.status_code == 200 and people.admin_name in home.text
    assert "平台管理员" in home.text and "杭州市" in home.text


def test_a_wrong_totp_code_ends_the_half_open_session(
    client: TestClient, db: Session, people: People
) -> None:
    sign_in(client, people.admin_login, portal="/staff/login")
    token = client.cookies[SESSION_COOKIE]
    form = client.get("/login/verify", headers=HTML)
    wrong = str((int(pyotp.TOTP(people.admin_totp_secret).now()) + 500_000) % 1_000_000).zfill(6)
    response = client.post(
        "/login/verify",
        data={"code": wrong, "csrf_token": csrf_token(form.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "验证码错误或已过期" in response.text
    assert 'action="/staff/login"' in response.text
    db.expire_all()
    assert db.get(WebSession, token_hash(token)) is None


def test_the_totp_step_checks_csrf(client: TestClient, people: People) -> None:
    sign_in(client, people.admin_login, portal="/staff/login")
    code = pyotp.TOTP(people.admin_totp_secret).now()
    response = client.post("/login/verify", data={"code": code}, headers=HTML, follow_redirects=False)
    assert response.status_code == 403


def test_the_totp_step_without_a_half_open_session_goes_to_login(client: TestClient) -> None:
    response = client.get("/login/verify", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_staff_can_turn_on_totp(client: TestClient, db: Session, people: People) -> None:
    sign_in(client, people.reviewer_login, portal="/staff/login")
    page = client.get("/staff/security", headers=HTML)
    assert page.status_code == 200
    refused = client.post("/staff/security/totp", data={"csrf_token": "x"}, headers=HTML)
    assert refused.status_code == 403
    shown = client.post("/staff/security/totp", data={"csrf_token": csrf_token(page.text)}, headers=HTML)
    assert shown.status_code == 200
    assert "otpauth://totp/" in shown.text
    account = db.scalar(select(Account).where(Account.login_name == people.reviewer_login))
    assert account is not None
    db.refresh(account)
    assert account.totp_secret_encrypted is not None
