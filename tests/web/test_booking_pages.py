"""The residents' booking pages: search in a county and near a place with the next free slots, a site's
free times, the profile built from household registration with consent, booking (POST → redirect → GET,
once per press), the confirmation with its QR and calendar file, refusals said in words, the waitlist,
rescheduling, cancelling, the vaccination record with the certificate, and who may open what.

The world is ``tests/booking/world.py``'s, on its fixed clock (Tuesday 1 December 2026, 09:00 in China).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.config import Settings

from ..booking.world import (
    COVID,
    NAT,
    NOW,
    OTHER_SITE,
    SITE,
    BookingWorld,
    build_profile,
    build_world,
    sign_in,
    slot_of,
)
from .conftest import HTML, csrf_token

_KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')


@pytest.fixture
def bworld(db: Session, settings: Settings) -> Iterator[BookingWorld]:
    with clock.frozen(NOW):
        yield build_world(db, settings)


def page(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url, headers=HTML, follow_redirects=False)
    assert response.status_code == status, (url, response.status_code, response.text[-2000:])
    return response.text


def book(
    client: TestClient, slot_id: int, resident_id: str, *, site: str = SITE, key: str | None = None
) -> tuple[int, str, str]:
    """Open the confirmation page and press 确认预约; the status, the redirect (or the page) and the key."""
    confirm = page(client, f"/booking/sites/{site}/slots/{slot_id}")
    found = _KEY.search(confirm)
    assert found, "the form carries an idempotency key"
    used = key or found.group(1)
    response = client.post(
        f"/booking/sites/{site}/slots/{slot_id}",
        data={"csrf_token": csrf_token(confirm), "idempotency_key": used, "resident_id": resident_id},
        headers=HTML,
        follow_redirects=False,
    )
    body = response.headers.get("location", "") if response.status_code == 303 else response.text
    return response.status_code, body, used


def number_of(location: str) -> str:
    found = re.fullmatch(r"/booking/appointments/([0-9A-Z]+)\?done=\w+", location)
    assert found, location
    return found.group(1)


def test_anyone_searches_sites_in_a_county_or_near_a_place(client: TestClient, bworld: BookingWorld) -> None:
    text = page(client, f"/booking?county=330106&product={COVID}")
    assert f'id="site-{SITE}"' in text and f'id="site-{OTHER_SITE}"' not in text
    assert "西湖区的接种单位：1 个" in text
    # The next free slots, earliest first, each leading to its confirmation page.
    assert re.search(
        rf'href="/booking/sites/{SITE}/slots/\d+">09:00–09:30 <span class="slot-seats">剩余 2 个', text
    )
    assert "2026-12-02 星期三" in text

    # Near 西湖区's centre: both sites, the nearer first, with distances.
    near = page(client, "/booking?near=330106")
    assert near.index(f'id="site-{SITE}"') < near.index(f'id="site-{OTHER_SITE}"')
    assert "公里" in near
    by_coordinates = page(client, "/booking?near=30.21,120.21")
    assert by_coordinates.index(f'id="site-{OTHER_SITE}"') < by_coordinates.index(f'id="site-{SITE}"')

    # A place that is none is said plainly, above the form, not as an error page.
    bad = page(client, "/booking?near=somewhere", status=422)
    assert 'role="alert"' in bad and "330106" in bad
    assert 'id="search"' in bad
    # Products nobody offers find nothing, said so.
    assert 'id="no-results"' in page(client, "/booking?product=marriage-registration")


def test_a_site_shows_its_hours_and_free_times(client: TestClient, db: Session, bworld: BookingWorld) -> None:
    text = page(client, f"/booking/sites/{SITE}?product={NAT}")
    assert "星期一：08:00–11:30, 13:30–16:30" in text and "星期六：不开放" in text
    nat = slot_of(db, product=NAT)
    assert f'href="/booking/sites/{SITE}/slots/{nat.id}"' in text
    covid = slot_of(db)
    assert f"/slots/{covid.id}" not in text, "filtered to the product"
    assert page(client, "/booking/sites/nope", status=404)


def test_booking_needs_a_signed_in_citizen(client: TestClient, db: Session, bworld: BookingWorld) -> None:
    slot = slot_of(db)
    url = f"/booking/sites/{SITE}/slots/{slot.id}"
    anonymous = client.get(url, headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=%2Fbooking%2Fsites%2F{SITE}%2Fslots%2F{slot.id}"
    sign_in(client, db, "xh-site", portal="staff")
    assert "此页面仅供个人用户使用" in page(client, url, status=403)
    client.cookies.clear()
    sign_in(client, db, bworld.adult.login_name)
    # Without a profile there is nothing to confirm yet: the page leads to 建档.
    text = page(client, url)
    assert 'id="no-profile"' in text and 'href="/me/profile"' in text
    # A form without the CSRF token is refused.
    refused = client.post(url, data={"resident_id": bworld.adult.resident_id}, headers=HTML)
    assert refused.status_code == 403


def test_the_profile_is_built_from_household_registration_with_consent(
    client: TestClient, db: Session, bworld: BookingWorld
) -> None:
    sign_in(client, db, bworld.adult.login_name)
    text = page(client, "/me/profile")
    for name in ("林晓雯（本人）", "林小宝（子女）", "林国华（父母）"):
        assert name in text
    assert text.count("尚未建档") == 3
    assert bworld.child.resident_id in text  # the family member's form names whom it is for (hidden)
    token = csrf_token(text)
    no_consent = client.post("/me/profile", data={"csrf_token": token, "phone": "13900001111"}, headers=HTML)
    assert no_consent.status_code == 422
    assert "须经您同意，才能从户籍信息填入档案" in no_consent.text
    bad_phone = client.post(
        "/me/profile", data={"csrf_token": token, "phone": "12345", "consent": "yes"}, headers=HTML
    )
    assert bad_phone.status_code == 422 and "请填写11位中国大陆手机号码" in bad_phone.text
    built = client.post(
        "/me/profile",
        data={"csrf_token": token, "phone": "139 0000 1111", "consent": "yes"},
        follow_redirects=False,
    )
    assert built.status_code == 303 and built.headers["location"] == "/me/profile?done=profile"
    text = page(client, built.headers["location"])
    assert "档案已保存" in text and "13900001111" in text and "1990-05-01" in text
    assert "浙江省公安厅" in text, "the profile says where its values came from"
    for_child = client.post(
        "/me/profile",
        data={
            "csrf_token": token,
            "phone": "13900001111",
            "consent": "yes",
            "resident_id": bworld.child.resident_id,
        },
        follow_redirects=False,
    )
    assert for_child.status_code == 303
    assert page(client, "/me/profile").count("尚未建档") == 1
    # A stranger's number is refused, and the page says so without naming anyone.
    stranger = client.post(
        "/me/profile",
        data={
            "csrf_token": token,
            "phone": "13900001111",
            "consent": "yes",
            "resident_id": bworld.stranger.resident_id,
        },
        headers=HTML,
    )
    assert stranger.status_code == 403 and bworld.stranger.person.name not in stranger.text


def test_a_citizen_books_sees_the_confirmation_and_cancels(
    client: TestClient, db: Session, bworld: BookingWorld, settings: Settings
) -> None:
    build_profile(db, bworld, bworld.adult)
    slot = slot_of(db)
    sign_in(client, db, bworld.adult.login_name)
    status, location, key = book(client, slot.id, bworld.adult.resident_id)
    assert status == 303, location
    number = number_of(location)
    text = page(client, location)
    assert "预约成功。到场时请出示预约二维码" in text
    assert 'id="confirmation"' in text and "<svg" in text and 'id="qr"' in text
    assert "新冠病毒灭活疫苗（Vero细胞） · 第1剂" in text
    assert "2026-12-02 09:00–09:30" in text
    # Pressing again (a double tap, a retry after a lost answer) returns the same booking.
    again = client.post(
        f"/booking/sites/{SITE}/slots/{slot.id}",
        data={
            "csrf_token": csrf_token(text),
            "idempotency_key": key,
            "resident_id": bworld.adult.resident_id,
        },
        follow_redirects=False,
    )
    assert again.status_code == 303 and number_of(again.headers["location"]) == number
    assert "replayed" in again.headers["location"]
    assert "剩余 1 个" in page(client, f"/booking/sites/{SITE}?product={COVID}")

    # The calendar file: one event in China's time, reminding the day before.
    ics = client.get(f"/booking/appointments/{number}/calendar.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert f'filename="booking-{number}.ics"' in ics.headers["content-disposition"]
    [event] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["UID"]).startswith(f"{number}@") and int(event["SEQUENCE"]) == 0  # the API's file
    assert event.decoded("DTSTART").isoformat() == "2026-12-02T09:00:00+08:00"
    assert "330106-001接种门诊" in str(event["LOCATION"])

    # My bookings lists it as coming up; cancelling gives the seat back at once.
    mine = page(client, "/me/bookings")
    assert f'id="booking-{number}"' in mine and 'id="upcoming"' in mine
    cancelled = client.post(
        f"/booking/appointments/{number}/cancel",
        data={"csrf_token": csrf_token(text)},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    text = page(client, cancelled.headers["location"])
    assert "预约已取消，名额已释放" in text and "由您取消" in text
    assert 'id="qr"' not in text and 'id="cancel-form"' not in text
    assert "剩余 2 个" in page(client, f"/booking/sites/{SITE}?product={COVID}")
    again = client.post(
        f"/booking/appointments/{number}/cancel", data={"csrf_token": csrf_token(text)}, headers=HTML
    )
    assert again.status_code == 409 and "该预约已不能更改" in again.text and "已取消" in again.text
    # Nobody else can open it.
    client.cookies.clear()
    build_profile(db, bworld, bworld.stranger)
    sign_in(client, db, bworld.stranger.login_name)
    page(client, f"/booking/appointments/{number}", status=404)
    assert client.get(f"/booking/appointments/{number}/calendar.ics").status_code == 404


def test_refusals_are_said_in_words(client: TestClient, db: Session, bworld: BookingWorld) -> None:
    build_profile(db, bworld, bworld.adult)
    build_profile(db, bworld, bworld.adult, for_=bworld.child)
    build_profile(db, bworld, bworld.second)
    sign_in(client, db, bworld.adult.login_name)
    # Too young: the child is two; the inactivated vaccine is from three.
    status, text, _ = book(client, slot_of(db).id, bworld.child.resident_id)
    assert status == 422, re.sub(r"\s+", " ", text[text.find("<main") :])[:3000]
    main = re.sub(r"\s+", " ", text[text.find("<main") :])[:2500]
    assert "此人目前不能预约该疫苗" in text, main
    assert "满3周岁后方可预约，即 2027-06-01 起" in text
    assert 'value="' + bworld.child.resident_id + '" checked' in text, "the form keeps whom it was for"
    # One active booking per person and dose.
    assert book(client, slot_of(db).id, bworld.adult.resident_id)[0] == 303
    status, text, _ = book(client, slot_of(db, hour=14).id, bworld.adult.resident_id)
    assert status == 409 and "您已预约该疫苗的第1剂" in text
    # The interval: 周建国's first dose was on 21 November, so the second is due from 12 December.
    client.cookies.clear()
    sign_in(client, db, bworld.second.login_name)
    status, text, _ = book(client, slot_of(db).id, bworld.second.resident_id)
    assert status == 422 and "第2剂须与上一剂间隔至少 21 天：请预约 2026-12-12 及以后的时间" in text


def test_a_full_slot_offers_the_waitlist(client: TestClient, db: Session, bworld: BookingWorld) -> None:
    for citizen in (bworld.adult, bworld.stranger):
        build_profile(db, bworld, citizen)
    build_profile(db, bworld, bworld.adult, for_=bworld.grandpa)
    slot = slot_of(db)
    sign_in(client, db, bworld.adult.login_name)
    for person in (bworld.adult, bworld.grandpa):
        assert book(client, slot.id, person.resident_id)[0] == 303
    client.cookies.clear()
    sign_in(client, db, bworld.stranger.login_name)
    site_page = page(client, f"/booking/sites/{SITE}?product={COVID}")
    assert "已约满" in site_page
    status, text, _ = book(client, slot.id, bworld.stranger.resident_id)
    assert status == 409 and "该时段已约满" in text and 'id="waitlist-form"' in text
    joined = client.post(
        f"/booking/sites/{SITE}/slots/{slot.id}/waitlist",
        data={"csrf_token": csrf_token(text), "resident_id": bworld.stranger.resident_id},
        follow_redirects=False,
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/me/bookings?done=waiting"
    mine = page(client, joined.headers["location"])
    assert "您已加入候补" in mine and "候补第 1 位" in mine
    # When 林晓雯 cancels, the seat goes to the first in line, who is told on the page.
    client.cookies.clear()
    sign_in(client, db, bworld.adult.login_name)
    number = re.search(r'id="booking-([0-9A-Z]+)"', page(client, "/me/bookings")).group(1)  # type: ignore[union-attr]
    client.post(
        f"/booking/appointments/{number}/cancel",
        data={"csrf_token": csrf_token(page(client, "/me/bookings"))},
    )
    client.cookies.clear()
    sign_in(client, db, bworld.stranger.login_name)
    mine = page(client, "/me/bookings")
    assert "已由候补转为预约" in mine and 'id="upcoming"' in mine


def test_rescheduling_moves_the_one_booking(client: TestClient, db: Session, bworld: BookingWorld) -> None:
    build_profile(db, bworld, bworld.adult)
    sign_in(client, db, bworld.adult.login_name)
    first, later = slot_of(db), slot_of(db, hour=14)
    _, location, _ = book(client, first.id, bworld.adult.resident_id)
    number = number_of(location)
    text = page(client, f"/booking/appointments/{number}")
    assert f'href="/booking/sites/{SITE}?product={COVID}&amp;reschedule={number}"' in text
    choose = page(client, f"/booking/sites/{SITE}?product={COVID}&reschedule={number}")
    assert f"您正在为预约 {number} 选择新的时间" in choose
    assert f'href="/booking/sites/{SITE}/slots/{later.id}?reschedule={number}"' in choose
    confirm = page(client, f"/booking/sites/{SITE}/slots/{later.id}?reschedule={number}")
    assert f'action="/booking/appointments/{number}/reschedule"' in confirm
    moved = client.post(
        f"/booking/appointments/{number}/reschedule",
        data={"csrf_token": csrf_token(confirm), "site_code": SITE, "slot_id": str(later.id)},
        follow_redirects=False,
    )
    assert (
        moved.status_code == 303
        and moved.headers["location"] == f"/booking/appointments/{number}?done=rescheduled"
    )
    text = page(client, moved.headers["location"])
    assert "预约已改到新的时间" in text and "2026-12-02 14:00–14:30" in text
    mine = page(client, "/me/bookings")
    assert mine.count('class="card booking-card"') == 1
    seats = page(client, f"/booking/sites/{SITE}?product={COVID}")
    assert re.search(rf'slots/{first.id}">09:00–09:30 <span class="slot-seats">剩余 2 个', seats)
    # Moving to the slot it is in is refused on the page.
    same = client.post(
        f"/booking/appointments/{number}/reschedule",
        data={"csrf_token": csrf_token(confirm), "site_code": SITE, "slot_id": str(later.id)},
        headers=HTML,
    )
    assert same.status_code == 422 and "该预约已在此时段" in same.text


def test_the_vaccination_record_and_the_certificate(
    client: TestClient, db: Session, bworld: BookingWorld
) -> None:
    build_profile(db, bworld, bworld.second)
    sign_in(client, db, bworld.second.login_name)
    text = page(client, "/me/vaccinations")
    assert "新冠病毒疫苗" in text and "2026-11-21" in text and "20260801" in text
    assert "浙江省卫生健康委员会" in text
    issued = client.post(
        "/me/vaccinations/certificate", data={"csrf_token": csrf_token(text)}, follow_redirects=False
    )
    assert issued.status_code == 303 and issued.headers["location"] == "/me/certificates"
    assert "新冠病毒疫苗接种" in page(client, "/me/certificates")
    # Someone without a dose gets no certificate button; asking anyway is answered on the page.
    client.cookies.clear()
    build_profile(db, bworld, bworld.adult)
    sign_in(client, db, bworld.adult.login_name)
    text = page(client, "/me/vaccinations")
    assert 'id="no-doses"' in text and 'id="certificate-form"' not in text
    refused = client.post("/me/vaccinations/certificate", data={"csrf_token": csrf_token(text)}, headers=HTML)
    assert refused.status_code == 409 and "此人没有新冠病毒疫苗接种记录" in refused.text
