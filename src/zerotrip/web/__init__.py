"""web: server-rendered pages for every context, the error pages and the security headers.

Pages follow POST → redirect → GET, check CSRF on every form, and hand templates small view-models, never ORM
objects. Nothing imports this package except the composition root and the CLI.
"""

from __future__ import annotations

from fastapi import FastAPI

from zerotrip.config import Settings
from zerotrip.web.errors import install_problem_handlers
from zerotrip.web.pages import install_pages
from zerotrip.web.security import install_security_headers


def install_web(app: FastAPI, settings: Settings) -> None:
    install_problem_handlers(app)
    install_security_headers(app, https=settings.web.public_url.startswith("https://"))
    install_pages(app, settings)
