"""The booking API end to end through the ASGI app: a resident's profile, search, booking (with retries),
the calendar file, cancelling; a site operator's day list, check-in by QR and recording, which the record
lookup and the certificate reflect; closures and capacity changes that tell people."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.booking.models import Appointment
from zerotrip.certificates.models import Certificate
from zerotrip.common import clock
from zerotrip.messaging.models_notifications import Notification

from .world import COVID, NAT, SITE, TOMORROW, BookingWorld, build_profile, sign_in, slot_of

API = "/api/booking"
OPERATOR = "/api/booking/operator"


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["type"] == f"/problems/{slug}", body
    return body


def test_searching_sites_near_a_place_shows_their_next_free_slots(
    client: TestClient, db: Session, world: BookingWorld
) -> None:
    response = client.get(f"{API}/sites", params={"near": "330106", "product": COVID})
    assert response.status_code == 200, response.text
    page = response.json()
    assert [s["code"] for s in page["items"]][:1] == [SITE]  # the 西湖区 site is the nearer one
    first = page["items"][0]
    assert first["distance_km"] is not None
    assert len(first["next_free"]) == 3 and first["next_free"][0]["product_code"] == COVID
    assert first["next_free"][0]["day"] == TOMORROW.isoformat()
    by_county = client.get(f"{API}/sites", params={"division": "330108"}).json()
    assert [s["code"] for s in by_county["items"]] == ["330108-001"]
    problem(client.get(f"{API}/sites", params={"near": "somewhere"}), 422, "validation-failed")
    assert {p["code"] for p in client.get(f"{API}/products").json()} >= {COVID, NAT}


def test_a_resident_books_retries_downloads_the_calendar_and_cancels(
    client: TestClient, db: Session, world: BookingWorld
) -> None:
    headers = sign_in(client, db, world.adult.login_name)
    slot = slot_of(db)
    problem(
        client.post(f"{API}/appointments", json={"slot_id": slot.id}, headers=headers),
        409,
        "booking/profile-required",
    )
    profile = client.post(f"{API}/profiles", json={"consent": True, "phone": "13912345678"}, headers=headers)
    assert profile.status_code == 201, profile.text
    assert profile.json()["source_org_name"] == "浙江省公安厅"
    keyed = headers | {"Idempotency-Key": "rush-1"}
    booked = client.post(f"{API}/appointments", json={"slot_id": slot.id}, headers=keyed)
    assert booked.status_code == 201, booked.text
    body = booked.json()
    assert (body["status"], body["dose"], body["site_code"]) == ("booked", 1, SITE)
    assert body["qr_payload"].startswith("zerotrip:booking:")
    again = client.post(f"{API}/appointments", json={"slot_id": slot.id}, headers=keyed)
    assert again.status_code == 200 and again.json()["number"] == body["number"]
    mine = client.get(f"{API}/appointments", headers=headers).json()
    assert [a["number"] for a in mine["items"]] == [body["number"]]
    calendar = client.get(f"{API}/appointments/{body['number']}/ical")
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert (
        f"UID:{body['number']}@" in calendar.text
        and "DTSTART;TZID=Asia/Shanghai:20261202T090000" in calendar.text
    )
    cancelled = client.post(
        f"{API}/appointments/{body['number']}/cancel", json={"reason": "改期"}, headers=headers
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert "METHOD:CANCEL" in client.get(f"{API}/appointments/{body['number']}/ical").text
    # Another citizen sees nothing of it.
    sign_in(client, db, world.stranger.login_name)
    problem(client.get(f"{API}/appointments/{body['number']}"), 404, "booking/appointment-not-found")


def test_refusals_are_problems_that_say_why(client: TestClient, db: Session, world: BookingWorld) -> None:
    build_profile(db, world, world.second)
    headers = sign_in(client, db, world.second.login_name)
    refused = client.post(f"{API}/appointments", json={"slot_id": slot_of(db).id}, headers=headers)
    body = problem(refused, 422, "booking/not-eligible")
    assert body["reason"] == "interval_too_short" and body["earliest_on"] == "2026-12-12"
    # The vaccination read that found it stays in the person's data-use log.
    uses = client.get("/api/datahub/me/data-uses").json()
    assert any(u["resource_code"] == "330000-health.vaccinations" for u in uses), uses
    preview = client.get(f"{API}/eligibility", params={"product": COVID, "day": "2026-12-12"}).json()
    assert (preview["allowed"], preview["dose"]) == (True, 2)
    full = slot_of(db, product=NAT)
    full.booked = full.capacity
    db.flush()
    body = problem(
        client.post(f"{API}/appointments", json={"slot_id": full.id}, headers=headers),
        409,
        "booking/slot-full",
    )
    assert body["waitlist"] is False
    problem(
        client.post(f"{API}/appointments", json={"slot_id": 10**9}, headers=headers),
        404,
        "booking/slot-not-found",
    )


def test_a_full_slot_is_refused_before_anything_personal_is_read_yet_a_retry_gets_its_booking(
    client: TestClient, db: Session, world: BookingWorld
) -> None:
    build_profile(db, world, world.adult)
    headers = sign_in(client, db, world.adult.login_name)
    slot = slot_of(db)
    keyed = headers | {"Idempotency-Key": "last-seat"}
    booked = client.post(f"{API}/appointments", json={"slot_id": slot.id}, headers=keyed)
    assert booked.status_code == 201, booked.text
    slot.booked = slot.capacity  # everyone else's seats went meanwhile
    db.flush()
    # The retried request (its answer was lost) is told its booking, whatever the slot's state now.
    again = client.post(f"{API}/appointments", json={"slot_id": slot.id}, headers=keyed)
    assert again.status_code == 200 and again.json() == booked.json()
    # Another attempt is refused at once, and nothing of the person's was read for it.
    reads = len(client.get("/api/datahub/me/data-uses").json())
    other = client.post(
        f"{API}/appointments", json={"slot_id": slot.id}, headers=headers | {"Idempotency-Key": "x"}
    )
    assert problem(other, 409, "booking/slot-full")["waitlist"] is True
    assert len(client.get("/api/datahub/me/data-uses").json()) == reads
    # The caller is checked before the slot: without the CSRF header, or signed out, nothing about it.
    problem(client.post(f"{API}/appointments", json={"slot_id": slot.id}), 403, "csrf-failed")
    client.cookies.clear()
    problem(
        client.post(f"{API}/appointments", json={"slot_id": 10**9}, headers=headers), 401, "not-authenticated"
    )


def test_check_in_and_recording_update_the_record_lookup_and_the_certificate(
    client: TestClient, db: Session, world: BookingWorld, fixed_clock: clock.FrozenClock
) -> None:
    build_profile(db, world, world.adult)
    headers = sign_in(client, db, world.adult.login_name)
    problem(
        client.post(f"{API}/certificates/covid-vaccination", headers=headers),
        409,
        "booking/no-doses-recorded",
    )
    booked = client.post(f"{API}/appointments", json={"slot_id": slot_of(db).id}, headers=headers).json()
    before = client.get(f"{API}/records", headers=headers).json()
    assert before["doses"] == [] and before["bookings"][0]["status"] == "booked"

    fixed_clock.advance(timedelta(days=1) - timedelta(minutes=10))  # 08:50 on the booking's day
    staff = sign_in(client, db, "xh-site", portal="staff")
    day = client.get(f"{OPERATOR}/sites/{SITE}/day", headers=staff).json()
    assert [e["number"] for e in day["entries"]] == [booked["number"]]
    assert day["entries"][0]["resident_id_masked"].count("*") == 8
    problem(
        client.post(
            f"{OPERATOR}/appointments/{booked['number']}/vaccination", json={"lot": "202608A1"}, headers=staff
        ),
        409,
        "booking/check-in-refused",
    )
    checked = client.post(f"{OPERATOR}/check-ins", json={"token": booked["qr_payload"]}, headers=staff)
    assert checked.status_code == 200 and checked.json()["status"] == "checked_in"
    problem(
        client.post(f"{OPERATOR}/check-ins", json={"token": booked["qr_payload"]}, headers=staff),
        409,
        "booking/check-in-refused",
    )
    fixed_clock.advance(timedelta(minutes=15))
    recorded = client.post(
        f"{OPERATOR}/appointments/{booked['number']}/vaccination", json={"lot": "202608A1"}, headers=staff
    )
    assert recorded.status_code == 201, recorded.text
    certificate_number = recorded.json()["certificate_number"]
    assert certificate_number

    headers = sign_in(client, db, world.adult.login_name)
    after = client.get(f"{API}/records", headers=headers).json()
    assert [(d["vaccine_kind"], d["dose"], d["batch_no"], d["vaccinated_on"]) for d in after["doses"]] == [
        ("新冠病毒疫苗", 1, "202608A1", TOMORROW.isoformat())
    ]
    assert after["source"] == "浙江省卫生健康委员会"
    assert after["bookings"][0]["status"] == "completed"
    certificate = db.scalar(select(Certificate).where(Certificate.number == certificate_number))
    assert certificate is not None and certificate.holder_key == world.adult.resident_id
    assert certificate.claims["doses"] == 1 and certificate.claims["last_dose_on"] == TOMORROW.isoformat()
    # Obtaining it again gives a new certificate of the same doses and revokes the earlier one.
    again = client.post(f"{API}/certificates/covid-vaccination", headers=headers)
    assert again.status_code == 201 and again.json()["doses"] == 1
    db.refresh(certificate)
    assert certificate.status == "revoked" and again.json()["number"] in (certificate.status_reason or "")


def test_an_operator_acts_only_for_the_sites_they_operate(
    client: TestClient, db: Session, world: BookingWorld
) -> None:
    build_profile(db, world, world.adult)
    headers = sign_in(client, db, world.adult.login_name)
    problem(client.get(f"{OPERATOR}/sites/{SITE}/day"), 403, "booking/not-site-operator")
    booked = client.post(f"{API}/appointments", json={"slot_id": slot_of(db).id}, headers=headers).json()
    staff = sign_in(client, db, "bj-site", portal="staff")
    problem(client.get(f"{OPERATOR}/sites/{SITE}/day", headers=staff), 403, "booking/not-site-operator")
    problem(
        client.post(f"{OPERATOR}/check-ins", json={"token": booked["qr_payload"]}, headers=staff),
        409,
        "booking/check-in-refused",
    )
    staff = sign_in(client, db, "xh-site", portal="staff")
    # Not today's: refused with the day it is for.
    body = problem(
        client.post(f"{OPERATOR}/check-ins", json={"token": booked["qr_payload"]}, headers=staff),
        409,
        "booking/check-in-refused",
    )
    assert TOMORROW.isoformat() in str(body["detail"])


def test_closing_a_site_cancels_its_bookings_and_tells_each_person(
    client: TestClient, db: Session, world: BookingWorld
) -> None:
    for citizen in (world.adult, world.stranger):
        build_profile(db, world, citizen)
        headers = sign_in(client, db, citizen.login_name)
        assert (
            client.post(f"{API}/appointments", json={"slot_id": slot_of(db).id}, headers=headers).status_code
            == 201
        )
    staff = sign_in(client, db, "xh-site", portal="staff")
    closed = client.post(
        f"{OPERATOR}/sites/{SITE}/closures",
        json={"first_day": TOMORROW.isoformat(), "last_day": TOMORROW.isoformat(), "reason": "台风停诊"},
        headers=staff,
    )
    assert closed.status_code == 201, closed.text
    assert closed.json()["bookings_cancelled"] == 2 and closed.json()["slots_closed"] == 4
    cancelled = db.scalars(select(Appointment)).all()
    assert {(a.status, a.cancelled_by, a.cancel_reason) for a in cancelled} == {
        ("cancelled", "site", "台风停诊")
    }
    db.refresh(slot_of(db))
    assert slot_of(db).booked == 0 and slot_of(db).status == "closed"
    told = [
        n for n in db.scalars(select(Notification)) if n.template == "booking.appointment.cancelled_by_site"
    ]
    assert {n.person_id for n in told} == {world.adult.person.id, world.stranger.person.id}
    assert all(n.params["reason"] == "台风停诊" for n in told)
    # Regenerating slots leaves the closed day alone.
    regenerated = client.post(
        f"{OPERATOR}/sites/{SITE}/slots",
        json={"first_day": TOMORROW.isoformat(), "last_day": (TOMORROW + timedelta(days=8)).isoformat()},
        headers=staff,
    )
    # Only 9 and 10 December are new (two products, two slots a day each); 2 December stays closed.
    assert regenerated.json()["count"] == 8


def test_a_capacity_cut_below_the_bookings_needs_consent_and_tells_those_cancelled(
    client: TestClient, db: Session, world: BookingWorld, fixed_clock: clock.FrozenClock
) -> None:
    numbers = []
    for citizen in (world.adult, world.stranger):
        fixed_clock.advance(timedelta(seconds=1))  # the stranger books last
        build_profile(db, world, citizen)
        headers = sign_in(client, db, citizen.login_name)
        numbers.append(
            client.post(f"{API}/appointments", json={"slot_id": slot_of(db).id}, headers=headers).json()[
                "number"
            ]
        )
    staff = sign_in(client, db, "xh-site", portal="staff")
    slot_id = slot_of(db).id
    body = problem(
        client.put(f"{OPERATOR}/slots/{slot_id}/capacity", json={"capacity": 1}, headers=staff),
        409,
        "booking/capacity-below-bookings",
    )
    assert body["bookings"] == 1
    cut = client.put(
        f"{OPERATOR}/slots/{slot_id}/capacity", json={"capacity": 1, "cancel_excess": True}, headers=staff
    )
    assert cut.status_code == 200 and (cut.json()["capacity"], cut.json()["booked"]) == (1, 1)
    statuses = {a.number: a.status for a in db.scalars(select(Appointment))}
    assert statuses == {numbers[0]: "booked", numbers[1]: "cancelled"}  # the most recent one goes
    grown = client.put(f"{OPERATOR}/slots/{slot_id}/capacity", json={"capacity": 5}, headers=staff)
    assert (grown.json()["capacity"], grown.json()["free"]) == (5, 4)
    admin = sign_in(client, db, "zj-admin", portal="staff")
    figures = client.get(
        f"{OPERATOR}/figures",
        params={"first_day": TOMORROW.isoformat(), "last_day": TOMORROW.isoformat()},
        headers=admin,
    ).json()
    counties = {c["division_code"]: (c["capacity"], c["booked"]) for c in figures["counties"]}
    assert counties == {"330106": (11, 1), "330108": (8, 0)}  # the province's operator sees both districts
