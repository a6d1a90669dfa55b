"""E-certificate materials in bundles (一件事): the newborn bundle's birth registration asks for the parents'
marriage certificate; the bundle's one preview lists the mother's certificate for that part, and its one
consent attaches it (verified, in her use record) through the same mechanism as a single application."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from zerotrip.certificates import actions as certificates_actions
from zerotrip.certificates import grants
from zerotrip.certificates.types import DEMO_TYPES, define_certificate_type
from zerotrip.common import clock
from zerotrip.common.checks import make_uscc
from zerotrip.config import Settings
from zerotrip.identity import actions
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.services import application_queries, bundle_evidence, bundle_queries, bundles, wallet_evidence

from .bundle_world import ROOT, BundleWorld, build_bundle_world
from .test_bundles import NEWBORN, parts

MARRIAGE = "marriage-certificate"


@pytest.fixture
def world(db: Session, settings: Settings, keys: KeyStore) -> BundleWorld:
    built = build_bundle_world(db, settings)
    actions.create_organisation(
        db,
        actor=ROOT,
        kind="department",
        code="330000-civil",
        name="浙江省民政厅",
        division_code="330000",
        parent_id=built.org_ids["330000"],
    )
    spec = next(t for t in DEMO_TYPES if t.code == MARRIAGE)
    type_code = (
        make_uscc(division_code="330000", serial=4545, registration_authority="1", category="1") + "001"
    )
    define_certificate_type(db, actor=ROOT, spec=spec.model_copy(update={"type_code": type_code}))
    certificates_actions.issue_certificate(
        db,
        actor=ROOT,
        certificate_type=MARRIAGE,
        holder_key=built.mother.resident_id,
        claims={
            "certificate_no": "J330106-2019-000777",
            "sex": "女",
            "spouse_name": built.father.name,
            "spouse_id": built.father.resident_id,
            "registered_on": "2019-10-01",
            "registration_office": "杭州市西湖区民政局",
        },
        keys=keys,
        settings=settings,
        source_ref="test",
    )
    db.flush()
    return built


def test_the_bundle_preview_lists_the_certificate_and_its_consent_attaches_it(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    mother = world.mother
    number = bundles.start_bundle_application(db, actor=mother.actor, bundle_code=NEWBORN).number
    preview = bundle_evidence.preview_bundle(
        db, actor=mother.actor, number=number, settings=world.settings.services
    )
    (wanted,) = preview.certificates
    assert (wanted.part, wanted.material.resource_title, wanted.material.department) == (
        "出生登记",
        "结婚证",
        "浙江省民政厅",
    )
    assert wanted.material.is_available and len(wanted.material.certificates) == 1
    assert grants.list_use_grants(db, actor=mother.actor, now=clock.now()).total == 0  # nothing used yet

    bundle_evidence.consent_bundle(
        db,
        actor=mother.actor,
        number=number,
        settings=world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
    )
    registration = application_queries.application_read(db, parts(db, number, world)[1])
    ev = next(e for e in registration.evidence if e.source_kind == "certificate")
    assert ev.state == "fetched" and ev.certificate is not None and not ev.needs_upload
    assert ev.certificate.number == wanted.material.suggested_certificate
    (grant,) = grants.list_use_grants(db, actor=mother.actor, now=clock.now()).items
    assert grant.purpose == preview.purpose and [u.used_by for u in grant.uses] == ["一站式服务平台"]
    # Only the photo is left to upload; the marriage certificate is not asked for as a scan.
    found = bundle_queries.get_bundle_application(db, actor=mother.actor, number=number)
    read = bundle_queries.bundle_application_read(db, found)
    assert [(u.path, u.reason) for u in read.uploads] == [("parts/3/materials/2", "asked")]


def test_declining_a_parts_certificate_uses_none_and_the_part_uploads_it(
    db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    mother = world.mother
    number = bundles.start_bundle_application(db, actor=mother.actor, bundle_code=NEWBORN).number
    bundle_evidence.decline_part_certificate(db, actor=mother.actor, number=number, part=1, position=2)
    with pytest.raises(ValidationFailed):  # a material read for the bundle is declined through its source
        bundle_evidence.decline_part_certificate(db, actor=mother.actor, number=number, part=1, position=1)
    bundle_evidence.consent_bundle(
        db,
        actor=mother.actor,
        number=number,
        settings=world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
    )
    assert grants.list_use_grants(db, actor=mother.actor, now=clock.now()).total == 0
    found = bundle_queries.get_bundle_application(db, actor=mother.actor, number=number)
    read = bundle_queries.bundle_application_read(db, found)
    assert ("parts/1/materials/2", "declined") in [(u.path, u.reason) for u in read.uploads]
    bundle_evidence.upload_for_part(
        db,
        actor=mother.actor,
        number=number,
        part=1,
        position=2,
        filename="结婚证.pdf",
        content=b"%PDF-1.4\n%%EOF\n",
        settings=world.settings,
    )
    registration = application_queries.application_read(db, parts(db, number, world)[1])
    ev = next(e for e in registration.evidence if e.source_kind == "certificate")
    assert (ev.consent, ev.state, ev.certificate) == ("declined", "uploaded", None)
