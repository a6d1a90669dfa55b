"""View-models of the open data portal: the list of open resources and one resource with a preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from zerotrip.datahub import opendata, queries
from zerotrip.datahub.errors import NotOpen
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed
from zerotrip.web import datahub_text as words
from zerotrip.web.datahub_text import ProblemView, problem_view
from zerotrip.web.datahub_views import OrgNames
from zerotrip.web.page_kit import Pager, china_time, pager

PER_PAGE = 20
PREVIEW_ROWS = 20
API = "/api/datahub/open/resources"


@dataclass(frozen=True)
class OpenRow:
    code: str
    title: str
    title_en: str | None
    description: str
    owner_name: str
    owner_name_en: str | None
    open_label: str
    is_restricted: bool
    frequency_label: str
    data_updated_at: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class OpenListView:
    search: str
    rows: tuple[OpenRow, ...]
    pager: Pager


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    type_label: str
    description: str
    is_masked: bool
    filter_value: str
    sort_url: str
    sort_state: str | None  # "ascending" or "descending" when the preview is sorted by this column


@dataclass(frozen=True)
class OpenResourceView:
    about: OpenRow
    contact: str
    legal_basis: str
    updated_at: str
    columns: tuple[Column, ...]
    has_preview: bool  # open resources; restricted ones are for approved department systems
    rows: tuple[tuple[str, ...], ...]
    pager: Pager | None
    is_filtered: bool
    reset_url: str
    csv_url: str
    json_url: str
    problem: ProblemView | None


def open_resources(db: Session, *, search: str, page: int) -> OpenListView:
    search = search.strip()[:100]
    found, total = queries.list_resources(
        db, search=search or None, open_types=list(opendata.OPEN_KINDS), page=page, per_page=PER_PAGE
    )
    owners = OrgNames(db)
    rows = tuple(_row(r, owners(r.owner_org_id)) for r in found)
    return OpenListView(
        search=search,
        rows=rows,
        pager=pager("/open", {"q": search}, page=page, per_page=PER_PAGE, total=total),
    )


class CatalogueEntry(Protocol):
    """What the portal reads of a catalogue entry (the datahub's queries return its rows)."""

    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def title_en(self) -> str | None: ...
    @property
    def description(self) -> str: ...
    @property
    def open_type(self) -> str: ...
    @property
    def update_frequency(self) -> str: ...
    @property
    def data_updated_at(self) -> datetime | None: ...
    @property
    def keywords(self) -> list[str]: ...


def _row(r: CatalogueEntry, owner: tuple[str, str | None]) -> OpenRow:
    return OpenRow(
        code=r.code,
        title=r.title,
        title_en=r.title_en,
        description=r.description,
        owner_name=owner[0],
        owner_name_en=owner[1],
        open_label=words.OPEN_LABELS[r.open_type],
        is_restricted=r.open_type == "restricted",
        frequency_label=words.FREQUENCY_LABELS[r.update_frequency],
        data_updated_at=china_time(r.data_updated_at),
        keywords=tuple(r.keywords),
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def open_resource(
    db: Session, actor: Actor, *, code: str, parameters: Mapping[str, str], page: int
) -> OpenResourceView:
    """An open resource's description, and a page of its records filtered (equality per field) and sorted
    as the parameters say. Raises ResourceNotFound (absent or closed)."""
    resource = opendata.get_open_resource(db, code)
    owner = OrgNames(db)(resource.owner_org_id)
    fields = opendata.openable_fields(resource, queries.list_fields(db, resource.id))
    sort = parameters.get("sort", "").strip()
    filters = {
        k: v.strip() for k, v in parameters.items() if v.strip() and k not in opendata.RESERVED_PARAMETERS
    }
    query = opendata.RecordQuery(filters=filters, sort=[sort] if sort else [])
    path = f"/open/{resource.code}"
    kept = {**filters, **({"sort": sort} if sort else {})}
    problem: ProblemView | None = None
    rows: tuple[tuple[str, ...], ...] = ()
    paging: Pager | None = None
    masked: frozenset[str] = frozenset()
    try:
        view = opendata.open_view(db, actor=actor, code=resource.code)
    except NotOpen:
        view = None
        masked = frozenset(f.name for f in fields if f.grade >= 2)
    if view is not None:
        masked = view.masked
        try:
            records, total = opendata.list_open_records(
                db, view=view, query=query, page=page, per_page=PREVIEW_ROWS
            )
            rows = tuple(tuple(_cell(record.get(name)) for name in view.names) for record in records)
            paging = pager(path, kept, page=page, per_page=PREVIEW_ROWS, total=total)
        except ValidationFailed as failed:
            problem = problem_view(failed, labels={f.name: f.title for f in fields})
    download = f"?{urlencode(kept)}" if kept else ""
    return OpenResourceView(
        about=_row(resource, owner),
        contact=resource.contact,
        legal_basis=resource.legal_basis,
        updated_at=china_time(resource.updated_at),
        columns=tuple(
            Column(
                name=f.name,
                title=f.title,
                type_label=words.TYPE_LABELS[f.type],
                description=f.description,
                is_masked=f.name in masked,
                filter_value=filters.get(f.name, ""),
                # A first click sorts up, a second down.
                sort_url=f"{path}?{urlencode({**filters, 'sort': ('-' if sort == f.name else '') + f.name})}",
                sort_state="ascending" if sort == f.name else "descending" if sort == "-" + f.name else None,
            )
            for f in fields
        ),
        has_preview=view is not None,
        rows=rows,
        pager=paging,
        is_filtered=bool(kept),
        reset_url=path,
        csv_url=f"{API}/{resource.code}/download.csv{download}",
        json_url=f"{API}/{resource.code}/download.json{download}",
        problem=problem,
    )
