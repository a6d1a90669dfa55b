"""Bundles (一件事): the guide's bundle (parts, one set of materials, trips), applying once for the newborn
bundle (one preview and consent, each shared source read once, every part prefilled), submitting (the
parts whose inputs exist start, the others wait), withdrawing, and who may do what."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.config import Settings
from zerotrip.datahub.gateway import CHECKED, READ
from zerotrip.datahub.uselog import list_data_uses
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.services import (
    application_queries,
    applications,
    applying,
    bundle_catalogue,
    bundle_evidence,
    bundle_progress,
    bundle_queries,
    bundles,
    reviewing,
    supplements,
    wallet_evidence,
)
from zerotrip.services.bundle_models import BundleMember
from zerotrip.services.bundle_schemas import BundleSpec
from zerotrip.services.errors import (
    ApplicationClosed,
    ApplicationNotFound,
    ApplyingNotAllowed,
    BundleApplicationNotFound,
    BundleCodeTaken,
    EvidenceIncomplete,
    InvalidBundle,
    InvalidUpload,
    NotBundleManager,
)
from zerotrip.services.models import Application, Evidence, Transition
from zerotrip.services.workflow_schemas import SupplementItemSpec

from .apply_world import Citizen
from .bundle_world import BundleWorld, build_bundle_world

NEWBORN = "330106-yjs-birth"
CHANGE = "330106-yjs-business-change"
HOUSEHOLD = "330000-psb.household"
BIRTHS = "330000-health.births"
MEDICAL = "330000-medical.insurance"
PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n0000"


@pytest.fixture
def world(db: Session, settings: Settings) -> BundleWorld:
    return build_bundle_world(db, settings)


def reads(db: Session, citizen: Citizen) -> list[tuple[str, str]]:
    return [
        (e.action, e.data["resource"])
        for e in list_events_for_subject(db, subject_type="person", subject_id=citizen.resident_id)
        if e.action in (READ, CHECKED)
    ]


def parts(db: Session, number: str, world: BundleWorld) -> list[Application]:
    found = bundle_queries.get_bundle_application(db, actor=world.mother.actor, number=number)
    return [a for _, a in bundle_progress.members_with_applications(db, found)]


def ready_to_submit(db: Session, world: BundleWorld, keys: KeyStore) -> str:
    """The mother starts the newborn bundle, consents to everything and uploads what is asked for."""
    started = bundles.start_bundle_application(db, actor=world.mother.actor, bundle_code=NEWBORN)
    number = started.number
    bundle_evidence.consent_bundle(
        db,
        actor=world.mother.actor,
        number=number,
        settings=world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
    )
    for need in bundle_queries.bundle_application_read(db, started).uploads:
        _, part, _, material = need.path.split("/")
        bundle_evidence.upload_for_part(
            db,
            actor=world.mother.actor,
            number=number,
            part=int(part),
            position=int(material),
            filename="scan.pdf",
            content=PDF,
            settings=world.settings,
        )
    return number


# -- the guide --------------------------------------------------------------------------------------------


def test_the_newborn_bundles_guide_lists_its_parts_their_order_one_set_of_materials_and_its_trips(
    db: Session, world: BundleWorld
) -> None:
    read = bundle_catalogue.bundle_read(db, bundle_catalogue.get_bundle(db, NEWBORN))
    assert [p.department.code for p in read.parts] == [
        "330106-health",
        "330106-psb",
        "330106-medical",
        "330100-hrss",
    ]
    # Each part needs the one before; the card needs the registration and the insurance.
    assert [p.needs for p in read.parts] == [[], [0], [1], [1, 2]]
    assert [(p.from_part, p.to_part) for p in read.passed_on] == [(0, 1), (1, 2), (1, 3), (2, 3)]
    datahub = [m for m in read.materials if m.source.kind == "datahub"]
    # The household register is read once for the certificate and the registration, with both's fields.
    household = next(m for m in datahub if m.source.ref == HOUSEHOLD)
    assert household.parts == [0, 1]
    assert set(household.source.fields) == {
        "name",
        "birth_date",
        "address",
        "household_no",
        "relation_to_head",
    }
    assert sorted(m.source.ref or "" for m in datahub) == sorted([BIRTHS, HOUSEHOLD, MEDICAL])
    # Nine materials asked for one by one; five shared results and reads fewer in the bundle.
    assert read.materials_separately == 11
    assert len(read.materials) == 11 - 4 - 1
    assert (read.trips.trips, read.trips.band, read.trips.separately) == (0, "zero", 0)
    # 1 + 1 + 1 + 10 working days, one after the other.
    assert read.promised_days == 13
    summaries = bundle_catalogue.bundle_summaries(db, bundle_catalogue.list_bundles(db, life_event="birth"))
    assert [(s.code, s.parts, len(s.departments), s.trips) for s in summaries] == [(NEWBORN, 4, 4, 0)]


def test_defining_a_bundle_takes_the_platform_administrator_over_every_part_and_a_sound_order(
    db: Session, world: BundleWorld
) -> None:
    spec = BundleSpec(
        code="330106-yjs-test",
        name="测试“一件事”",
        life_event="birth",
        description="测试",
        parts=["330106-psb-0001", "330106-health-0001"],
    )
    with pytest.raises(NotBundleManager):
        bundle_catalogue.define_bundle(db, actor=world.reviewers["330106-psb"], spec=spec)
    defined = bundle_catalogue.define_bundle(db, actor=world.admin, spec=spec)
    db.flush()
    # Listed in guide order, run in dependency order: the registration needs the certificate.
    read = bundle_catalogue.bundle_read(db, defined)
    assert [p.needs for p in read.parts] == [[1], []]
    with pytest.raises(BundleCodeTaken):
        bundle_catalogue.define_bundle(db, actor=world.admin, spec=spec)
    unknown = spec.model_copy(update={"code": "330106-yjs-x", "parts": ["330106-psb-0001", "nope-0001"]})
    with pytest.raises(InvalidBundle) as refused:
        bundle_catalogue.define_bundle(db, actor=world.admin, spec=unknown)
    assert refused.value.errors == [{"detail": "nope-0001 is not a service item", "pointer": "#/parts/1"}]
    revised = bundle_catalogue.revise_bundle(
        db, actor=world.admin, code=spec.code, spec=spec.model_copy(update={"name": "改名“一件事”"})
    )
    assert (revised.version, revised.name) == (2, "改名“一件事”")
    with pytest.raises(PydanticError):
        BundleSpec(code="x-yjs", name="x", life_event="birth", description="x", parts=["a-1", "a-1"])


# -- applying ---------------------------------------------------------------------------------------------


def test_one_start_opens_a_draft_part_in_each_department_and_resumes_the_open_draft(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    started = bundles.start_bundle_application(db, actor=world.mother.actor, bundle_code=NEWBORN)
    assert started.number.startswith("YJ") and len(started.number) == 12
    drafts = parts(db, started.number, world)
    assert [a.status for a in drafts] == ["draft"] * 4
    assert {a.department_org_id for a in drafts} == {
        world.org_ids[c] for c in ("330106-health", "330106-psb", "330106-medical", "330100-hrss")
    }
    assert {a.applicant_key for a in drafts} == {world.mother.resident_id}
    again = bundles.start_bundle_application(db, actor=world.mother.actor, bundle_code=NEWBORN)
    assert again.id == started.id
    # A part is not resumed as a single application, nor changed as one.
    single = applying.start_application(db, actor=world.mother.actor, item_code="330106-health-0001")
    assert single.id not in {a.id for a in drafts}
    with pytest.raises(ApplicationClosed, match="bundle"):
        applying.consent_and_fetch(
            db,
            actor=world.mother.actor,
            number=drafts[0].number,
            settings=world.settings.services,
            wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
        )
    with pytest.raises(ApplicationClosed, match="bundle"):
        applying.withdraw_application(db, actor=world.mother.actor, number=drafts[0].number)
    with pytest.raises(ApplyingNotAllowed):
        bundles.start_bundle_application(db, actor=world.reviewers["330106-psb"], bundle_code=NEWBORN)


def test_one_preview_and_one_consent_read_each_source_once_for_every_part(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    mother = world.mother
    started = bundles.start_bundle_application(db, actor=mother.actor, bundle_code=NEWBORN)
    preview = bundle_evidence.preview_bundle(
        db, actor=mother.actor, number=started.number, settings=world.settings.services
    )
    assert preview.purpose == "办理“一件事”：出生“一件事”（330106-yjs-birth）"
    assert [(s.resource_code, s.is_available, s.state) for s in preview.sources] == [
        (BIRTHS, True, "pending"),
        (HOUSEHOLD, True, "pending"),
        (MEDICAL, True, "pending"),
    ]
    household = preview.sources[1]
    assert household.department == "浙江省公安厅"
    assert household.parts == ["出生医学证明首次签发", "出生登记"]
    assert [c.part for c in preview.commitments] == ["出生登记"]
    assert reads(db, mother) == []  # the preview reads nothing

    bundle_evidence.consent_bundle(
        db,
        actor=mother.actor,
        number=started.number,
        settings=world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
    )
    assert sorted(reads(db, mother)) == sorted([(READ, BIRTHS), (READ, HOUSEHOLD), (READ, MEDICAL)])
    uses = list_data_uses(db, actor=mother.actor)
    assert {u.on_behalf_of for u in uses} == {started.number}
    assert {u.purpose for u in uses} == {preview.purpose}

    read = bundle_queries.bundle_application_read(db, started)
    assert [s.state for s in read.sources] == ["fetched"] * 3
    form = {f.name: f for f in read.form}
    # The register holds one birth of the mother's: the newborn's, read as it stands.
    assert "0.births.records" not in form
    assert form["0.births.child_name"].value == world.child_name
    born = form["0.births.birth_date"]
    assert born.value == world.child_birth_date
    assert (born.source_label, born.is_locked) == ("浙江省卫生健康委员会", True)
    assert form["applicant.key"].value == mother.resident_id
    # Every part has its own fields of the shared read, prefilled and locked, with provenance.
    certificate, registration, insurance, card = (
        application_queries.application_read(db, a) for a in parts(db, started.number, world)
    )
    assert {f.name.split(".", 1)[1] for f in certificate.form if f.source == "datahub"} >= {
        "births.birth_date",
        "household.name",
        "household.address",
    }
    registration_household = next(e for e in registration.evidence if e.source_ref == HOUSEHOLD)
    assert registration_household.state == "fetched" and registration_household.department == "浙江省公安厅"
    fields = set(registration_household.values["records"][0]["fields"])  # type: ignore[index]
    assert fields == {"household_no", "relation_to_head", "address"}
    assert next(e for e in insurance.evidence if e.source_ref == MEDICAL).state == "fetched"
    # The marriage certificate is not read from the wallet yet: it is to be uploaded, like the photo.
    assert [(u.path, u.reason) for u in read.uploads] == [
        ("parts/1/materials/2", "unavailable"),
        ("parts/3/materials/2", "asked"),
    ]
    assert card.status == "draft"
    with pytest.raises(ValidationFailed):
        bundle_evidence.consent_bundle(
            db,
            actor=mother.actor,
            number=started.number,
            settings=world.settings.services,
            positions=[0],
            wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
        )


def test_a_declined_source_is_read_for_no_part_and_uploaded_once_for_all_of_them(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    mother = world.mother
    number = bundles.start_bundle_application(db, actor=mother.actor, bundle_code=NEWBORN).number
    bundle_evidence.decline_bundle_source(db, actor=mother.actor, number=number, position=1)
    bundle_evidence.consent_bundle(
        db,
        actor=mother.actor,
        number=number,
        settings=world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
    )
    assert (READ, HOUSEHOLD) not in reads(db, mother)
    with pytest.raises(InvalidUpload):
        bundle_evidence.upload_for_source(
            db,
            actor=mother.actor,
            number=number,
            position=0,
            filename="x.pdf",
            content=PDF,
            settings=world.settings,
        )
    bundle_evidence.upload_for_source(
        db,
        actor=mother.actor,
        number=number,
        position=1,
        filename="户口簿.pdf",
        content=PDF,
        settings=world.settings,
    )
    found = bundle_queries.get_bundle_application(db, actor=mother.actor, number=number)
    read = bundle_queries.bundle_application_read(db, found)
    assert read.sources[1].state == "uploaded" and read.sources[1].upload_name == "户口簿.pdf"
    assert ("sources/1", "declined", [0, 1]) in [(u.path, u.reason, u.parts) for u in read.uploads]
    certificate, registration, *_ = parts(db, number, world)
    for application, position in ((certificate, 1), (registration, 1)):
        ev = applications_evidence(db, application, position)
        assert (ev.consent, ev.state, ev.upload_name) == ("declined", "uploaded", "户口簿.pdf")
    # Nothing was read for the declined source, so nothing of it is in the parts' forms.
    registration_form = application_queries.application_read(db, registration).form
    assert not [f for f in registration_form if f.name.startswith("1.household.")]
    with pytest.raises(InvalidUpload):
        # Read for the bundle: a part's copy is uploaded through the source, not on its own.
        bundle_evidence.upload_for_part(
            db,
            actor=mother.actor,
            number=number,
            part=0,
            position=1,
            filename="x.pdf",
            content=PDF,
            settings=world.settings,
        )


def applications_evidence(db: Session, application: Application, position: int) -> Evidence:
    return applications.evidence_at(db, application, position)


def test_submitting_needs_every_part_complete_and_the_pledge_then_starts_the_parts_whose_inputs_exist(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    mother = world.mother
    number = bundles.start_bundle_application(db, actor=mother.actor, bundle_code=NEWBORN).number
    with pytest.raises(EvidenceIncomplete) as incomplete:
        bundles.submit_bundle(db, actor=mother.actor, number=number, keys=keys, settings=world.settings)
    assert {e["pointer"] for e in incomplete.value.errors} == {
        "#/sources/0",
        "#/sources/1",
        "#/sources/2",
        "#/parts/1/materials/2",
        "#/parts/3/materials/2",
        "#/pledge",
    }
    number = ready_to_submit(db, world, keys)
    with pytest.raises(EvidenceIncomplete) as unsigned:
        bundles.submit_bundle(db, actor=mother.actor, number=number, keys=keys, settings=world.settings)
    assert [e["pointer"] for e in unsigned.value.errors] == ["#/pledge"]
    submitted = bundles.submit_bundle(
        db, actor=mother.actor, number=number, keys=keys, settings=world.settings, pledge=True
    )
    read = bundle_queries.bundle_application_read(db, submitted)
    assert read.status == "in_progress"
    assert [p.status for p in read.parts] == ["submitted", "waiting", "waiting", "waiting"]
    assert read.pledged_at is not None
    with pytest.raises(ApplicationClosed):
        bundle_evidence.consent_bundle(
            db,
            actor=mother.actor,
            number=number,
            settings=world.settings.services,
            wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
        )


def test_withdrawing_the_bundle_withdraws_every_part_not_decided(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    mother = world.mother
    number = ready_to_submit(db, world, keys)
    bundles.submit_bundle(
        db, actor=mother.actor, number=number, keys=keys, settings=world.settings, pledge=True
    )
    withdrawn = bundles.withdraw_bundle(db, actor=mother.actor, number=number, reason="改为线下办理")
    read = bundle_queries.bundle_application_read(db, withdrawn)
    assert read.status == "withdrawn"
    assert [p.status for p in read.parts] == ["withdrawn"] * 4
    with pytest.raises(ApplicationClosed):
        bundles.withdraw_bundle(db, actor=mother.actor, number=number)


def test_a_bundle_application_is_the_applicants_alone_and_each_part_its_own_departments(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    number = ready_to_submit(db, world, keys)
    bundles.submit_bundle(
        db, actor=world.mother.actor, number=number, keys=keys, settings=world.settings, pledge=True
    )
    for other in (world.father.actor, world.stranger.actor, world.reviewers["330106-health"]):
        with pytest.raises(BundleApplicationNotFound):
            bundle_queries.get_bundle_application(db, actor=other, number=number)
        with pytest.raises(BundleApplicationNotFound):
            bundles.withdraw_bundle(db, actor=other, number=number)
    certificate, registration, *_ = parts(db, number, world)
    assert (
        application_queries.get_application(
            db, actor=world.reviewers["330106-health"], number=certificate.number
        ).id
        == certificate.id
    )
    for outsider in ("330106-psb", "330102-psb", "330100-hrss"):
        with pytest.raises(ApplicationNotFound):
            application_queries.get_application(
                db, actor=world.reviewers[outsider], number=certificate.number
            )
    mine, total = bundle_queries.list_own_bundle_applications(db, actor=world.mother.actor)
    assert (total, [b.number for b in mine]) == (1, [number])
    assert bundle_queries.list_own_bundle_applications(db, actor=world.father.actor) == ([], 0)
    member = db.scalar(select(BundleMember).where(BundleMember.application_id == registration.id))
    assert member is not None and member.needs == [0]


# -- each department its part; results pushed onward; the one status --------------------------------------


def decide(db: Session, reviewer: Actor, number: str, keys: KeyStore, settings: Settings) -> None:
    """A department's reviewer takes its part through accept, its review and approval."""
    reviewing.accept_application(db, actor=reviewer, number=number, note="材料齐全")
    reviewing.complete_review(db, actor=reviewer, number=number, note="审查通过")
    reviewing.approve_application(db, actor=reviewer, number=number, keys=keys, settings=settings)


