"""What the services JSON routers share: the deployment's settings and key store as dependencies, and the
scan an upload sends (its name, and its content read one byte past the limit at most)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, UploadFile

from zerotrip.config import Settings
from zerotrip.deps import get_keys, get_settings
from zerotrip.keys import KeyStore
from zerotrip.services import uploads

AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
Scan = Annotated[UploadFile, File(description="The scan: PDF, PNG or JPEG.")]


def sent_scan(file: UploadFile, settings: Settings) -> tuple[str, bytes]:
    """The file name and content of a sent scan. Raises InvalidUpload (larger than the limit)."""
    return file.filename or "upload", uploads.read_sent(file.file, settings)
