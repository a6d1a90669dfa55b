"""``zerotrip notices``: the operator's commands for staff notices (reminders, the staff headcount)."""

from __future__ import annotations

import typer
from rich.console import Console

from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker
from zerotrip.messaging import tasks_notices

app = typer.Typer(help="Staff notices: reminders and the staff headcount per unit.", no_args_is_help=True)
console = Console()


@app.command("remind")
def remind_command(ctx: typer.Context) -> None:
    """Send the reminder rounds that are due now (a running server does this every
    ZEROTRIP_NOTICES__REMINDER_INTERVAL_SECONDS)."""
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
    try:
        sent = tasks_notices.send_reminders(make_sessionmaker(engine), settings=settings.notices)
    finally:
        engine.dispose()
    console.print(f"Reminder rounds sent: {sent}")


@app.command("headcount")
def headcount_command(ctx: typer.Context) -> None:
    """Derive the staff headcount per unit and set of roles again from the memberships. Roll-ups keep it
    current by themselves; run this after memberships were removed or loaded in bulk outside zerotrip."""
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
    try:
        rows = tasks_notices.refresh_headcount(make_sessionmaker(engine))
    finally:
        engine.dispose()
    console.print(f"Headcount rows: {rows:,}")
