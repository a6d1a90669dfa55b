"""Services tables, all prefixed ``services_``. Organisations are referred to by id.

The catalogue (items, their life events, materials, steps and saved versions) is here; applications and
their workflow get their own tables in a later migration.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime
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
