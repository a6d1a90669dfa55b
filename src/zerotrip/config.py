"""Settings: one object built at the composition root and passed down.

Every setting is read from the environment with the ``ZEROTRIP_`` prefix (nested groups use ``__``, for
example ``ZEROTRIP_IDENTITY__SESSION_HOURS``). Each field carries a description; ``docs/configuration.md``
lists them all and a test keeps the two in step.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """A per-user location following the XDG base-directory convention."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "zerotrip"


class WebSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Interface the web server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port the web server listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL the platform is reached at; an https URL turns on Secure cookies and HSTS.",
    )
    default_locale: str = Field("zh_Hans", description="UI language when the visitor has not chosen one.")
    workers: int = Field(1, ge=1, le=64, description="Number of API worker processes for `zerotrip serve`.")
    server: Literal["granian", "uvicorn"] = Field(
        "granian",
        description=(
            "The HTTP server behind `zerotrip serve` and `zerotrip demo`: granian (HTTP handled in Rust, less"
            " Python per request and connection; see docs/performance.md) or uvicorn. Either runs WORKERS"
            " processes on one listening socket, replaces a worker that dies and stops on SIGTERM or SIGINT,"
            " cutting open live streams after 5 seconds."
        ),
    )
    access_log: bool = Field(True, description="Log one line per HTTP request to the server's output.")


class IdentitySettings(BaseModel):
    session_hours: int = Field(8, ge=1, le=720, description="Lifetime of a web session in hours.")
    login_max_failures: int = Field(
        5, ge=1, le=100, description="Failed logins allowed for one account before it is locked."
    )
    login_lockout_minutes: int = Field(
        15, ge=1, le=1440, description="How long a locked account stays locked."
    )
    login_ip_limit_per_minute: int = Field(
        20, ge=1, le=10_000, description="Login attempts one client address may make per minute."
    )
    token_minutes: int = Field(
        60, ge=1, le=1440, description="Lifetime of an OAuth2 access token issued to an API client."
    )
    bearer_cache_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description=(
            "How long a worker process may reuse what a bearer token resolved to before asking the database"
            " again; a deleted token or a deactivated API client stops working within this time, and a"
            " token never outlives its own expiry. 0 asks the database on every request."
        ),
    )


class AuditSettings(BaseModel):
    checkpoint_interval_seconds: int = Field(
        60,
        ge=0,
        le=86_400,
        description="How often a running server seals new audit events under a checkpoint; 0 turns it off.",
    )
    checkpoint_max_events: int = Field(
        10_000, ge=1, le=1_000_000, description="Most events one signed checkpoint covers."
    )
    checkpoint_lag_seconds: int = Field(
        30,
        ge=0,
        le=3600,
        description=(
            "Events younger than this are left for the next checkpoint, so that transactions still in flight"
            " commit before their range is sealed."
        ),
    )


class DatahubSettings(BaseModel):
    escalation_interval_seconds: int = Field(
        300,
        ge=0,
        le=86_400,
        description=(
            "How often a running server flags share requests past their deadline to the platform operator;"
            " 0 turns it off."
        ),
    )
    share_decision_working_days: int = Field(
        5,
        ge=1,
        le=60,
        description=(
            "Working days the owning department's steward has to decide a conditional share request before"
            " it is flagged to the platform operator."
        ),
    )
    grant_days: int = Field(
        365, ge=1, le=3650, description="Calendar days a share grant lasts before it expires."
    )
    gateway_rate_per_minute: int = Field(
        600,
        ge=1,
        le=1_000_000,
        description=(
            "Gateway calls one API client may make per minute, counted in a sliding window per worker"
            " process (so the platform-wide limit is this times the number of workers)."
        ),
    )
    gateway_catalogue_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description=(
            "How long a worker process keeps a resource's description (fields, grades, owner) for the"
            " gateway. A steward's revision is seen by the next call whatever this is (every call checks the"
            " resource's version); only a renamed owning department can show its old name this long. 0 reads"
            " the description on every call."
        ),
    )
    objection_working_days: int = Field(
        10, ge=1, le=60, description="Working days a steward has to correct or answer an objection."
    )
    holidays: list[date] = Field(
        default_factory=list,
        description=(
            "Public holidays that are not working days, as a JSON list of ISO dates (Saturdays and"
            " Sundays never are)."
        ),
    )
    working_weekend_days: list[date] = Field(
        default_factory=list,
        description=(
            "Saturdays or Sundays that are working days (调休 make-up days), as a JSON list of ISO dates."
        ),
    )
    feed_lag_seconds: float = Field(
        2.0,
        ge=0,
        le=3600,
        description=(
            "Return feeds leave out changes younger than this, so that write transactions still in flight"
            " commit before a reader's cursor passes them."
        ),
    )
    open_rate_per_minute: int = Field(
        600,
        ge=0,
        le=1_000_000,
        description=(
            "Open data API requests one client address may make per minute, per worker process; 0 turns the"
            " limit off."
        ),
    )


