"""The ``zerotrip`` command: run the platform, manage the database, seed the demo, verify the audit log.

Each command opens its own engine and one visible transaction; nothing connects at import time.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer import _click as click  # Typer's own Click, whose types TyperGroup's methods are declared with
from typer.core import TyperGroup

from zerotrip import __version__
from zerotrip.config import Settings

# Each sub-command and where it is defined: "module:typer_app" for a group of commands, with "/name" for one
# command of that group. A command's module is imported only when that command runs (or help lists it), so
# `zerotrip services trips` starts without the web application, the demo seed and every other context.
LAZY_COMMANDS = {
    "db": "zerotrip.runtime_cli:app/db",
    "seed": "zerotrip.runtime_cli:app/seed",
    "demo": "zerotrip.runtime_cli:app/demo",
    "serve": "zerotrip.runtime_cli:app/serve",
    "audit": "zerotrip.audit.cli:app",
    "users": "zerotrip.identity.cli:app",
    "datahub": "zerotrip.datahub.cli:app",
    "certificates": "zerotrip.certificates.cli:app",
    "services": "zerotrip.services.cli:app",
    "booking": "zerotrip.booking.cli:app",
    "worker": "zerotrip.messaging.cli_notifications:app/worker",
    "notices": "zerotrip.messaging.cli_notices:app",
}


class LazyGroup(TyperGroup):
    """The root command group, which loads a sub-command's module when the sub-command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in LAZY_COMMANDS if name not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            self.commands[cmd_name] = _load(cmd_name, LAZY_COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)


def _load(name: str, where: str) -> click.Command:
    module_name, _, attr = where.partition(":")
    attr, _, member = attr.partition("/")
    group = typer.main.get_group(getattr(importlib.import_module(module_name), attr))
    if member:
        return group.commands[member]
    group.name = name
    return group


console = Console()
app = typer.Typer(
    cls=LazyGroup,
    help="zerotrip: once-only digital government. Data travels, citizens don't.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"zerotrip {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data directory (database, secrets, keys).", envvar="ZEROTRIP_DATA_DIR"),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Database URL; unset means SQLite in the data directory.")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = Settings(**overrides)  # type: ignore[arg-type]


def main() -> None:
    app()
