"""Services tables, all prefixed ``services_``. Organisations are referred to by id.

The catalogue (items, their life events, materials, steps and saved versions), the instant-approval rule
sets, and applications: each with its evidence per material, its form fields and its append-only log of
transitions. People and organisations are referred to by id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime, new_uuid
from zerotrip.services.trips import HOLDER_KINDS, LEVELS, PRESENCES, SOURCE_KINDS, STEP_KINDS

# The kinds of government service matter (政务服务事项类型).
ITEM_TYPES = (
    "licensing",  # 行政许可
    "payment",  # 行政给付
    "confirmation",  # 行政确认
    "levy",  # 行政征收
    "adjudication",  # 行政裁决
    "reward",  # 行政奖励
    "other_power",  # 其他行政权力
    "public_service",  # 公共服务
)
# Life events (主题) the guide is searched by; a vocabulary that grows, so it is checked in code only.
LIFE_EVENTS = (
    "birth",  # 出生
    "schooling",  # 上学
    "employment",  # 就业
    "marriage",  # 结婚
    "renting",  # 租房
    "home_purchase",  # 购房
    "starting_business",  # 开办企业
    "business_change",  # 企业变更
    "medical",  # 就医
    "vaccination",  # 疫苗接种
    "social_security",  # 社保
    "retirement",  # 退休
    "death",  # 身后
)


class Item(Base):
    """A service item (政务服务事项) as its implementing department offers it: the guide (办事指南)."""

    __tablename__ = "services_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(200))
    department_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False, index=True)
    # The level of the implementing department's region, taken from its division code.
    level: Mapped[str] = mapped_column(String(12), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Time limits in working days: the law's, and the shorter one the department promises (0: on the spot).
    statutory_days: Mapped[int] = mapped_column(Integer, nullable=False)
    promised_days: Mapped[int] = mapped_column(Integer, nullable=False)
    fee_yuan: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    fee_basis: Mapped[str] = mapped_column(Text, nullable=False, default="")
    channels: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    is_instant: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    contact: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS!r}", name="level"),
        CheckConstraint(f"type IN {ITEM_TYPES!r}", name="type"),
        CheckConstraint("promised_days >= 0 AND promised_days <= statutory_days", name="time_limits"),
        CheckConstraint("fee_yuan >= 0", name="fee"),
    )


class ItemEvent(Base):
    """A life event an item belongs to (one item may serve several)."""

    __tablename__ = "services_item_event"

    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), primary_key=True)
    event: Mapped[str] = mapped_column(String(24), primary_key=True, index=True)


class Material(Base):
    """A material (申请材料) an item asks for, and what replaces the paper: its source."""

    __tablename__ = "services_material"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    is_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # May be missing at acceptance and supplied later (容缺受理).
    is_deferrable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    source_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # A certificate type code, a datahub resource code, or the code of the item whose result this is.
    source_ref: Mapped[str | None] = mapped_column(String(80))
    source_fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    # A datahub source that only asks whether a record about the applicant exists (no field is read).
    is_exists_fact: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    commitment_text: Mapped[str | None] = mapped_column(Text)
    # For uploads and on-site materials: the certificate type or resource that holds the same data but
    # is not yet the source (what the trip analysis's "what if it were shared" is about).
    held_by_kind: Mapped[str | None] = mapped_column(String(16))
    held_by_ref: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        UniqueConstraint("item_id", "position"),
        CheckConstraint(f"source_kind IN {SOURCE_KINDS!r}", name="source_kind"),
        CheckConstraint(
            f"held_by_kind IS NULL OR (held_by_kind IN {HOLDER_KINDS!r} "
            "AND source_kind IN ('upload', 'onsite'))",
            name="held_by",
        ),
    )


class Step(Base):
    """A step of an item's process, and whether it needs the applicant in person."""

    __tablename__ = "services_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    presence: Mapped[str] = mapped_column(String(12), nullable=False)

    __table_args__ = (
        UniqueConstraint("item_id", "position"),
        CheckConstraint(f"kind IN {STEP_KINDS!r}", name="kind"),
        CheckConstraint(f"presence IN {PRESENCES!r}", name="presence"),
    )


class ItemVersion(Base):
    """Every saved state of an item's guide, as the staff member who saved it described it."""

    __tablename__ = "services_item_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("item_id", "version"),)


# -- instant approval and applications --------------------------------------------------------------------

# An application's states. Applying sets draft, submitted, in_review, approved and withdrawn; the staff
# workflow (``workflow.py``) moves it through acceptance, reviews, supplement requests and the decision.
APPLICATION_STATUSES = (
    "draft",  # being prepared by the applicant (kept until submitted or withdrawn)
    "submitted",  # sent, waiting for the department to accept it
    "accepted",  # 受理
    "in_review",  # with a person (instant approval did not decide it, or a reviewer took it up)
    "supplement",  # 补正: the applicant must supply what is missing; the clock is paused
    "approved",
    "refused",
    "withdrawn",
)
# The states a supplement request (补正) can interrupt, and the application returns to when answered.
RESUMABLE_STATUSES = ("submitted", "accepted", "in_review")
APPLICANT_KINDS = ("person", "enterprise")
# What happened to one material's evidence.
EVIDENCE_STATES = (
    "pending",  # waiting: consent, an upload, the pledge
    "fetched",  # read through the datahub gateway, or a certificate used from the applicant's wallet
    "unavailable",  # the platform could not read it (no grant, another kind of subject): upload instead
    "uploaded",  # the applicant sent a file
    "pledged",  # the applicant signed the commitment (告知承诺)
    "attached",  # the result of an earlier application of the applicant's
    "onsite",  # shown in person at acceptance
)
CONSENTS = ("given", "declined")
FIELD_SOURCES = ("datahub", "certificate", "identity", "applicant")


