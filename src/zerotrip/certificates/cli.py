"""``zerotrip certificates``: verify a certificate offline, print the trust list, rotate an issuer's key.

``verify`` needs no server and no database: a trust list file (or URL), optionally a downloaded status list,
and the certificate as a token, a QR URL, a file holding either, or the PDF. Exit codes: 0 valid, 1 the
certificate failed verification, 2 the command was used wrongly (missing or unreadable files).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from zerotrip.audit.actions import record_event
from zerotrip.certificates import queries, signing
from zerotrip.certificates.trust import TrustList
from zerotrip.certificates.verify import (
    StatusLookup,
    StatusUnavailable,
    Verdict,
    extract_token,
    status_from_list_token,
    verify_token,
)
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity.queries import find_organisation_by_code
from zerotrip.keys import KeyStore

app = typer.Typer(
    help="E-certificates (电子证照): offline verification, the trust list, issuer keys.", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)

EXIT_VALID, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_HEADLINES = {
    "valid": "VALID",
    "malformed": "NOT A CERTIFICATE",
    "unknown_issuer": "UNKNOWN ISSUER",
    "bad_signature": "FORGED OR ALTERED",
    "tampered_disclosure": "ALTERED FIELD",
    "bad_key_binding": "NOT SHOWN BY ITS HOLDER",
    "presentation_expired": "PRESENTATION EXPIRED",
    "not_yet_valid": "NOT YET VALID",
    "expired": "EXPIRED",
    "revoked": "REVOKED",
    "suspended": "SUSPENDED",
    "status_unavailable": "STATUS UNKNOWN",
}


def _usage_error(message: str) -> typer.Exit:
    err_console.print(f"[red]Error:[/] {escape(message)}")
    return typer.Exit(EXIT_USAGE)


def _keys(settings: Settings) -> KeyStore:
    passphrase = settings.key_passphrase.get_secret_value() if settings.key_passphrase else None
    return KeyStore(settings.secrets_dir, passphrase)


def read_certificate(source: str) -> str | None:
    """The token from ``source``: ``-`` (stdin), a file (text or PDF), or the token / QR URL itself.

    None when a PDF carries no token. Raises typer.Exit(2) for a path that does not exist.
    """
    if source == "-":
        return extract_token(sys.stdin.read())
    path = Path(source)
    try:
        is_file = path.is_file()
    except OSError:  # a token is far longer than a file name may be
        is_file = False
    if is_file:
        data = path.read_bytes()
        if data.startswith(b"%PDF-"):
            # Imported only for PDFs: reading a token or a URL needs none of the PDF machinery.
            try:
                pdf = importlib.import_module("zerotrip.certificates.pdf")
            except ImportError:
                raise _usage_error("this installation cannot read certificate PDFs") from None
            found = pdf.extract_token(data)
            return found if isinstance(found, str) else None
        try:
            return extract_token(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise _usage_error(f"{source} is neither a text file nor a PDF") from None
    if "~" in source or "#" in source:
        return extract_token(source)
    raise _usage_error(f"{source} is not a file, and does not look like a certificate token")


def _load_trust_list(source: str) -> TrustList:
    try:
        return TrustList.load(source)
    except (OSError, ValueError) as exc:
        raise _usage_error(f"cannot read the trust list {source}: {exc}") from None


def _status_lookup(path: Path | None, trust: TrustList, now: datetime) -> tuple[StatusLookup | None, str]:
    if path is None:
        return None, ""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _usage_error(f"cannot read the status list {path}: {exc}") from None
    try:
        lookup = status_from_list_token(text, trust, now=now)
    except StatusUnavailable as exc:
        failure = exc

        def unavailable(uri: str, idx: int) -> int:
            raise StatusUnavailable(f"the status list file does not verify ({failure})")

        return unavailable, ""
    return lookup, lookup.status_list.issued_at.isoformat()


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def print_verdict(verdict: Verdict, *, status_list_issued_at: str = "") -> None:
    colour = "green" if verdict.ok else "red"
    console.print(f"[bold {colour}]{_HEADLINES[verdict.code]}[/] ({verdict.code})")
    console.print(escape(verdict.detail))
    if verdict.issuer is None:
        return
    facts = Table(show_header=False, box=None, pad_edge=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    rows: list[tuple[str, str | None]] = [
        ("Certificate", verdict.type_name),
        ("Number", verdict.number),
        ("Issuer", verdict.issuer_name),
        ("Issuer id", verdict.issuer),
        ("Type", verdict.vct),
        ("Signing key", verdict.kid),
        ("Valid from", verdict.valid_from.isoformat() if verdict.valid_from else None),
        ("Valid until", verdict.valid_until.isoformat() if verdict.valid_until else "no expiry"),
        (
            "Status",
            f"checked against the status list of {status_list_issued_at}"
            if verdict.status_checked and status_list_issued_at
            else ("checked" if verdict.status_checked else "not checked"),
        ),
        ("Holder binding", "shown by the holder (key binding verified)" if verdict.key_bound else "none"),
    ]
    for label, value in rows:
        if value:
            facts.add_row(label, escape(value))
    console.print(facts)
    if verdict.claims:
        table = Table(title="Disclosed fields")
        table.add_column("field", no_wrap=True)
        table.add_column("value", overflow="fold")
        for name, value in verdict.claims.items():
            table.add_row(escape(name), escape(_show(value)))
        console.print(table)
    else:
        console.print("No fields are disclosed.")


def _as_json(verdict: Verdict) -> dict[str, Any]:
    data: dict[str, Any] = asdict(verdict)
    for name in ("valid_from", "valid_until", "presented_at"):
        if data[name] is not None:
            data[name] = data[name].isoformat()
    data["claims"] = dict(verdict.claims) if isinstance(verdict.claims, Mapping) else {}
    return data


@app.command()
def verify(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            metavar="TOKEN_OR_FILE",
            help="The token, a …/verify#<token> URL, a file holding either, the PDF, or - for stdin.",
        ),
    ],
    trust_list: Annotated[
        str, typer.Option("--trust-list", metavar="FILE", help="Trust list (JWKS) file or URL.")
    ],
    status_list: Annotated[
        Path | None,
        typer.Option("--status-list", metavar="FILE", help="A downloaded status list token to check status."),
    ] = None,
    require_key_binding: Annotated[
        bool, typer.Option(help="Fail unless the holder's key binding (a presentation) is attached.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Verify a certificate offline: signature, fields, validity period, and status with --status-list."""
    settings: Settings = ctx.obj
    trust = _load_trust_list(trust_list)
    now = clock.now()
    status, issued_at = _status_lookup(status_list, trust, now)
    token = read_certificate(source)
    if token is None:
        verdict = Verdict(ok=False, code="malformed", detail="The PDF does not carry a certificate token.")
    else:
        verdict = verify_token(
            token,
            trust=trust,
            status=status,
            now=now,
            presentation_ttl_seconds=settings.certificates.presentation_ttl_seconds,
            require_key_binding=require_key_binding,
        )
    if as_json:
        typer.echo(json.dumps(_as_json(verdict), ensure_ascii=False, indent=2))
    else:
        print_verdict(verdict, status_list_issued_at=issued_at)
    raise typer.Exit(EXIT_VALID if verdict.ok else EXIT_FAILED)


