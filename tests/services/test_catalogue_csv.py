"""CSV catalogues: the notation reads back what it writes, and a bad file says where it is wrong."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerotrip.services import catalogue_csv, trips
from zerotrip.services.catalogue_csv import CatalogueRow, parse_materials, parse_source, parse_steps
from zerotrip.services.errors import InvalidCatalogueFile

HEADER = "code,name,department,level,channels,promised_days,materials,steps"

holders = st.one_of(
    st.none(),
    st.builds(trips.Holder, kind=st.just("certificate"), ref=st.sampled_from(["marriage", "no-real-estate"])),
    st.builds(trips.Holder, kind=st.just("datahub"), ref=st.sampled_from(["330000-psb.household"])),
)
sources = st.one_of(
    st.builds(trips.Source, kind=st.just("certificate"), ref=st.sampled_from(["birth-medical", "marriage"])),
    st.builds(
        trips.Source,
        kind=st.just("datahub"),
        ref=st.just("330000-land.real-estate"),
        fields=st.lists(st.sampled_from(["holder_id", "address", "area"]), min_size=1, unique=True).map(
            tuple
        ),
    ),
    st.builds(
        trips.Source,
        kind=st.just("datahub"),
        ref=st.just("330100-fund.contributions"),
        is_exists=st.just(True),
    ),
    st.builds(trips.Source, kind=st.just("commitment")),
    st.builds(trips.Source, kind=st.just("prior_result"), ref=st.just("330106-health-0001")),
    st.builds(trips.Source, kind=st.sampled_from(["upload", "onsite"]), held_by=holders),
)
names = st.text(
    alphabet=st.sampled_from("户口簿结婚证（原件）复印件 ABCabc123、,.-"), min_size=1, max_size=12
).filter(lambda n: n.strip() == n and n)
rows = st.builds(
    lambda code, name, materials, steps, channels, days, level, events, instant: CatalogueRow(
        item=trips.Item(
            code=code,
            name=name,
            department="杭州市民政局",
            level=level,
            channels=frozenset(channels),
            promised_days=days,
            materials=tuple({m.name: m for m in materials}.values()),
            steps=steps,
        ),
        type="licensing",
        statutory_days=days + 5,
        is_instant=instant,
        life_events=tuple(events),
    ),
    st.integers(0, 10**6).map(lambda n: f"330100-fund-{n:04d}"),
    names,
    st.lists(st.builds(trips.Material, name=names, source=sources), max_size=6),
    st.sampled_from(
        [
            trips.DEFAULT_STEPS,
            (trips.Step("accept", "onsite"), trips.Step("decide"), trips.Step("issue", "onsite")),
            (
                trips.Step("accept"),
                trips.Step("review", "inspection"),
                trips.Step("review"),
                trips.Step("decide"),
                trips.Step("issue"),
            ),
        ]
    ),
    st.sets(st.sampled_from(trips.CHANNELS), min_size=1),
    st.integers(0, 60),
    st.sampled_from(trips.LEVELS),
    st.lists(st.sampled_from(["birth", "marriage", "renting"]), unique=True),
    st.booleans(),
)


@settings(max_examples=60)
@given(st.lists(rows, max_size=8, unique_by=lambda r: r.item.code))
def test_a_written_catalogue_reads_back_as_the_same_items(written: list[CatalogueRow]) -> None:
    out = io.StringIO()
    assert catalogue_csv.write_catalogue(out, written) == len(written)
    read = catalogue_csv.read_rows(io.StringIO(out.getvalue()))
    assert read == written
    assert trips.analyse(r.item for r in read).as_dict() == trips.analyse(r.item for r in written).as_dict()


def test_the_notation() -> None:
    assert parse_source("datahub:330000-land.real-estate(exists)") == trips.Source(
        "datahub", "330000-land.real-estate", is_exists=True
    )
    assert parse_source(" datahub:330000-land.real-estate(holder_id, area) ").fields == ("holder_id", "area")
    assert parse_source("onsite@certificate:marriage").held_by == trips.Holder("certificate", "marriage")
    assert parse_source("upload") == trips.Source("upload")
    materials = parse_materials("户口簿=onsite@datahub:330000-psb.household; 照片=upload;")
    assert [m.name for m in materials] == ["户口簿", "照片"]
    assert parse_steps("") == trips.DEFAULT_STEPS
    assert parse_steps("accept:onsite;decide;issue:onsite")[2] == trips.Step("issue", "onsite")
    for bad, message in (
        ("datahub:330000-land.real-estate", "named fields or asks"),
        ("paper", "source kind"),
        ("certificate", "valid code"),
        ("upload@paper:x", "held_by is"),
        ("onsite(", "KIND"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_source(bad)
    with pytest.raises(ValueError, match="NAME=SOURCE"):
        parse_materials("户口簿")
    with pytest.raises(ValueError, match="twice"):
        parse_materials("户口簿=upload;户口簿=onsite")
    with pytest.raises(ValueError, match="not a step"):
        parse_steps("accept;approve;issue")
    with pytest.raises(ValueError, match="not a presence"):
        parse_steps("accept:remote;decide;issue")
    with pytest.raises(ValueError, match="steps must be"):
        parse_steps("accept;issue")


def test_levels_in_chinese_blank_lines_and_a_byte_order_mark() -> None:
    text = (
        "\ufeff" + HEADER + ",unknown_column\n"
        "A-001,出生医学证明申领,省卫健委,省级,online,0,出生信息=datahub:330000-health.births(child_name),,x\n"
        "\n"
        "A-002,婚姻登记,区民政局,县级,window,0,户口簿=onsite,accept:onsite;decide;issue,\n"
    )
    items = catalogue_csv.read_catalogue(io.StringIO(text))
    assert [(i.code, i.level, trips.count_trips(i).trips) for i in items] == [
        ("A-001", "province", 0),
        ("A-002", "county", 1),
    ]


def test_a_bad_file_points_at_rows_and_columns() -> None:
    with pytest.raises(InvalidCatalogueFile) as raised:
        catalogue_csv.read_catalogue(io.StringIO("code,name\nA-1,x\n"))
    assert "missing columns: department, level, channels, promised_days, materials" in str(
        raised.value.detail
    )
    text = (
        HEADER + "\n"
        "A-001,,局,city,online,0,,\n"
        "A-001,事项,局,town,fax,-1,户口簿,accept;issue\n"
        "A-002,事项,局,city,,3,户口簿=upload,\n"
    )
    with pytest.raises(InvalidCatalogueFile) as raised:
        catalogue_csv.read_catalogue(io.StringIO(text))
    pointers = [e["pointer"] for e in raised.value.errors]
    assert pointers == [
        "#/rows/2/name",
        "#/rows/3/code",
        "#/rows/3/level",
        "#/rows/3/channels",
        "#/rows/3/promised_days",
        "#/rows/3/materials",
        "#/rows/3/steps",
        "#/rows/4/channels",
    ]
    assert raised.value.detail == "8 problems, the first on row 2"


def test_at_most_twenty_problems_are_listed() -> None:
    text = HEADER + "\n" + "".join(f"A-{n:03d},事项,局,city,online,soon,,\n" for n in range(50))
    with pytest.raises(InvalidCatalogueFile) as raised:
        catalogue_csv.read_catalogue(io.StringIO(text))
    assert len(raised.value.errors) == catalogue_csv.MAX_ERRORS
