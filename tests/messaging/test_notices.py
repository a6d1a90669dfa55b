"""Publishing staff notices: targets within the publisher's subtree, constant rows per notice whatever its
reach, approval of province-wide emergencies, withdrawal, attachments, and the audit trail."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.config import NoticesSettings, Settings
from zerotrip.messaging import notices
from zerotrip.messaging.errors_notices import (
    ApprovalNotAllowed,
    InvalidAttachment,
    InvalidNotice,
    NoticeNotFound,
    NoticeStateConflict,
    NotNoticePublisher,
    TargetOutsideSubtree,
)
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeTarget
from zerotrip.messaging.notices_targeting import ROLE_BITS
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec

from .notices_world import NoticesWorld, build_notices_world


@pytest.fixture
def world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def events(db: Session, action: str, notice: Notice) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject_id == str(notice.id))
        )
    )


def rows_written(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Notice)) or 0,
        db.scalar(select(func.count()).select_from(NoticeTarget)) or 0,
        db.scalar(select(func.count()).select_from(NoticeReceipt)) or 0,
    )


def test_publishing_writes_the_same_rows_for_the_province_as_for_one_bureau(
    db: Session, world: NoticesWorld
) -> None:
    before = rows_written(db)
    province = world.publish(db, priority="urgent")
    after_province = rows_written(db)
    county = world.publish(db, targets=[TargetSpec(org_id=world.orgs["330106-emergency"])])
    after_county = rows_written(db)
    assert province.status == county.status == "published"
    assert province.is_province_wide and not county.is_province_wide
    # One notice row and one target row each, no receipts: nothing per recipient.
    assert [a - b for a, b in zip(after_province, before, strict=True)] == [1, 1, 0]
    assert [a - b for a, b in zip(after_county, after_province, strict=True)] == [1, 1, 0]
    [event] = events(db, notices.PUBLISHED, province)
    assert event.actor == world.staff["zj-pub"].principal
    assert event.data["targets"] == [[world.paths["330000"], "", 0]]


def test_targets_are_resolved_to_paths_regions_and_roles(db: Session, world: NoticesWorld) -> None:
    notice = world.publish(
        db,
        "hz-pub",
        targets=[
            TargetSpec(org_id=world.orgs["330106"], roles=["reviewer", "data_steward"]),
            TargetSpec(division_code="330108"),
            TargetSpec(org_id=world.orgs["330100-emergency"], division_code="330100"),
        ],
    )
    targets = db.scalars(
        select(NoticeTarget).where(NoticeTarget.notice_id == notice.id).order_by(NoticeTarget.id)
    )
    assert [(t.scope_path, t.division_prefix, t.role_mask, t.label) for t in targets] == [
        (world.paths["330106"], "", ROLE_BITS["reviewer"] | ROLE_BITS["data_steward"], "西湖区"),
        (world.paths["330100"], "330108", 0, "滨江区"),
        (world.paths["330100-emergency"], "3301", 0, "杭州市应急管理局 · 杭州市"),
    ]
    assert notice.publisher_org_name == "杭州市" and not notice.is_province_wide


def test_a_publisher_cannot_target_outside_their_subtree(db: Session, world: NoticesWorld) -> None:
    with pytest.raises(TargetOutsideSubtree):
        world.publish(db, "hz-pub", targets=[TargetSpec(org_id=world.orgs["330203-emergency"])])
    with pytest.raises(TargetOutsideSubtree):
        world.publish(db, "hz-pub", targets=[TargetSpec(division_code="330203")])
    with pytest.raises(TargetOutsideSubtree):
        world.publish(db, "hz-pub", targets=[TargetSpec(division_code="330000")])
    with pytest.raises(TargetOutsideSubtree):  # the county bureau's publisher cannot reach the county
        world.publish(db, "xh-em-pub", targets=[TargetSpec(org_id=world.orgs["330106"])])
    with pytest.raises(TargetOutsideSubtree):
        world.publish(
            db,
            "zj-pub",
            targets=[TargetSpec(org_id=world.orgs["330106-emergency"], division_code="330203")],
        )
    assert db.scalar(select(func.count()).select_from(Notice)) == 0


def test_only_notice_publishers_publish(db: Session, world: NoticesWorld) -> None:
    for login in ("xh-em-1", "zj-admin", "zj-em-1"):
        with pytest.raises(NotNoticePublisher):
            world.publish(db, login)
    # A publisher may publish for a unit under their own, but not above it.
    notice = world.publish(
        db, "zj-pub", publisher_org_id=world.orgs["330100"], targets=[TargetSpec(division_code="330106")]
    )
    assert notice.publisher_org_name == "杭州市"
    with pytest.raises(NotNoticePublisher):
        world.publish(db, "hz-pub", publisher_org_id=world.orgs["330000"])
    with pytest.raises(InvalidNotice) as missing:
        world.publish(db, "zj-pub", targets=[TargetSpec(org_id=999_999)])
    assert missing.value.errors == [{"detail": "no such unit", "pointer": "#/targets/0/org_id"}]


def test_province_wide_emergency_waits_for_another_publishers_approval(
    db: Session, world: NoticesWorld
) -> None:
    notice = world.publish(db, priority="emergency", requires_ack=True)
    assert notice.status == "pending_approval" and notice.published_at is None
    with pytest.raises(ApprovalNotAllowed):  # four eyes: not the publisher
        notices.approve_notice(db, actor=world.staff["zj-pub"], notice_id=notice.id)
    with pytest.raises(NoticeNotFound):  # a Hangzhou publisher does not even see it
        notices.approve_notice(db, actor=world.staff["hz-pub"], notice_id=notice.id)
    approved = notices.approve_notice(db, actor=world.staff["zj-pub2"], notice_id=notice.id)
    assert approved.status == "published" and approved.decided_by_name == "孙审批"
    assert [e.actor for e in events(db, notices.APPROVED, notice)] == [world.staff["zj-pub2"].principal]
    assert len(events(db, notices.PUBLISHED, notice)) == 1
    with pytest.raises(NoticeStateConflict):
        notices.approve_notice(db, actor=world.staff["zj-admin"], notice_id=notice.id)

    refused = world.publish(db, priority="emergency")
    with pytest.raises(InvalidNotice):
        notices.reject_notice(db, actor=world.staff["zj-admin"], notice_id=refused.id, reason=" ")
    notices.reject_notice(db, actor=world.staff["zj-admin"], notice_id=refused.id, reason="口径未统一")
    assert refused.status == "rejected" and refused.decision_reason == "口径未统一"

    # A city-wide emergency, an urgent province-wide notice, or approval switched off: sent at once.
    city = world.publish(db, "hz-pub", priority="emergency", targets=[TargetSpec(division_code="330100")])
    urgent = world.publish(db, priority="urgent")
    unapproved = world.publish(
        db, priority="emergency", settings=NoticesSettings(approve_province_wide_emergency=False)
    )
    assert [city.status, urgent.status, unapproved.status] == ["published"] * 3


def test_withdrawing(db: Session, world: NoticesWorld) -> None:
    notice = world.publish(db)
    with pytest.raises(NoticeNotFound):
        notices.withdraw_notice(db, actor=world.staff["hz-pub"], notice_id=notice.id)
    notices.withdraw_notice(db, actor=world.staff["zj-pub2"], notice_id=notice.id)
    assert notice.status == "withdrawn" and notice.withdrawn_at is not None
    with pytest.raises(NoticeStateConflict):
        notices.withdraw_notice(db, actor=world.staff["zj-pub"], notice_id=notice.id)
    assert len(events(db, notices.WITHDRAWN, notice)) == 1


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_attachments_go_to_the_data_directory(db: Session, world: NoticesWorld, settings: Settings) -> None:
    actor = world.staff["zj-pub"]
    draft = notices.draft_notice(
        db,
        actor=actor,
        spec=NoticeCreate(
            title="防汛物资清单", body="见附件。", targets=[TargetSpec(org_id=world.orgs["330000"])]
        ),
    )
    pdf = b"%PDF-1.7\n" + b"x" * 100
    attached = notices.attach_file(
        db, actor=actor, notice_id=draft.id, filename="../../物资清单.pdf", content=pdf, settings=settings
    )
    word = notices.attach_file(
        db, actor=actor, notice_id=draft.id, filename="通知.docx", content=docx_bytes(), settings=settings
    )
    assert attached.name == "物资清单.pdf" and attached.content_type == "application/pdf"
    assert (settings.data_dir / attached.path).read_bytes() == pdf
    assert attached.path.startswith(f"notices/{draft.id}/") and attached.path.endswith(".pdf")
    assert word.content_type.endswith("wordprocessingml.document")
    for content in (b"", b"MZ\x90\x00 not a document", b"PK\x03\x04 broken zip"):
        with pytest.raises(InvalidAttachment):
            notices.attach_file(
                db, actor=actor, notice_id=draft.id, filename="x.exe", content=content, settings=settings
            )
    with pytest.raises(NoticeNotFound):  # only its publisher adds files
        notices.attach_file(
            db,
            actor=world.staff["zj-pub2"],
            notice_id=draft.id,
            filename="a.pdf",
            content=pdf,
            settings=settings,
        )
    notices.publish_notice(db, actor=actor, notice_id=draft.id, settings=settings.notices)
    with pytest.raises(NoticeStateConflict):
        notices.attach_file(
            db, actor=actor, notice_id=draft.id, filename="a.pdf", content=pdf, settings=settings
        )
    assert len(events(db, notices.ATTACHED, draft)) == 2
