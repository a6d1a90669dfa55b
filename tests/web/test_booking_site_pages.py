"""The pages at the site and above it: a site operator's sites and day list, check-in by the booking QR,
recording the dose (which the person's record lookup then shows), refusals on the page, and the platform
operator's figures by county with their bars; who may open what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.booking import actions, queries
from zerotrip.common import clock
from zerotrip.config import Settings

from ..booking.world import NOW, OTHER_SITE, SITE, BookingWorld, build_profile, build_world, sign_in, slot_of
from .conftest import HTML, csrf_token

MORNING = NOW + timedelta(hours=23, minutes=30)  # Wednesday 2 December, 08:30 in China


@pytest.fixture
def bworld(db: Session, settings: Settings) -> Iterator[BookingWorld]:
    with clock.frozen(NOW):
        yield build_world(db, settings)


def page(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url, headers=HTML, follow_redirects=False)
    assert response.status_code == status, (url, response.status_code, response.text[-1500:])
    return response.text


def booked(db: Session, world: BookingWorld) -> tuple[str, str]:
    """林晓雯 books the 09:00 slot of 2 December; the booking's number and what its QR code holds."""
    build_profile(db, world, world.adult)
    appointment = actions.book_appointment(
        db, actor=world.adult.actor, slot_id=slot_of(db).id, settings=world.settings.booking
    ).raise_for_refusal()
    db.flush()
    read = queries.get_appointment(db, actor=world.adult.actor, number=appointment.number)
    assert read.qr_payload
    return appointment.number, read.qr_payload


def test_an_operator_checks_in_and_records_the_dose(
    client: TestClient, db: Session, bworld: BookingWorld
) -> None:
    number, qr = booked(db, bworld)
    with clock.frozen(MORNING):
        sign_in(client, db, "xh-site", portal="staff")
        sites = page(client, "/staff/booking")
        assert f'href="/staff/booking/sites/{SITE}"' in sites and OTHER_SITE not in sites
        day = page(client, f"/staff/booking/sites/{SITE}")
        assert "2026-12-02 星期三" in day and "今天" in day
        assert f'id="entry-{number}"' in day and "林晓雯" in day and "3301**********012X" not in day
        assert "已预约" in day and 'id="check-in-form"' in day
        token = csrf_token(day)

        # A code that is no booking's, said on the page.
        wrong = client.post(
            f"/staff/booking/sites/{SITE}/check-in",
            data={"csrf_token": token, "token": "nonsense-code"},
            headers=HTML,
        )
        assert wrong.status_code == 404 and "没有与该二维码对应的预约" in wrong.text
        empty = client.post(f"/staff/booking/sites/{SITE}/check-in", data={"csrf_token": token}, headers=HTML)
        assert empty.status_code == 422 and "请扫描预约二维码或输入其内容" in empty.text

        checked = client.post(
            f"/staff/booking/sites/{SITE}/check-in",
            data={"csrf_token": token, "token": qr},
            follow_redirects=False,
        )
        assert checked.status_code == 303
        assert checked.headers["location"].endswith(f"done=checked_in&ref={number}#entry-{number}")
        day = page(client, checked.headers["location"])
        assert f"林晓雯 已签到（预约号 {number}）" in day
        assert f'action="/staff/booking/sites/{SITE}/appointments/{number}/record"' in day
        twice = client.post(
            f"/staff/booking/sites/{SITE}/check-in", data={"csrf_token": token, "token": qr}, headers=HTML
        )
        assert twice.status_code == 409 and "该预约的状态为：已签到" in twice.text

        record_url = f"/staff/booking/sites/{SITE}/appointments/{number}/record"
        bad_lot = client.post(
            record_url, data={"csrf_token": token, "lot": "12-ab", "adverse_reaction": "无"}, headers=HTML
        )
        assert bad_lot.status_code == 422 and "疫苗批号为8至12位大写字母和数字" in bad_lot.text
        recorded = client.post(
            record_url,
            data={"csrf_token": token, "lot": "20261101a", "adverse_reaction": "无"},
            follow_redirects=False,
        )
        assert recorded.status_code == 303, recorded.text
        day = page(client, recorded.headers["location"])
        assert f"预约 {number} 的接种已登记" in day and "已完成" in day
        assert not re.search(rf'id="entry-{number}".*?record-form', day, re.DOTALL)

        # The dose is in the person's record lookup at once.
        client.cookies.clear()
        sign_in(client, db, bworld.adult.login_name)
        record = page(client, "/me/vaccinations")
        assert "20261101A" in record and "2026-12-02" in record and "330106-001接种门诊" in record
        assert 'id="certificate-form"' in record


