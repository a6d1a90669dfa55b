"""Files sent for materials (uploads): a material of the upload kind, one whose consent was declined, or
one the platform could not read. The file goes to the data directory, never into the database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.services import applications
from zerotrip.services.applications import needs_upload
from zerotrip.services.errors import InvalidUpload
from zerotrip.services.models import Application, Evidence

UPLOAD_TYPES = {b"%PDF-": ("application/pdf", "pdf"), b"\x89PNG\r\n\x1a\n": ("image/png", "png")}
JPEG_MAGIC = b"\xff\xd8\xff"
UPLOADS_DIR = "uploads"
UPLOADED = "services.application.uploaded"


def attach_upload(
    db: Session,
    *,
    actor: Actor,
    number: str,
    position: int,
    filename: str,
    content: bytes,
    settings: Settings,
) -> Application:
    """Keep a file for a material that is uploaded: an upload material, or one whose consent was
    declined or that the platform could not read. The file goes to the data directory (never the
    database) under a random name; only PDF, PNG and JPEG (judged by content) up to
    ``services.upload_max_bytes``. Raises ApplicationNotFound, ApplicationClosed, InvalidUpload."""
    application = applications.own_draft(db, actor, number)
    ev = applications.evidence_at(db, application, position)
    attach_file(
        db, actor=actor, application=application, ev=ev, filename=filename, content=content, settings=settings
    )
    return application


def attach_file(
    db: Session,
    *,
    actor: Actor,
    application: Application,
    ev: Evidence,
    filename: str,
    content: bytes,
    settings: Settings,
) -> None:
    """Keep ``content`` as the file of ``ev``, a material of ``application`` (a draft the caller has locked
    and may change), and audit it. Raises InvalidUpload."""
    position = ev.position
    if not needs_upload(ev):
        raise InvalidUpload.field("file", "this material is fetched by the platform and takes no upload")
    stored = store_upload(
        application, position=position, filename=filename, content=content, settings=settings
    )
    ev.state = "uploaded"
    ev.upload_path = stored.path
    ev.upload_name = stored.name
    ev.upload_type = stored.content_type
    ev.upload_size = stored.size
    ev.upload_sha256 = stored.sha256
    ev.uploaded_at = clock.now()
    application.updated_at = ev.uploaded_at
    record_event(
        db,
        actor=actor.principal,
        action=UPLOADED,
        subject_type="service_application",
        subject_id=application.number,
        data={
            "material": position,
            "type": stored.content_type,
            "size": stored.size,
            "sha256": stored.sha256,
        },
    )


@dataclass(frozen=True)
class StoredFile:
    path: str  # under the data directory
    name: str  # as the applicant sent it
    content_type: str
    size: int
    sha256: str


def read_sent(stream: BinaryIO, settings: Settings) -> bytes:
    """The bytes of a file being received, read no further than one byte past
    ``services.upload_max_bytes``: a larger file is refused without reading the rest. Raises InvalidUpload."""
    limit = settings.services.upload_max_bytes
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise InvalidUpload.field("file", f"the file is larger than {limit} bytes")
    return content


def store_upload(
    application: Application, *, position: int, filename: str, content: bytes, settings: Settings
) -> StoredFile:
    """Check a file (not empty, at most ``services.upload_max_bytes``, a PDF, PNG or JPEG by content) and
    write it under ``DATA_DIR/uploads/APPLICATION/`` with a random name; a file already there is never
    overwritten. Raises InvalidUpload."""
    if not content:
        raise InvalidUpload.field("file", "the file is empty")
    if len(content) > settings.services.upload_max_bytes:
        raise InvalidUpload.field(
            "file", f"the file is larger than {settings.services.upload_max_bytes} bytes"
        )
    kind = upload_kind(content)
    if kind is None:
        raise InvalidUpload.field("file", "send a PDF, PNG or JPEG file")
    content_type, extension = kind
    relative = Path(UPLOADS_DIR) / str(application.id) / f"{position}-{secrets.token_hex(8)}.{extension}"
    target = settings.data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(target)  # a reader never sees half a file
    return StoredFile(
        path=relative.as_posix(),
        name=(Path(filename).name or "upload")[:200],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def upload_kind(content: bytes) -> tuple[str, str] | None:
    """(media type, extension) of a PDF, PNG or JPEG judged by its first bytes; None for anything else."""
    for magic, kind in UPLOAD_TYPES.items():
        if content.startswith(magic):
            return kind
    if content.startswith(JPEG_MAGIC):
        return "image/jpeg", "jpg"
    return None
