"""Page routes (filled in by the web shell)."""

from __future__ import annotations

from fastapi import FastAPI

from zerotrip.config import Settings


def install_pages(app: FastAPI, settings: Settings) -> None:
    return None
