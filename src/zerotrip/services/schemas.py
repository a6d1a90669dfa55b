"""Services input and output shapes shared by the actions, the API, the pages and the CLI."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from zerotrip.services import trips
from zerotrip.services.trips import TripCount

ItemType = Literal[
    "licensing", "payment", "confirmation", "levy", "adjudication", "reward", "other_power", "public_service"
]
LifeEvent = Literal[
    "birth",
    "schooling",
    "employment",
    "marriage",
    "renting",
    "home_purchase",
    "starting_business",
    "business_change",
    "medical",
    "vaccination",
    "social_security",
    "retirement",
    "death",
]
Channel = Literal["online", "window", "mail", "self_service"]
Level = Literal["province", "city", "county"]

ITEM_CODE = r"^[A-Za-z0-9][A-Za-z0-9.\-]{2,59}$"
CERTIFICATE_TYPE = re.compile(r"^[a-z0-9][a-z0-9\-]{1,39}$")
RESOURCE_CODE = re.compile(r"^[a-z0-9][a-z0-9.\-]{2,79}$")
ITEM_CODE_RE = re.compile(ITEM_CODE)
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
DEFAULT_STEP_NAMES = {"accept": "受理", "review": "审查", "decide": "决定", "issue": "办结送达"}
# Sources that name something, and the shape of the code they name.
_NEEDS_REF = {"certificate": CERTIFICATE_TYPE, "datahub": RESOURCE_CODE, "prior_result": ITEM_CODE_RE}


def parse_holder(text: str) -> trips.Holder:
    """``certificate:marriage`` or ``datahub:330000-psb.household`` as a Holder; raises ValueError."""
    kind, _, ref = text.partition(":")
    if kind == "certificate" and CERTIFICATE_TYPE.fullmatch(ref):
        return trips.Holder("certificate", ref)
    if kind == "datahub" and RESOURCE_CODE.fullmatch(ref):
        return trips.Holder("datahub", ref)
    raise ValueError("held_by is certificate:TYPE_CODE or datahub:RESOURCE_CODE")


def source_problem(
    kind: str, *, ref: str | None, fields: Sequence[str], exists: bool, held_by: str | None
) -> str | None:
    """What is wrong with a source's shape (None when nothing is); the API and CSV catalogues share it."""
    if kind not in trips.SOURCE_KINDS:
        return f"the source kind is one of {', '.join(trips.SOURCE_KINDS)}"
    pattern = _NEEDS_REF.get(kind)
    if pattern is None and ref is not None:
        return f"a {kind} source names nothing in ref"
    if pattern is not None and (ref is None or not pattern.fullmatch(ref)):
        return f"a {kind} source names a valid code in ref"
    if kind == "datahub":
        if exists == bool(fields):
            return "a datahub source reads named fields or asks whether a record exists"
        if any(not FIELD_NAME.fullmatch(name) for name in fields):
            return "field names are lower-case identifiers"
        if len(set(fields)) != len(fields):
            return "a field is named twice"
    elif kind == "certificate":
        if exists:
            return "exists is for datahub sources"
        if any(not FIELD_NAME.fullmatch(name) for name in fields):
            return "field names are lower-case identifiers"
        if len(set(fields)) != len(fields):
            return "a field is named twice"
    elif fields or exists:
        return "fields are for datahub and certificate sources, exists for datahub sources"
    if held_by is not None:
        if kind not in ("upload", "onsite"):
            return "held_by is for uploads and on-site materials"
        try:
            parse_holder(held_by)
        except ValueError as error:
            return str(error)
    return None


