"""``zerotrip audit``: seal pending events under signed checkpoints, and verify the whole log."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, func, select

from zerotrip.audit.checkpoints import VerifyReport, seal_all, verify_log
from zerotrip.audit.errors import AuditTampered
from zerotrip.audit.models import AuditEvent
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.keys import KeyStore

app = typer.Typer(help="The audit log: signed checkpoints and verification.", no_args_is_help=True)
console = Console()


def _open(settings: Settings) -> tuple[Engine, KeyStore]:
    engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
    passphrase = settings.key_passphrase.get_secret_value() if settings.key_passphrase else None
    return engine, KeyStore(settings.secrets_dir, passphrase)


@app.command()
def checkpoint(ctx: typer.Context) -> None:
    """Seal every event old enough under signed checkpoints."""
    settings: Settings = ctx.obj
    engine, keys = _open(settings)
    try:
        with (
            make_sessionmaker(engine)() as db,
            console.status("Sealing audit events…"),
            transaction(db),
        ):
            sealed = [
                (c.id, c.first_event_id, c.last_event_id, c.event_count, c.key_id)
                for c in seal_all(db, keys=keys, settings=settings.audit)
            ]
    except AuditTampered as exc:
        console.print(
            f"[red]Refusing to seal:[/] {exc.detail}. Run `zerotrip audit verify` for the whole log."
        )
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if not sealed:
        console.print(
            f"Nothing to seal: no unsealed event is older than {settings.audit.checkpoint_lag_seconds} s."
        )
        return
    table = Table(title="Sealed checkpoints")
    for column in ("checkpoint", "events", "count", "key"):
        table.add_column(column)
    for checkpoint_id, first, last, count, kid in sealed:
        table.add_row(str(checkpoint_id), f"{first}–{last}", f"{count:,}", kid)
    console.print(table)
    console.print(
        f"[green]Sealed {sum(row[3] for row in sealed):,} events in {len(sealed)} checkpoint(s).[/]"
    )


@app.command()
def verify(ctx: typer.Context) -> None:
    """Check every checkpoint's signature, chain and Merkle root, and every event against them.

    Exits with 1 and names the first bad event when a row was changed, deleted or inserted directly in
    the database.
    """
    settings: Settings = ctx.obj
    engine, keys = _open(settings)
    if engine.dialect.name == "postgresql":
        # One snapshot for the whole walk, so events committed meanwhile cannot confuse it.
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    try:
        with make_sessionmaker(engine)() as db:
            total = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("Verifying the audit log", total=total)
                report = verify_log(db, keys=keys, progress=lambda done: bar.update(task, completed=done))
    finally:
        engine.dispose()
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: VerifyReport) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("checkpoints verified", f"{report.checkpoints:,}")
    table.add_row("events checked", f"{report.checked_events:,}")
    table.add_row("events not yet sealed", f"{report.unsealed_events:,}")
    console.print(table)
    if report.ok:
        console.print("[green]The audit log verifies: nothing was changed, deleted or inserted.[/]")
        return
    console.print(f"[bold red]Tampering found:[/] {report.problem}.")
    if report.first_bad_event_id is not None:
        console.print(f"First bad event: {report.first_bad_event_id}")
