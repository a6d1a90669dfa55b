"""The commands that run the platform: ``db upgrade``, ``seed``, ``demo`` and ``serve``.

They live apart from the root command (``zerotrip.cli``) so that a command such as ``zerotrip services trips``
does not import the web application, uvicorn and the demo seed it never uses. Each command opens its own
engine and one visible transaction; nothing connects at import time.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.demo.people import DEFAULT_SEED
from zerotrip.demo.seed import DemoLogins, demo_logins, is_seeded, seed_demo
from zerotrip.keys import KeyStore
from zerotrip.migrations import upgrade
from zerotrip.serving import run_granian, run_uvicorn

console = Console()
app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def prepare_database(settings: Settings) -> Engine:
    """Create the data directory and bring the schema to the newest revision."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
    upgrade(engine)
    return engine


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the newest revision."""
    settings: Settings = ctx.obj
    prepare_database(settings).dispose()
    console.print(f"[green]Database is up to date[/] ({_safe_url(settings)})")


@app.command()
def seed(
    ctx: typer.Context,
    citizens: Annotated[int, typer.Option(min=10, help="How many synthetic citizens to create.")] = 10_000,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives the same data.")
    ] = 20261129,
) -> None:
    """Seed the demo province (organisations, citizens, households, enterprises, staff) if it is empty."""
    settings: Settings = ctx.obj
    _seed(settings, prepare_database(settings), citizens=citizens, seed_value=seed_value)


def _seed(settings: Settings, engine: Engine, *, citizens: int, seed_value: int) -> bool:
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        if is_seeded(db):
            console.print("Demo data is already there; reusing it.")
            return False
        with console.status("Seeding the demo province…") as status, transaction(db):

            def progress(step: str, done: int, total: int) -> None:
                status.update(f"Seeding the demo province: {step} {done:,}/{total:,}")

            keys = KeyStore(
                settings.secrets_dir,
                settings.key_passphrase.get_secret_value() if settings.key_passphrase else None,
            )
            logins = seed_demo(
                db, keys=keys, settings=settings, citizens=citizens, seed=seed_value, progress=progress
            )
    _print_logins(logins)
    return True


def _print_logins(logins: DemoLogins) -> None:
    table = Table(title="Demo logins")
    for column in ("portal", "login", "password", "who"):
        table.add_column(column)
    for entry in logins.entries:
        table.add_row(entry.portal, entry.login_name, entry.password, entry.who)
    console.print(table)


@app.command()
def demo(
    ctx: typer.Context,
    citizens: Annotated[int, typer.Option(min=10, help="How many synthetic citizens to create.")] = 10_000,
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the web server.")] = True,
) -> None:
    """Create or upgrade the database, seed the demo province if empty, print the logins, and serve."""
    settings: Settings = ctx.obj
    engine = prepare_database(settings)
    if not _seed(settings, engine, citizens=citizens, seed_value=DEFAULT_SEED):
        _print_logins(demo_logins())
    engine.dispose()
    if serve_after:
        # The demo sends its notifications from the server's own process, so one command is enough.
        os.environ["ZEROTRIP_MESSAGING__IN_PROCESS_WORKER"] = "true"
        _serve(settings, host=host, port=port, workers=1)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """Serve the platform (pages and API) with granian or uvicorn (the `web.server` setting)."""
    settings: Settings = ctx.obj
    _serve(settings, host=host, port=port, workers=workers or settings.web.workers)


def _serve(settings: Settings, *, host: str | None, port: int | None, workers: int) -> None:
    # Worker processes rebuild Settings from the environment; hand them what the options chose.
    os.environ["ZEROTRIP_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        os.environ["ZEROTRIP_DATABASE_URL"] = settings.database_url
    bind_host = host or settings.web.host
    bind_port = port or settings.web.port
    console.print(
        f"Serving zerotrip on [bold]http://{bind_host}:{bind_port}[/] with {settings.web.server}"
        f" ({workers} worker{'s' if workers > 1 else ''}; Ctrl+C to stop)"
    )
    run = run_granian if settings.web.server == "granian" else run_uvicorn
    try:
        status = run(settings, host=bind_host, port=bind_port, workers=workers)
    except OSError as error:
        console.print(f"[red]Cannot listen on {bind_host}:{bind_port}[/]: {error}")
        raise typer.Exit(1) from error
    if status:
        raise typer.Exit(status)


def _safe_url(settings: Settings) -> str:
    url = settings.resolved_database_url
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
