"""View-models of the bundle pages (一件事): the guide's list and one bundle (what the life event covers, its
parts and their order, the one set of materials, the trips of the whole bundle), applying to it (one
preview and consent for every part, the one form, the uploads, the pledges), its one status, and the
citizen's list of bundle applications."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.config import ServicesSettings
from zerotrip.identity.actor import Actor
from zerotrip.problems import Problem
from zerotrip.services import bundle_catalogue, bundle_evidence, bundle_queries
from zerotrip.services.bundle_schemas import BundleApplicationRead, BundlePreview
from zerotrip.services.schemas import MaterialRead
from zerotrip.web import services_text as words
from zerotrip.web.datahub_text import Detail, ProblemView, Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_time, pager
from zerotrip.web.services_apply_views import (
    MISSING_MATERIAL,
    MISSING_PLEDGE,
    MISSING_UPLOAD,
    STATUS_LABELS,
    STATUS_TONES,
    TOO_LARGE,
    UPLOAD_PROBLEMS,
    FieldView,
    field_view,
)
from zerotrip.web.services_views import MaterialView, Names, VisitView, material_view, reason_text
from zerotrip.web.services_wallet_views import CertificateMaterialView, part_materials

PER_PAGE = 20
COMBINED_LABELS = {
    "draft": N_("Draft"),
    "in_progress": N_("In progress"),
    "action_needed": N_("Needs your action"),
    "done": N_("All done"),
    "partly_refused": N_("Partly refused"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
}
COMBINED_TONES = {"done": "ok", "action_needed": "warn", "partly_refused": "danger", "refused": "danger"}
PART_LABELS = {**STATUS_LABELS, "waiting": N_("Waiting for an earlier part")}
UPLOAD_REASONS = {
    "declined": N_("You did not let the platform fetch it"),
    "unavailable": N_("The platform cannot fetch it"),
    "asked": N_("Asked for as a scan"),
}

CHOOSE_FIRST = N_("%(material)s: choose the record this application is about")
CHOICE_PROBLEMS = {
    "#/record": N_("Choose one of the records listed."),
    "#/position": N_("Nothing here is waiting for your choice of record."),
}


# -- the guide --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleRow:
    code: str
    name: str
    name_en: str | None
    event_label: str
    parts: int
    departments: tuple[str, ...]
    trips: int
    band: str


def bundle_rows(db: Session, *, life_event: str | None = None) -> tuple[BundleRow, ...]:
    found = bundle_catalogue.list_bundles(db, life_event=life_event)
    return tuple(
        BundleRow(
            code=s.code,
            name=s.name,
            name_en=s.name_en,
            event_label=words.LIFE_EVENT_LABELS[s.life_event],
            parts=s.parts,
            departments=tuple(s.departments),
            trips=s.trips,
            band=s.band,
        )
        for s in bundle_catalogue.bundle_summaries(db, found)
    )


@dataclass(frozen=True)
class PartView:
    number: int  # 1, 2 … as the guide lists them
    item_code: str
    name: str
    department: str
    promised_days: int
    trips: int
    after: tuple[str, ...]  # the names of the parts whose results it needs


@dataclass(frozen=True)
class BundleMaterialView:
    material: MaterialView
    parts: tuple[str, ...]


@dataclass(frozen=True)
class PassedOnView:
    name: str
    from_part: str
    to_part: str


@dataclass(frozen=True)
class BundleView:
    code: str
    name: str
    name_en: str | None
    event_label: str
    event_url: str
    description: str
    conditions: str
    version: int
    updated_at: str
    parts: tuple[PartView, ...]
    departments: int
    materials: tuple[BundleMaterialView, ...]
    materials_separately: int
    passed_on: tuple[PassedOnView, ...]
    promised_days: int
    trips: int
    band: str
    separately: int
    visits: tuple[VisitView, ...]


def bundle(db: Session, code: str) -> BundleView:
    """One bundle's guide. Raises BundleNotFound."""
    read = bundle_catalogue.bundle_read(db, bundle_catalogue.get_bundle(db, code))
    names = Names(db)
    part_names = {p.position: p.item_name for p in read.parts}
    return BundleView(
        code=read.code,
        name=read.name,
        name_en=read.name_en,
        event_label=words.LIFE_EVENT_LABELS[read.life_event],
        event_url=f"/services/bundles?event={read.life_event}",
        description=read.description,
        conditions=read.conditions,
        version=read.version,
        updated_at=china_time(read.updated_at),
        parts=tuple(
            PartView(
                number=p.position + 1,
                item_code=p.item_code,
                name=p.item_name,
                department=p.department.name,
                promised_days=p.promised_days,
                trips=p.trips,
                after=tuple(part_names[n] for n in p.needs),
            )
            for p in read.parts
        ),
        departments=len({p.department.id for p in read.parts}),
        materials=tuple(
            BundleMaterialView(
                material_view(names, MaterialRead(name=m.name, source=m.source, needs_visit=m.needs_visit)),
                tuple(part_names[p] for p in m.parts),
            )
            for m in read.materials
        ),
        materials_separately=read.materials_separately,
        passed_on=tuple(
            PassedOnView(p.name, part_names[p.from_part], part_names[p.to_part]) for p in read.passed_on
        ),
        promised_days=read.promised_days,
        trips=read.trips.trips,
        band=read.trips.band,
        separately=read.trips.separately,
        visits=tuple(
            VisitView(n, tuple(reason_text(r.kind, r.name) for r in v.reasons))
            for n, v in enumerate(read.trips.visits, start=1)
        ),
    )


