"""``zerotrip datahub``: operator commands for data resources (loading files of records)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.datahub import aggregation, queries, readers
from zerotrip.datahub.models import Batch, Rejection
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import auth
from zerotrip.identity.actor import Actor, system
from zerotrip.problems import Problem

app = typer.Typer(help="Data resources: load records from files.", no_args_is_help=True)
console = Console()


@app.command("load")
def load(
    ctx: typer.Context,
    resource: Annotated[str, typer.Argument(help="Code of the data resource, e.g. 330100-land.real-estate.")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, JSON, JSONL or XLSX.")
    ],
    as_login: Annotated[
        str | None,
        typer.Option("--as-login", help="Load as this staff account (default: the platform, as system:cli)."),
    ] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv, json, jsonl or xlsx; default: from the file name.")
    ] = None,
    show: Annotated[int, typer.Option(min=0, help="How many rejections to print.")] = 10,
) -> None:
    """Validate a file against the resource's rules and upsert its accepted rows as one batch."""
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as db, file.open("rb") as raw:
            with transaction(db):
                actor = _actor(db, as_login)
                target = queries.get_resource(db, resource)
                aggregation.check_can_load(db, actor, target)
                fmt = readers.format_of(file.name, file_format)
                rows = readers.read_rows(raw, format=fmt, fields=queries.list_fields(db, target.id))
                batch = _load_with_progress(db, actor, resource, rows, raw, fmt, file)
            rejections, _ = aggregation.list_rejections(db, actor=actor, batch_id=batch.id, per_page=show)
            _print_summary(batch, rejections if show else [])
    except Problem as problem:
        console.print(f"[red]{problem.title}[/]: {problem.detail or ''}")
        raise typer.Exit(2) from problem
    finally:
        engine.dispose()


def _actor(db: Session, login_name: str | None) -> Actor:
    if login_name is None:
        return system("cli")
    actor = auth.find_staff_actor(db, login_name)
    if actor is None:
        console.print(f"[red]No active staff account is called {login_name!r}.[/]")
        raise typer.Exit(2)
    return actor


def _load_with_progress(
    db: Session,
    actor: Actor,
    resource: str,
    rows: Iterator[readers.Row],
    raw: IO[bytes],
    fmt: str,
    file: Path,
) -> Batch:
    # XLSX is a zip read out of order, so its position says nothing: count rows only.
    total = file.stat().st_size if fmt != "xlsx" else None
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[rows]:,} rows")]
    if total is not None:
        columns.append(DownloadColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task(f"Loading {file.name}", total=total, rows=0)

        def advance(rows_read: int) -> None:
            position = raw.tell() if total is not None else None
            progress.update(task, completed=position, rows=rows_read)

        batch = aggregation.load_rows(
            db,
            actor=actor,
            resource_code=resource,
            rows=rows,
            source="cli",
            filename=file.name,
            format=fmt,
            progress=advance,
        )
        progress.update(task, completed=total, rows=batch.rows_total)
    return batch


def _print_summary(batch: Batch, rejections: list[Rejection]) -> None:
    console.print(
        f"Batch [bold]{batch.id}[/]: {batch.rows_total:,} rows read, "
        f"[green]{batch.rows_accepted:,} accepted[/] ({batch.rows_unchanged:,} unchanged), "
        f"[red]{batch.rows_rejected:,} rejected[/]."
    )
    errors = batch.report.get("errors", [])
    if errors:
        table = Table(title="Errors by field and rule")
        for column in ("field", "rule", "count"):
            table.add_column(column)
        for error in errors[:20]:
            table.add_row(error["field"] or "(row)", error["rule"], f"{error['count']:,}")
        console.print(table)
    if rejections:
        table = Table(title=f"First {len(rejections)} rejections")
        for column in ("row", "field", "rule", "reason", "value"):
            table.add_column(column)
        for r in rejections:
            table.add_row(str(r.row_number), r.field or "", r.rule, r.reason, r.value or "")
        console.print(table)