@app.command("trust-list")
def trust_list_command(ctx: typer.Context) -> None:
    """Print the trust list (JWKS): every issuer key, current and retired, and the status-list keys.

    The same list as ``GET /.well-known/jwks.json``; save it for offline verifiers."""
    settings: Settings = ctx.obj
    keys = _keys(settings)
    engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
    try:
        # Each issuer's iss holds its credit code, which comes from the organisation register.
        with make_sessionmaker(engine)() as db:
            jwks = queries.trust_list_jwks(db, keys=keys, settings=settings)
    except SQLAlchemyError as exc:
        err_console.print(f"[red]Cannot read the organisations from the database:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_FAILED) from None
    finally:
        engine.dispose()
    typer.echo(json.dumps(jwks, ensure_ascii=False, indent=2))


@app.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    org_code: Annotated[str, typer.Argument(metavar="ORG_CODE", help="The issuing department's code.")],
) -> None:
    """Give an issuing department a new signing key; its old keys stay in the trust list."""
    settings: Settings = ctx.obj
    keys = _keys(settings)
    algorithm = settings.certificates.algorithm
    engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            org = find_organisation_by_code(db, org_code)
            if org is None:
                raise _usage_error(f"no organisation has the code {org_code}")
            previous = [key.kid for key in signing.issuer_keys(keys, org.id)]
            key = signing.rotate_issuer_key(keys, org.id, algorithm=algorithm)
            record_event(
                db,
                actor="system:cli",
                action="certificates.issuer_key.rotated",
                subject_type="organisation",
                subject_id=str(org.id),
                data={"kid": key.kid, "algorithm": key.algorithm, "previous_kids": previous},
            )
            name = org.name
    finally:
        engine.dispose()
    console.print(f"New signing key for {escape(name)}: [bold]{key.kid}[/] ({key.algorithm}).")
    if previous:
        console.print(f"Retired keys still trusted: {', '.join(previous)}.")
    console.print("Publish the new trust list (`zerotrip certificates trust-list`) to offline verifiers.")
