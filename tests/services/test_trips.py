"""Trip counting: every small combination against an independent reading of the rule, real-world items,
properties of the count, and the catalogue analysis."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from zerotrip.services.trips import (
    AUTO_KINDS,
    CHANNELS,
    PRESENCES,
    SOURCE_KINDS,
    Holder,
    Item,
    Material,
    Source,
    Step,
    analyse,
    band_of,
    count_trips,
    shared,
    step_order_problem,
)

LAND = Holder("datahub", "330000-land.real-estate")
HOUSEHOLD = Holder("datahub", "330000-psb.household")
MARRIAGE = Holder("certificate", "marriage")


def item(
    *materials: Material,
    channels: tuple[str, ...] = ("online",),
    promised_days: int = 5,
    presence: tuple[str, str, str, str] = ("none", "none", "none", "none"),
    code: str = "X-1",
    department: str = "杭州市民政局",
    level: str = "city",
) -> Item:
    kinds = ("accept", "review", "decide", "issue")
    return Item(
        code=code,
        name="测试事项",
        department=department,
        level=level,
        channels=frozenset(channels),
        promised_days=promised_days,
        materials=materials,
        steps=tuple(Step(k, p) for k, p in zip(kinds, presence, strict=True)),  # type: ignore[arg-type]
    )


def m(name: str, kind: str, held_by: Holder | None = None, ref: str | None = None) -> Material:
    return Material(name, Source(kind=kind, ref=ref, held_by=held_by))  # type: ignore[arg-type]


def oracle(channels: frozenset[str], promised_days: int, kinds: list[str], presence: list[str]) -> int:
    """The rule read as a timeline: mark each step P (the applicant is there) or W (nobody waits for
    them); on-the-spot items are one sitting; otherwise every P that follows a W or starts the line is a
    new visit."""
    line = []
    for index, p in enumerate(presence):
        here = p == "onsite"
        if index == 0:
            here = here or "onsite" in kinds or not ({"online", "mail"} & channels)
        line.append("P" if here else "W")
    if promised_days == 0:
        return 1 if "P" in line else 0
    return "".join(line).replace("W", " ").split().__len__()


def test_every_small_item_matches_the_timeline_reading_of_the_rule() -> None:
    checked = 0
    for r in range(len(CHANNELS) + 1):
        for channels in itertools.combinations(CHANNELS, r):
            for days in (0, 1, 20):
                for presence in itertools.product(PRESENCES, repeat=4):
                    for kinds in itertools.combinations_with_replacement(SOURCE_KINDS, 2):
                        materials = tuple(m(f"材料{i}", k) for i, k in enumerate(kinds))
                        it = item(*materials, channels=channels, promised_days=days, presence=presence)
                        expected = oracle(frozenset(channels), days, list(kinds), list(presence))
                        assert count_trips(it).trips == expected, it
                        checked += 1
    assert checked == 16 * 3 * 81 * 21


def test_real_world_shapes() -> None:
    # Housing-fund withdrawal for renting: everything fetched, applied for online, paid to the account.
    fund = item(
        m("不动产登记信息", "datahub", ref="330000-land.real-estate"),
        m("住房公积金缴存明细", "datahub", ref="330100-fund.contributions"),
        m("承诺书", "commitment"),
        promised_days=0,
    )
    assert count_trips(fund).trips == 0
    # Marriage registration: both parties sign in person and take the certificate home the same day.
    marriage = item(
        m("居民户口簿", "onsite", held_by=HOUSEHOLD),
        channels=("window",),
        promised_days=0,
        presence=("onsite", "none", "none", "onsite"),
    )
    count = count_trips(marriage)
    assert count.trips == 1
    assert [r.kind for r in count.visits[0].reasons] == ["apply", "material", "step", "step"]
    # A licence applied for online, inspected at the premises and then collected at the counter.
    licence = item(presence=("none", "inspection", "none", "onsite"), promised_days=20)
    assert count_trips(licence).trips == 1
    assert count_trips(licence).visits[0].steps == ("issue",)
    # Applied for at the counter with an original, and the paper licence collected later: two trips.
    paper = item(
        m("营业执照原件", "onsite"), channels=("window",), presence=("none", "none", "none", "onsite")
    )
    assert count_trips(paper).trips == 2
    assert count_trips(paper).band == "more"


def test_uploads_and_inspections_cost_no_trip() -> None:
    assert count_trips(item(m("租房合同", "upload"))).trips == 0
    assert count_trips(item(presence=("none", "inspection", "inspection", "none"))).trips == 0


def test_changing_a_materials_source_changes_the_count() -> None:
    onsite = item(m("结婚证", "onsite", held_by=MARRIAGE))
    assert count_trips(onsite).trips == 1
    fetched = item(m("结婚证", "certificate", ref="marriage"))
    assert count_trips(fetched).trips == 0
    assert shared(onsite, MARRIAGE).materials[0].source == Source("certificate", "marriage")


def test_step_order() -> None:
    assert step_order_problem(["accept", "decide", "issue"]) is None
    assert step_order_problem(["accept", "review", "review", "decide", "issue"]) is None
    bad_orders = (
        [],
        ["accept"],
        ["review", "accept", "decide", "issue"],
        ["accept", "decide", "decide", "issue"],
    )
    for bad in bad_orders:
        assert step_order_problem(bad) is not None, bad


def test_bands() -> None:
    assert [band_of(n) for n in range(4)] == ["zero", "one", "more", "more"]


# -- properties ---------------------------------------------------------------------------------------

holders = st.sampled_from([LAND, HOUSEHOLD, MARRIAGE, None])
sources = st.one_of(
    st.builds(Source, kind=st.sampled_from(sorted(AUTO_KINDS)), ref=st.just("ref")),
    st.builds(Source, kind=st.sampled_from(["upload", "onsite"]), held_by=holders),
)
names = st.sampled_from(["户口簿", "结婚证", "房产证明", "照片"])
materials = st.lists(st.builds(Material, name=names, source=sources), max_size=5)
items = st.builds(
    lambda mats, channels, days, presence, reviews, dept, level: Item(
        code="C",
        name="事项",
        department=dept,
        level=level,
        channels=frozenset(channels),
        promised_days=days,
        materials=tuple(mats),
        steps=(
            Step("accept", presence[0]),
            *(Step("review", p) for p in presence[1 : 1 + reviews]),
            Step("decide", presence[-2]),
            Step("issue", presence[-1]),
        ),
    ),
    materials,
    st.sets(st.sampled_from(CHANNELS)),
    st.sampled_from([0, 1, 15]),
    st.lists(st.sampled_from(PRESENCES), min_size=5, max_size=5),
    st.integers(0, 2),
    st.sampled_from(["甲局", "乙局", "丙中心"]),
    st.sampled_from(["province", "city", "county"]),
)


@given(items)
def test_trips_are_bounded(it: Item) -> None:
    count = count_trips(it)
    assert 0 <= count.trips <= len(it.steps)
    if it.promised_days == 0:
        assert count.trips <= 1
    if (
        not any(s.presence == "onsite" for s in it.steps)
        and not any(mm.source.kind == "onsite" for mm in it.materials)
        and it.channels & {"online", "mail"}
    ):
        assert count.trips == 0


@given(items, st.data())
def test_fetching_a_material_never_adds_a_trip(it: Item, data: st.DataObject) -> None:
    if not it.materials:
        return
    index = data.draw(st.integers(0, len(it.materials) - 1))
    kind = data.draw(st.sampled_from([*sorted(AUTO_KINDS), "upload"]))
    changed = list(it.materials)
    changed[index] = Material(changed[index].name, Source(kind, ref="r"))  # type: ignore[arg-type]
    assert count_trips(Item(**{**_fields(it), "materials": tuple(changed)})).trips <= count_trips(it).trips


@given(items)
def test_an_online_channel_never_adds_a_trip_and_uploads_never_count(it: Item) -> None:
    online = Item(**{**_fields(it), "channels": it.channels | {"online"}})
    assert count_trips(online).trips <= count_trips(it).trips
    without_uploads = Item(
        **{**_fields(it), "materials": tuple(mm for mm in it.materials if mm.source.kind != "upload")}
    )
    assert count_trips(without_uploads).trips == count_trips(it).trips


@given(st.lists(items, max_size=12), st.randoms())
def test_the_analysis_adds_up_and_does_not_depend_on_order(found: list[Item], rnd: random.Random) -> None:
    found = [Item(**{**_fields(it), "code": f"C{i}"}) for i, it in enumerate(found)]
    result = analyse(found)
    assert result.total.total == len(found)
    assert sum(b.total for _, b in result.by_level) == len(found)
    assert sum(r.bands.total for r in result.by_department) == len(found)
    for band in ("zero", "one", "more"):
        assert getattr(result.total, band) == sum(1 for it in found if count_trips(it).band == band)
    for w in result.what_if:
        affected = [it for it in found if any(mm.source.held_by == w.holder for mm in it.materials)]
        assert w.items == len(affected)
        assert w.fewer_trips == sum(
            1 for it in affected if count_trips(shared(it, w.holder)).trips < count_trips(it).trips
        )
        assert w.to_zero == sum(
            1 for it in affected if count_trips(it).trips > 0 and count_trips(shared(it, w.holder)).trips == 0
        )
        assert w.to_zero <= w.items and w.fewer_trips <= w.items
    for f in result.forcing:
        assert f.sole <= f.items
        # The sole-reason count agrees with counting again without the material.
        holding = [
            it
            for it in found
            if any((mm.name, mm.source.held_by) == (f.name, f.held_by) for mm in it.materials)
        ]
        assert f.items == sum(
            1
            for it in holding
            if any(
                (mm.name, mm.source.held_by) == (f.name, f.held_by) and mm.source.needs_presence
                for mm in it.materials
            )
        )
        assert f.sole == sum(
            1
            for it in holding
            if count_trips(
                Item(
                    **{
                        **_fields(it),
                        "materials": tuple(
                            mm for mm in it.materials if (mm.name, mm.source.held_by) != (f.name, f.held_by)
                        ),
                    }
                )
            ).trips
            < count_trips(it).trips
        )
    shuffled = list(found)
    rnd.shuffle(shuffled)
    assert analyse(shuffled).as_dict() == result.as_dict()


def _fields(it: Item) -> dict[str, object]:
    return {name: getattr(it, name) for name in Item.__slots__}


def test_the_analysis_of_a_small_catalogue() -> None:
    catalogue = [
        item(m("户口簿", "onsite", held_by=HOUSEHOLD), code="A", department="民政局", level="county"),
        item(
            m("户口簿", "onsite", held_by=HOUSEHOLD),
            m("不动产权证", "onsite", held_by=LAND),
            code="B",
            department="民政局",
            level="county",
        ),
        item(m("户口簿", "onsite", held_by=HOUSEHOLD), code="C", presence=("none", "none", "none", "onsite")),
        item(m("结婚证", "certificate", ref="marriage"), code="D", level="province", department="民政厅"),
    ]
    result = analyse(catalogue)
    assert result.total.as_dict() == {"zero": 1, "one": 2, "more": 1, "total": 4}
    assert [(lvl, b.as_dict()["total"]) for lvl, b in result.by_level] == [
        ("province", 1),
        ("city", 1),
        ("county", 2),
    ]
    assert [(r.department, r.level) for r in result.by_department] == [
        ("民政厅", "province"),
        ("杭州市民政局", "city"),
        ("民政局", "county"),
    ]
    by_holder = {w.holder: w for w in result.what_if}
    assert (by_holder[HOUSEHOLD].items, by_holder[HOUSEHOLD].fewer_trips, by_holder[HOUSEHOLD].to_zero) == (
        3,
        2,
        1,
    )
    assert (by_holder[LAND].items, by_holder[LAND].fewer_trips, by_holder[LAND].to_zero) == (1, 0, 0)
    assert result.what_if[0].holder == HOUSEHOLD
    forcing = {(f.name, f.held_by): (f.items, f.sole) for f in result.forcing}
    assert forcing == {("户口簿", HOUSEHOLD): (3, 2), ("不动产权证", LAND): (1, 0)}
    assert result.trips == {"A": 1, "B": 1, "C": 2, "D": 0}


def test_levels_sort_province_city_county_then_anything_else() -> None:
    levels = ["街道", "county", "province", "city"]
    result = analyse([item(code=f"Z{i}", level=level) for i, level in enumerate(levels)])
    assert [level for level, _ in result.by_level] == ["province", "city", "county", "街道"]
