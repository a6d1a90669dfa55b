"""Issuing in bulk: one permission check, partial failures by index, unique entries, one audit event per
certificate, a log that still verifies, and the department systems' endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from zerotrip.audit.checkpoints import seal_checkpoint, verify_log
from zerotrip.audit.models import AuditCheckpoint, AuditEvent
from zerotrip.certificates import actions, numbers, sdjwt, status_entries
from zerotrip.certificates.errors import CertificateTypeNotFound, IssuingNotAllowed
from zerotrip.certificates.models import Certificate, StatusList
from zerotrip.certificates.queries import trust_list_jwks
from zerotrip.certificates.trust import TrustList
from zerotrip.certificates.types import DEMO_TYPES, define_certificate_type
from zerotrip.certificates.verify import verify_token
from zerotrip.common import clock
from zerotrip.common.checks import make_resident_id
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions as identity_actions
from zerotrip.identity.actor import system
from zerotrip.identity.errors import ScopeNotGranted
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

from .conftest import ROOT, CertWorld, api_client, bearer, client_actor, staff

CARD = "social-security-card"


def card(n: int) -> dict[str, Any]:
    return {
        "card_no": f"A{n:08d}",
        "sex": "女" if n % 2 else "男",
        "insured_division": "330106",
        "issued_on": "2026-11-01",
    }


def register(db: Session, count: int, *, offset: int = 0) -> list[str]:
    """``count`` newly registered people's resident IDs."""
    ids = []
    for i in range(offset, offset + count):
        resident_id = make_resident_id(
            division_code="330105",
            birth_date=date(1950, 1, 1) + timedelta(days=37 * i),
            sequence=100 + i % 800,
            sex="male" if i % 2 else "female",  # type: ignore[arg-type]
        )
        identity_actions.register_person(
            db, actor=ROOT, resident_id=resident_id, name=f"参保人{i:03d}", division_code="330105"
        )
        ids.append(resident_id)
    db.flush()
    return ids


@pytest.fixture
def issuer(db: Session, world: CertWorld) -> Any:
    """A certificate issuer at the human resources and social security department."""
    return staff(db, world.departments["hrss"], "zj-hrss-issuer", "certificate_issuer", "孙制证")


def hrss_system(db: Session, world: CertWorld, scopes: list[str] | None = None) -> Any:
    client, _ = api_client(
        db, world.departments["hrss"], ["certificates.issue"] if scopes is None else scopes
    )
    return client_actor(client)


def issue_batch(
    db: Session, actor: Any, items: list[tuple[str, dict[str, Any]]], keys: KeyStore, settings: Settings
) -> actions.BatchOutcome:
    return actions.issue_certificates(
        db, actor=actor, certificate_type=CARD, items=items, keys=keys, settings=settings
    )


