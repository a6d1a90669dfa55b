"""View-models of the service pages: the public guide (search and one item) and the trip analysis."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from zerotrip.datahub import queries as datahub_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed
from zerotrip.services import bundle_catalogue, queries, trips
from zerotrip.services.models import LIFE_EVENTS
from zerotrip.services.permissions import can_analyse_trips
from zerotrip.services.schemas import ItemRead, MaterialRead, parse_holder
from zerotrip.web import services_text as words
from zerotrip.web.datahub_text import Text
from zerotrip.web.datahub_views import OrgNames
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_time, pager, percent

PER_PAGE = 20
TOP = 20
ANALYSIS_FOR_STAFF = N_("The trip analysis is for staff.")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # an English msgid (life events) or a name (departments)
    label_en: str | None
    is_selected: bool


@dataclass(frozen=True)
class GuideRow:
    code: str
    name: str
    name_en: str | None
    department_name: str
    department_name_en: str | None
    level_label: str
    type_label: str
    trips: int
    band: str
    band_label: str
    is_instant: bool
    promised_days: int
    event_labels: tuple[str, ...]


@dataclass(frozen=True)
class GuideView:
    search: str
    department: str
    event: str
    departments: tuple[Choice, ...]
    events: tuple[Choice, ...]
    is_filtered: bool
    rows: tuple[GuideRow, ...]
    pager: Pager


def guide(db: Session, *, search: str, department: str, event: str, page: int) -> GuideView:
    """The items matching a search, a department and a life event (an unknown one is no filter)."""
    search = search.strip()[:100]
    event = event if event in LIFE_EVENTS else ""
    orgs = OrgNames(db)
    implementing = sorted(queries.list_item_departments(db), key=lambda i: orgs(i)[0])
    department = department if department.isdigit() and int(department) in implementing else ""
    found, total = queries.list_items(
        db,
        search=search or None,
        department_org_id=int(department) if department else None,
        life_event=event or None,
        page=page,
        per_page=PER_PAGE,
    )
    rows = tuple(
        GuideRow(
            code=s.code,
            name=s.name,
            name_en=s.name_en,
            department_name=s.department.name,
            department_name_en=s.department.name_en,
            level_label=words.LEVEL_LABELS[s.level],
            type_label=words.ITEM_TYPE_LABELS[s.type],
            trips=s.trips,
            band=s.band,
            band_label=words.BAND_LABELS[s.band],
            is_instant=s.is_instant,
            promised_days=s.promised_days,
            event_labels=tuple(words.LIFE_EVENT_LABELS[e] for e in s.life_events),
        )
        for s in queries.item_summaries(db, found)
    )
    params = {"q": search, "department": department, "event": event}
    return GuideView(
        search=search,
        department=department,
        event=event,
        departments=tuple(Choice(str(i), orgs(i)[0], orgs(i)[1], str(i) == department) for i in implementing),
        events=tuple(Choice(e, words.LIFE_EVENT_LABELS[e], None, e == event) for e in LIFE_EVENTS),
        is_filtered=bool(search or department or event),
        rows=rows,
        pager=pager("/services", params, page=page, per_page=PER_PAGE, total=total),
    )


def event_url(event: str) -> str:
    return f"/services?{urlencode({'event': event})}"


# -- one item's guide ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialView:
    name: str
    name_en: str | None
    description: str
    is_required: bool
    is_deferrable: bool
    source_kind: str
    replaced_by: Text
    fields: tuple[str, ...]  # the titles of the fields read, for datahub sources
    held_by: Text | None
    needs_visit: bool


@dataclass(frozen=True)
class StepView:
    name: str
    presence: str
    presence_label: str


@dataclass(frozen=True)
class VisitView:
    number: int
    reasons: tuple[Text, ...]


@dataclass(frozen=True)
class ItemView:
    code: str
    name: str
    name_en: str | None
    department_name: str
    department_name_en: str | None
    level_label: str
    type_label: str
    legal_basis: str
    conditions: str
    statutory_days: int
    promised_days: int
    fee: str  # "0.00" is free
    is_free: bool
    fee_basis: str
    channel_labels: tuple[str, ...]
    is_online: bool  # applied for online (在线办理)
    is_instant: bool
    events: tuple[Choice, ...]  # value: the guide's URL for that life event
    contact: str
    version: int
    updated_at: str
    trips: int
    band: str
    band_label: str
    visits: tuple[VisitView, ...]
    materials: tuple[MaterialView, ...]
    steps: tuple[StepView, ...]
    bundles: tuple[tuple[str, str], ...]  # (code, name) of the life events (一件事) it is part of


class Names:
    """Titles of what materials refer to: data resources (with their owners), fields, earlier items."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.orgs = OrgNames(db)

    def resource(self, code: str) -> tuple[str, str, dict[str, str]]:
        """The resource's title, its owner's name, and its fields' titles by name."""
        resource = datahub_queries.find_resource(self.db, code)
        if resource is None:
            return code, "", {}
        fields = {f.name: f.title for f in datahub_queries.list_fields(self.db, resource.id)}
        return resource.title, self.orgs(resource.owner_org_id)[0], fields

    def item(self, code: str) -> str:
        found = queries.find_item(self.db, code)
        return found.name if found is not None else code


