"""``zerotrip datahub load`` against a database of its own, with real commits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from zerotrip.cli import app
from zerotrip.common.checks import make_resident_id
from zerotrip.datahub import catalogue
from zerotrip.datahub.models import Batch
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions

from .conftest import PASSWORD, ROOT, real_estate_spec
from .test_aggregation import ESTATE, csv_file

runner = CliRunner()
GOOD_ID = make_resident_id(division_code="330106", birth_date=date(1988, 3, 14), sequence=11, sex="male")


def prepare(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            province = actions.create_organisation(
                db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            land = actions.create_organisation(
                db,
                actor=ROOT,
                kind="department",
                code="330000-land",
                name="浙江省自然资源厅",
                division_code="330000",
                parent_id=province.id,
            )
            for login, role in (("land-steward", "data_steward"), ("land-clerk", "reviewer")):
                actions.add_staff_member(
                    db,
                    actor=ROOT,
                    org_id=land.id,
                    login_name=login,
                    display_name=login,
                    role=role,
                    password=PASSWORD,
                )
            catalogue.catalogue_resource(db, actor=ROOT, spec=real_estate_spec(land.id))
    finally:
        engine.dispose()


def test_load_prints_progress_summary_and_first_rejections(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = new_database(migrate=True)
    prepare(url)
    rows = [
        {
            "certificate_no": f"浙(2025)不动产权第{i:07d}号",
            "holder_id": GOOD_ID if i != 3 else GOOD_ID[:-1] + ("1" if GOOD_ID[-1] != "1" else "2"),
            "holder_name": "王五",
            "address": "西湖区",
            "area": "70",
            "usage": "住宅",
            "registered_on": "2025-01-02",
            "district": "330106",
        }
        for i in range(1, 6)
    ]
    path = tmp_path / "estate.csv"
    path.write_bytes(csv_file(rows).getvalue())
    base = ["--data-dir", str(tmp_path), "--database-url", url, "datahub", "load", ESTATE, str(path)]

    result = runner.invoke(app, base, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "5 rows read, 4 accepted (0 unchanged), 1 rejected" in output
    assert "5 rows" in output and "bytes" in output  # the progress bar
    assert "│ 4   │ holder_id │ check_char │ not a valid resident ID" in result.output  # row, field, reason

    result = runner.invoke(app, [*base, "--as-login", "land-steward"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "(4 unchanged)" in " ".join(result.output.split())

    refused = runner.invoke(app, [*base, "--as-login", "land-clerk"])
    assert refused.exit_code == 2 and "data steward" in refused.output
    unknown = runner.invoke(app, [*base, "--as-login", "nobody"])
    assert unknown.exit_code == 2 and "nobody" in unknown.output

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            batches = db.scalars(select(Batch).order_by(Batch.started_at)).all()
            assert [(b.source, b.rows_accepted) for b in batches] == [("cli", 4), ("cli", 4)]
            assert batches[0].submitted_by == "system:cli"
            assert batches[1].submitted_by.startswith("staff:")
    finally:
        engine.dispose()