# -- applying and the one status --------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateView:
    """One record of several the subject register holds (one child of several births), to choose from."""

    record: int
    fields: tuple[tuple[str, str], ...]  # title, value as shown (a resident ID masked)


@dataclass(frozen=True)
class SourceView:
    position: int
    name: str
    department: str
    resource_title: str
    exists_only: bool
    fields: tuple[str, ...]
    is_available: bool
    state: str
    consent: str | None
    fetched_at: str
    parts: tuple[str, ...]
    candidates: tuple[CandidateView, ...] = ()

    @property
    def is_waiting(self) -> bool:
        return self.consent is None and self.state == "pending"


@dataclass(frozen=True)
class UploadView:
    path: str  # below the bundle application's URL: sources/N or parts/P/materials/M
    name: str
    parts: tuple[str, ...]
    reason: str  # an English msgid
    upload_name: str | None


@dataclass(frozen=True)
class PartStatusView:
    number: int
    name: str
    department: str
    application_number: str
    status: str
    status_label: str
    tone: str
    after: tuple[str, ...]
    decided_at: str
    decision_text: str | None
    certificate_url: str | None


@dataclass(frozen=True)
class BundleApplicationView:
    number: str
    bundle_code: str
    bundle_name: str
    applicant_name: str
    status: str
    status_label: str
    tone: str
    is_draft: bool
    can_withdraw: bool
    created_at: str
    submitted_at: str
    consumer: str
    purpose: str
    legal_basis: str
    sources: tuple[SourceView, ...]
    certificates: tuple[CertificateMaterialView, ...]  # the parts' e-certificate materials (a draft's)
    is_consent_needed: bool
    form: tuple[FieldView, ...]
    uploads: tuple[UploadView, ...]
    commitments: tuple[tuple[str, str, str], ...]  # part, name, text
    parts: tuple[PartStatusView, ...]
    approved: int


def bundle_application(
    db: Session, actor: Actor, number: str, settings: ServicesSettings
) -> BundleApplicationView:
    """The applicant's bundle application (anyone else: BundleApplicationNotFound)."""
    found = bundle_queries.get_bundle_application(db, actor=actor, number=number)
    read = bundle_queries.bundle_application_read(db, found)
    preview = (
        bundle_evidence.preview_bundle(db, actor=actor, number=number, settings=settings)
        if read.state == "draft"
        else None
    )
    return _view(read, preview)