def _certificate(code: str) -> str:
    return words.CERTIFICATE_TYPE_LABELS.get(code, code)


def material_view(names: Names, m: MaterialRead) -> MaterialView:
    source = m.source
    fields: tuple[str, ...] = ()
    if source.kind == "certificate":
        replaced = Text(words.FROM_WALLET, {"type": Text(_certificate(source.ref or ""))})
    elif source.kind == "datahub":
        title, owner, titles = names.resource(source.ref or "")
        msgid = words.EXISTS_IN_DATAHUB if source.exists else words.FROM_DATAHUB
        replaced = Text(msgid, {"owner": owner, "resource": title})
        fields = tuple(titles.get(f, f) for f in source.fields)
    elif source.kind == "commitment":
        replaced = Text(words.COMMITMENT)
    elif source.kind == "prior_result":
        replaced = Text(words.PRIOR_RESULT, {"item": names.item(source.ref or "")})
    elif source.kind == "upload":
        replaced = Text(words.UPLOAD)
    else:
        replaced = Text(words.ONSITE)
    held_by = None
    if source.held_by:
        holder = parse_holder(source.held_by)
        label: str | Text
        if holder.kind == "datahub":
            title, owner, _ = names.resource(holder.ref)
            label = f"{owner}（{title}）"
        else:
            label = Text(_certificate(holder.ref))
        held_by = Text(words.HELD_BY, {"holder": label})
    return MaterialView(
        name=m.name,
        name_en=m.name_en,
        description=m.description,
        is_required=m.is_required,
        is_deferrable=m.is_deferrable,
        source_kind=source.kind,
        replaced_by=replaced,
        fields=fields,
        held_by=held_by,
        needs_visit=m.needs_visit,
    )


def reason_text(kind: str, name: str) -> Text:
    if kind == "apply":
        return Text(words.REASON_APPLY)
    if kind == "material":
        return Text(words.REASON_MATERIAL, {"name": name})
    return Text(words.REASON_STEP, {"name": name})


def item(db: Session, code: str) -> ItemView:
    """One item's guide. Raises ItemNotFound."""
    found = queries.get_item(db, code)
    guide_: ItemRead = queries.item_read(db, found)
    names = Names(db)
    return ItemView(
        code=guide_.code,
        name=guide_.name,
        name_en=guide_.name_en,
        department_name=guide_.department.name,
        department_name_en=guide_.department.name_en,
        level_label=words.LEVEL_LABELS[guide_.level],
        type_label=words.ITEM_TYPE_LABELS[guide_.type],
        legal_basis=guide_.legal_basis,
        conditions=guide_.conditions,
        statutory_days=guide_.statutory_days,
        promised_days=guide_.promised_days,
        fee=f"{guide_.fee_yuan:.2f}",
        is_free=not guide_.fee_yuan,
        fee_basis=guide_.fee_basis,
        channel_labels=tuple(words.CHANNEL_LABELS[c] for c in trips.CHANNELS if c in guide_.channels),
        is_online="online" in guide_.channels,
        is_instant=guide_.is_instant,
        events=tuple(
            Choice(event_url(e), words.LIFE_EVENT_LABELS[e], None, False) for e in guide_.life_events
        ),
        contact=guide_.contact,
        version=guide_.version,
        updated_at=china_time(guide_.updated_at),
        trips=guide_.trips.trips,
        band=guide_.trips.band,
        band_label=words.BAND_LABELS[guide_.trips.band],
        visits=tuple(
            VisitView(n, tuple(reason_text(r.kind, r.name) for r in v.reasons))
            for n, v in enumerate(guide_.trips.visits, start=1)
        ),
        materials=tuple(material_view(names, m) for m in guide_.materials),
        steps=tuple(StepView(s.name, s.presence, words.PRESENCE_LABELS[s.presence]) for s in guide_.steps),
        bundles=tuple((b.code, b.name) for b in bundle_catalogue.bundles_of_item(db, found.id)),
    )


