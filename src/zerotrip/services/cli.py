"""``zerotrip services``: trip analysis of any catalogue given as CSV, the stored catalogue exported, and
overdue applications escalated (what a running server does every ``services.escalation_interval_seconds``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.services import catalogue_csv, tasks, trips
from zerotrip.services.errors import InvalidCatalogueFile

app = typer.Typer(
    help="Service items: trip analysis, the catalogue as CSV, and escalating overdue applications.",
    no_args_is_help=True,
)
console = Console()
BAND_HEADS = ("0 trips", "1 trip", "more", "items", "zero-trip share")


@app.command("trips")
def trips_command(
    catalog: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="A CSV catalogue (docs/services.md)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as one JSON document.")] = False,
    top: Annotated[int, typer.Option(min=1, help="Rows of the materials and what-if tables to print.")] = 20,
) -> None:
    """Count every item's trips and print, as the operator's page shows them: items per department and
    level needing 0, 1 or more trips, the materials that need a visit, and how many items would need
    fewer trips (or none) if a certificate type or data resource were shared."""
    try:
        with catalog.open(encoding="utf-8-sig", newline="") as handle:
            items = catalogue_csv.read_catalogue(handle)
    except UnicodeDecodeError as error:
        console.print(f"[red]The catalogue is not UTF-8 text[/]: {error}")
        raise typer.Exit(2) from error
    except InvalidCatalogueFile as problem:
        console.print(f"[red]{problem.title}[/]: {problem.detail or ''}")
        for found in problem.errors:
            console.print(f"  {found.get('pointer', '').removeprefix('#/')}: {found.get('detail', '')}")
        raise typer.Exit(2) from problem
    analysis = trips.analyse(items)
    if as_json:
        typer.echo(json.dumps(analysis.as_dict(), ensure_ascii=False))
        return
    # A console of its own, sized for the terminal the command runs in (tables of long Chinese names).
    print_analysis(Console(), analysis, title=catalog.name, top=top)


@app.command("export")
def export_command(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the CSV catalogue.")],
) -> None:
    """Write the stored catalogue as a CSV catalogue that `zerotrip services trips` reads."""
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db), target.open("w", encoding="utf-8") as out:
            written = catalogue_csv.write_catalogue(out, catalogue_csv.catalogue_rows(db))
    finally:
        engine.dispose()
    console.print(f"Wrote {written:,} items to {target}")


@app.command("escalate")
def escalate_command(ctx: typer.Context) -> None:
    """Escalate every application past its promised time limit, not yet escalated, to the office above
    the one handling it (audited), and say how many."""
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url)
    try:
        escalated = tasks.escalate_overdue(make_sessionmaker(engine))
    finally:
        engine.dispose()
    console.print(f"Escalated {escalated:,} overdue applications")


def _share(bands: trips.Bands) -> str:
    return f"{bands.zero / bands.total:.1%}" if bands.total else "—"


def _band_cells(bands: trips.Bands) -> list[str]:
    return [f"{bands.zero:,}", f"{bands.one:,}", f"{bands.more:,}", f"{bands.total:,}", _share(bands)]


def print_analysis(console: Console, analysis: trips.Analysis, *, title: str, top: int) -> None:
    total = analysis.total
    console.print(
        f"[bold]{title}[/]: {total.total:,} items; [green]{total.zero:,} need no trip[/], "
        f"{total.one:,} one, [red]{total.more:,} more than one[/]."
    )
    levels = Table(title="Items by level")
    levels.add_column("level")
    for head in BAND_HEADS:
        levels.add_column(head, justify="right")
    for level, bands in analysis.by_level:
        levels.add_row(level, *_band_cells(bands))
    levels.add_row("all", *_band_cells(total), style="bold")
    console.print(levels)

    departments = Table(title="Items by department")
    departments.add_column("department")
    departments.add_column("level")
    for head in BAND_HEADS:
        departments.add_column(head, justify="right")
    for row in analysis.by_department:
        departments.add_row(row.department, row.level, *_band_cells(row.bands))
    console.print(departments)

    if analysis.forcing:
        forcing = Table(title=f"Materials that need a visit (first {min(top, len(analysis.forcing))})")
        forcing.add_column("material")
        forcing.add_column("held by")
        forcing.add_column("items", justify="right")
        forcing.add_column("sole", justify="right")
        for f in analysis.forcing[:top]:
            forcing.add_row(f.name, f.held_by.label if f.held_by else "—", f"{f.items:,}", f"{f.sole:,}")
        console.print(forcing)
        console.print("sole: items in which this material is the only reason for its visit.")

    if analysis.what_if:
        what_if = Table(title=f"If it were shared (first {min(top, len(analysis.what_if))})")
        what_if.add_column("holder")
        for head in ("materials", "items", "fewer trips", "to zero"):
            what_if.add_column(head, justify="right")
        for w in analysis.what_if[:top]:
            what_if.add_row(
                w.holder.label, f"{w.materials:,}", f"{w.items:,}", f"{w.fewer_trips:,}", f"{w.to_zero:,}"
            )
        console.print(what_if)