class CertificatesSettings(BaseModel):
    algorithm: Literal["ES256", "EdDSA"] = Field(
        "ES256", description="JOSE algorithm new issuer keys use: ES256 (P-256) or EdDSA (Ed25519)."
    )
    presentation_ttl_seconds: int = Field(
        300,
        ge=30,
        le=86_400,
        description="How long a holder's shown presentation (亮证 QR) is accepted after it was made.",
    )
    status_list_size: int = Field(
        131_072,
        ge=1024,
        le=16_777_216,
        description="Entries in one status list; when a list is full a new one is started.",
    )
    status_list_ttl_seconds: int = Field(
        300,
        ge=0,
        le=86_400,
        description="How long verifiers may cache a published status list (the list's `ttl` claim).",
    )
    use_grant_max_days: int = Field(
        90, ge=1, le=3650, description="Longest a holder's use grant (用证授权) may last, in days."
    )
    use_rate_per_minute: int = Field(
        30,
        ge=0,
        le=1_000_000,
        description=(
            "Attempts to use a certificate by use-grant code one client address may make per minute, per"
            " worker process; 0 turns the limit off."
        ),
    )
    pdf_font: Path | None = Field(
        None,
        description=(
            "CJK font with TrueType outlines (.ttf or .ttc) that certificate PDFs embed. Unset means the"
            " first installed of Debian's fonts-arphic-uming, fonts-wqy-zenhei, fonts-wqy-microhei,"
            " fonts-arphic-ukai."
        ),
    )


class ServicesSettings(BaseModel):
    consumer_org_code: str = Field(
        "330000-data",
        pattern=r"^[0-9]{6}(-[a-z0-9\-]+)?$",
        description=(
            "Code of the organisation (the province's data administration) at which the one-stop service"
            " platform (一站式服务平台) is registered as the datahub gateway consumer that fetches"
            " applications' evidence."
        ),
    )
    upload_max_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="Largest file an applicant may upload for one material (PDF, PNG or JPEG), in bytes.",
    )
    escalation_interval_seconds: int = Field(
        300,
        ge=0,
        le=86_400,
        description=(
            "How often a running server escalates applications past their promised time limit to the office"
            " above the one handling them (`zerotrip services escalate` does it once); 0 turns it off."
            " Deadlines count working days with the holidays of `datahub.holidays` and"
            " `datahub.working_weekend_days`."
        ),
    )


class NoticesSettings(BaseModel):
    approve_province_wide_emergency: bool = Field(
        True,
        description=(
            "An emergency notice that reaches the whole province waits for a second notice publisher (or a"
            " platform administrator) over the publishing unit to approve it before it is sent."
        ),
    )
    attachment_max_bytes: int = Field(
        20 * 1024 * 1024,
        ge=1024,
        le=200 * 1024 * 1024,
        description="Largest file a notice may carry (PDF, PNG, JPEG, .docx or .xlsx), in bytes.",
    )
    attachments_per_notice: int = Field(10, ge=1, le=100, description="Most files one notice may carry.")
    reminder_interval_seconds: int = Field(
        60,
        ge=0,
        le=86_400,
        description=(
            "How often a running server sends the reminders that are due (those who have not read or"
            " acknowledged a notice after its reminder time); 0 turns it off."
        ),
    )
    headcount_check_seconds: int = Field(
        300,
        ge=0,
        le=86_400,
        description=(
            "How often a running server counts the staff memberships to check the per-unit headcount that"
            " roll-ups use (new staff are folded in at once; a removed membership, or one committed late,"
            " is found by this check and the headcount rebuilt); 0 turns it off."
        ),
    )
    reminder_max_rounds: int = Field(
        3,
        ge=1,
        le=20,
        description=(
            "Reminder rounds per notice at most; a round is repeated every reminder interval the notice"
            " names while someone has still not read or acknowledged."
        ),
    )
    live_poll_seconds: float = Field(
        0.5,
        gt=0,
        le=10,
        description=(
            "How often each server worker with open live notice streams asks the database (once, whoever"
            " is listening) for newly published notices; a new notice reaches open pages within about this"
            " time."
        ),
    )
    live_heartbeat_seconds: float = Field(
        15,
        gt=0,
        le=300,
        description="Seconds between keep-alive comments on an idle live notice stream.",
    )
    live_stream_max_seconds: float = Field(
        600,
        ge=5,
        le=86_400,
        description=(
            "A live notice stream ends after about this long (give or take a tenth); the browser reconnects"
            " at once, resuming from its last event, and the server checks the session again."
        ),
    )


class BookingSettings(BaseModel):
    system_org_code: str = Field(
        "330000-health",
        pattern=r"^[0-9]{6}(-[a-z0-9\-]+)?$",
        description=(
            "Code of the department (the province's health commission, owner of the vaccination records) at"
            " which the appointment booking system (预约接种系统) is registered as the datahub API client"
            " that reads household registration and vaccination records and pushes the doses sites give."
        ),
    )
    attempts_per_minute: int = Field(
        10,
        ge=1,
        le=10_000,
        description=(
            "Booking attempts (book, reschedule, join a waitlist) one person may make per minute, counted per"
            " worker process."
        ),
    )
    days_ahead: int = Field(
        14, ge=1, le=365, description="How many days ahead a slot may be booked (China time, today included)."
    )
    duty_interval_seconds: int = Field(
        600,
        ge=0,
        le=86_400,
        description=(
            "How often a running server sends the day-before reminders and marks bookings whose slot ended"
            " without a check-in as no-shows; 0 turns it off."
        ),
    )
    no_show_after_minutes: int = Field(
        60,
        ge=0,
        le=10_080,
        description=(
            "Minutes after a slot ends before a booking that was never checked in counts as a no-show."
        ),
    )