def test_a_department_system_issues_a_batch(
    db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    holders = register(db, 40)
    before = db.scalar(select(func.count()).where(AuditEvent.action == actions.ISSUED))
    system_actor = hrss_system(db, world)
    outcome = issue_batch(db, system_actor, [(h, card(i)) for i, h in enumerate(holders)], keys, settings)
    assert outcome.rejected == [] and [item.index for item in outcome.issued] == list(range(40))
    assert (outcome.certificate_type, outcome.issuer_org_code) == (CARD, "330000-hrss")
    rows = {c.number: c for c in db.scalars(select(Certificate))}
    assert {item.number for item in outcome.issued} <= set(rows)
    assert len({item.number for item in outcome.issued}) == 40
    assert all(numbers.is_valid_certificate_number(item.number) for item in outcome.issued)
    entries = [(rows[item.number].status_list_id, rows[item.number].status_index) for item in outcome.issued]
    assert len(set(entries)) == 40
    indices = [index for _, index in entries]
    assert indices != sorted(indices)  # random, not handed out in order
    assert status_entries.used_by_list(db, [entries[0][0]]) == {entries[0][0]: 40}

    trust = TrustList.from_jwks(trust_list_jwks(db, keys=keys, settings=settings))
    for i, item in enumerate(outcome.issued):
        row = rows[item.number]
        assert (row.holder_key, row.holder_name, row.token, row.source) == (
            holders[i],
            f"参保人{i:03d}",
            item.token,
            "api",
        )
        assert row.claims == card(i) and row.valid_until == item.valid_until
        verdict = verify_token(
            item.token, trust=trust, status=None, now=clock.now(), presentation_ttl_seconds=300
        )
        assert verdict.ok, verdict
        assert verdict.claims == {"holder_name": row.holder_name, "holder_id": holders[i], **card(i)}
        assert row.valid_until is not None and verdict.valid_until == row.valid_until.replace(microsecond=0)
        payload = sdjwt.parse(item.token).payload
        assert payload["status"]["status_list"]["idx"] == row.status_index

    # One audit event per certificate, under its holder, as a single issue writes it.
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == actions.ISSUED).order_by(AuditEvent.id)
    ).all()
    assert len(events) - (before or 0) == 40
    by_number = {event.data["number"]: event for event in events}
    for i, item in enumerate(outcome.issued):
        event = by_number[item.number]
        assert (event.subject_type, event.subject_id, event.actor) == (
            "person",
            holders[i],
            system_actor.principal,
        )
        assert event.data["type"] == CARD and event.data["source"] == "api"


def test_rejected_items_are_named_by_index_and_the_others_issued(
    db: Session, world: CertWorld, issuer: Any, keys: KeyStore, settings: Settings
) -> None:
    holders = register(db, 5)
    unregistered = make_resident_id(
        division_code="330105", birth_date=date(1988, 8, 8), sequence=901, sex="male"
    )
    items = [
        (holders[0], card(0)),
        (holders[1][:-1] + ("0" if holders[1][-1] != "0" else "1"), card(1)),  # wrong check character
        (holders[2], card(2) | {"sex": "未知", "insured_division": "999999"}),  # two bad values
        (unregistered, card(3)),  # a valid number nobody registered
        (holders[3], {"card_no": "A1", "extra": 1}),  # missing fields and an unknown one
        (holders[4], card(5)),
        (holders[0].lower(), card(6)),  # the same holder again (a second card) is fine
    ]
    outcome = issue_batch(db, issuer, items, keys, settings)
    assert [item.index for item in outcome.issued] == [0, 5, 6]
    assert [item.holder_key for item in outcome.issued] == [holders[0], holders[4], holders[0]]
    rejected = {item.index: {e["pointer"] for e in item.errors} for item in outcome.rejected}
    assert rejected == {
        1: {"#/items/1/holder_key"},
        2: {"#/items/2/claims/sex", "#/items/2/claims/insured_division"},
        3: {"#/items/3/holder_key"},
        4: {f"#/items/4/claims/{name}" for name in ("extra", "sex", "insured_division", "issued_on")},
    }
    assert "no registered person" in outcome.rejected[2].errors[0]["detail"]
    issued = db.scalar(
        select(func.count()).select_from(Certificate).where(Certificate.holder_key.in_(holders))
    )
    assert issued == 3