def test_each_department_reviews_its_own_part_and_each_result_starts_the_next(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    mother, settings = world.mother, world.settings
    number = ready_to_submit(db, world, keys)
    bundle = bundles.submit_bundle(
        db, actor=mother.actor, number=number, keys=keys, settings=settings, pledge=True
    )
    certificate, registration, insurance, card = parts(db, number, world)
    health, psb, medical, hrss = (
        world.reviewers[c] for c in ("330106-health", "330106-psb", "330106-medical", "330100-hrss")
    )
    assert {certificate.department_org_id, registration.department_org_id, insurance.department_org_id} == {
        world.org_ids["330106-health"],
        world.org_ids["330106-psb"],
        world.org_ids["330106-medical"],
    }
    # Staff of another department, or of another county, cannot act on the health bureau's part.
    for outsider in (psb, medical, hrss, world.reviewers["330102-psb"]):
        with pytest.raises(ApplicationNotFound):
            reviewing.accept_application(db, actor=outsider, number=certificate.number)
    # A part still waiting for the result it needs is in no department's hands yet.
    with pytest.raises(ApplicationNotFound):
        reviewing.accept_application(db, actor=psb, number=registration.number)

    decide(db, health, certificate.number, keys, settings)
    read = bundle_queries.bundle_application_read(db, bundle)
    assert [p.status for p in read.parts] == ["approved", "submitted", "waiting", "waiting"]
    assert read.status == "in_progress"
    # The birth certificate's result is the registration's evidence, with its decision letter.
    passed = applications.evidence_at(db, registration, 0)
    assert (passed.source_kind, passed.state, passed.note) == ("prior_result", "attached", certificate.number)
    assert passed.values is not None
    assert passed.values["result_certificate_number"] == certificate.result_certificate_number
    assert passed.source_org_name == "杭州市西湖区卫生健康局"
    with pytest.raises(ApplicationNotFound):
        reviewing.accept_application(db, actor=health, number=registration.number)

    decide(db, psb, registration.number, keys, settings)
    assert [p.status for p in bundle_queries.bundle_application_read(db, bundle).parts] == [
        "approved",
        "approved",
        "submitted",
        "waiting",  # the card also needs the insurance
    ]
    decide(db, medical, insurance.number, keys, settings)
    assert card.status == "submitted"
    assert {applications.evidence_at(db, card, p).note for p in (0, 1)} == {
        registration.number,
        insurance.number,
    }

    # The card's department asks for a better photo: the one status says the mother must act.
    reviewing.accept_application(db, actor=hrss, number=card.number)
    reviewing.request_supplement(
        db, actor=hrss, number=card.number, items=[SupplementItemSpec(material=2, detail="照片背景须为白色")]
    )
    assert bundle_queries.bundle_application_read(db, bundle).status == "action_needed"
    supplements.answer_with_file(
        db,
        actor=mother.actor,
        number=card.number,
        position=0,
        filename="photo.png",
        content=PNG,
        settings=settings,
    )
    supplements.resubmit_application(db, actor=mother.actor, number=card.number, settings=settings)
    assert bundle_queries.bundle_application_read(db, bundle).status == "in_progress"
    reviewing.complete_review(db, actor=hrss, number=card.number, note="审查通过")
    reviewing.approve_application(db, actor=hrss, number=card.number, keys=keys, settings=settings)

    read = bundle_queries.bundle_application_read(db, bundle)
    assert (read.status, [p.status for p in read.parts]) == ("done", ["approved"] * 4)
    assert all(p.result_certificate_number for p in read.parts)
    passed_on = [
        e.data
        for e in list_events_for_subject(db, subject_type="service_bundle_application", subject_id=number)
        if e.action == bundle_progress.RESULT_PASSED_ON
    ]
    assert len(passed_on) == 4
    summary = bundle_queries.bundle_application_summaries(db, [bundle])[0]
    assert (summary.status, summary.approved, summary.parts) == ("done", 4, 4)


def test_each_part_shows_its_reader_the_bundles_one_status_and_where_the_other_parts_stand(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    number = ready_to_submit(db, world, keys)
    bundles.submit_bundle(
        db, actor=world.mother.actor, number=number, keys=keys, settings=world.settings, pledge=True
    )
    certificate, registration, _, _ = parts(db, number, world)
    health, psb = world.reviewers["330106-health"], world.reviewers["330106-psb"]
    decide(db, health, certificate.number, keys, world.settings)

    def overview(actor: Actor, part: Application) -> list[tuple[str, str, bool]]:
        found = application_queries.get_application(db, actor=actor, number=part.number)
        read = application_queries.application_read(db, found, actor=actor).bundle
        assert read is not None and (read.number, read.status) == (number, "in_progress")
        return [(p.department, p.status, p.is_this) for p in read.parts]

    # The public security reviewer sees the health bureau's part approved and the two still waiting.
    assert overview(psb, registration) == [
        ("杭州市西湖区卫生健康局", "approved", False),
        ("杭州市公安局西湖区分局", "submitted", True),
        ("杭州市西湖区医疗保障局", "waiting", False),
        ("杭州市人力资源和社会保障局", "waiting", False),
    ]
    assert overview(health, certificate)[0] == ("杭州市西湖区卫生健康局", "approved", True)
    # Nothing of another part's content travels with it: no numbers, decisions, evidence or results.
    read = application_queries.application_read(db, registration, actor=psb).bundle
    assert read is not None
    shown = read.model_dump_json()
    assert certificate.number not in shown and str(certificate.decision_text) not in shown
    assert set(read.parts[0].model_dump()) == {
        "position",
        "item_code",
        "item_name",
        "department",
        "status",
        "needs",
        "submitted_at",
        "decided_at",
        "is_this",
    }
    # A part of no bundle has none; the other department still cannot open the part at all.
    with pytest.raises(ApplicationNotFound):
        application_queries.get_application(db, actor=health, number=registration.number)


def test_a_refused_part_withdraws_the_parts_that_need_it_and_the_bundle_is_partly_refused(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    settings = world.settings
    number = ready_to_submit(db, world, keys)
    bundle = bundles.submit_bundle(
        db, actor=world.mother.actor, number=number, keys=keys, settings=settings, pledge=True
    )
    certificate, registration, insurance, card = parts(db, number, world)
    decide(db, world.reviewers["330106-health"], certificate.number, keys, settings)
    reviewing.refuse_application(
        db,
        actor=world.reviewers["330106-psb"],
        number=registration.number,
        reasons=["父母双方均非本辖区户籍"],
        keys=keys,
        settings=settings,
    )
    read = bundle_queries.bundle_application_read(db, bundle)
    assert [p.status for p in read.parts] == ["approved", "refused", "withdrawn", "withdrawn"]
    assert read.status == "partly_refused"
    assert insurance.status == card.status == "withdrawn"
    reason = db.scalar(
        select(Transition.reason).where(
            Transition.application_id == insurance.id, Transition.to_status == "withdrawn"
        )
    )
    assert reason is not None and "出生登记" in reason
    with pytest.raises(ApplicationClosed):
        bundles.withdraw_bundle(db, actor=world.mother.actor, number=number)