class MessagingSettings(BaseModel):
    smtp_host: str | None = Field(
        None,
        description=(
            "Mail server the notification worker sends e-mail through; unset means e-mail is not sent (the"
            " e-mail deliveries fail with that reason, and the preferences page does not offer e-mail)."
        ),
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="Port of the mail server.")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none",
        description=(
            "How the connection to the mail server is protected: none, starttls (upgrade a plain"
            " connection, usually port 587) or tls (TLS from the start, usually port 465)."
        ),
    )
    smtp_ca_file: Path | None = Field(
        None,
        description=(
            "PEM file of the certificate authorities trusted for the mail server's certificate; unset"
            " means the system's. The server's name is always checked."
        ),
    )
    smtp_username: str | None = Field(
        None, description="Login at the mail server (AUTH); unset means the worker does not log in."
    )
    smtp_password: SecretStr | None = Field(None, description="Password for the mail server login.")
    smtp_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="How long the worker waits for the mail server at each step."
    )
    mail_from: str = Field(
        "zerotrip <no-reply@zerotrip.invalid>",
        description=(
            "Sender of notification e-mail (a display name and an address). Its domain also names the"
            " messages (Message-ID <delivery id@domain>)."
        ),
    )
    sms_provider: Literal["log"] = Field(
        "log",
        description=(
            "Who sends SMS: log writes each message to the log (and to SMS_LOG_FILE when set) instead of"
            " sending it, for development and demos."
        ),
    )
    sms_log_file: Path | None = Field(
        None, description="File the log SMS provider appends each message to, one JSON object a line."
    )
    sms_signature: str = Field(
        "【政务服务】",
        max_length=20,
        description="Signature (签名) put before every SMS text, as carriers require.",
    )
    max_attempts: int = Field(
        6, ge=1, le=50, description="Attempts at one delivery before it is marked failed."
    )
    backoff_seconds: float = Field(
        30.0,
        ge=0,
        le=86_400,
        description="Wait before the second attempt; each further attempt waits twice as long as the last.",
    )
    backoff_max_seconds: float = Field(
        3600.0, ge=0, le=7 * 86_400, description="The longest wait between two attempts at one delivery."
    )
    batch_size: int = Field(100, ge=1, le=10_000, description="Deliveries one worker claims at a time.")
    lease_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        description=(
            "How long a worker's claim on a batch lasts. A worker that stops (crashes, is killed) leaves its"
            " unsent deliveries to be claimed again after this; one it stopped while handing over is"
            " counted as sent, never sent twice."
        ),
    )
    poll_seconds: float = Field(
        1.0,
        gt=0,
        le=300,
        description="How long an idle worker waits before looking for due deliveries again.",
    )
    in_process_worker: bool = Field(
        False,
        description=(
            "The web server also delivers notifications itself, every POLL_SECONDS. `zerotrip demo` turns"
            " it on; production runs `zerotrip worker` processes instead."
        ),
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZEROTRIP_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description=(
            "Directory holding the embedded SQLite database and the deployment's generated secrets and keys."
        ),
    )
    database_url: str | None = Field(
        None,
        description=(
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/zerotrip."
            " Unset means SQLite at DATA_DIR/zerotrip.db."
        ),
    )
    key_passphrase: SecretStr | None = Field(
        None,
        description=(
            "Passphrase that encrypts the signing keys at rest. Unset means a random key-encryption key is"
            " generated once into DATA_DIR/secrets/kek (mode 0600)."
        ),
    )
    echo_sql: bool = Field(False, description="Log every SQL statement (development only).")
    web: WebSettings = Field(default_factory=WebSettings, description="Web server and pages.")
    identity: IdentitySettings = Field(default_factory=IdentitySettings, description="Login and tokens.")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="Audit log checkpoints.")
    datahub: DatahubSettings = Field(
        default_factory=DatahubSettings, description="Sharing deadlines, grants and the gateway."
    )
    certificates: CertificatesSettings = Field(
        default_factory=CertificatesSettings, description="Signing, status lists and presentations."
    )
    services: ServicesSettings = Field(
        default_factory=ServicesSettings, description="Applications: the gateway consumer and uploads."
    )
    booking: BookingSettings = Field(
        default_factory=BookingSettings, description="Appointments: the booking system, limits and duties."
    )
    messaging: MessagingSettings = Field(
        default_factory=MessagingSettings,
        description="Citizen notifications: the outbox worker, e-mail, SMS.",
    )

    notices: NoticesSettings = Field(
        default_factory=NoticesSettings,
        description="Staff notices: emergency approval, attachments and reminders.",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'zerotrip.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"
