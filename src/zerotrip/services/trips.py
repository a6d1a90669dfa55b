"""Trip counting (跑动次数): how many times an applicant must go in person, computed, never typed in. Pure.

Zhejiang's "最多跑一次" rules count the visits an applicant makes, with complete materials in legal form,
from applying to receiving the result. This module turns an item's channels, materials and steps into
that count, so the count changes exactly when what the item asks for changes. The rule, in order:

1. **Applying.** An item that can be applied for online (浙里办) or by post needs no visit to apply. One
   that is applied for only at a counter or a self-service terminal needs the applicant at acceptance.
2. **Materials.** A material fetched or pledged by the platform costs no visit: an e-certificate from the
   applicant's wallet (``certificate``), data read through the datahub gateway (``datahub``, named fields
   or an "exists?" fact), a commitment the applicant signs online (``commitment``, 告知承诺), the result of
   an earlier application (``prior_result``). An ``upload`` (a scan sent with the application) costs no
   visit either: it travels with an online application, and an item applied for at the counter already
   has the applicant there. An ``onsite`` material (an original that must be shown, a physical check)
   needs the applicant at acceptance.
3. **Steps.** Each step (accept → review … → decide → issue) either needs nobody (``none``), needs the
   applicant at the office (``onsite``: signing in person, an interview, collecting a physical licence),
   or sends staff to the applicant's premises (``inspection``, 现场核查): the applicant travels nowhere,
   so an inspection is listed in the guide but costs no trip.
4. **Combining.** Steps run in order. Consecutive steps that need the applicant happen in one sitting and
   are one visit; a step that needs nobody between them is a wait (a review takes days), so presence after
   it is another visit. An item decided on the spot (promised time limit of 0 working days, 即办件) has no
   wait: all of its presence is one visit.
5. The trip count is the number of visits: 0, 1 or more.

The catalogue analysis (``analyse``) counts items per department and level in the bands 0 / 1 / more,
lists the materials that need a visit, and answers "what if": how many items would have fewer trips, or
none, if a certificate type or datahub resource that holds a material's data (``held_by``) were shared
so the platform could fetch it instead.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

SOURCE_KINDS = ("certificate", "datahub", "commitment", "prior_result", "upload", "onsite")
# The sources the platform supplies itself: no paper, no upload, no visit.
AUTO_KINDS = frozenset({"certificate", "datahub", "commitment", "prior_result"})
HOLDER_KINDS = ("certificate", "datahub")
STEP_KINDS = ("accept", "review", "decide", "issue")
PRESENCES = ("none", "onsite", "inspection")
CHANNELS = ("online", "window", "mail", "self_service")
REMOTE_CHANNELS = frozenset({"online", "mail"})
LEVELS = ("province", "city", "county")
BANDS = ("zero", "one", "more")

_STEP_ORDER = re.compile(r"accept( review)* decide issue")

SourceKind = Literal["certificate", "datahub", "commitment", "prior_result", "upload", "onsite"]
HolderKind = Literal["certificate", "datahub"]
StepKind = Literal["accept", "review", "decide", "issue"]
Presence = Literal["none", "onsite", "inspection"]
Band = Literal["zero", "one", "more"]


def step_order_problem(kinds: Sequence[str]) -> str | None:
    """Why a sequence of step kinds is not accept, any reviews, decide, issue (None when it is)."""
    if not _STEP_ORDER.fullmatch(" ".join(kinds)):
        return "steps must be accept, then any reviews, then decide, then issue"
    return None


@dataclass(frozen=True, slots=True)
class Holder:
    """A certificate type or datahub resource that holds a material's data but is not yet its source."""

    kind: HolderKind
    ref: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclass(frozen=True, slots=True)
class Source:
    """What replaces the paper: the kind, and what it names (a certificate type code, a resource code, an
    item code). ``held_by`` is only for uploads and on-site materials."""

    kind: SourceKind
    ref: str | None = None
    fields: tuple[str, ...] = ()
    is_exists: bool = False
    held_by: Holder | None = None

    @property
    def needs_presence(self) -> bool:
        return self.kind == "onsite"

    @property
    def is_supplied_by_applicant(self) -> bool:
        return self.kind not in AUTO_KINDS


@dataclass(frozen=True, slots=True)
class Material:
    name: str
    source: Source


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    presence: Presence = "none"
    name: str = field(default="", compare=False)  # shown in the guide; counting does not read it


