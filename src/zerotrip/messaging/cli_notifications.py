"""``zerotrip worker``: the outbox worker that sends citizen notifications, as a process of its own."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer
from rich.console import Console

from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker
from zerotrip.messaging.worker import Worker

console = Console()
app = typer.Typer(help="Citizen notifications.", no_args_is_help=True)


@app.command()
def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Claim and send one batch, then exit.")] = False,
    drain: Annotated[
        bool,
        typer.Option("--drain", help="Exit once no notification is waiting or in flight (after retries)."),
    ] = False,
) -> None:
    """Send citizen notifications from the outbox (in-app, e-mail, SMS) until stopped.

    Run as many as needed against one database: they never send a delivery twice. Ctrl+C or SIGTERM
    finishes the message in hand and gives the rest of the batch back to the other workers.
    """
    settings: Settings = ctx.obj
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.resolved_database_url, echo=settings.echo_sql)
    outbox_worker = Worker(make_sessionmaker(engine), settings)

    def stop(_signum: int, _frame: object) -> None:
        outbox_worker.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print(f"Notification worker {outbox_worker.token}")
    try:
        tally = outbox_worker.run_once() if once else outbox_worker.run(drain=drain)
    finally:
        engine.dispose()
    console.print(
        f"sent {tally.sent} (unconfirmed {tally.unconfirmed}), to retry {tally.retried},"
        f" failed {tally.failed}, given back {tally.released}"
    )