class RuleSet(Base):
    """A version of an item's instant-approval rules (秒批规则), kept so every decision names the rules
    it was made under."""

    __tablename__ = "services_rule_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    defined_by: Mapped[str] = mapped_column(String(120), nullable=False)
    defined_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("item_id", "version"),)


class Application(Base):
    """An application (办件) for a service item by a person, or by an enterprise through its legal
    representative. ``number`` is what the applicant sees; ``id`` never leaves the platform."""

    __tablename__ = "services_application"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    number: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), nullable=False)
    # The guide's version the application was made under (its materials are copied into the evidence).
    item_version: Mapped[int] = mapped_column(Integer, nullable=False)
    applicant_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # The resident ID number or the unified social credit code.
    applicant_key: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    applicant_name: Mapped[str] = mapped_column(String(120), nullable=False)
    # The signed-in person who files it (the applicant, or the enterprise's legal representative).
    filed_by_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    # The applicant's division (GB/T 2260), by which the workflow routes it to the right office.
    division_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    department_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("services_rule_set.id"))
    # Each rule with its outcome and the value it was judged on: why the decision was made.
    rule_results: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    # Why a person must look at it (a rule failed, consent declined, no rules).
    review_reason: Mapped[str | None] = mapped_column(Text)
    decision_text: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    result_certificate_number: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # -- the workflow (``workflow.py``, ``reviewing.py``, ``supplements.py``) --
    # The office's materialised path (identity's ``/1/2/40/``): a reviewer's queue is a prefix scan.
    department_path: Mapped[str] = mapped_column(String(255), nullable=False)
    # The item's steps when the application started ({"kind", "name", "presence"}), and the current one.
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSONType, nullable=False)
    step_index: Mapped[int | None] = mapped_column(Integer)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The promised time limit runs out at due_at (working days from submission, extended by supplements).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # While a supplement request (补正) waits for the applicant the clock is paused.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_working_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    resume_status: Mapped[str | None] = mapped_column(String(12))
    # Past due_at undecided: flagged to the office above (督办), once.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_to_org_id: Mapped[int | None] = mapped_column(ForeignKey("identity_org.id"))
    escalated_to_path: Mapped[str | None] = mapped_column(String(255))
    refusal_reasons: Mapped[list[str] | None] = mapped_column(JSONType)

    __table_args__ = (
        CheckConstraint(f"status IN {APPLICATION_STATUSES!r}", name="status"),
        CheckConstraint(f"applicant_kind IN {APPLICANT_KINDS!r}", name="applicant_kind"),
        CheckConstraint(
            f"resume_status IS NULL OR resume_status IN {RESUMABLE_STATUSES!r}", name="resume_status"
        ),
        Index("ix_services_application_filer", "filed_by_person_id", "created_at"),
        Index("ix_services_application_queue", "department_org_id", "status"),
        Index("ix_services_application_office", "department_path", "status", "due_at"),
        Index("ix_services_application_escalated", "escalated_to_path", "status"),
    )


class Evidence(Base):
    """What stands for one material of an application: data fetched through the gateway with its
    provenance, an upload (the file lives in the data directory), a pledge, an earlier result. The
    material's source is copied from the guide when the application starts, so a later revision of the
    guide does not change what an application asked for."""

    __tablename__ = "services_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services_application.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    material_name: Mapped[str] = mapped_column(String(120), nullable=False)
    is_required: Mapped[bool] = mapped_column(Boolean, nullable=False)
    is_deferrable: Mapped[bool] = mapped_column(Boolean, nullable=False)
    source_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    source_ref: Mapped[str | None] = mapped_column(String(80))
    source_fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    is_exists_fact: Mapped[bool] = mapped_column(Boolean, nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    consent: Mapped[str | None] = mapped_column(String(10))
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Fetched: {"exists": bool} or {"records": [{"fields": {...}, "updated_at": ..., "version": n}]}.
    values: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Provenance: the department that holds the data, and when it last updated what was read.
    source_org_name: Mapped[str | None] = mapped_column(String(120))
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An upload: the file's path under the data directory, its name as sent, type, size and digest.
    upload_path: Mapped[str | None] = mapped_column(String(200))
    upload_name: Mapped[str | None] = mapped_column(String(200))
    upload_type: Mapped[str | None] = mapped_column(String(60))
    upload_size: Mapped[int | None] = mapped_column(Integer)
    upload_sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why it is unavailable, or which earlier application's result is attached.
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("application_id", "position"),
        CheckConstraint(f"state IN {EVIDENCE_STATES!r}", name="state"),
        CheckConstraint(f"consent IS NULL OR consent IN {CONSENTS!r}", name="consent"),
    )


class FormField(Base):
    """A field of the application form: prefilled from fetched data (and then locked, with its source
    and date), or entered by the applicant."""

    __tablename__ = "services_form_field"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services_application.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    source: Mapped[str] = mapped_column(String(12), nullable=False)
    source_label: Mapped[str | None] = mapped_column(String(120))
    source_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_locked: Mapped[bool] = mapped_column(Boolean, nullable=False)
    material_position: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("application_id", "name"),
        CheckConstraint(f"source IN {FIELD_SOURCES!r}", name="source"),
    )


class Transition(Base):
    """One step of an application's way: a change of status, or a review step completed; appended and never
    changed (the audit log has the same)."""

    __tablename__ = "services_transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services_application.id"), nullable=False, index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    by: Mapped[str] = mapped_column(String(120), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    # The workflow step it concerns (a review step completed keeps the status but moves the step).
    step: Mapped[str | None] = mapped_column(String(60))