def _view(read: BundleApplicationRead, preview: BundlePreview | None) -> BundleApplicationView:
    names = {p.position: p.item_name for p in read.parts}
    shown = {s.position: s for s in preview.sources} if preview else {}
    sources = tuple(
        SourceView(
            position=s.position,
            name=s.name,
            department=(shown[s.position].department if s.position in shown else None) or s.department or "",
            resource_title=shown[s.position].resource_title if s.position in shown else s.resource_code,
            exists_only=s.exists_only,
            fields=tuple(f.title for f in shown[s.position].fields) if s.position in shown else (),
            is_available=shown[s.position].is_available if s.position in shown else s.state == "fetched",
            state=s.state,
            consent=s.consent,
            fetched_at=china_time(s.fetched_at),
            parts=tuple(names[p] for p in s.parts),
            candidates=tuple(
                CandidateView(
                    record=c.record,
                    fields=tuple(
                        (f.title, "" if f.value is None or f.masked else str(f.value)) for f in c.fields
                    ),
                )
                for c in shown[s.position].candidates
            )
            if s.position in shown
            else (),
        )
        for s in read.sources
    )
    certificates = part_materials(preview.certificates) if preview else ()
    return BundleApplicationView(
        number=read.number,
        bundle_code=read.bundle_code,
        bundle_name=read.bundle_name,
        applicant_name=read.applicant_name,
        status=read.status,
        status_label=COMBINED_LABELS[read.status],
        tone=COMBINED_TONES.get(read.status, "muted"),
        is_draft=read.state == "draft",
        can_withdraw=read.state == "draft" or read.status in ("in_progress", "action_needed"),
        created_at=china_time(read.created_at),
        submitted_at=china_time(read.submitted_at),
        consumer=preview.consumer if preview else "",
        purpose=preview.purpose if preview else "",
        legal_basis=preview.legal_basis if preview else "",
        sources=sources,
        certificates=certificates,
        is_consent_needed=any(s.is_waiting for s in sources) or any(c.is_waiting for c in certificates),
        form=tuple(field_view(f) for f in read.form),
        uploads=tuple(
            UploadView(
                path=u.path,
                name=u.name,
                parts=tuple(names[p] for p in u.parts),
                reason=UPLOAD_REASONS[u.reason],
                upload_name=u.upload_name,
            )
            for u in read.uploads
        ),
        commitments=tuple((c.part, c.name, c.text) for c in preview.commitments) if preview else (),
        parts=tuple(
            PartStatusView(
                number=p.position + 1,
                name=p.item_name,
                department=p.department,
                application_number=p.application_number,
                status=p.status,
                status_label=PART_LABELS[p.status],
                tone=STATUS_TONES.get(p.status, "muted"),
                after=tuple(names[n] for n in p.needs),
                decided_at=china_time(p.decided_at),
                decision_text=p.decision_text,
                certificate_url=f"/me/certificates/{p.result_certificate_number}"
                if p.result_certificate_number
                else None,
            )
            for p in read.parts
        ),
        approved=sum(1 for p in read.parts if p.status == "approved"),
    )


def problem(found: Problem, view: BundleApplicationView | None = None) -> ProblemView:
    """A problem of a form on the bundle page, in words the page can translate."""
    sources = {f"#/sources/{s.position}": s for s in view.sources} if view else {}
    uploads = {"#/" + u.path: u.name for u in view.uploads} if view else {}
    details: list[Detail] = []
    for error in found.errors:
        pointer = error.get("pointer", "")
        detail = error.get("detail", "")
        if pointer == "#/pledge":
            details.append(Detail(None, Text(MISSING_PLEDGE)))
        elif pointer in CHOICE_PROBLEMS:
            details.append(Detail(None, Text(CHOICE_PROBLEMS[pointer])))
        elif pointer in uploads:
            details.append(Detail(None, Text(MISSING_UPLOAD, {"material": uploads[pointer]})))
        elif pointer in sources and sources[pointer].state == "choosing":
            details.append(Detail(None, Text(CHOOSE_FIRST, {"material": sources[pointer].name})))
        elif pointer in sources:
            details.append(Detail(None, Text(MISSING_MATERIAL, {"material": sources[pointer].name})))
        elif detail in UPLOAD_PROBLEMS:
            details.append(Detail(None, Text(UPLOAD_PROBLEMS[detail])))
        elif detail.startswith("the file is larger than"):
            size = "".join(c for c in detail if c.isdigit())
            megabytes = f"{int(size) / 1024 / 1024:g}" if size else "?"
            details.append(Detail(None, Text(TOO_LARGE, {"megabytes": megabytes})))
        else:
            details.append(Detail(None, Text(detail)))
    return ProblemView(title=found.title, details=tuple(details))


# -- the list ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    number: str
    bundle_name: str
    applicant_name: str
    status_label: str
    tone: str
    parts: int
    approved: int
    created_at: str


@dataclass(frozen=True)
class ListView:
    rows: tuple[ListRow, ...]
    pager: Pager


def my_bundle_applications(db: Session, actor: Actor, *, page: int) -> ListView:
    rows, total = bundle_queries.list_own_bundle_applications(db, actor=actor, page=page, per_page=PER_PAGE)
    return ListView(
        rows=tuple(
            ListRow(
                number=s.number,
                bundle_name=s.bundle_name,
                applicant_name=s.applicant_name,
                status_label=COMBINED_LABELS[s.status],
                tone=COMBINED_TONES.get(s.status, "muted"),
                parts=s.parts,
                approved=s.approved,
                created_at=china_time(s.created_at),
            )
            for s in bundle_queries.bundle_application_summaries(db, rows)
        ),
        pager=pager("/me/bundles", {}, page=page, per_page=PER_PAGE, total=total),
    )
