"""The citizen's notification pages: the inbox in the page's language with the unread count in the
header, marking read (CSRF, POST → redirect → GET), one notification with its channels, the settings
form and its refusals, and who may open what. The API for the same is tested here too."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.config import MessagingSettings, Settings
from zerotrip.identity.queries import find_person_by_resident_id
from zerotrip.messaging.actions import notify
from zerotrip.messaging.models_notifications import Preference
from zerotrip.messaging.tasks import deliver_due

from .conftest import HTML, People, csrf_token, sign_in

APPROVED = {
    "number": "BJ23456789AB",
    "item_name": "住房公积金提取",
    "item_name_en": "Housing fund withdrawal",
}


def tell(
    db: Session, people: People, session_factory: sessionmaker[Session], settings: Settings
) -> list[uuid.UUID]:
    """Two notifications for the citizen, delivered to the inbox."""
    person = find_person_by_resident_id(db, people.resident_id)
    assert person is not None
    ids = [
        notify(
            db,
            person_id=person.id,
            template=template,
            params=APPROVED,
            dedupe_key=f"pages:{template}",
            link="/me/applications/BJ23456789AB",
        )
        for template in ("services.application.referred", "services.application.approved")
    ]
    db.commit()
    assert deliver_due(session_factory, settings) == 2
    return ids


def unread_in_header(html: str) -> int | None:
    found = re.search(r'id="nav-messages">[^<]*<span class="nav-count">(\d+)', html)
    return int(found.group(1)) if found else None


def test_a_visitor_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/me/notifications", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fme%2Fnotifications"


def test_the_inbox_newest_first_with_the_unread_count_in_the_header(
    client: TestClient,
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    tell(db, people, session_factory, settings)
    sign_in(client, people.citizen_login)
    page = client.get("/me/notifications", headers=HTML)
    assert page.status_code == 200
    assert unread_in_header(page.text) == 2
    subjects = re.findall(r'<a href="/me/notifications/[0-9a-f-]{36}">([^<]+)</a>', page.text)
    assert subjects == ["办件 BJ23456789AB 已办结：准予许可", "办件 BJ23456789AB 已转人工审核"]
    assert 'href="/me/applications/BJ23456789AB"' in page.text
    client.cookies.set("zt_lang", "en")
    english = client.get("/me/notifications", headers=HTML).text
    assert "Application BJ23456789AB approved" in english
    assert "“Housing fund withdrawal”" in english
    # Every page's header shows the count, not only the inbox.
    assert unread_in_header(client.get("/me", headers=HTML).text) == 2


def test_marking_read_one_and_all(
    client: TestClient,
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    referred, approved = tell(db, people, session_factory, settings)
    sign_in(client, people.citizen_login)
    page = client.get("/me/notifications?unread=1", headers=HTML)
    token = csrf_token(page.text)
    refused = client.post(f"/me/notifications/{approved}/read", data={"csrf_token": "forged"}, headers=HTML)
    assert refused.status_code == 403
    done = client.post(
        f"/me/notifications/{approved}/read",
        data={"csrf_token": token, "back_to": "/me/notifications?unread=1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/me/notifications?unread=1&done=read"
    after = client.get(done.headers["location"], headers=HTML).text
    assert unread_in_header(after) == 1 and "已标为已读" in after
    assert f"/me/notifications/{approved}/read" not in after  # no longer listed as unread
    outside = client.post(
        f"/me/notifications/{referred}/read",
        data={"csrf_token": token, "back_to": "https://evil.example/"},
        headers=HTML,
        follow_redirects=False,
    )
    assert outside.headers["location"] == "/me/notifications?done=read"
    client.post(f"/me/notifications/{referred}/read", data={"csrf_token": token}, headers=HTML)
    tell_more = client.post("/me/notifications/read", data={"csrf_token": token}, headers=HTML)
    assert tell_more.status_code == 200 and unread_in_header(tell_more.text) is None


def test_one_notification_shows_how_it_reached_the_person(
    client: TestClient,
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    person = find_person_by_resident_id(db, people.resident_id)
    assert person is not None
    db.add(
        Preference(
            person_id=person.id,
            language="zh_Hans",
            email="lin@example.cn",
            phone=None,
            channels={},
            updated_at=person.created_at,
        )
    )
    db.flush()
    # No mail server configured: the e-mail cannot be sent, and the page says so.
    _, approved = tell(db, people, session_factory, settings)
    sign_in(client, people.citizen_login)
    page = client.get(f"/me/notifications/{approved}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "站内消息" in text and "电子邮件" in text
    assert "l***@example.cn" in text and "lin@example.cn" not in text
    assert "e-mail is not configured on this platform" in text and "未能发送" in text


def test_another_persons_notification_is_not_found(
    client: TestClient,
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    sign_in(client, people.citizen_login)
    assert client.get(f"/me/notifications/{uuid.uuid4()}", headers=HTML).status_code == 404
    assert client.get("/me/notifications/not-an-id", headers=HTML).status_code == 422


def test_the_settings_form_saves_and_refuses_with_what_was_typed(
    client: TestClient,
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
    app,
) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = settings.model_copy(
        update={"messaging": MessagingSettings(smtp_host="mail.example.cn")}
    )
    sign_in(client, people.citizen_login)
    form = client.get("/me/notifications/settings", headers=HTML)
    assert form.status_code == 200
    token = csrf_token(form.text)
    # The defaults are ticked: decisions by e-mail and SMS.
    assert re.search(r'name="email:application_decided" id="[^"]+" checked', form.text)
    assert not re.search(r'name="sms:certificate_issued" id="[^"]+" checked', form.text)
    bad = client.post(
        "/me/notifications/settings",
        data={"csrf_token": token, "language": "en", "email": "not an address", "phone": "12345"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'value="not an address"' in bad.text and "电子邮件地址" in bad.text and "手机号码" in bad.text
    saved = client.post(
        "/me/notifications/settings",
        data={
            "csrf_token": token,
            "language": "en",
            "email": "lin@example.cn",
            "phone": "138 0013 8000",
            "sms:certificate_issued": "on",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/me/notifications/settings?done=saved"
    person = find_person_by_resident_id(db, people.resident_id)
    assert person is not None
    stored = db.get(Preference, person.id, populate_existing=True)
    assert stored is not None
    assert (stored.language, stored.email, stored.phone) == ("en", "lin@example.cn", "13800138000")
    assert stored.channels["certificate_issued"] == ["sms"]
    assert stored.channels["application_decided"] == []  # unticked boxes are a choice too
    again = client.get(saved.headers["location"], headers=HTML).text
    assert "已保存" in again and 'value="lin@example.cn"' in again


def test_staff_have_no_citizen_inbox(client: TestClient, people: People) -> None:
    sign_in(client, people.reviewer_login, portal="/staff/login")
    assert client.get("/me/notifications", headers=HTML).status_code == 403


# -- the API ----------------------------------------------------------------------------------------------


def test_the_api_reads_marks_and_sets_for_the_signed_in_citizen_only(
    client: TestClient,
    db: Session,
    people: People,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    _, approved = tell(db, people, session_factory, settings)
    assert client.get("/api/messaging/notifications").status_code == 401
    sign_in(client, people.citizen_login)
    page = client.get("/api/messaging/notifications", params={"language": "en"})
    assert page.status_code == 200
    body = page.json()
    assert (body["total"], body["unread"]) == (2, 2)
    assert body["items"][0]["subject"] == "Application BJ23456789AB approved"
    csrf = csrf_token(client.get("/me/notifications", headers=HTML).text)
    forged = client.post(f"/api/messaging/notifications/{approved}/read")
    assert forged.status_code == 403 and forged.json()["type"] == "/problems/csrf-failed"
    headers = {"X-CSRF-Token": csrf}
    marked = client.post(f"/api/messaging/notifications/{approved}/read", headers=headers)
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    assert [d["channel"] for d in marked.json()["deliveries"]] == ["inbox"]
    assert client.get("/api/messaging/notifications/unread").json() == {"unread": 1}
    missing = client.post(f"/api/messaging/notifications/{uuid.uuid4()}/read", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["type"] == "/problems/messaging/notification-not-found"
    assert client.post("/api/messaging/notifications/read", headers=headers).json() == {"marked": 1}
    invalid = client.put(
        "/api/messaging/preferences", json={"language": "zh_Hans", "email": "x@"}, headers=headers
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == [{"detail": "not an e-mail address", "pointer": "#/email"}]
    updated = client.put(
        "/api/messaging/preferences",
        json={"language": "en", "email": "lin@example.cn", "channels": {"booking_reminder": []}},
        headers=headers,
    )
    assert updated.status_code == 200
    assert updated.json()["channels"]["booking_reminder"] == []
    assert updated.json()["channels"]["booking_cancelled"] == ["email", "sms"]  # left out: default kept


def test_the_api_refuses_staff(client: TestClient, people: People) -> None:
    sign_in(client, people.reviewer_login, portal="/staff/login")
    refused = client.get("/api/messaging/preferences")
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/identity/not-your-record"