DEFAULT_STEPS = (Step("accept"), Step("review"), Step("decide"), Step("issue"))


@dataclass(frozen=True, slots=True)
class Item:
    """What trip counting reads of a service item; the database and a CSV catalogue both give this."""

    code: str
    name: str
    department: str
    level: str
    channels: frozenset[str]
    promised_days: int
    materials: tuple[Material, ...]
    steps: tuple[Step, ...] = DEFAULT_STEPS


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the applicant must be there: ``apply`` (no online or postal channel), a ``material`` shown in
    person, or a ``step`` done in person; ``name`` is the material's or step's name, ``material`` the
    material's position in the item."""

    kind: Literal["apply", "material", "step"]
    name: str = ""
    material: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Visit:
    steps: tuple[StepKind, ...]  # the steps this visit covers
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class TripCount:
    visits: tuple[Visit, ...]

    @property
    def trips(self) -> int:
        return len(self.visits)

    @property
    def band(self) -> Band:
        return band_of(self.trips)


def band_of(trips: int) -> Band:
    return "zero" if trips == 0 else "one" if trips == 1 else "more"


def count_trips(item: Item) -> TripCount:
    """The visits ``item`` needs, by the rule in this module's docstring."""
    steps = item.steps if item.steps and item.steps[0].kind == "accept" else (Step("accept"), *item.steps)
    presence: list[tuple[StepKind, list[Reason]]] = []
    for step in steps:
        reasons: list[Reason] = []
        if step.kind == "accept":
            if not item.channels & REMOTE_CHANNELS:
                reasons.append(Reason("apply"))
            reasons.extend(
                Reason("material", m.name, index)
                for index, m in enumerate(item.materials)
                if m.source.needs_presence
            )
        if step.presence == "onsite":
            reasons.append(Reason("step", step.name or step.kind))
        presence.append((step.kind, reasons))
    if item.promised_days == 0:
        needed = [(kind, reasons) for kind, reasons in presence if reasons]
        if not needed:
            return TripCount(())
        return TripCount((Visit(tuple(k for k, _ in needed), tuple(r for _, rs in needed for r in rs)),))
    visits: list[Visit] = []
    run: list[tuple[StepKind, list[Reason]]] = []
    for kind, reasons in [*presence, ("issue", [])]:  # a sentinel closes the last run
        if reasons:
            run.append((kind, reasons))
        elif run:
            visits.append(Visit(tuple(k for k, _ in run), tuple(r for _, rs in run for r in rs)))
            run = []
    return TripCount(tuple(visits))


# -- the analysis of a catalogue --------------------------------------------------------------------


@dataclass(slots=True)
class Bands:
    zero: int = 0
    one: int = 0
    more: int = 0

    @property
    def total(self) -> int:
        return self.zero + self.one + self.more

    def add(self, band: Band) -> None:
        setattr(self, band, getattr(self, band) + 1)

    def as_dict(self) -> dict[str, int]:
        return {"zero": self.zero, "one": self.one, "more": self.more, "total": self.total}


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    department: str
    level: str
    bands: Bands


@dataclass(frozen=True, slots=True)
class ForcingMaterial:
    """A material (by name, and what holds its data if anything does) that needs the applicant in person:
    in how many items, and in how many of them showing it is the only reason for its visit (removing the
    need would save a trip)."""

    name: str
    held_by: Holder | None
    items: int
    sole: int


@dataclass(frozen=True, slots=True)
class WhatIf:
    """If ``holder`` were shared, the materials it holds would be fetched instead of uploaded or shown:
    how many materials that is, how many items would have fewer trips, and how many would need none."""

    holder: Holder
    materials: int
    items: int  # items with at least one such material
    fewer_trips: int
    to_zero: int


