"""View-models of the steward's catalogue pages: the resources, and one resource with its quality."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.datahub import aggregation, grades, queries, sharing_queries
from zerotrip.datahub.permissions import can_browse_catalogue, can_steward
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed
from zerotrip.web import datahub_text as words
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import STAFF_ONLY, Pager, china_time, pager, percent

PER_PAGE = 20
# The catalogue is small (hundreds of entries): "my departments' resources" is filtered from one read.
CATALOGUE_LIMIT = 2000
VERSION_LABELS = {"catalogued": N_("Catalogued"), "revised": N_("Revised")}


@dataclass(frozen=True)
class ResourceRow:
    code: str
    title: str
    title_en: str | None
    owner_name: str
    owner_name_en: str | None
    grade_label: str
    share_label: str
    open_label: str
    data_updated_at: str
    is_mine: bool


@dataclass(frozen=True)
class CatalogueView:
    search: str
    rows: tuple[ResourceRow, ...]
    pager: Pager


@dataclass(frozen=True)
class FieldRow:
    name: str
    title: str
    type_label: str
    grade_label: str
    grade: int
    is_required: bool
    is_key: bool
    share_label: str
    open_label: str
    rules: str  # pattern, allowed values, reference: as the steward wrote them


@dataclass(frozen=True)
class VersionRow:
    version: int
    what: str
    grade_label: str | None
    at: str


@dataclass(frozen=True)
class LoadRow:
    url: str
    started_at: str
    source_label: str
    filename: str
    total: int
    accepted: int
    rejected: int
    unchanged: int


@dataclass(frozen=True)
class RuleCount:
    field: str | None
    rule_label: str
    count: int


@dataclass(frozen=True)
class QualityView:
    records_current: int
    rows_total: int
    accepted_rate: str
    rejected_rate: str
    failing: tuple[RuleCount, ...]
    loads: tuple[LoadRow, ...]


@dataclass(frozen=True)
class ResourceView:
    code: str
    title: str
    title_en: str | None
    description: str
    owner_name: str
    owner_name_en: str | None
    grade_label: str
    share_label: str
    open_label: str
    frequency_label: str
    legal_basis: str
    contact: str
    keywords: tuple[str, ...]
    version: int
    updated_at: str
    data_updated_at: str
    fields: tuple[FieldRow, ...]
    versions: tuple[VersionRow, ...]
    quality: QualityView | None  # for the owning department's stewards
    can_load: bool


class OrgNames:
    """Organisation names (Chinese, English) by id, each looked up once per page."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self._seen: dict[int, tuple[str, str | None]] = {}

    def __call__(self, org_id: int) -> tuple[str, str | None]:
        if org_id not in self._seen:
            org = identity_queries.get_organisation(self.db, org_id)
            self._seen[org_id] = (org.name, org.name_en)
        return self._seen[org_id]


def catalogue(db: Session, actor: Actor, *, search: str, page: int) -> CatalogueView:
    """With a search, the whole catalogue's matches; without, the resources the steward looks after.
    Raises NotAllowed for anyone but staff."""
    if actor.kind != "staff" or not can_browse_catalogue(actor):
        raise NotAllowed(STAFF_ONLY)
    mine = sharing_queries.stewarded_resource_ids(db, actor)
    search = search.strip()[:100]
    if search or mine is None:
        found, total = queries.list_resources(db, search=search or None, page=page, per_page=PER_PAGE)
    else:
        everything, _ = queries.list_resources(db, per_page=CATALOGUE_LIMIT)
        wanted = set(mine)
        matching = [r for r in everything if r.id in wanted]
        total = len(matching)
        found = matching[(page - 1) * PER_PAGE : page * PER_PAGE]
    owners = OrgNames(db)
    rows = tuple(
        ResourceRow(
            code=r.code,
            title=r.title,
            title_en=r.title_en,
            owner_name=owners(r.owner_org_id)[0],
            owner_name_en=owners(r.owner_org_id)[1],
            grade_label=words.GRADE_LABELS[r.grade],
            share_label=words.SHARE_LABELS[r.share_type],
            open_label=words.OPEN_LABELS[r.open_type],
            data_updated_at=china_time(r.data_updated_at),
            is_mine=mine is None or r.id in mine,
        )
        for r in found
    )
    paging = pager("/staff/datahub", {"q": search}, page=page, per_page=PER_PAGE, total=total)
    return CatalogueView(search=search, rows=rows, pager=paging)


