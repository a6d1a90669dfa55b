"""Choosing which child a newborn bundle is about when the mother has several births on record: the births
register (the bundle's subject register) read with two records waits for her choice; the preview lists the
candidates (resident ID numbers masked); only the chosen record goes to the parts; the choice is audited
and only hers to make."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.config import Settings
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.services import (
    application_queries,
    bundle_catalogue,
    bundle_evidence,
    bundle_progress,
    bundle_queries,
    bundles,
    wallet_evidence,
)
from zerotrip.services.bundle_schemas import BundleSpec
from zerotrip.services.errors import BundleApplicationNotFound, EvidenceIncomplete, InvalidBundle

from .bundle_world import BundleWorld, add_twin, build_bundle_world

NEWBORN = "330106-yjs-birth"
BIRTHS = "330000-health.births"


@pytest.fixture
def world(db: Session, settings: Settings) -> BundleWorld:
    return build_bundle_world(db, settings)


def consented(db: Session, world: BundleWorld, keys: KeyStore) -> str:
    number = bundles.start_bundle_application(db, actor=world.mother.actor, bundle_code=NEWBORN).number
    bundle_evidence.consent_bundle(
        db,
        actor=world.mother.actor,
        number=number,
        settings=world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
    )
    return number


def test_the_newborn_bundle_names_the_births_register_and_a_register_no_part_reads_is_refused(
    db: Session, world: BundleWorld
) -> None:
    assert world.newborn.subject_register == BIRTHS
    assert bundle_catalogue.bundle_read(db, world.newborn).subject_register == BIRTHS
    spec = bundle_catalogue.bundle_read(db, world.newborn)
    with pytest.raises(InvalidBundle, match="subject_register"):
        bundle_catalogue.revise_bundle(
            db,
            actor=world.admin,
            code=NEWBORN,
            spec=BundleSpec(
                code=NEWBORN,
                name=spec.name,
                life_event="birth",
                description=spec.description,
                parts=[p.item_code for p in spec.parts],
                subject_register="330000-civil.marriages",
            ),
        )


def test_one_birth_on_record_is_read_without_a_choice(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    number = consented(db, world, keys)
    found = bundle_queries.get_bundle_application(db, actor=world.mother.actor, number=number)
    births = bundle_queries.bundle_application_read(db, found).sources[0]
    assert (births.resource_code, births.state) == (BIRTHS, "fetched")
    preview = bundle_evidence.preview_bundle(
        db, actor=world.mother.actor, number=number, settings=world.settings.services
    )
    assert preview.sources[0].candidates == []


def test_twins_wait_for_the_mothers_choice_and_only_the_chosen_birth_reaches_the_parts(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    twin = add_twin(db, world)
    mother = world.mother
    number = consented(db, world, keys)
    found = bundle_queries.get_bundle_application(db, actor=mother.actor, number=number)
    read = bundle_queries.bundle_application_read(db, found)
    births = read.sources[0]
    assert (births.resource_code, births.state) == (BIRTHS, "choosing")
    assert [s.state for s in read.sources[1:]] == ["fetched", "fetched"]
    # Nothing of either birth is in the form yet, nor in any part's evidence.
    assert not any(f.name.startswith("0.births") for f in read.form)
    parts = [a for _, a in bundle_progress.members_with_applications(db, found)]
    certificate = application_queries.application_read(db, parts[0])
    ev = next(e for e in certificate.evidence if e.source_ref == BIRTHS)
    assert (ev.state, ev.values) == ("pending", None)

    preview = bundle_evidence.preview_bundle(
        db, actor=mother.actor, number=number, settings=world.settings.services
    )
    candidates = preview.sources[0].candidates
    names = [{f.name: f.value for f in c.fields}["child_name"] for c in candidates]
    assert sorted(names) == sorted([world.child_name, twin])
    masked = {f.name: f.value for f in candidates[0].fields}["mother_id"]
    assert masked == mother.resident_id[:4] + "*" * 10 + mother.resident_id[-4:]
    assert [c.record for c in candidates] == [0, 1]

    with pytest.raises(EvidenceIncomplete) as missing:
        bundles.submit_bundle(
            db, actor=mother.actor, number=number, keys=keys, settings=world.settings, pledge=True
        )
    assert {
        "detail": f"{births.name}: choose the record this application is about",
        "pointer": "#/sources/0",
    } in (missing.value.errors)

    # Only the applicant chooses, and only among the listed records of a source waiting for a choice.
    with pytest.raises(BundleApplicationNotFound):
        bundle_evidence.choose_bundle_record(
            db, actor=world.stranger.actor, number=number, position=0, record=0
        )
    with pytest.raises(ValidationFailed, match="record"):
        bundle_evidence.choose_bundle_record(db, actor=mother.actor, number=number, position=0, record=2)
    with pytest.raises(ValidationFailed, match="position"):
        bundle_evidence.choose_bundle_record(db, actor=mother.actor, number=number, position=1, record=0)

    choice = names.index(twin)
    bundle_evidence.choose_bundle_record(db, actor=mother.actor, number=number, position=0, record=choice)
    read = bundle_queries.bundle_application_read(db, found)
    assert read.sources[0].state == "fetched"
    form = {f.name: f for f in read.form}
    assert form["0.births.child_name"].value == twin
    assert form["0.births.child_name"].is_locked and "0.births.records" not in form
    certificate = application_queries.application_read(db, parts[0])
    ev = next(e for e in certificate.evidence if e.source_ref == BIRTHS)
    assert ev.state == "fetched" and len(ev.values["records"]) == 1  # type: ignore[index]
    assert {f.name: f.value for f in certificate.form}["0.births.child_name"] == twin
    events = [
        e
        for e in list_events_for_subject(db, subject_type="service_bundle_application", subject_id=number)
        if e.action == bundle_evidence.RECORD_CHOSEN
    ]
    assert [(e.data["source"], e.data["record"], e.data["candidates"]) for e in events] == [(0, choice, 2)]
    # The choice is made once; declining the source afterwards drops it like any read.
    with pytest.raises(ValidationFailed):
        bundle_evidence.choose_bundle_record(db, actor=mother.actor, number=number, position=0, record=0)
