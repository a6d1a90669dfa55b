"""``zerotrip users``: operator commands for accounts."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import system
from zerotrip.identity.models import Organisation
from zerotrip.problems import Problem

app = typer.Typer(help="Accounts of staff and citizens.", no_args_is_help=True)
console = Console()


@app.command("create-admin")
def create_admin(
    ctx: typer.Context,
    login_name: Annotated[str, typer.Argument(help="Login name of the new platform administrator.")],
    display_name: Annotated[str, typer.Option(help="Name shown on pages.")] = "平台管理员",
    org_code: Annotated[
        str | None, typer.Option(help="Code of the organisation; default: the root of the tree.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Password; omit to be prompted (or to get a generated one with --generate)."),
    ] = None,
    generate: Annotated[bool, typer.Option(help="Generate a strong password and print it once.")] = False,
) -> None:
    """Create a staff account with the platform administrator role over an organisation's subtree."""
    settings: Settings = ctx.obj
    if password is None:
        password = (
            secrets.token_urlsafe(15)
            if generate
            else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        )
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            query = select(Organisation).order_by(Organisation.depth, Organisation.id).limit(1)
            if org_code is not None:
                query = select(Organisation).where(Organisation.code == org_code)
            org = db.scalar(query)
            if org is None:
                console.print("[red]No such organisation.[/] Run `zerotrip seed` or create the tree first.")
                raise typer.Exit(2)
            actions.add_staff_member(
                db,
                actor=system("cli"),
                org_id=org.id,
                login_name=login_name,
                display_name=display_name,
                role="platform_admin",
                password=password,
            )
    except Problem as problem:
        console.print(f"[red]{problem.title}[/]: {problem.detail or ''}")
        raise typer.Exit(2) from problem
    finally:
        engine.dispose()
    console.print(f"[green]Created[/] platform administrator [bold]{login_name}[/] at {org.name}.")
    if generate:
        console.print(f"Password (shown once): [bold]{password}[/]")