class SourceSpec(BaseModel):
    """What replaces the paper for one material."""

    kind: Literal["certificate", "datahub", "commitment", "prior_result", "upload", "onsite"] = Field(
        description="certificate: an e-certificate from the applicant's wallet; datahub: data read through "
        "the gateway; commitment: the applicant pledges (告知承诺); prior_result: the result of an earlier "
        "application; upload: a scan sent with the application; onsite: shown or checked in person."
    )
    ref: str | None = Field(
        None,
        max_length=80,
        description="The certificate type code, the datahub resource code, or the code of the item whose "
        "result this is.",
    )
    fields: list[str] = Field(
        [],
        description="datahub: the fields read; certificate: the certificate's fields used (prefilled into "
        "the form; none: the whole certificate, nothing prefilled).",
    )
    exists: bool = Field(False, description="datahub: only whether a record about the applicant exists.")
    commitment: str | None = Field(None, max_length=2000, description="commitment: the text pledged.")
    held_by: str | None = Field(
        None,
        description="upload and onsite: certificate:TYPE or datahub:RESOURCE that holds this data but is not "
        "yet shared with the platform.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SourceSpec:
        problem = source_problem(
            self.kind, ref=self.ref, fields=self.fields, exists=self.exists, held_by=self.held_by
        )
        if problem:
            raise ValueError(problem)
        if (self.kind == "commitment") != bool(self.commitment and self.commitment.strip()):
            raise ValueError("a commitment source states the pledge, and only a commitment does")
        return self

    def as_trip_source(self) -> trips.Source:
        return trips.Source(
            kind=self.kind,
            ref=self.ref,
            fields=tuple(self.fields),
            is_exists=self.exists,
            held_by=parse_holder(self.held_by) if self.held_by else None,
        )


class MaterialSpec(BaseModel):
    name: str = Field(min_length=1, max_length=120, pattern=r"^[^;=]+$")
    name_en: str | None = Field(None, max_length=200)
    description: str = ""
    is_required: bool = True
    is_deferrable: bool = Field(False, description="May be missing at acceptance and supplied later (容缺).")
    source: SourceSpec


class StepSpec(BaseModel):
    kind: Literal["accept", "review", "decide", "issue"]
    name: str = Field("", max_length=60, description="Default: 受理, 审查, 决定 or 办结送达.")
    presence: Literal["none", "onsite", "inspection"] = Field(
        "none",
        description="onsite: the applicant must come to the office; inspection: staff visit the "
        "applicant's premises (no trip for the applicant).",
    )

    @model_validator(mode="after")
    def _named(self) -> StepSpec:
        if not self.name.strip():
            self.name = DEFAULT_STEP_NAMES[self.kind]
        return self


def _default_steps() -> list[StepSpec]:
    return [StepSpec(kind=kind) for kind in trips.STEP_KINDS]


class ItemSpec(BaseModel):
    """Everything the guide says about an item; the same shape defines and revises it. The trip count is
    not here: it is computed from the channels, materials and steps."""

    code: str = Field(pattern=ITEM_CODE, description="The item's code (事项编码).")
    name: str = Field(min_length=1, max_length=120)
    name_en: str | None = Field(None, max_length=200)
    department_org_id: int = Field(description="The implementing department (实施主体).")
    type: ItemType
    legal_basis: str = Field(min_length=1)
    conditions: str = Field("", description="Who may apply and on what conditions (受理条件).")
    statutory_days: int = Field(ge=0, le=365, description="The law's time limit, in working days.")
    promised_days: int = Field(ge=0, le=365, description="The promised time limit; 0 means on the spot.")
    fee_yuan: Decimal = Field(Decimal("0"), ge=0, le=Decimal("99999999.99"), decimal_places=2)
    fee_basis: str = ""
    channels: list[Channel] = Field(min_length=1)
    is_instant: bool = Field(False, description="Decided at once from fetched evidence (秒批).")
    life_events: list[LifeEvent] = []
    contact: str = Field("", max_length=200)
    materials: list[MaterialSpec] = []
    steps: list[StepSpec] = Field(default_factory=_default_steps)

    @model_validator(mode="after")
    def _consistent(self) -> ItemSpec:
        if self.promised_days > self.statutory_days:
            raise ValueError("the promised time limit cannot be longer than the statutory one")
        for name, values in (("channels", self.channels), ("life_events", self.life_events)):
            if len(set(values)) != len(values):
                raise ValueError(f"{name} lists a value twice")
        names = [m.name for m in self.materials]
        if len(set(names)) != len(names):
            raise ValueError("material names must be unique within an item")
        problem = trips.step_order_problem([s.kind for s in self.steps])
        if problem:
            raise ValueError(problem)
        if self.is_instant:
            if "online" not in self.channels or self.promised_days != 0:
                raise ValueError("an instantly approved item is applied for online and decided on the spot")
            if any(s.presence != "none" for s in self.steps):
                raise ValueError("an instantly approved item needs nobody in person and no inspection")
            if any(m.source.kind in ("upload", "onsite") for m in self.materials):
                raise ValueError("an instantly approved item decides from fetched evidence alone")
        return self

    def as_trip_item(self, *, department: str, level: str) -> trips.Item:
        return trips.Item(
            code=self.code,
            name=self.name,
            department=department,
            level=level,
            channels=frozenset(self.channels),
            promised_days=self.promised_days,
            materials=tuple(trips.Material(m.name, m.source.as_trip_source()) for m in self.materials),
            steps=tuple(trips.Step(s.kind, s.presence, s.name) for s in self.steps),
        )


# -- reading ----------------------------------------------------------------------------------------


class DepartmentRef(BaseModel):
    id: int
    code: str
    name: str
    name_en: str | None


class ReasonRead(BaseModel):
    kind: Literal["apply", "material", "step"]
    name: str


class VisitRead(BaseModel):
    steps: list[str]
    reasons: list[ReasonRead]


class TripsRead(BaseModel):
    trips: int = Field(description="Visits in person from applying to the result, with complete materials.")
    band: Literal["zero", "one", "more"]
    visits: list[VisitRead]

    @classmethod
    def of(cls, count: TripCount) -> TripsRead:
        return cls(
            trips=count.trips,
            band=count.band,
            visits=[
                VisitRead(
                    steps=list(v.steps), reasons=[ReasonRead(kind=r.kind, name=r.name) for r in v.reasons]
                )
                for v in count.visits
            ],
        )


class MaterialRead(MaterialSpec):
    needs_visit: bool = Field(description="Whether this material needs the applicant in person.")


class StepRead(BaseModel):
    kind: str
    name: str
    presence: str


class ItemRead(BaseModel):
    code: str
    name: str
    name_en: str | None
    department: DepartmentRef
    level: Level
    type: ItemType
    legal_basis: str
    conditions: str
    statutory_days: int
    promised_days: int
    fee_yuan: Decimal
    fee_basis: str
    channels: list[str]
    is_instant: bool
    life_events: list[str]
    contact: str
    version: int
    updated_at: datetime
    materials: list[MaterialRead]
    steps: list[StepRead]
    trips: TripsRead


class ItemSummary(BaseModel):
    code: str
    name: str
    name_en: str | None
    department: DepartmentRef
    level: Level
    type: ItemType
    promised_days: int
    is_instant: bool
    life_events: list[str]
    trips: int
    band: Literal["zero", "one", "more"]


class ItemPage(BaseModel):
    items: list[ItemSummary]
    total: int
    page: int
    per_page: int


class BandsRead(BaseModel):
    zero: int
    one: int
    more: int
    total: int


class LevelBandsRead(BandsRead):
    level: str


class DepartmentBandsRead(BandsRead):
    department: str
    level: str


class ForcingMaterialRead(BaseModel):
    name: str
    held_by: str | None
    items: int = Field(description="Items in which this material needs the applicant in person.")
    sole: int = Field(description="Items in which it is the only reason for its visit.")


class WhatIfRead(BaseModel):
    holder: str = Field(description="certificate:TYPE or datahub:RESOURCE.")
    materials: int
    items: int
    fewer_trips: int
    to_zero: int


class TripAnalysisRead(BaseModel):
    """The same figures as ``zerotrip services trips CATALOG.csv --json``."""

    items: int
    total: BandsRead
    by_level: list[LevelBandsRead]
    by_department: list[DepartmentBandsRead]
    forcing_materials: list[ForcingMaterialRead]
    what_if: list[WhatIfRead]