def test_who_may_issue_a_batch_is_checked_once_and_nothing_is_written_otherwise(
    db: Session, world: CertWorld, issuer: Any, keys: KeyStore, settings: Settings
) -> None:
    holders = register(db, 3)
    items = [(h, card(i)) for i, h in enumerate(holders)]
    weak = hrss_system(db, world, scopes=["identity.persons.read"])
    civil, _ = api_client(db, world.departments["civil"], ["certificates.issue"], name="民政业务系统")
    before = db.scalar(select(func.count()).select_from(Certificate))
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(ScopeNotGranted):
        issue_batch(db, weak, items, keys, settings)
    with pytest.raises(IssuingNotAllowed):  # another department's system
        issue_batch(db, client_actor(civil), items, keys, settings)
    with pytest.raises(IssuingNotAllowed):  # an issuer of another department
        issue_batch(db, world.civil_issuer, items, keys, settings)
    with pytest.raises(IssuingNotAllowed):  # not an issuer
        issue_batch(db, world.civil_steward, items, keys, settings)
    with pytest.raises(ValidationFailed) as raised:  # the platform must say why
        issue_batch(db, system("import"), items, keys, settings)
    assert raised.value.errors[0]["pointer"] == "#/source_ref"
    with pytest.raises(CertificateTypeNotFound):
        actions.issue_certificates(
            db, actor=issuer, certificate_type="no-such-type", items=items, keys=keys, settings=settings
        )
    with pytest.raises(ValidationFailed):
        issue_batch(db, issuer, [], keys, settings)
    with pytest.raises(ValidationFailed) as raised:
        issue_batch(db, issuer, items * 400, keys, settings)
    assert raised.value.errors[0]["pointer"] == "#/items"
    assert db.scalar(select(func.count()).select_from(Certificate)) == before
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_a_batch_fills_the_newest_list_and_starts_another(
    db: Session, world: CertWorld, issuer: Any, keys: KeyStore, settings: Settings
) -> None:
    holders = register(db, 12)
    first = issue_batch(db, issuer, [(holders[0], card(0))], keys, settings).issued[0]
    row = db.scalars(select(Certificate).where(Certificate.number == first.number)).one()
    size = settings.certificates.status_list_size
    # Five entries left: the batch takes them (from the complement of what is taken), then a new list.
    status_entries.count_used(db, {row.status_list_id: size - 5 - 1})
    outcome = issue_batch(db, issuer, [(h, card(i)) for i, h in enumerate(holders[1:])], keys, settings)
    assert len(outcome.issued) == 11
    rows = db.scalars(
        select(Certificate).where(Certificate.number.in_([item.number for item in outcome.issued]))
    ).all()
    by_list: dict[int, list[int]] = {}
    for certificate in rows:
        by_list.setdefault(certificate.status_list_id, []).append(certificate.status_index)
    assert sorted(len(indices) for indices in by_list.values()) == [5, 6]
    old, new = sorted(by_list)
    assert old == row.status_list_id and row.status_index not in by_list[old]
    assert all(len(set(indices)) == len(indices) for indices in by_list.values())
    assert status_entries.used_by_list(db, [old, new]) == {old: size, new: 6}


