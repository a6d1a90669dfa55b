"""``zerotrip booking``: set up the booking system, generate slots, run the duties once, print statistics.

Each command opens its own engine and one transaction per step, and acts as the platform.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console

from zerotrip.booking import oversight, schedule, seats, sources, tasks
from zerotrip.booking.errors import BookingSystemMissing
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity.actor import system

app = typer.Typer(help="Appointments: the booking system, slots and duties.", no_args_is_help=True)
console = Console()
PLATFORM = system("cli")


@app.command("set-up")
def set_up(ctx: typer.Context) -> None:
    """Register the booking system as a datahub client at booking.system_org_code and grant it household
    registration and the vaccination records (both must be catalogued)."""
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            client = sources.set_up_booking_system(
                db, actor=PLATFORM, settings=settings.booking, datahub=settings.datahub
            )
    except BookingSystemMissing as problem:
        console.print(f"[red]{problem.title}[/]: {problem.detail}")
        raise typer.Exit(2) from problem
    finally:
        engine.dispose()
    console.print(f"{sources.SYSTEM_NAME} is registered ({client.client_id}) with its grants.")


@app.command("slots")
def generate(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, max=62, help="Days from today.")] = 14,
    first_day: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD); default today in China.")
    ] = None,
) -> None:
    """Generate every site's slots from their templates for the coming days (existing ones are kept)."""
    settings: Settings = ctx.obj
    first = date.fromisoformat(first_day) if first_day else seats.today()
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            made = schedule.generate_slots(
                db, actor=PLATFORM, first_day=first, last_day=first + timedelta(days=days - 1)
            )
    finally:
        engine.dispose()
    console.print(f"{made} slots made from {first} for {days} days.")


@app.command("duties")
def duties(ctx: typer.Context) -> None:
    """Run the duties once: reminders for tomorrow's bookings, no-shows, slots ahead."""
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url)
    try:
        done = tasks.Duties(make_sessionmaker(engine), settings.booking).run()
    finally:
        engine.dispose()
    console.print(f"{done} bookings reminded or marked, and slots made.")


@app.command("stats")
def statistics(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, max=92, help="Days up to today.")] = 7,
) -> None:
    """Capacity, no-shows and uptake by county, and seats by day, for the last ``days`` days, as JSON."""
    settings: Settings = ctx.obj
    last = seats.today()
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            found = oversight.figures(
                db, actor=PLATFORM, first_day=last - timedelta(days=days - 1), last_day=last, today=last
            )
    finally:
        engine.dispose()
    typer.echo(json.dumps(found.model_dump(mode="json"), ensure_ascii=False))