# -- the trip analysis ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    band: str
    x: float  # in the drawing's 0–100 units
    width: float
    count: int


@dataclass(frozen=True)
class BandRow:
    label: str  # a department's name, or a level's msgid
    label_en: str | None
    level_label: str | None
    zero: int
    one: int
    more: int
    total: int
    zero_share: str
    segments: tuple[Segment, ...]  # the stacked bar, scaled to the largest department


@dataclass(frozen=True)
class ForcingRow:
    name: str
    held_by: str | None
    items: int
    sole: int


@dataclass(frozen=True)
class WhatIfRow:
    holder: str  # certificate:TYPE or datahub:RESOURCE, as the CLI prints it
    title: str  # the certificate type's msgid or the resource's title
    is_certificate: bool
    owner: str | None
    materials: int
    items: int
    fewer_trips: int
    to_zero: int


@dataclass(frozen=True)
class TripsView:
    total: BandRow
    levels: tuple[BandRow, ...]
    departments: tuple[BandRow, ...]
    forcing: tuple[ForcingRow, ...]
    forcing_total: int
    what_if: tuple[WhatIfRow, ...]
    band_labels: dict[str, str]


def _row(
    label: str, label_en: str | None, level_label: str | None, bands: trips.Bands, longest: int
) -> BandRow:
    segments = []
    x = 0.0
    for band in trips.BANDS:
        count = getattr(bands, band)
        width = round(100 * count / longest, 2) if longest else 0.0
        segments.append(Segment(band, round(x, 2), width, count))
        x += width
    return BandRow(
        label=label,
        label_en=label_en,
        level_label=level_label,
        zero=bands.zero,
        one=bands.one,
        more=bands.more,
        total=bands.total,
        zero_share=percent(bands.zero, bands.total),
        segments=tuple(s for s in segments if s.count),
    )


def trip_analysis(db: Session, actor: Actor) -> TripsView:
    """The catalogue's trip analysis, with the figures `zerotrip services trips` prints for it exported as
    CSV. Raises NotAllowed for anyone but staff."""
    if actor.kind != "staff" or not can_analyse_trips(actor):
        raise NotAllowed(ANALYSIS_FOR_STAFF)
    analysis = queries.trip_analysis(db)
    orgs = OrgNames(db)
    english = {orgs(i)[0]: orgs(i)[1] for i in queries.list_item_departments(db)}
    longest = max((r.bands.total for r in analysis.by_department), default=0)
    names = Names(db)
    what_if = []
    for w in analysis.what_if:
        if w.holder.kind == "datahub":
            title, owner, _ = names.resource(w.holder.ref)
        else:
            title, owner = _certificate(w.holder.ref), None
        what_if.append(
            WhatIfRow(
                holder=w.holder.label,
                title=title,
                is_certificate=w.holder.kind == "certificate",
                owner=owner,
                materials=w.materials,
                items=w.items,
                fewer_trips=w.fewer_trips,
                to_zero=w.to_zero,
            )
        )
    return TripsView(
        total=_row(N_("All items"), None, None, analysis.total, analysis.total.total),
        levels=tuple(
            _row(words.LEVEL_LABELS.get(level, level), None, None, bands, analysis.total.total)
            for level, bands in analysis.by_level
        ),
        departments=tuple(
            _row(
                r.department,
                english.get(r.department),
                words.LEVEL_LABELS.get(r.level, r.level),
                r.bands,
                longest,
            )
            for r in analysis.by_department
        ),
        forcing=tuple(
            ForcingRow(f.name, f.held_by.label if f.held_by else None, f.items, f.sole)
            for f in analysis.forcing[:TOP]
        ),
        forcing_total=len(analysis.forcing),
        what_if=tuple(what_if),
        band_labels=dict(words.BAND_LABELS),
    )
