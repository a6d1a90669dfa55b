"""Applying: drafts, the preview that reads nothing, consent and the gateway reads (in the data-use log),
declining and uploading, submitting, instant approval with the decision letter, and referral to a person."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.certificates import wallet
from zerotrip.certificates.queries import find_certificate
from zerotrip.common import clock
from zerotrip.datahub.gateway import CHECKED, READ
from zerotrip.datahub.uselog import list_data_uses
from zerotrip.identity.actor import system
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.services import application_queries, applying, instant, uploads, wallet_evidence
from zerotrip.services.errors import (
    ApplicationClosed,
    ApplicationNotFound,
    ApplyingNotAllowed,
    EvidenceIncomplete,
    InvalidRules,
    InvalidUpload,
    NotItemManager,
)
from zerotrip.services.evidence import CONSUMER_NAME, purpose_of
from zerotrip.services.models import Application, Evidence, Transition
from zerotrip.services.rules import FactRule, FieldRule, RuleSetSpec

from .apply_world import ACCOUNTS, CONTRIBUTIONS, REAL_ESTATE, ApplyWorld, Citizen

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WITHDRAWAL = "330100-fund-0001"


def gateway_events(db: Session, citizen: Citizen) -> list[tuple[str, str]]:
    """The datahub reads and checks about the citizen: (action, resource)."""
    return [
        (e.action, e.data["resource"])
        for e in list_events_for_subject(db, subject_type="person", subject_id=citizen.resident_id)
        if e.action in (READ, CHECKED)
    ]


def apply(db: Session, world: ApplyWorld, citizen: Citizen, keys: KeyStore, **submit: bool) -> Application:
    """Start, consent to everything, pledge and submit."""
    application = applying.start_application(db, actor=citizen.actor, item_code=WITHDRAWAL)
    applying.consent_and_fetch(
        db,
        actor=citizen.actor,
        number=application.number,
        settings=world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=world.settings),
    )
    return applying.submit_application(
        db,
        actor=citizen.actor,
        number=application.number,
        keys=keys,
        settings=world.settings,
        pledge=True,
        **submit,
    )


def test_a_draft_copies_the_materials_and_fills_in_the_applicant(
    db: Session, apply_world: ApplyWorld
) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    read = application_queries.application_read(db, draft)
    assert draft.status == "draft" and draft.number.startswith("BJ") and len(draft.number) == 12
    assert draft.division_code == "330106" and draft.applicant_key == renter.resident_id
    assert [(e.source_kind, e.state) for e in read.evidence] == [
        ("datahub", "pending"),
        ("datahub", "pending"),
        ("datahub", "pending"),
        ("commitment", "pending"),
    ]
    assert {f.name: f.value for f in read.form} == {
        "applicant.name": "林晓雯",
        "applicant.key": renter.resident_id,
    }
    assert all(f.is_locked and f.source == "identity" for f in read.form)
    assert [(t.from_status, t.to_status) for t in read.transitions] == [(None, "draft")]
    # Starting again resumes the draft.
    again = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    assert again.id == draft.id
    started = list_events_for_subject(db, subject_type="service_application", subject_id=draft.number)
    assert [e.action for e in started] == [applying.STARTED]


def test_only_citizens_apply_online_for_themselves_or_their_enterprises(
    db: Session, apply_world: ApplyWorld
) -> None:
    with pytest.raises(ApplyingNotAllowed):
        applying.start_application(db, actor=apply_world.fund_reviewer, item_code=WITHDRAWAL)
    with pytest.raises(ApplyingNotAllowed):
        applying.start_application(db, actor=system("x"), item_code=WITHDRAWAL)
    with pytest.raises(ApplyingNotAllowed):
        applying.start_application(
            db, actor=apply_world.renter.actor, item_code=WITHDRAWAL, enterprise_uscc="91330106MA2H0L6X7K"
        )


def test_the_preview_says_what_is_read_from_whom_and_reads_nothing(
    db: Session, apply_world: ApplyWorld
) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    preview = applying.preview_evidence(
        db, actor=renter.actor, number=draft.number, settings=apply_world.settings.services
    )
    assert preview.consumer == CONSUMER_NAME == "一站式服务平台"
    assert preview.purpose == purpose_of(apply_world.withdrawal)
    estate, accounts, contributions, pledge = preview.materials
    assert (estate.resource_code, estate.department, estate.exists_only) == (
        REAL_ESTATE,
        "浙江省自然资源厅",
        True,
    )
    assert estate.fields == []
    assert accounts.department == "杭州住房公积金管理中心" and accounts.resource_code == ACCOUNTS
    assert [f.title for f in accounts.fields] == ["个人公积金账号", "账户状态", "账户余额（元）", "缴至年月"]
    assert all(m.is_available for m in (estate, accounts, contributions))
    assert pledge.commitment and "无自有住房" in pledge.commitment
    assert gateway_events(db, renter) == []
    # Another citizen cannot preview it.
    with pytest.raises(ApplicationNotFound):
        applying.preview_evidence(
            db, actor=apply_world.owner.actor, number=draft.number, settings=apply_world.settings.services
        )


def test_consent_reads_through_the_gateway_prefills_and_locks_the_form_and_shows_in_the_data_use_log(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    applying.consent_and_fetch(
        db,
        actor=renter.actor,
        number=draft.number,
        settings=apply_world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=apply_world.settings),
    )
    read = application_queries.application_read(db, draft)
    estate, accounts, contributions, _ = read.evidence
    assert (estate.state, estate.consent, estate.values, estate.department) == (
        "fetched",
        "given",
        {"exists": False},
        "浙江省自然资源厅",
    )
    assert accounts.department == "杭州住房公积金管理中心" and accounts.source_updated_at is not None
    assert len(contributions.values["records"]) == 6  # type: ignore[index]
    form = {f.name: f for f in read.form}
    assert form["0.real-estate.exists"].value is False
    assert form["1.accounts.status"].value == "正常"
    assert form["1.accounts.account_no"].value == "330100000001"  # clear: the grant allows it
    assert form["2.contributions.records"].value == 6
    assert form["2.contributions.month.consecutive_months"].value == 6
    fetched = [f for f in read.form if f.source == "datahub"]
    assert fetched and all(f.is_locked and f.source_label and f.source_date for f in fetched)
    assert form["1.accounts.status"].source_label == "杭州住房公积金管理中心"
    assert sorted(gateway_events(db, renter)) == sorted(
        [(CHECKED, REAL_ESTATE), (READ, ACCOUNTS), (READ, CONTRIBUTIONS)]
    )
    uses = list_data_uses(db, actor=renter.actor)
    assert {u.resource_code for u in uses} == {REAL_ESTATE, ACCOUNTS, CONTRIBUTIONS}
    assert all(
        u.consumer_name == CONSUMER_NAME
        and u.consumer_org_name == "浙江省数据局"
        and u.on_behalf_of == draft.number
        and u.purpose == purpose_of(apply_world.withdrawal)
        for u in uses
    )
    # Nothing is read twice: a second consent finds nothing waiting.
    applying.consent_and_fetch(
        db,
        actor=renter.actor,
        number=draft.number,
        settings=apply_world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=apply_world.settings),
    )
    assert len(gateway_events(db, renter)) == 3


def test_rules_that_pass_approve_at_once_and_issue_the_decision_letter(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    renter = apply_world.renter
    application = apply(db, apply_world, renter, keys)
    assert application.status == "approved" and application.decided_at is not None
    read = application_queries.application_read(db, application)
    assert read.rule_set_version == 1
    assert read.rule_results is not None and [r.passed for r in read.rule_results] == [True, True, True]
    assert [r.actual for r in read.rule_results] == [False, "正常", 6]
    assert [(t.from_status, t.to_status) for t in read.transitions] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "approved"),
    ]
    assert read.transitions[-1].by == "system:services"
    assert next(e for e in read.evidence if e.source_kind == "commitment").state == "pledged"
    assert application.result_certificate_number is not None
    letter = find_certificate(db, application.result_certificate_number)
    assert letter is not None
    assert (letter.holder_key, letter.source, letter.source_ref) == (
        renter.resident_id,
        "context",
        application.number,
    )
    assert letter.claims["application_no"] == application.number
    assert letter.claims["decision"] == "准予许可"
    assert letter.claims["service_item"] == "无房职工提取住房公积金支付房租"
    in_wallet = wallet.list_wallet(db, actor=renter.actor, now=clock.now())
    assert [i.number for i in in_wallet.items] == [application.result_certificate_number]
    events = list_events_for_subject(db, subject_type="service_application", subject_id=application.number)
    assert [e.action for e in reversed(events)] == [
        applying.STARTED,
        applying.CONSENTED,
        "services.application.submitted",
        "services.application.approved",
    ]
    # A decided application is closed.
    with pytest.raises(ApplicationClosed):
        applying.withdraw_application(db, actor=renter.actor, number=application.number)


@pytest.mark.parametrize(
    ("who", "failed", "actual"),
    [("owner", "real-estate.exists", True), ("newcomer", "contributions.month.consecutive_months", 2)],
)
def test_a_failing_rule_sends_the_application_to_a_person_with_the_rule_shown(
    db: Session, apply_world: ApplyWorld, keys: KeyStore, who: str, failed: str, actual: object
) -> None:
    citizen: Citizen = getattr(apply_world, who)
    application = apply(db, apply_world, citizen, keys)
    assert application.status == "in_review"
    assert application.result_certificate_number is None and application.decided_at is None
    read = application_queries.application_read(db, application)
    assert read.rule_results is not None
    (failing,) = [r for r in read.rule_results if not r.passed]
    assert failing.rule.get("fact", failing.rule.get("field")) == failed
    assert (failing.actual, failing.reason) == (actual, "failed")
    assert application.review_reason and failing.rule["label"] in application.review_reason
    assert wallet.list_wallet(db, actor=citizen.actor, now=clock.now()).items == []
    assert read.transitions[-1].to_status == "in_review"


def test_asking_for_a_person_is_honoured_even_when_the_rules_pass(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    application = apply(db, apply_world, apply_world.renter, keys, human_review=True)
    assert application.status == "in_review"
    assert application.review_reason and "asked for a person" in application.review_reason
    assert application.rule_results is not None and all(r["passed"] for r in application.rule_results)


def test_declining_consent_reads_nothing_and_leads_to_an_upload_and_a_person(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    renter = apply_world.renter
    services = apply_world.settings.services
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    applying.decline_consent(db, actor=renter.actor, number=draft.number, position=0)
    applying.consent_and_fetch(
        db,
        actor=renter.actor,
        number=draft.number,
        settings=services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=apply_world.settings),
    )
    # The real-estate register was never asked.
    assert sorted(gateway_events(db, renter)) == sorted([(READ, ACCOUNTS), (READ, CONTRIBUTIONS)])
    read = application_queries.application_read(db, draft)
    estate = read.evidence[0]
    assert (estate.consent, estate.state, estate.values, estate.needs_upload) == (
        "declined",
        "pending",
        None,
        True,
    )
    assert not any(f.name.startswith("0.") for f in read.form)
    with pytest.raises(EvidenceIncomplete) as missing:
        applying.submit_application(
            db, actor=renter.actor, number=draft.number, keys=keys, settings=apply_world.settings, pledge=True
        )
    assert [e["pointer"] for e in missing.value.errors] == ["#/materials/0"]
    uploads.attach_upload(
        db,
        actor=renter.actor,
        number=draft.number,
        position=0,
        filename="../../无房证明.pdf",
        content=PDF,
        settings=apply_world.settings,
    )
    stored = db.scalar(select(Evidence).where(Evidence.application_id == draft.id, Evidence.position == 0))
    assert stored is not None and stored.upload_path is not None
    assert (stored.state, stored.upload_type, stored.upload_name) == (
        "uploaded",
        "application/pdf",
        "无房证明.pdf",
    )
    path = apply_world.settings.data_dir / stored.upload_path
    assert path.read_bytes() == PDF and path.is_relative_to(apply_world.settings.data_dir / "uploads")
    submitted = applying.submit_application(
        db, actor=renter.actor, number=draft.number, keys=keys, settings=apply_world.settings, pledge=True
    )
    assert submitted.status == "in_review" and submitted.result_certificate_number is None
    assert submitted.review_reason and "本人及配偶本市住房情况" in submitted.review_reason
    assert sorted(gateway_events(db, renter)) == sorted([(READ, ACCOUNTS), (READ, CONTRIBUTIONS)])


def test_withdrawing_consent_after_a_read_drops_what_was_read(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    applying.consent_and_fetch(
        db,
        actor=renter.actor,
        number=draft.number,
        settings=apply_world.settings.services,
        positions=[1],
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=apply_world.settings),
    )
    assert any(f.name.startswith("1.") for f in application_queries.application_read(db, draft).form)
    applying.decline_consent(db, actor=renter.actor, number=draft.number, position=1)
    read = application_queries.application_read(db, draft)
    assert read.evidence[1].values is None and read.evidence[1].consent == "declined"
    assert not any(f.name.startswith("1.") for f in read.form)
    assert [e.state for e in read.evidence[:3]] == ["pending", "pending", "pending"]
    with pytest.raises(ValidationFailed):  # a commitment is not read with consent
        applying.decline_consent(db, actor=renter.actor, number=draft.number, position=3)


def test_uploads_are_checked_by_content_size_and_material(db: Session, apply_world: ApplyWorld) -> None:
    renter = apply_world.renter
    settings = apply_world.settings
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)

    def upload(position: int, content: bytes, name: str = "a.pdf") -> None:
        uploads.attach_upload(
            db,
            actor=renter.actor,
            number=draft.number,
            position=position,
            filename=name,
            content=content,
            settings=settings,
        )

    with pytest.raises(InvalidUpload):  # the platform fetches it: no upload
        upload(1, PDF)
    applying.decline_consent(db, actor=renter.actor, number=draft.number, position=1)
    with pytest.raises(InvalidUpload):
        upload(1, b"")
    with pytest.raises(InvalidUpload):  # an executable called .pdf
        upload(1, b"MZ\x90\x00" + b"\x00" * 100, "scan.pdf")
    with pytest.raises(InvalidUpload):
        upload(1, b"%PDF-" + b"x" * settings.services.upload_max_bytes)
    upload(1, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "scan.png")
    upload(1, b"\xff\xd8\xff\xe0" + b"\x00" * 64, "photo.jpeg")
    stored = db.scalar(select(Evidence).where(Evidence.application_id == draft.id, Evidence.position == 1))
    assert stored is not None and (stored.upload_type, stored.upload_size) == ("image/jpeg", 68)
    assert stored.upload_path is not None and stored.upload_path.endswith(".jpg")


def test_the_pledge_and_every_required_material_are_needed_to_submit(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    with pytest.raises(EvidenceIncomplete) as missing:
        applying.submit_application(
            db, actor=renter.actor, number=draft.number, keys=keys, settings=apply_world.settings
        )
    assert [e["pointer"] for e in missing.value.errors] == [
        "#/materials/0",
        "#/materials/1",
        "#/materials/2",
        "#/pledge",
    ]
    assert draft.status == "draft"
    assert gateway_events(db, renter) == []


def test_a_material_without_a_grant_is_uploaded_instead(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=apply_world.retirement.code)
    preview = applying.preview_evidence(
        db, actor=renter.actor, number=draft.number, settings=apply_world.settings.services
    )
    assert [m.is_available for m in preview.materials] == [False, True]
    applying.consent_and_fetch(
        db,
        actor=renter.actor,
        number=draft.number,
        settings=apply_world.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=apply_world.settings),
    )
    read = application_queries.application_read(db, draft)
    assert (read.evidence[0].state, read.evidence[0].needs_upload) == ("unavailable", True)
    assert read.evidence[0].note == "the platform holds no grant to read this data"
    assert gateway_events(db, renter) == []  # a refused call reads and logs nothing
    for position in (0, 1):
        uploads.attach_upload(
            db,
            actor=renter.actor,
            number=draft.number,
            position=position,
            filename="x.pdf",
            content=PDF,
            settings=apply_world.settings,
        )
    submitted = applying.submit_application(
        db, actor=renter.actor, number=draft.number, keys=keys, settings=apply_world.settings
    )
    # Not instantly approvable: it waits for the department.
    assert submitted.status == "submitted" and submitted.rule_results is None


def test_applications_are_seen_by_their_applicant_and_the_departments_reviewers_only(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    draft = applying.start_application(db, actor=apply_world.renter.actor, item_code=WITHDRAWAL)
    for allowed in (apply_world.renter.actor, apply_world.fund_reviewer):
        assert (
            application_queries.get_application(db, actor=allowed, number=draft.number.lower()).id == draft.id
        )
    for stranger in (apply_world.owner.actor, apply_world.land_reviewer):
        with pytest.raises(ApplicationNotFound):
            application_queries.get_application(db, actor=stranger, number=draft.number)
    mine, total = application_queries.list_own_applications(db, actor=apply_world.renter.actor)
    assert (total, [a.number for a in mine]) == (1, [draft.number])
    assert application_queries.list_own_applications(db, actor=apply_world.owner.actor) == ([], 0)
    with pytest.raises(ApplicationNotFound):  # a reviewer reads but does not act for the applicant
        applying.consent_and_fetch(
            db,
            actor=apply_world.fund_reviewer,
            number=draft.number,
            settings=apply_world.settings.services,
            wallet=wallet_evidence.WalletAccess(keys=keys, settings=apply_world.settings),
        )


def test_withdrawing_a_draft(db: Session, apply_world: ApplyWorld, keys: KeyStore) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    applying.withdraw_application(db, actor=renter.actor, number=draft.number, reason="不需要了")
    assert draft.status == "withdrawn"
    log = db.scalars(select(Transition).where(Transition.application_id == draft.id).order_by(Transition.id))
    assert [(t.to_status, t.reason) for t in log] == [("draft", None), ("withdrawn", "不需要了")]
    with pytest.raises(ApplicationClosed):
        applying.consent_and_fetch(
            db,
            actor=renter.actor,
            number=draft.number,
            settings=apply_world.settings.services,
            wallet=wallet_evidence.WalletAccess(keys=keys, settings=apply_world.settings),
        )
    # A new draft can be started after withdrawing.
    assert applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL).id != draft.id


def test_rules_are_versioned_and_must_name_facts_the_item_gives(db: Session, apply_world: ApplyWorld) -> None:
    reviewer = apply_world.fund_reviewer
    spec = RuleSetSpec(rules=[FieldRule(field="accounts.balance", op=">", value=1000)])
    second = instant.define_rules(db, actor=reviewer, item_code=WITHDRAWAL, spec=spec)
    assert second.version == 2
    read = application_queries.rule_set_read(db, WITHDRAWAL)
    assert read is not None and read.version == 2 and read.defined_by == reviewer.principal
    for bad in (
        [FactRule(fact="household.exists", expect=True)],
        [FieldRule(field="accounts.name", op="==", value="x")],
        [FactRule(fact="accounts.status", expect=True)],
    ):
        with pytest.raises(InvalidRules):
            instant.define_rules(db, actor=reviewer, item_code=WITHDRAWAL, spec=RuleSetSpec(rules=bad))
    with pytest.raises(InvalidRules):  # not instantly approvable
        instant.define_rules(db, actor=reviewer, item_code=apply_world.retirement.code, spec=spec)
    with pytest.raises(NotItemManager):
        instant.define_rules(db, actor=apply_world.land_reviewer, item_code=WITHDRAWAL, spec=spec)


def test_an_application_is_decided_under_the_rules_current_when_it_is_submitted(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    spec = RuleSetSpec(
        rules=[FieldRule(field="accounts.balance", op=">=", value=20000, label="余额不少于2万元")]
    )
    instant.define_rules(db, actor=apply_world.fund_reviewer, item_code=WITHDRAWAL, spec=spec)
    application = apply(db, apply_world, apply_world.renter, keys)
    assert application.status == "in_review"
    assert application.rule_results == [
        {
            "rule": {"field": "accounts.balance", "op": ">=", "value": 20000, "label": "余额不少于2万元"},
            "passed": False,
            "actual": "12000",
            "reason": "failed",
        }
    ]
