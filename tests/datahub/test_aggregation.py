"""Aggregation: every rule names the row, field and reason; accepted rows become versions; stewards only."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.common import clock
from zerotrip.common.checks import make_resident_id, make_uscc
from zerotrip.datahub import aggregation, catalogue, queries, readers, records
from zerotrip.datahub.errors import NotSteward, UnreadableFile
from zerotrip.datahub.models import Record, RecordHistory, Rejection, Resource
from zerotrip.datahub.schemas import FieldSpec, ResourceSpec
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.errors import ScopeNotGranted
from zerotrip.problems import ValidationFailed

from .conftest import DatahubWorld, county_stats_spec

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
ESTATE = "330100-land.real-estate"
COUNTIES = "330100-land.registrations-by-county"
MORTGAGES = "330100-land.mortgages"


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


def estate_row(hub: DatahubWorld, i: int, **changes: str) -> dict[str, str]:
    row = {
        "certificate_no": f"浙(2024)杭州市不动产权第{i:07d}号",
        "holder_id": hub.residents[i % len(hub.residents)],
        "holder_name": "张三",
        "address": f"西湖区文三路{i}号",
        "area": "89.50",
        "usage": "住宅",
        "registered_on": "2024-05-06",
        "district": "330106",
    }
    return row | changes


def csv_file(rows: list[dict[str, str]], header: list[str] | None = None) -> io.BytesIO:
    text = io.StringIO()
    names = list(rows[0])
    writer = csv.writer(text)
    writer.writerow(header or names)
    writer.writerows([[r.get(n, "") for n in names] for r in rows])
    return io.BytesIO(text.getvalue().encode("utf-8"))


def load_csv(
    db: Session, hub: DatahubWorld, code: str, rows: list[dict[str, str]], actor: Actor | None = None
):  # type: ignore[no-untyped-def]
    resource = queries.get_resource(db, code)
    stream = readers.read_rows(csv_file(rows), format="csv", fields=queries.list_fields(db, resource.id))
    return aggregation.load_rows(
        db,
        actor=actor or hub.steward,
        resource_code=code,
        rows=stream,
        source="upload",
        filename="rows.csv",
        format="csv",
    )


def mortgage_spec(owner_org_id: int) -> ResourceSpec:
    return ResourceSpec(
        code=MORTGAGES,
        owner_org_id=owner_org_id,
        title="不动产抵押登记信息",
        subject_kind="resident_id",
        subject_field="holder_id",
        key_fields=["mortgage_no"],
        share_type="conditional",
        update_frequency="daily",
        legal_basis="《不动产登记暂行条例》",
        contact="杭州市自然资源和规划局",
        fields=[
            FieldSpec(name="mortgage_no", title="抵押登记号", is_required=True, pattern=r"DY\d{6}"),
            FieldSpec(
                name="certificate_no",
                title="不动产权证号",
                is_required=True,
                reference=f"{ESTATE}.certificate_no",
            ),
            FieldSpec(name="holder_id", title="抵押人身份证号", grade=2, check_kind="resident_id"),
            FieldSpec(name="lender_uscc", title="抵押权人信用代码", check_kind="uscc"),
            FieldSpec(name="amount", title="债权数额（万元）", type="decimal", is_required=True),
            FieldSpec(name="kind", title="抵押方式", enumeration=["一般抵押", "最高额抵押"]),
            FieldSpec(name="term_months", title="期限（月）", type="integer"),
            FieldSpec(name="registered_on", title="登记日期", type="date", max_age_days=365),
            FieldSpec(name="contract_no", title="抵押合同号", is_unique=True),
            FieldSpec(
                name="district",
                title="区县",
                check_kind="division_code",
                reference=f"{COUNTIES}.district",
            ),
        ],
    )


@pytest.fixture
def mortgages(db: Session, hub: DatahubWorld) -> DatahubWorld:
    """The real-estate register and the county statistics hold what mortgages refer to."""
    load_csv(db, hub, ESTATE, [estate_row(hub, i) for i in range(1, 4)])
    counties = [{"district": d, "month": "2026-05", "registrations": "10"} for d in ("330106", "330108")]
    load_csv(db, hub, COUNTIES, counties)
    catalogue.catalogue_resource(db, actor=hub.steward, spec=mortgage_spec(hub.land.id))
    db.flush()
    return hub


def mortgage_row(hub: DatahubWorld, n: int, **changes: str) -> dict[str, str]:
    row = {
        "mortgage_no": f"DY{n:06d}",
        "certificate_no": estate_row(hub, 1)["certificate_no"],
        "holder_id": hub.residents[0],
        "lender_uscc": make_uscc(division_code="330100", serial=n),
        "amount": "120.50",
        "kind": "一般抵押",
        "term_months": "240",
        "registered_on": "2026-03-01",
        "contract_no": f"HT-{n}",
        "district": "330106",
    }
    return row | changes


def test_good_rows_become_versions_and_unchanged_rows_are_counted(db: Session, hub: DatahubWorld) -> None:
    rows = [estate_row(hub, i) for i in range(1, 6)]
    first = load_csv(db, hub, ESTATE, rows)
    assert (first.rows_total, first.rows_accepted, first.rows_rejected, first.rows_unchanged) == (5, 5, 0, 0)
    assert first.status == "completed" and first.finished_at is not None
    rows[2] = rows[2] | {"area": "91", "usage": "商业"}
    second = load_csv(db, hub, ESTATE, rows)
    assert (second.rows_accepted, second.rows_unchanged, second.report["rows_written"]) == (5, 4, 1)

    record = db.scalar(
        select(Record)
        .where(Record.resource_id == hub.real_estate.id, Record.record_key == rows[2]["certificate_no"])
        .execution_options(populate_existing=True)
    )
    assert record is not None and record.version == 2 and record.batch_id == second.id
    assert record.data["area"] == "91" and record.data["usage"] == "商业"
    assert record.subject_key == hub.residents[3] and record.division_code == "330106"
    history = records.list_record_versions(db, record=record)
    assert [(v.version, v.batch_id) for v in history] == [(1, first.id), (2, second.id)]
    assert {v.changed_by for v in history} == {hub.steward.principal}
    assert history[0].data["area"] == "89.5"  # decimals are stored normalised, as text
    assert history[0].superseded_at == history[1].changed_at == NOW and history[1].superseded_at is None
    # One history row, for the one record that changed: first loads and unchanged rows write none.
    assert db.scalar(select(func.count()).select_from(RecordHistory)) == 1
    assert hub.real_estate.data_updated_at == NOW


def test_each_rule_names_the_row_the_field_and_the_reason(db: Session, mortgages: DatahubWorld) -> None:
    hub = mortgages
    bad_id = hub.residents[1][:-1] + ("0" if hub.residents[1][-1] != "0" else "1")
    rows = [
        mortgage_row(hub, 1),  # row 2: good
        mortgage_row(hub, 2, amount=""),  # 3
        mortgage_row(hub, 3, amount="一百"),  # 4
        mortgage_row(hub, 4, mortgage_no="DY12"),  # 5
        mortgage_row(hub, 5, kind="其他"),  # 6
        mortgage_row(hub, 6, holder_id=bad_id),  # 7
        mortgage_row(hub, 7, certificate_no="浙(2024)杭州市不动产权第9999999号"),  # 8
        mortgage_row(hub, 8, contract_no="HT-1"),  # 9
        mortgage_row(hub, 9, registered_on="2024-01-01"),  # 10
        mortgage_row(hub, 10, mortgage_no="DY000001"),  # 11
        mortgage_row(hub, 11, registered_on="2026-06-02"),  # 12
        mortgage_row(hub, 12, district="330110"),  # 13
        mortgage_row(hub, 13, term_months="12.5"),  # 14
        mortgage_row(hub, 14, lender_uscc="91330100MA00000000"),  # 15
        mortgage_row(hub, 15, certificate_no=estate_row(hub, 2)["certificate_no"]),  # 16: good
    ]
    batch = load_csv(db, hub, MORTGAGES, rows)
    assert (batch.rows_total, batch.rows_accepted, batch.rows_rejected) == (15, 2, 13)
    found = {
        r.row_number: (r.field, r.rule, r.reason, r.value)
        for r in db.scalars(select(Rejection).where(Rejection.batch_id == batch.id))
    }
    assert found[3][:3] == ("amount", "required", "is required")
    assert found[4] == ("amount", "type", "must be a number", "一百")
    assert found[5][:3] == ("mortgage_no", "pattern", r"does not match the pattern DY\d{6}")
    assert found[6][:3] == ("kind", "enumeration", "must be one of: 一般抵押, 最高额抵押")
    assert found[7][:3] == (
        "holder_id",
        "check_char",
        "not a valid resident ID number: check character is wrong",
    )
    assert found[8][:2] == ("certificate_no", "reference")
    assert found[8][2] == f"浙(2024)杭州市不动产权第9999999号 is not a certificate_no of {ESTATE}"
    assert found[9][:3] == ("contract_no", "unique", "is already on row 2")
    assert found[10][:3] == ("registered_on", "freshness", "is older than 365 days")
    assert found[11][:3] == (None, "duplicate_key", "the same key is already on row 2")
    assert found[12][:3] == ("registered_on", "freshness", "is in the future")
    assert found[13][:3] == ("district", "reference", f"330110 is not a district of {COUNTIES}")
    assert found[14][:3] == ("term_months", "type", "must be a whole number")
    assert found[15][:2] == ("lender_uscc", "check_char")
    counts = {(e["field"], e["rule"]): e["count"] for e in batch.report["errors"]}
    assert counts[("registered_on", "freshness")] == 2 and sum(counts.values()) == 13
    assert [e["row_number"] for e in batch.report["examples"]] == sorted(found)
    stored = db.scalars(select(Record.record_key).where(Record.resource_id == batch.resource_id)).all()
    assert sorted(stored) == ["DY000001", "DY000015"]


def test_a_row_with_several_errors_reports_each(db: Session, mortgages: DatahubWorld) -> None:
    row = mortgage_row(mortgages, 1, amount="x", kind="其他", term_months="")
    batch = load_csv(db, mortgages, MORTGAGES, [row])
    rules = db.execute(select(Rejection.field, Rejection.rule).where(Rejection.batch_id == batch.id)).all()
    assert sorted(rules) == [("amount", "type"), ("kind", "enumeration")]
    assert batch.rows_rejected == 1


def test_uniqueness_holds_against_stored_records(db: Session, mortgages: DatahubWorld) -> None:
    hub = mortgages
    load_csv(db, hub, MORTGAGES, [mortgage_row(hub, 1), mortgage_row(hub, 2)])
    # Another mortgage may not take HT-1; but DY000002 may give up HT-2 and DY000003 then take it.
    rows = [
        mortgage_row(hub, 4, contract_no="HT-1"),
        mortgage_row(hub, 2, contract_no="HT-2b"),
        mortgage_row(hub, 3, contract_no="HT-2"),
    ]
    batch = load_csv(db, hub, MORTGAGES, rows)
    assert (batch.rows_accepted, batch.rows_rejected) == (2, 1)
    rejection = db.scalar(select(Rejection).where(Rejection.batch_id == batch.id))
    assert rejection is not None and rejection.row_number == 2
    assert (rejection.rule, rejection.reason) == ("unique", "is already held by another stored record")


def test_the_load_is_audited_once(db: Session, hub: DatahubWorld) -> None:
    batch = load_csv(db, hub, ESTATE, [estate_row(hub, i) for i in range(1, 4)])
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "datahub.batch.loaded")).all()
    assert len(events) == 1
    assert events[0].subject_id == ESTATE and events[0].actor == hub.steward.principal
    assert events[0].data["batch_id"] == str(batch.id) and events[0].data["rows_accepted"] == 3


def test_only_the_owning_departments_steward_or_system_loads(db: Session, hub: DatahubWorld) -> None:
    outsider = Actor(kind="staff", name="x", grants=())
    with pytest.raises(NotSteward):
        load_csv(db, hub, ESTATE, [estate_row(hub, 1)], actor=outsider)
    no_scope = hub.consumer_actor(db)
    with pytest.raises(ScopeNotGranted):
        aggregation.push_records(db, actor=no_scope, resource_code=ESTATE, records=[estate_row(hub, 1)])
    other_department = hub.consumer_actor(db, frozenset({aggregation.WRITE_SCOPE}))
    with pytest.raises(NotSteward):
        aggregation.push_records(
            db, actor=other_department, resource_code=ESTATE, records=[estate_row(hub, 1)]
        )
    own = Actor(kind="client", client_id="zt-land", client_org_id=hub.land.id, scopes=other_department.scopes)
    batch = aggregation.push_records(db, actor=own, resource_code=ESTATE, records=[estate_row(hub, 1)])
    assert batch.rows_accepted == 1 and batch.submitted_by == "client:zt-land"


def test_pushed_records_take_json_values_and_refuse_unknown_fields(db: Session, hub: DatahubWorld) -> None:
    records: list[dict[str, object]] = [
        estate_row(hub, 1) | {"area": 120, "registered_on": date(2024, 1, 2).isoformat()},
        estate_row(hub, 2) | {"colour": "red"},
        estate_row(hub, 3) | {"area": [1, 2]},
    ]
    batch = aggregation.push_records(db, actor=hub.steward, resource_code=ESTATE, records=records)
    assert (batch.rows_accepted, batch.rows_rejected, batch.format, batch.source) == (1, 2, "records", "push")
    found = {(r.row_number, r.field, r.rule) for r in db.scalars(select(Rejection))}
    assert found == {(2, "colour", "unknown_field"), (3, "area", "type")}


def test_rejections_are_kept_up_to_a_cap_but_all_are_counted(
    db: Session, hub: DatahubWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aggregation, "REJECTIONS_KEPT", 3)
    monkeypatch.setattr(aggregation, "CHUNK_ROWS", 2)  # and the chunks' seams change nothing
    rows = [estate_row(hub, i, area="n/a") for i in range(1, 6)] + [estate_row(hub, 1)]
    rows.append(estate_row(hub, 1, holder_name="李四"))
    batch = load_csv(db, hub, ESTATE, rows)
    assert (batch.rows_rejected, batch.rows_accepted, batch.report["rejections_kept"]) == (6, 1, 3)
    page, total = aggregation.list_rejections(db, actor=hub.steward, batch_id=batch.id, page=1, per_page=2)
    assert total == 3 and [r.row_number for r in page] == [2, 3]
    assert batch.report["errors"] == [
        {"field": "area", "rule": "type", "count": 5},
        {"field": None, "rule": "duplicate_key", "count": 1},
    ]


def test_quality_report_over_recent_loads(db: Session, hub: DatahubWorld) -> None:
    load_csv(db, hub, ESTATE, [estate_row(hub, 1), estate_row(hub, 2, usage="农业")])
    load_csv(db, hub, ESTATE, [estate_row(hub, 1), estate_row(hub, 3, usage="农业")])
    report = aggregation.quality_report(db, actor=hub.steward, resource_code=ESTATE)
    assert (report["rows_total"], report["rows_accepted"], report["rows_rejected"]) == (4, 2, 2)
    assert report["accepted_rate"] == 0.5 and report["records_current"] == 1
    assert report["top_failing_rules"] == [{"field": "usage", "rule": "enumeration", "count": 2}]
    assert len(report["batches"]) == 2 and report["rows_unchanged"] == 1
    with pytest.raises(NotSteward):
        aggregation.quality_report(db, actor=Actor(kind="staff", grants=()), resource_code=ESTATE)


def test_an_unreadable_header_refuses_the_file_whole(db: Session, hub: DatahubWorld) -> None:
    resource = queries.get_resource(db, ESTATE)
    bad = csv_file([estate_row(hub, 1) | {"colour": "red"}])
    with pytest.raises(UnreadableFile, match="unknown columns: colour"):
        readers.read_rows(bad, format="csv", fields=queries.list_fields(db, resource.id))


def test_pushes_are_limited(db: Session, hub: DatahubWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregation, "PUSH_LIMIT", 2)
    with pytest.raises(ValidationFailed):
        aggregation.push_records(
            db, actor=hub.steward, resource_code=ESTATE, records=[estate_row(hub, i) for i in range(3)]
        )


def test_resident_ids_are_stored_normalised(db: Session, hub: DatahubWorld) -> None:
    with_x = next(
        make_resident_id(division_code="330106", birth_date=date(1990, 1, 1), sequence=s, sex="female")
        for s in range(0, 999, 2)
        if make_resident_id(division_code="330106", birth_date=date(1990, 1, 1), sequence=s, sex="female")[-1]
        == "X"
    )
    load_csv(db, hub, ESTATE, [estate_row(hub, 1, holder_id=with_x.lower())])
    record = db.scalar(select(Record).where(Record.resource_id == hub.real_estate.id))
    assert record is not None and record.data["holder_id"] == with_x and record.subject_key == with_x


def test_a_deleted_record_comes_back_as_a_new_version(db: Session, hub: DatahubWorld) -> None:
    load_csv(db, hub, ESTATE, [estate_row(hub, 1)])
    record = db.scalar(select(Record).where(Record.resource_id == hub.real_estate.id))
    assert record is not None
    records.delete_record(db, resource=hub.real_estate, record=record, changed_by="test")
    db.flush()
    batch = load_csv(db, hub, ESTATE, [estate_row(hub, 1)])
    assert (batch.rows_accepted, batch.rows_unchanged, batch.report["rows_written"]) == (1, 0, 1)
    db.refresh(record)
    assert (record.version, record.is_deleted, record.batch_id) == (3, False, batch.id)
    states = records.list_record_versions(db, record=record)
    assert [(s.version, s.is_deleted) for s in states] == [(1, False), (2, True), (3, False)]
    assert states[1].changed_by == "test" and states[2].batch_id == batch.id


@pytest.mark.postgres_only
def test_a_load_holds_its_resource_so_loads_of_one_resource_queue(new_database: Callable[..., str]) -> None:
    """With real transactions: while a load runs, nobody else can lock the resource's row (so version ids
    commit in order per resource, and return feeds pause until the load commits)."""
    engine = make_engine(new_database(migrate=True))
    factory = make_sessionmaker(engine)
    root = system("test")
    try:
        with factory() as db, transaction(db):
            province = actions.create_organisation(
                db, actor=root, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            code = catalogue.catalogue_resource(db, actor=root, spec=county_stats_spec(province.id)).code
        checked: list[bool] = []

        def rows() -> Iterator[tuple[int, dict[str, object]]]:
            with factory() as other:
                locking = select(Resource.id).where(Resource.code == code).with_for_update(nowait=True)
                with pytest.raises(OperationalError, match="lock"):
                    other.execute(locking)
                checked.append(True)
            yield 2, {"district": "330106", "month": "2026-05", "registrations": "3"}

        with factory() as db, transaction(db):
            batch = aggregation.load_rows(
                db, actor=root, resource_code=code, rows=rows(), source="cli", format="csv"
            )
        assert checked == [True] and batch.rows_accepted == 1
    finally:
        engine.dispose()


def test_history_rows_appear_only_when_a_record_changes(db: Session, hub: DatahubWorld) -> None:
    """System-versioned storage (ADR 0001): a first load writes one row per record and no history; an
    unchanged reload writes nothing; a change keeps the replaced state, with who, when and which batch."""
    rows = [estate_row(hub, i) for i in range(1, 4)]
    history = select(func.count()).select_from(RecordHistory)
    first = load_csv(db, hub, ESTATE, rows)
    assert db.scalar(history) == 0
    seqs = dict(db.execute(select(Record.record_key, Record.change_seq)).all())
    load_csv(db, hub, ESTATE, rows)
    assert db.scalar(history) == 0
    assert dict(db.execute(select(Record.record_key, Record.change_seq)).all()) == seqs

    later = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
    with clock.frozen(later):
        third = load_csv(db, hub, ESTATE, [rows[0] | {"area": "90"}, *rows[1:]], actor=hub.steward)
    (old,) = db.scalars(select(RecordHistory)).all()
    key = rows[0]["certificate_no"]
    record = db.scalars(
        select(Record).where(Record.record_key == key).execution_options(populate_existing=True)
    ).one()
    assert (old.record_id, old.version, old.data["area"], old.is_deleted) == (record.id, 1, "89.5", False)
    assert (old.batch_id, old.changed_by, old.changed_at, old.superseded_at) == (
        first.id,
        hub.steward.principal,
        NOW,
        later,
    )
    assert old.change_seq == seqs[key] < record.change_seq
    assert (record.version, record.batch_id, record.updated_at, record.data["area"]) == (
        2,
        third.id,
        later,
        "90",
    )
    assert max(seqs.values()) < record.change_seq  # the feed sends it again, once


def test_no_record_or_history_row_points_nowhere(db: Session, mortgages: DatahubWorld) -> None:
    """The record tables carry no foreign keys (ADR 0001): integrity comes from writing them only through
    ``records.py``, which this checks after loads, a change, a deletion and a correction-like upsert."""
    hub = mortgages
    load_csv(db, hub, ESTATE, [estate_row(hub, i, area="70") for i in range(1, 5)])
    record = db.scalars(select(Record).where(Record.resource_id == hub.real_estate.id)).first()
    assert record is not None
    records.delete_record(db, resource=hub.real_estate, record=record, changed_by="test")
    records.upsert_record(db, resource=hub.real_estate, data=dict(record.data), changed_by="test")
    db.flush()
    resources = select(Resource.id)
    batches = select(aggregation.Batch.id)
    for table in (Record, RecordHistory):
        assert (
            db.scalar(select(func.count()).select_from(table).where(table.resource_id.not_in(resources))) == 0
        )
        orphans = select(func.count()).select_from(table)
        assert db.scalar(orphans.where(table.batch_id.is_not(None), table.batch_id.not_in(batches))) == 0
    assert db.scalar(select(func.count()).select_from(RecordHistory)) >= 4
    homeless = (
        select(func.count())
        .select_from(RecordHistory)
        .where(RecordHistory.record_id.not_in(select(Record.id)))
    )
    assert db.scalar(homeless) == 0


@pytest.mark.postgres_only
def test_concurrent_loads_of_one_resource_queue_and_see_each_other(new_database: Callable[..., str]) -> None:
    """With real transactions, two loads of one resource at once: the second waits for the first's lock,
    then finds its records stored (no duplicate keys, a change where the data differ), and its change
    numbers all follow the first's, so a feed reader never passes one of them early."""
    engine = make_engine(new_database(migrate=True))
    factory = make_sessionmaker(engine)
    root = system("test")
    try:
        with factory() as db, transaction(db):
            province = actions.create_organisation(
                db, actor=root, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            code = catalogue.catalogue_resource(db, actor=root, spec=county_stats_spec(province.id)).code
        districts = ["330102", "330105", "330106", "330108", "330109", "330110"]
        first = [{"district": d, "month": "2026-05", "registrations": "3"} for d in districts[:4]]
        second = [{"district": d, "month": "2026-05", "registrations": "5"} for d in districts[2:]]
        started = threading.Event()
        batches: dict[str, aggregation.Batch] = {}
        errors: list[BaseException] = []

        def slow_rows(rows: list[dict[str, str]]) -> Iterator[tuple[int, dict[str, object]]]:
            started.set()
            for number, row in enumerate(rows, start=2):
                time.sleep(0.1)  # the first load is still running when the second begins
                yield number, row

        def run(name: str, rows: Iterator[tuple[int, dict[str, object]]]) -> None:
            try:
                with factory() as db, transaction(db):
                    batches[name] = aggregation.load_rows(
                        db, actor=root, resource_code=code, rows=rows, source="cli", format="csv"
                    )
            except BaseException as exc:  # reported below
                errors.append(exc)

        one = threading.Thread(target=run, args=("first", slow_rows(first)))
        one.start()
        started.wait(5)
        time.sleep(0.05)
        two = threading.Thread(target=run, args=("second", enumerate(second, start=2)))
        two.start()
        one.join(30)
        two.join(30)
        assert errors == []
        with factory() as db:
            rows = db.execute(
                select(
                    Record.data["district"].as_string(), Record.version, Record.change_seq, Record.batch_id
                )
                .join(Resource, Resource.id == Record.resource_id)
                .where(Resource.code == code)
                .order_by(Record.change_seq)
            ).all()
            assert sorted(r[0] for r in rows) == districts  # one record per key
            first_seqs = [r[2] for r in rows if r[3] == batches["first"].id]
            second_seqs = [r[2] for r in rows if r[3] == batches["second"].id]
            assert len(first_seqs) == 2 and len(second_seqs) == 4
            assert max(first_seqs) < min(second_seqs)
            assert {r[0]: r[1] for r in rows}["330106"] == 2  # changed by the second load
            assert batches["second"].report["rows_written"] == 4
            history = db.scalars(select(RecordHistory.batch_id)).all()
            assert history == [batches["first"].id] * 2
    finally:
        engine.dispose()
