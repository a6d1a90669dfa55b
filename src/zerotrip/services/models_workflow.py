"""Services tables of the staff workflow and after it: supplement requests (补正) with the items they list,
and ratings (好差评) with the department's rectification answer. Prefixed ``services_``; organisations and
people are referred to by id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime

# What a rating may be tagged with (English keys; the pages show Chinese).
RATING_TAGS = (
    "convenient",  # 办事便捷
    "fast",  # 办理迅速
    "courteous",  # 服务热情
    "clear_guide",  # 指南清晰
    "too_many_materials",  # 材料繁琐
    "extra_trips",  # 多次跑动
    "slow",  # 超时办理
    "unclear_guide",  # 指南不清
    "discourteous",  # 态度不好
)
BAD_SCORE = 2  # a rating of this or less is a bad one (差评), which the department must answer


class SupplementRequest(Base):
    """A supplement request (补正告知): everything still missing, listed at once (一次性告知). The
    application's clock stops when it is made and runs again when the applicant resubmits."""

    __tablename__ = "services_supplement_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services_application.id"), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2 … per application
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(120), nullable=False)
    resubmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Working days the clock stood still, added to the deadline on resubmission.
    paused_working_days: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("application_id", "sequence"),)


class SupplementItem(Base):
    """One thing missing: a material (answered with a file) or anything else (answered in words)."""

    __tablename__ = "services_supplement_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("services_supplement_request.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # The evidence position of the material; None for a free-text item.
    material_position: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    answer_text: Mapped[str | None] = mapped_column(Text)
    upload_path: Mapped[str | None] = mapped_column(String(200))
    upload_name: Mapped[str | None] = mapped_column(String(200))
    upload_type: Mapped[str | None] = mapped_column(String(60))
    upload_size: Mapped[int | None] = mapped_column(Integer)
    upload_sha256: Mapped[str | None] = mapped_column(String(64))
    # What stood for the material before the answer replaced it, so nothing stored is lost.
    replaced: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("request_id", "position"),)


class Rating(Base):
    """The applicant's rating (好差评) of a completed application, and the department's answer to a bad one
    (整改): one per application."""

    __tablename__ = "services_rating"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services_application.id"), nullable=False, unique=True
    )
    department_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False)
    department_path: Mapped[str] = mapped_column(String(255), nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    rated_by: Mapped[str] = mapped_column(String(120), nullable=False)
    rectification: Mapped[str | None] = mapped_column(Text)
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rectified_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (
        CheckConstraint("score >= 1 AND score <= 5", name="score"),
        CheckConstraint(f"rectification IS NULL OR score <= {BAD_SCORE}", name="rectification_of_bad_ones"),
        Index("ix_services_rating_department", "department_path", "department_org_id"),
    )