def test_operators_act_only_at_their_own_sites(client: TestClient, db: Session, bworld: BookingWorld) -> None:
    _, qr = booked(db, bworld)
    with clock.frozen(MORNING):
        sign_in(client, db, "bj-site", portal="staff")
        listed = page(client, "/staff/booking")
        assert (
            f'href="/staff/booking/sites/{OTHER_SITE}"' in listed
            and f"/staff/booking/sites/{SITE}" not in listed
        )
        page(client, f"/staff/booking/sites/{SITE}", status=403)
        own = page(client, f"/staff/booking/sites/{OTHER_SITE}")
        refused = client.post(
            f"/staff/booking/sites/{OTHER_SITE}/check-in",
            data={"csrf_token": csrf_token(own), "token": qr},
            headers=HTML,
        )
        assert refused.status_code == 409 and "不是您负责的接种单位" in refused.text
        # Citizens and visitors get no site pages.
        client.cookies.clear()
        assert (
            client.get(f"/staff/booking/sites/{SITE}", headers=HTML, follow_redirects=False).status_code
            == 303
        )
        sign_in(client, db, bworld.adult.login_name)
        page(client, f"/staff/booking/sites/{SITE}", status=403)
        page(client, "/staff/booking/overview", status=403)


def test_a_booking_for_another_day_is_not_checked_in_today(
    client: TestClient, db: Session, bworld: BookingWorld
) -> None:
    _, qr = booked(db, bworld)
    sign_in(client, db, "xh-site", portal="staff")
    day = page(client, f"/staff/booking/sites/{SITE}")  # 1 December: the booking is for the 2nd
    refused = client.post(
        f"/staff/booking/sites/{SITE}/check-in",
        data={"csrf_token": csrf_token(day), "token": qr},
        headers=HTML,
    )
    assert refused.status_code == 409 and "该预约的日期是 2026-12-02，不是今天" in refused.text
    tomorrow = page(client, f"/staff/booking/sites/{SITE}?day=2026-12-02")
    assert 'id="check-in-form"' not in tomorrow and "林晓雯" in tomorrow


def test_the_platform_operator_sees_capacity_no_shows_and_uptake_by_county(
    client: TestClient, db: Session, bworld: BookingWorld
) -> None:
    number, qr = booked(db, bworld)
    sign_in(client, db, "zj-admin", portal="staff")
    listed = page(client, "/staff/booking")
    assert 'href="/staff/booking/overview"' in listed
    assert (
        f'href="/staff/booking/sites/{SITE}"' in listed
        and f'href="/staff/booking/sites/{OTHER_SITE}"' in listed
    )
    in_binjiang = page(client, "/staff/booking?county=330108")
    assert (
        f'href="/staff/booking/sites/{OTHER_SITE}"' in in_binjiang
        and f"/staff/booking/sites/{SITE}" not in in_binjiang
    )
    text = page(client, "/staff/booking/overview")
    assert "2026-11-24 – 2026-12-08" in text
    xihu = re.search(r'<tr id="county-330106">(.*?)</tr>', text, re.DOTALL)
    assert xihu, "西湖区 has a row"
    row = xihu.group(1)
    assert "杭州市西湖区" in row
    # 7 days × 2 products × 2 slots × 2 seats, one taken.
    assert '<td class="num" data-label="号源">56</td>' in row
    assert "1 <span" in row and "1.8%" in row
    assert '<svg class="bar uptake-bar"' in row
    assert 'id="county-330108"' in text
    assert re.search(
        r'<th scope="row" data-label="日期">2026-12-02</th><td class="num" data-label="号源">16</td>', text
    )
    # After the dose is recorded, uptake counts it.
    with clock.frozen(MORNING):
        from zerotrip.booking import site_actions

        site_actions.check_in(db, actor=bworld.operator, scanned=qr)
        site_actions.record_vaccination(
            db, actor=bworld.operator, number=number, lot="20261101A", keys=client.app.state.keys,  # type: ignore[attr-defined]
            settings=bworld.settings,
        )  # fmt: skip
        db.flush()
        sign_in(client, db, "zj-admin", portal="staff")  # the session of yesterday has lapsed
        text = page(client, "/staff/booking/overview")
    row = re.search(r'<tr id="county-330106">(.*?)</tr>', text, re.DOTALL).group(1)  # type: ignore[union-attr]
    assert '<td class="num" data-label="接种剂次">1</td>' in row
    assert '<rect x="0" y="0" width="100.0" height="10">' in row
    one_day = page(client, "/staff/booking/overview?first=2026-12-02&last=2026-12-02")
    assert "2026-12-02 – 2026-12-02" in one_day and "2026-12-03</th>" not in one_day
    # A site operator is no platform operator.
    client.cookies.clear()
    sign_in(client, db, "xh-site", portal="staff")
    page(client, "/staff/booking/overview", status=403)
