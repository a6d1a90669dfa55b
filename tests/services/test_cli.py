"""``zerotrip services trips`` on a CSV catalogue: the figures as Rich tables and as JSON, and a bad file;
``export`` and ``escalate`` on a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from zerotrip.cli import app
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.keys import KeyStore
from zerotrip.services import catalogue_csv, queries
from zerotrip.services.models import Application

from .workflow_world import build_workflow_world, submitted_application
from .world import build_world

runner = CliRunner()
CATALOGUE = """code,name,department,level,channels,promised_days,materials,steps
A-001,无房租赁提取住房公积金,杭州住房公积金管理中心,city,online,0,不动产=datahub:330000-land.real-estate(exists),
A-002,结婚登记,西湖区民政局,county,window,0,户口簿=onsite@datahub:330000-psb.household,accept:onsite;decide;issue:onsite
A-003,食品经营许可,西湖区市场监督管理局,county,online,10,平面图=upload;营业执照原件=onsite@certificate:business-licence,accept;review:inspection;decide;issue:onsite
A-004,户口迁移,西湖区公安分局,county,online,5,户口簿=onsite@datahub:330000-psb.household,
"""


def test_the_figures_as_json_and_as_tables(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    result = runner.invoke(app, ["services", "trips", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["total"] == {"zero": 1, "one": 2, "more": 1, "total": 4}
    assert figures["by_level"] == [
        {"level": "city", "zero": 1, "one": 0, "more": 0, "total": 1},
        {"level": "county", "zero": 0, "one": 2, "more": 1, "total": 3},
    ]
    assert figures["what_if"][0] == {
        "holder": "datahub:330000-psb.household",
        "materials": 2,
        "items": 2,
        "fewer_trips": 1,
        "to_zero": 1,
    }
    assert {f["name"]: (f["items"], f["sole"]) for f in figures["forcing_materials"]} == {
        "户口簿": (2, 1),
        "营业执照原件": (1, 1),
    }

    shown = runner.invoke(
        app, ["services", "trips", str(path)], catch_exceptions=False, env={"COLUMNS": "200"}
    )
    assert shown.exit_code == 0, shown.output
    assert "4 items; 1 need no trip, 2 one, 1 more than one." in shown.output
    assert "西湖区市场监督管理局" in shown.output and "datahub:330000-psb.household" in shown.output
    assert "25.0%" in shown.output  # the zero-trip share of the whole catalogue


def test_a_bad_catalogue_is_refused_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CATALOGUE.replace("county,window", "county,fax"), encoding="utf-8")
    result = runner.invoke(app, ["services", "trips", str(path)])
    assert result.exit_code == 2
    assert "The catalogue file cannot be read" in result.output
    assert "rows/3/channels: not channels: fax" in result.output
    latin = tmp_path / "latin.csv"
    latin.write_bytes("code,name\nA,\xe9\n".encode("latin-1"))
    result = runner.invoke(app, ["services", "trips", str(latin)])
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_export_writes_the_stored_catalogue(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = new_database(migrate=True)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            build_world(db)
        with make_sessionmaker(engine)() as db:
            stored = queries.catalogue(db)
    finally:
        engine.dispose()
    target = tmp_path / "exported.csv"
    result = runner.invoke(
        app, ["--data-dir", str(tmp_path), "--database-url", url, "services", "export", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 2 items" in result.output
    with target.open(encoding="utf-8") as handle:
        assert catalogue_csv.read_catalogue(handle) == stored
    figures = runner.invoke(app, ["services", "trips", str(target), "--json"])
    assert json.loads(figures.output)["total"] == {"zero": 1, "one": 1, "more": 0, "total": 2}


def test_escalate_flags_overdue_applications_once(new_database, tmp_path: Path, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    url = new_database(migrate=True)
    own = settings.model_copy(update={"database_url": url, "data_dir": tmp_path})
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db, transaction(db):
            world = build_workflow_world(db, own)
            with clock.frozen(datetime(2024, 3, 4, 9, 0, tzinfo=UTC)):
                number = submitted_application(
                    db, world, world.xihu_resident, KeyStore(tmp_path / "keys")
                ).number
        args = ["--data-dir", str(tmp_path), "--database-url", url, "services", "escalate"]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "Escalated 1 overdue applications" in first.output
        assert "Escalated 0 overdue" in runner.invoke(app, args).output
        with make_sessionmaker(engine)() as db:
            escalated = db.scalar(select(Application).where(Application.number == number))
            assert escalated is not None and escalated.escalated_to_org_id == world.city_civil_id
    finally:
        engine.dispose()
