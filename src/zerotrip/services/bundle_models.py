"""Bundle tables (一件事), prefixed ``services_bundle``. Items, applications and people are referred to by id.

A bundle (``Bundle`` with its ``BundlePart`` rows) is a life event's set of items in the catalogue. A bundle
application (``BundleApplication``) is one citizen's application for it: each part is an ordinary
application of that part's item (``BundleMember`` links them, with the parts it needs), and each distinct
datahub source the parts read is read once for the whole bundle (``BundleSource``), then handed to every
part that asks for it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from zerotrip.db import Base, JSONType, UTCDateTime, new_uuid
from zerotrip.services.bundle_rules import BUNDLE_STATES
from zerotrip.services.models import APPLICANT_KINDS, CONSENTS

# What happened to a bundle source: waiting for consent, read with several candidate records of the bundle's
# subject register (waiting for the applicant's choice), read, not readable (upload instead), uploaded.
SOURCE_STATES = ("pending", "choosing", "fetched", "unavailable", "uploaded")


class Bundle(Base):
    """A life event's bundle of service items (一件事), offered as one application."""

    __tablename__ = "services_bundle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(200))
    life_event: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    # What the life event covers, in the guide's words; and who may apply.
    description: Mapped[str] = mapped_column(Text, nullable=False)
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The datahub register whose records are the life event's subject (出生“一件事”: the births register,
    # one record per child): when it holds several about the applicant, they choose which one.
    subject_register: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class BundlePart(Base):
    """An item of a bundle, in the order the guide lists them."""

    __tablename__ = "services_bundle_part"

    bundle_id: Mapped[int] = mapped_column(ForeignKey("services_bundle.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), nullable=False, index=True)

    __table_args__ = (UniqueConstraint("bundle_id", "item_id"),)


class BundleApplication(Base):
    """One application for a bundle. ``state`` is the applicant's (draft, submitted, withdrawn); the status
    the applicant sees is combined from the parts' (``bundle_rules.combined_status``)."""

    __tablename__ = "services_bundle_application"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    number: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("services_bundle.id"), nullable=False)
    bundle_version: Mapped[int] = mapped_column(Integer, nullable=False)
    applicant_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    applicant_key: Mapped[str] = mapped_column(String(18), nullable=False)
    applicant_name: Mapped[str] = mapped_column(String(120), nullable=False)
    filed_by_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    division_code: Mapped[str] = mapped_column(String(6), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    # When the applicant signed every part's commitments (告知承诺): parts that start later carry it.
    pledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(f"state IN {BUNDLE_STATES!r}", name="state"),
        CheckConstraint(f"applicant_kind IN {APPLICANT_KINDS!r}", name="applicant_kind"),
        Index("ix_services_bundle_application_filer", "filed_by_person_id", "created_at"),
    )


class BundleMember(Base):
    """A part of a bundle application: the application of the part's item, and the parts (by position)
    whose results it needs before it can start."""

    __tablename__ = "services_bundle_member"

    bundle_application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services_bundle_application.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("services_item.id"), nullable=False)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services_application.id"), nullable=False, unique=True
    )
    needs: Mapped[list[int]] = mapped_column(JSONType, nullable=False)


class BundleSource(Base):
    """One datahub source the parts read (a resource's fields, or whether it holds a record about the
    applicant), read once for the whole bundle with the applicant's one consent and handed to each part
    material in ``feeds`` ([member position, material position] pairs). Declined or unreadable, it is
    uploaded once and the file goes to each of those materials. The bundle's subject register read with
    several records keeps them all (``choosing``) until the applicant chooses one; only that one is handed
    on."""

    __tablename__ = "services_bundle_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bundle_application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services_bundle_application.id"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    material_name: Mapped[str] = mapped_column(String(120), nullable=False)
    source_ref: Mapped[str] = mapped_column(String(80), nullable=False)
    # The union of the fields the parts read (empty for an exists? fact).
    source_fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    is_exists_fact: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # The bundle's subject register (copied at start): several records read mean a choice, not a list.
    is_subject: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    feeds: Mapped[list[list[int]]] = mapped_column(JSONType, nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    consent: Mapped[str | None] = mapped_column(String(10))
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    values: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    source_org_name: Mapped[str | None] = mapped_column(String(120))
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    upload_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("bundle_application_id", "position"),
        CheckConstraint(f"state IN {SOURCE_STATES!r}", name="state"),
        CheckConstraint(f"consent IS NULL OR consent IN {CONSENTS!r}", name="consent"),
    )
