"""Certificates tables, all prefixed ``certificates_``. Organisations are referred to by id.

The signed credential itself (an SD-JWT VC) is kept as issued in ``Certificate.token``; the columns beside it
are what staff search and what the status list is built from. Signing keys never live here: they are in the
deployment's key store, and a certificate only names the ``kid`` that signed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")

HOLDER_KINDS = ("person", "enterprise")
STATUSES = ("valid", "suspended", "revoked")
SOURCES = ("staff", "api", "context")
AUDIENCE_KINDS = ("department", "business", "person")


class CertificateType(Base):
    """A certificate type (证照目录): what a certificate of this kind holds and who may issue it."""

    __tablename__ = "certificates_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Short stable name used in URLs, the API and the ``vct`` of the credential, e.g. ``no-real-estate``.
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    # GB/T 36902 type code (the defining body's credit code and a serial), part of every certificate number.
    type_code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    # The issuing department; NULL means any department may issue it under its own key (decision letters).
    issuer_org_id: Mapped[int | None] = mapped_column(ForeignKey("identity_org.id"), index=True)
    holder_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # [{"name", "label", "label_en", "type", "required", "disclosable"}] in display order.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    # How long a certificate stays valid after issue; NULL means until revoked.
    validity_days: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(40), nullable=False, default="standard")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint(f"holder_kind IN {HOLDER_KINDS!r}", name="holder_kind"),
        CheckConstraint("validity_days IS NULL OR validity_days > 0", name="validity_days"),
    )


class StatusList(Base):
    """One IETF Token Status List published by the platform; certificates take random free indices. How
    many are taken is counted in ``StatusListUsage``."""

    __tablename__ = "certificates_status_list"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bits: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Bumped whenever an entry changes, so a published list can be cached until it moves.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint("bits IN (1, 2, 4, 8)", name="bits"),)


class StatusListUsage(Base):
    """How many entries of a status list certificates have taken, counted over a few rows (shards): an
    issue adds to one shard picked at random, so concurrent issues seldom wait for each other's row lock,
    where a single counter would make every issue wait for the one before it to commit. The list's count
    is the sum of its shards, added in the issuing transactions (so it lags behind what transactions in
    flight have written)."""

    __tablename__ = "certificates_status_list_usage"

    list_id: Mapped[int] = mapped_column(ForeignKey("certificates_status_list.id"), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(Integer, nullable=False)


class Certificate(Base):
    """One issued e-certificate (电子证照) and its current status."""

    __tablename__ = "certificates_certificate"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # GB/T 36902 identifier: public, unique, with a random serial so it cannot be guessed.
    number: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("certificates_type.id"), nullable=False)
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False, index=True)
    holder_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # Resident ID for a person, unified social credit code for an enterprise.
    holder_key: Mapped[str] = mapped_column(String(32), nullable=False)
    holder_name: Mapped[str] = mapped_column(String(200), nullable=False)
    # The certificate's field values as issued (what the disclosures carry).
    claims: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    # The issued SD-JWT VC with every disclosure: ``<issuer-signed JWT>~<disclosure>~…~``.
    token: Mapped[str] = mapped_column(Text, nullable=False)
    kid: Mapped[str] = mapped_column(String(64), nullable=False)
    algorithm: Mapped[str] = mapped_column(String(16), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="valid")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_list_id: Mapped[int] = mapped_column(ForeignKey("certificates_status_list.id"), nullable=False)
    status_index: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    # What caused the issue: an application number, a client name; free text for staff issues.
    source_ref: Mapped[str | None] = mapped_column(String(120))
    issued_by: Mapped[str] = mapped_column(String(120), nullable=False)

    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index"),
        Index("ix_certificates_certificate_holder", "holder_kind", "holder_key"),
        Index("ix_certificates_certificate_type_issued", "type_id", "issued_at"),
        CheckConstraint(f"holder_kind IN {HOLDER_KINDS!r}", name="holder_kind"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint(f"source IN {SOURCES!r}", name="source"),
    )


class UseGrant(Base):
    """用证授权: the holder lets someone use one certificate, with chosen fields, until a deadline."""

    __tablename__ = "certificates_use_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates_certificate.id"), nullable=False, index=True
    )
    # SHA-256 of the access code handed to the audience (in a link or read out); the code is shown once.
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    audience: Mapped[str] = mapped_column(String(200), nullable=False)
    audience_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)

    __table_args__ = (CheckConstraint(f"audience_kind IN {AUDIENCE_KINDS!r}", name="audience_kind"),)


class CertificateUse(Base):
    """One use of a certificate under a grant (用证记录): who used it, when and why."""

    __tablename__ = "certificates_use"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("certificates_use_grant.id"), nullable=False, index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_by: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