def test_a_status_entry_taken_meanwhile_is_drawn_again(
    db: Session,
    world: CertWorld,
    issuer: Any,
    keys: KeyStore,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holders = register(db, 4)
    taken = issue_batch(db, issuer, [(holders[0], card(0))], keys, settings).issued[0]
    row = db.scalars(select(Certificate).where(Certificate.number == taken.number)).one()
    real = status_entries.draw_status_entries
    calls: list[int] = []

    def draw(db: Session, *, count: int, settings: Settings, now: Any) -> list[tuple[int, int]]:
        entries = real(db, count=count, settings=settings, now=now)
        calls.append(count)
        if len(calls) == 1:  # as if another transaction had just taken the second item's entry
            entries[1] = (row.status_list_id, row.status_index)
        return entries

    monkeypatch.setattr(status_entries, "draw_status_entries", draw)
    outcome = issue_batch(db, issuer, [(h, card(i)) for i, h in enumerate(holders[1:])], keys, settings)
    assert calls == [3, 1]  # only the item that clashed was drawn, signed and written again
    assert [item.index for item in outcome.issued] == [0, 1, 2]
    rows = db.scalars(
        select(Certificate).where(Certificate.number.in_([item.number for item in outcome.issued]))
    ).all()
    assert len(rows) == 3 and (row.status_list_id, row.status_index) not in {
        (c.status_list_id, c.status_index) for c in rows
    }
    # Every issued token names the entry its row holds.
    for certificate in rows:
        assert (
            sdjwt.parse(certificate.token).payload["status"]["status_list"]["idx"] == certificate.status_index
        )
    assert db.scalar(select(func.count()).where(AuditEvent.action == actions.ISSUED)) == 4


def test_the_audit_log_still_verifies_after_a_batch(
    db: Session, world: CertWorld, issuer: Any, keys: KeyStore, settings: Settings
) -> None:
    db.execute(delete(AuditCheckpoint))
    holders = register(db, 20)
    issue_batch(db, issuer, [(h, card(i)) for i, h in enumerate(holders)], keys, settings)
    db.flush()
    with clock.frozen(clock.now() + timedelta(minutes=5)):
        checkpoint = seal_checkpoint(db, keys=keys, max_events=100_000, lag_seconds=30)
    assert checkpoint is not None
    report = verify_log(db, keys=keys)
    assert report.ok, report
    assert report.checked_events == db.scalar(select(func.count()).select_from(AuditEvent))


# -- the endpoint -----------------------------------------------------------------------------------------


def test_department_systems_post_batches(client: TestClient, db: Session, world: CertWorld) -> None:
    holders = register(db, 3)
    own, secret = api_client(db, world.departments["hrss"], ["certificates.issue"])
    headers = bearer(db, own, secret)
    body = {
        "certificate_type": CARD,
        "items": [{"holder_key": h, "claims": card(i)} for i, h in enumerate(holders)]
        + [{"holder_key": "110101", "claims": card(9)}],
        "source_ref": "2026 年度社保卡批量制发",
    }
    response = client.post("/api/certificates/batches", json=body, headers=headers)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert [item["index"] for item in answer["issued"]] == [0, 1, 2]
    assert [item["holder_key"] for item in answer["issued"]] == holders
    assert answer["rejected"] == [
        {
            "index": 3,
            "errors": [
                {
                    "detail": "not a valid resident ID number: must be 18 characters",
                    "pointer": "#/items/3/holder_key",
                }
            ],
        }
    ]
    number = answer["issued"][1]["number"]
    read = client.get(f"/api/certificates/{number}", headers=headers)
    assert read.status_code == 200 and read.json()["source_ref"] == "2026 年度社保卡批量制发"
    verdict = client.post("/api/certificates/verify", json={"token": answer["issued"][1]["token"]})
    assert verdict.json()["code"] == "valid"

    # Nothing issuable: a 422 problem naming every reason, and nothing written.
    count = db.scalar(select(func.count()).select_from(Certificate))
    bad = {"certificate_type": CARD, "items": [{"holder_key": holders[0], "claims": {"sex": "?"}}]}
    problem = client.post("/api/certificates/batches", json=bad, headers=headers)
    assert problem.status_code == 422 and problem.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert {e["pointer"] for e in problem.json()["errors"]} >= {
        "#/items/0/claims/sex",
        "#/items/0/claims/card_no",
    }
    assert db.scalar(select(func.count()).select_from(Certificate)) == count

    # Too many items, or none: refused before anything is looked at.
    many = {"certificate_type": CARD, "items": [{"holder_key": holders[0], "claims": card(0)}] * 1001}
    too_many = client.post("/api/certificates/batches", json=many, headers=headers)
    assert too_many.status_code == 422
    assert too_many.headers["content-type"].startswith("application/problem+json")
    assert any(e["pointer"].startswith("#/items") for e in too_many.json()["errors"])
    empty = {"certificate_type": CARD, "items": []}
    assert client.post("/api/certificates/batches", json=empty, headers=headers).status_code == 422

    # Who is asking: anonymous 401, a system without the scope 403, another department 403.
    assert client.post("/api/certificates/batches", json=body).status_code == 401
    other, other_secret = api_client(
        db, world.departments["civil"], ["certificates.issue"], name="民政业务系统"
    )
    refused = client.post("/api/certificates/batches", json=body, headers=bearer(db, other, other_secret))
    assert refused.status_code == 403
    weak, weak_secret = api_client(
        db, world.departments["hrss"], ["identity.persons.read"], name="社保查询系统"
    )
    refused = client.post("/api/certificates/batches", json=body, headers=bearer(db, weak, weak_secret))
    assert refused.status_code == 403


@pytest.mark.postgres_only
def test_concurrent_batches_that_drew_the_same_entries_both_finish(
    new_database: Callable[..., str], keys: KeyStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With real transactions, two batches that drew two of the same status entries in opposite orders
    write at the same time: rows go in in entry order, so one waits for the other instead of both waiting
    for each other (a deadlock, were they written in the order drawn); the second then draws those two
    again. Every certificate is issued once."""
    engine = make_engine(new_database(migrate=True))
    factory = make_sessionmaker(engine)
    local = settings.model_copy(update={"database_url": engine.url.render_as_string(hide_password=False)})
    try:
        with factory() as db, transaction(db):
            province = identity_actions.create_organisation(
                db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            identity_actions.create_organisation(
                db,
                actor=ROOT,
                kind="department",
                code="330000-hrss",
                name="浙江省人力资源和社会保障厅",
                division_code="330000",
                parent_id=province.id,
            )
            spec = next(t for t in DEMO_TYPES if t.code == CARD)
            define_certificate_type(db, actor=ROOT, spec=spec)
            holders = register(db, 13)
            # The department's key and the status list both batches draw from.
            actions.issue_certificate(
                db,
                actor=system("import"),
                certificate_type=CARD,
                holder_key=holders.pop(),
                claims=card(99),
                keys=keys,
                settings=local,
                source_ref="first",
            )
        real_draw, real_insert = status_entries.draw_status_entries, status_entries.insert_certificates
        first_draws: dict[str, list[tuple[int, int]]] = {}
        shared = [(0, 0), (0, 0)]

        def draw(db: Session, *, count: int, settings: Settings, now: Any) -> list[tuple[int, int]]:
            entries = real_draw(db, count=count, settings=settings, now=now)
            name = threading.current_thread().name
            if name not in first_draws:
                list_id = entries[0][0]
                shared[:] = [(list_id, 7), (list_id, 9)]
                # The two shared entries, in opposite orders in the two batches.
                entries[:2] = shared if name == "one" else shared[::-1]
                first_draws[name] = entries
            return entries

        def insert(db: Session, rows: list[dict[str, Any]]) -> set[str]:
            if len(rows) != 6:  # a redraw
                return real_insert(db, rows)
            # The first attempts overlap: "one" writes its first row, "two" starts while "one" holds it.
            name = threading.current_thread().name
            if name == "two":
                time.sleep(0.3)
            missed = real_insert(db, rows[:1])
            if name == "one":
                time.sleep(0.6)
            return missed | real_insert(db, rows[1:])

        monkeypatch.setattr(status_entries, "draw_status_entries", draw)
        monkeypatch.setattr(status_entries, "insert_certificates", insert)
        outcomes: dict[str, actions.BatchOutcome] = {}
        errors: list[BaseException] = []

        def run(name: str, people: list[str]) -> None:
            try:
                with factory() as db, transaction(db):
                    outcomes[name] = actions.issue_certificates(
                        db,
                        actor=system("import"),
                        certificate_type=CARD,
                        items=[(h, card(i)) for i, h in enumerate(people)],
                        keys=keys,
                        settings=local,
                        source_ref=name,
                    )
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=("one", holders[:6]), name="one"),
            threading.Thread(target=run, args=("two", holders[6:]), name="two"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert [len(outcomes[name].issued) for name in ("one", "two")] == [6, 6]
        with factory() as db:
            entries = db.execute(select(Certificate.status_list_id, Certificate.status_index)).all()
            assert len(entries) == 13 and len(set(entries)) == 13
            assert db.scalar(select(func.count()).select_from(StatusList)) == 1
            assert sum(1 for entry in entries if tuple(entry) in shared) == 2  # each shared entry used once
            assert list(status_entries.used_by_list(db, [entries[0][0]]).values()) == [13]
            assert db.scalar(select(func.count()).where(AuditEvent.action == actions.ISSUED)) == 13
    finally:
        engine.dispose()