@dataclass(frozen=True, slots=True)
class Analysis:
    total: Bands
    by_level: tuple[tuple[str, Bands], ...]
    by_department: tuple[DepartmentRow, ...]
    forcing: tuple[ForcingMaterial, ...]
    what_if: tuple[WhatIf, ...]
    trips: dict[str, int] = field(repr=False)  # item code → trips

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON values (the CLI's ``--json`` and the API give exactly this)."""
        return {
            "items": self.total.total,
            "total": self.total.as_dict(),
            "by_level": [{"level": level, **bands.as_dict()} for level, bands in self.by_level],
            "by_department": [
                {"department": r.department, "level": r.level, **r.bands.as_dict()}
                for r in self.by_department
            ],
            "forcing_materials": [
                {
                    "name": f.name,
                    "held_by": f.held_by.label if f.held_by else None,
                    "items": f.items,
                    "sole": f.sole,
                }
                for f in self.forcing
            ],
            "what_if": [
                {
                    "holder": w.holder.label,
                    "materials": w.materials,
                    "items": w.items,
                    "fewer_trips": w.fewer_trips,
                    "to_zero": w.to_zero,
                }
                for w in self.what_if
            ],
        }


def _level_key(level: str) -> tuple[int, str]:
    return (LEVELS.index(level), level) if level in LEVELS else (len(LEVELS), level)


def shared(item: Item, holder: Holder) -> Item:
    """``item`` as it would be if ``holder`` were shared: the materials it holds are fetched from it."""
    materials = tuple(
        Material(m.name, Source(kind=holder.kind, ref=holder.ref)) if m.source.held_by == holder else m
        for m in item.materials
    )
    return replace(item, materials=materials)


def analyse(items: Iterable[Item]) -> Analysis:
    """Bands per department and level, the materials that need a visit, and the what-if per holder.

    Each item is counted once. Only acceptance visits have material reasons, so taking materials away
    (showing them is no longer needed, or a holder now supplies them) removes exactly the visits whose
    every reason is one of those materials, and nothing else changes; the sole-reason and what-if figures
    are read off the visits instead of counting again (the property tests check both ways agree)."""
    total = Bands()
    by_level: dict[str, Bands] = defaultdict(Bands)
    by_department: dict[tuple[str, str], Bands] = defaultdict(Bands)
    forcing_items: Counter[tuple[str, Holder | None]] = Counter()
    forcing_sole: Counter[tuple[str, Holder | None]] = Counter()
    holders: dict[Holder, list[tuple[Item, int, int]]] = defaultdict(list)  # item, trips, trips if shared
    trips_by_code: dict[str, int] = {}
    for item in items:
        count = count_trips(item)
        trips_by_code[item.code] = count.trips
        band = count.band
        total.add(band)
        by_level[item.level].add(band)
        by_department[(item.department, item.level)].add(band)
        materials = item.materials
        keys = [(m.name, m.source.held_by) for m in materials]
        forcing_items.update({keys[i] for i, m in enumerate(materials) if m.source.needs_presence})
        # The visits nothing but materials shown in person make the applicant come for.
        material_visits = [
            {r.material for r in v.reasons}
            for v in count.visits
            if all(r.kind == "material" for r in v.reasons)
        ]
        forcing_sole.update(
            {keys[next(iter(shown))] for shown in material_visits if len({keys[i] for i in shown}) == 1}
        )
        for holder in dict.fromkeys(m.source.held_by for m in materials if m.source.held_by):
            removed = sum(
                1 for shown in material_visits if all(materials[i].source.held_by == holder for i in shown)
            )
            holders[holder].append((item, count.trips, count.trips - removed))
    what_if = []
    for holder, affected in holders.items():
        fewer = to_zero = replaced = 0
        for item, before, after in affected:
            replaced += sum(1 for m in item.materials if m.source.held_by == holder)
            fewer += after < before
            to_zero += before > 0 and after == 0
        what_if.append(WhatIf(holder, replaced, len(affected), fewer, to_zero))
    return Analysis(
        total=total,
        by_level=tuple(sorted(by_level.items(), key=lambda kv: _level_key(kv[0]))),
        by_department=tuple(
            DepartmentRow(department, level, bands)
            for (department, level), bands in sorted(
                by_department.items(), key=lambda kv: (_level_key(kv[0][1]), kv[0][0])
            )
        ),
        forcing=tuple(
            sorted(
                (
                    ForcingMaterial(name, holder, n, forcing_sole[(name, holder)])
                    for (name, holder), n in forcing_items.items()
                ),
                key=lambda f: (-f.items, -f.sole, f.name, f.held_by.label if f.held_by else ""),
            )
        ),
        what_if=tuple(
            sorted(what_if, key=lambda w: (-w.to_zero, -w.fewer_trips, -w.materials, w.holder.label))
        ),
        trips=trips_by_code,
    )
