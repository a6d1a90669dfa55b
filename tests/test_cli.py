"""The operator's CLI against a database of its own, with real commits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from zerotrip import __version__
from zerotrip.cli import app
from zerotrip.config import IdentitySettings
from zerotrip.db import make_engine, make_sessionmaker
from zerotrip.demo.seed import DEMO_PASSWORD
from zerotrip.identity import auth
from zerotrip.identity.models import Organisation, Person

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_version() -> None:
    assert __version__ in run("--version")


def test_upgrade_seed_admin_and_demo_reuse(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = new_database(migrate=False)
    base = ("--data-dir", str(tmp_path), "--database-url", url)
    assert "up to date" in run(*base, "db", "upgrade")
    output = run(*base, "seed", "--citizens", "40")
    assert "zj-admin" in output and DEMO_PASSWORD in output
    assert "already there" in run(*base, "seed", "--citizens", "40")
    output = run(*base, "demo", "--no-serve", "--citizens", "40")
    assert "already there" in output and "zj-admin" in output
    output = run(*base, "users", "create-admin", "ops-admin", "--password", "a long enough password")
    assert "ops-admin" in output
    refused = runner.invoke(app, [*base, "users", "create-admin", "ops-2", "--password", "short"])
    assert refused.exit_code == 2 and "at least" in refused.output

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            assert db.scalar(select(func.count()).select_from(Person)) >= 40
            assert (
                db.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "county"))
                == 90
            )
            outcome = auth.attempt_login(
                db,
                login_name="ops-admin",
                password="a long enough password",
                client_address="127.0.0.1",
                portal="staff",
                settings=IdentitySettings(),
            )
            assert outcome.status == "signed_in"
    finally:
        engine.dispose()
    run(*base, "audit", "verify")  # exit code 0: the log the CLI wrote is intact
