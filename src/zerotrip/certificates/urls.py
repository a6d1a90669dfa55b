"""The public URLs a credential names (docs/certificates.md): issuer, type (``vct``) and status list.

Pure: each takes the deployment's ``web.public_url``. The parsers read back what this deployment made, so a
verifier can tell this platform's status lists and issuers from anyone else's.
"""

from __future__ import annotations

import re

STATUS_LIST_PATH = "/api/certificates/status-lists/"
ISSUER_PATH = "/issuers/"
TYPE_PATH = "/certificate-types/"


def _base(public_url: str) -> str:
    return public_url.rstrip("/")


def issuer_url(public_url: str, credit_code: str) -> str:
    """The ``iss`` of what a department signs: ``{public_url}/issuers/{credit code}``."""
    return f"{_base(public_url)}{ISSUER_PATH}{credit_code}"


def platform_issuer(public_url: str) -> str:
    """The ``iss`` the trust list gives the platform's status-list key."""
    return _base(public_url)


def type_url(public_url: str, code: str) -> str:
    """The ``vct`` of a certificate type: ``{public_url}/certificate-types/{code}``."""
    return f"{_base(public_url)}{TYPE_PATH}{code}"


def status_list_uri(public_url: str, list_id: int) -> str:
    return f"{_base(public_url)}{STATUS_LIST_PATH}{list_id}"


def _tail(public_url: str, path: str, url: str) -> str | None:
    prefix = _base(public_url) + path
    return url[len(prefix) :] if url.startswith(prefix) else None


def parse_status_list_uri(public_url: str, uri: str) -> int | None:
    """The list id when ``uri`` is one of this deployment's status lists, else None."""
    tail = _tail(public_url, STATUS_LIST_PATH, uri)
    return int(tail) if tail is not None and re.fullmatch(r"[1-9]\d{0,9}", tail) else None


def parse_issuer_url(public_url: str, url: str) -> str | None:
    """The credit code when ``url`` names an issuer of this deployment, else None."""
    tail = _tail(public_url, ISSUER_PATH, url)
    return tail if tail is not None and re.fullmatch(r"[0-9A-Z]{18}", tail) else None


def parse_type_url(public_url: str, url: str) -> str | None:
    """The type code when ``url`` is one of this deployment's certificate types, else None."""
    tail = _tail(public_url, TYPE_PATH, url)
    return tail if tail is not None and re.fullmatch(r"[a-z][a-z0-9-]{1,59}", tail) else None
