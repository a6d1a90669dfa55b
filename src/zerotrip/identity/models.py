"""Identity tables, all prefixed ``identity_``."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime, new_uuid

ORG_KINDS = ("province", "city", "county", "department")
ROLES = (
    "reviewer",
    "certificate_issuer",
    "data_steward",
    "site_operator",
    "notice_publisher",
    "platform_admin",
)
ACCOUNT_KINDS = ("citizen", "staff")
RELATION_KINDS = ("spouse", "parent", "child")


class Organisation(Base):
    __tablename__ = "identity_org"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("identity_org.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(160))
    division_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    # Materialised path of ids such as "/1/5/23/": a subtree is one prefix scan.
    path: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    depth: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint(f"kind IN {ORG_KINDS!r}", name="kind"),)


class Person(Base):
    __tablename__ = "identity_person"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    resident_id: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    sex: Mapped[str] = mapped_column(String(6), nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    household_no: Mapped[str | None] = mapped_column(String(20), index=True)
    assurance_level: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("sex IN ('male', 'female')", name="sex"),
        CheckConstraint("assurance_level BETWEEN 1 AND 4", name="assurance_level"),
    )


class Relation(Base):
    """A family tie as recorded in household registration; stored once per direction."""

    __tablename__ = "identity_relation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False, index=True)
    relative_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)

    __table_args__ = (
        UniqueConstraint("person_id", "relative_id", "kind"),
        CheckConstraint(f"kind IN {RELATION_KINDS!r}", name="kind"),
    )


class Enterprise(Base):
    __tablename__ = "identity_enterprise"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    legal_representative_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_person.id"), nullable=False, index=True
    )
    division_code: Mapped[str] = mapped_column(String(6), nullable=False)
    address: Mapped[str | None] = mapped_column(String(200))
    established_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Account(Base):
    """Someone who can sign in: a citizen (bound to a person) or a staff member (with memberships)."""

    __tablename__ = "identity_account"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    login_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(60), nullable=False)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_person.id"), index=True)
    # NULL until the account is activated: staff are provisioned from the directory without a password.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(400))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint(f"kind IN {ACCOUNT_KINDS!r}", name="kind"),
        CheckConstraint("kind = 'staff' OR person_id IS NOT NULL", name="citizen_has_person"),
    )


class Membership(Base):
    """A staff account's role in an organisation; the role reaches the whole subtree under it."""

    __tablename__ = "identity_membership"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_account.id"), nullable=False, index=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False)
    org_path: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str | None] = mapped_column(String(24))
    title: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("account_id", "org_id", "role"),
        Index("ix_identity_membership_org_path_role", "org_path", "role"),
        Index("ix_identity_membership_org_id", "org_id"),
        CheckConstraint(f"role IS NULL OR role IN {ROLES!r}", name="role"),
    )


class WebSession(Base):
    __tablename__ = "identity_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_account.id"), nullable=False, index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    # A staff member with TOTP has a session that is only half signed in until the code is entered.
    is_second_factor_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    client_address: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    __tablename__ = "identity_login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_address: Mapped[str] = mapped_column(String(64), nullable=False)
    login_name: Mapped[str] = mapped_column(String(64), nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    is_success: Mapped[bool] = mapped_column(Boolean, nullable=False)

    __table_args__ = (Index("ix_identity_login_attempt_address_at", "client_address", "attempted_at"),)


class ApiClient(Base):
    """A department system that calls the API with OAuth2 client credentials."""

    __tablename__ = "identity_api_client"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False, index=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class ApiToken(Base):
    __tablename__ = "identity_api_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_api_client.id"), nullable=False, index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