def resource(db: Session, actor: Actor, code: str) -> ResourceView:
    """A resource as any staff member may read it; its loads and quality for its stewards only.
    Raises NotAllowed, ResourceNotFound."""
    if actor.kind != "staff":
        raise NotAllowed(STAFF_ONLY)
    found = queries.get_resource(db, code)
    owner = identity_queries.get_organisation(db, found.owner_org_id)
    fields = queries.list_fields(db, found.id)
    is_steward = can_steward(actor, owner.path)
    titles = {f.name: f.title for f in fields}
    quality = _quality(db, actor, code, titles) if is_steward else None
    return ResourceView(
        code=found.code,
        title=found.title,
        title_en=found.title_en,
        description=found.description,
        owner_name=owner.name,
        owner_name_en=owner.name_en,
        grade_label=words.GRADE_LABELS[found.grade],
        share_label=words.SHARE_LABELS[found.share_type],
        open_label=words.OPEN_LABELS[found.open_type],
        frequency_label=words.FREQUENCY_LABELS[found.update_frequency],
        legal_basis=found.legal_basis,
        contact=found.contact,
        keywords=tuple(found.keywords),
        version=found.version,
        updated_at=china_time(found.updated_at),
        data_updated_at=china_time(found.data_updated_at),
        fields=tuple(
            FieldRow(
                name=f.name,
                title=f.title,
                type_label=words.TYPE_LABELS[f.type],
                grade_label=words.GRADE_LABELS[f.grade],
                grade=f.grade,
                is_required=f.is_required or f.name in found.key_fields,
                is_key=f.name in found.key_fields,
                share_label=words.SHARE_LABELS[grades.effective_share_type(found.share_type, f.grade)],
                open_label=words.OPEN_LABELS[grades.effective_open_type(found.open_type, f.grade)],
                rules=_rules(f.pattern, f.enumeration, f.reference),
            )
            for f in fields
        ),
        versions=_versions(db, found.code),
        quality=quality,
        can_load=is_steward,
    )


def _rules(pattern: str | None, enumeration: list[str] | None, reference: str | None) -> str:
    parts = [pattern or "", " / ".join(enumeration or []), f"→ {reference}" if reference else ""]
    return "; ".join(part for part in parts if part)


def _versions(db: Session, code: str) -> tuple[VersionRow, ...]:
    """The catalogue's versions of a resource, newest first."""
    resource = queries.get_resource(db, code)
    return tuple(
        VersionRow(
            version=v.version,
            what=VERSION_LABELS["catalogued" if v.version == 1 else "revised"],
            grade_label=words.GRADE_LABELS.get(
                max((int(f["grade"]) for f in v.snapshot["fields"]), default=0)
            ),
            at=china_time(v.changed_at),
        )
        for v in queries.list_resource_versions(db, resource.id)
    )


def _quality(db: Session, actor: Actor, code: str, titles: Mapping[str, str]) -> QualityView:
    report = aggregation.quality_report(db, actor=actor, resource_code=code)
    total = int(report["rows_total"])
    return QualityView(
        records_current=int(report["records_current"]),
        rows_total=total,
        accepted_rate=percent(int(report["rows_accepted"]), total),
        rejected_rate=percent(int(report["rows_rejected"]), total),
        failing=rule_counts(report["top_failing_rules"], titles),
        loads=tuple(
            LoadRow(
                url=f"/staff/datahub/batches/{b['id']}",
                started_at=china_time(b["started_at"]),
                source_label=words.SOURCE_LABELS.get(b["source"], b["source"]),
                filename=b["filename"] or "",
                total=b["rows_total"],
                accepted=b["rows_accepted"],
                rejected=b["rows_rejected"],
                unchanged=b["rows_unchanged"],
            )
            for b in report["batches"]
        ),
    )


def rule_counts(errors: list[dict[str, Any]], titles: Mapping[str, str]) -> tuple[RuleCount, ...]:
    return tuple(
        RuleCount(
            field=titles.get(e["field"], e["field"]) if e["field"] else None,
            rule_label=words.RULE_LABELS.get(e["rule"], e["rule"]),
            count=int(e["count"]),
        )
        for e in errors
    )
