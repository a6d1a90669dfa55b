"""View-models of the applying pages: the draft (what will be read, consent, the prefilled form, uploads,
the pledge), the status of a submitted application with its decision, and the citizen's list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.config import ServicesSettings
from zerotrip.identity.actor import Actor
from zerotrip.problems import Problem
from zerotrip.services import application_queries, applications, applying, instant
from zerotrip.services.application_schemas import ApplicationRead, EvidencePreview, FormFieldRead
from zerotrip.web.datahub_text import Detail, ProblemView, Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_date, china_time, pager
from zerotrip.web.services_wallet_views import (
    NO_VALID_CERTIFICATE,
    REFUSED,
    CertificateMaterialView,
    certificate_materials,
    refused,
)
from zerotrip.web.services_workflow_views import WorkflowPanel, workflow_panel
from zerotrip.web.views import mask_resident_id

PER_PAGE = 20
STATUS_LABELS = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "accepted": N_("Application accepted"),
    "in_review": N_("With a person for review"),
    "supplement": N_("Materials to supply"),
    "approved": N_("Application approved"),
    "refused": N_("Application refused"),
    "withdrawn": N_("Withdrawn"),
}
STATUS_TONES = {"approved": "ok", "refused": "danger", "in_review": "warn", "supplement": "warn"}
RULE_REASONS = {
    "": N_("Met"),
    "failed": N_("Not met"),
    "missing": N_("Not fetched"),
    "masked": N_("Not shown in full"),
    "incomparable": N_("Cannot be judged"),
}
FACT_SUFFIXES = {
    "records": N_("number of records"),
    "latest": N_("latest"),
    "consecutive_months": N_("consecutive months"),
}
UPLOAD_PROBLEMS = {
    "the file is empty": N_("The file is empty."),
    "send a PDF, PNG or JPEG file": N_("Send a PDF, PNG or JPEG file."),
    "this material is fetched by the platform and takes no upload": N_(
        "The platform fetches this material: it takes no upload."
    ),
}
TOO_LARGE = N_("The file is larger than %(megabytes)s MB.")
MISSING_MATERIAL = N_("%(material)s: still missing. Let the platform fetch it, or upload it.")
MISSING_UPLOAD = N_("%(material)s: still missing. Upload it.")
MISSING_PLEDGE = N_("Tick the box to sign the commitment.")
NO_FILE = N_("Choose a file first.")
STILL_TO_ANSWER = N_("Still to answer: %(detail)s")
# The identity fields' labels (``applying.APPLICANT_LABELS``), marked here to be translated.
IDENTITY_LABELS = (
    N_("Applicant"),
    N_("Resident ID number"),
    N_("Enterprise"),
    N_("Unified social credit code"),
)


@dataclass(frozen=True)
class SourceView:
    """One material the platform reads, as shown before and after consent."""

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

    @property
    def is_waiting(self) -> bool:
        return self.consent is None and self.state == "pending"


@dataclass(frozen=True)
class FieldView:
    label: str
    is_label_msgid: bool  # the identity fields' labels are English msgids
    suffix: str | None  # an English msgid: "latest", "consecutive months" …
    value: str
    value_text: Text | None  # a value in words (a yes/no answer), translated by the template
    source: str | None  # the department the value came from; None: the applicant's verified identity
    source_date: str
    is_locked: bool
    is_certificate: bool = False  # from an e-certificate: source_date is its issue date


@dataclass(frozen=True)
class UploadView:
    position: int
    name: str
    reason: str  # an English msgid
    upload_name: str | None
    upload_kb: int | None


@dataclass(frozen=True)
class RuleView:
    label: str
    passed: bool
    actual: str
    actual_text: Text | None
    reason: str  # an English msgid


@dataclass(frozen=True)
class StepView:
    status_label: str
    at: str
    reason: str | None


@dataclass(frozen=True)
class ApplicationView:
    number: str
    item_code: str
    item_name: str
    department: str
    applicant_name: str
    status: str
    status_label: str
    tone: str
    is_draft: bool
    can_withdraw: bool
    created_at: str
    submitted_at: str
    decided_at: str
    decision_text: str | None
    certificate_url: str | None
    consumer: str
    purpose: str
    legal_basis: str
    sources: tuple[SourceView, ...]
    certificates: tuple[CertificateMaterialView, ...]  # e-certificate materials from the wallet
    is_consent_needed: bool
    form: tuple[FieldView, ...]
    uploads: tuple[UploadView, ...]
    commitments: tuple[tuple[str, str], ...]
    rules: tuple[RuleView, ...]
    rule_set_version: int | None
    asked_for_person: bool
    uploaded_instead: tuple[str, ...]
    steps: tuple[StepView, ...]
    workflow: WorkflowPanel | None


def application(db: Session, actor: Actor, number: str, settings: ServicesSettings) -> ApplicationView:
    """The applicant's application (anyone else: ApplicationNotFound)."""
    found = application_queries.get_application(db, actor=actor, number=number)
    read = application_queries.application_read(db, found, actor=actor)
    preview = (
        applying.preview_evidence(db, actor=actor, number=number, settings=settings)
        if read.status == "draft"
        else None
    )
    return _view(read, preview)


def _view(read: ApplicationRead, preview: EvidencePreview | None) -> ApplicationView:
    by_position = {m.position: m for m in preview.materials} if preview else {}
    sources = []
    for ev in read.evidence:
        if ev.source_kind != "datahub":
            continue
        shown = by_position.get(ev.position)
        sources.append(
            SourceView(
                position=ev.position,
                name=ev.name,
                department=(shown.department if shown else None) or ev.department or "",
                resource_title=(shown.resource_title if shown else None) or ev.source_ref or "",
                exists_only=shown.exists_only if shown else False,
                fields=tuple(f.title for f in shown.fields) if shown else (),
                is_available=shown.is_available if shown else ev.state == "fetched",
                state=ev.state,
                consent=ev.consent,
                fetched_at=china_time(ev.fetched_at),
            )
        )
    uploads = tuple(
        UploadView(
            position=ev.position,
            name=ev.name,
            reason=N_("You did not let the platform fetch it")
            if ev.consent == "declined"
            else NO_VALID_CERTIFICATE
            if ev.source_kind == "certificate"
            else N_("The platform cannot fetch it")
            if ev.source_kind != "upload"
            else N_("Asked for as a scan"),
            upload_name=ev.upload_name,
            upload_kb=(ev.upload_size + 1023) // 1024 if ev.upload_size is not None else None,
        )
        for ev in read.evidence
        if ev.needs_upload
    )
    commitments = tuple(
        (m.name, m.commitment or "")
        for m in (preview.materials if preview else [])
        if m.source_kind == "commitment"
    )
    rules = tuple(rule_view(r.rule, r.passed, r.actual, r.reason) for r in read.rule_results or [])
    certificates = certificate_materials(read, preview)
    return ApplicationView(
        number=read.number,
        item_code=read.item_code,
        item_name=read.item_name,
        department=read.department,
        applicant_name=read.applicant_name,
        status=read.status,
        status_label=STATUS_LABELS[read.status],
        tone=STATUS_TONES.get(read.status, "muted"),
        is_draft=read.status == "draft",
        can_withdraw=read.status in applications.WITHDRAWABLE,
        created_at=china_time(read.created_at),
        submitted_at=china_time(read.submitted_at),
        decided_at=china_time(read.decided_at),
        decision_text=read.decision_text,
        certificate_url=f"/me/certificates/{read.result_certificate_number}"
        if read.result_certificate_number
        else None,
        consumer=preview.consumer if preview else "",
        purpose=preview.purpose if preview else "",
        legal_basis=preview.legal_basis if preview else "",
        sources=tuple(sources),
        certificates=certificates,
        is_consent_needed=any(s.is_waiting for s in sources) or any(c.is_waiting for c in certificates),
        form=tuple(field_view(f) for f in read.form),
        uploads=uploads,
        commitments=commitments,
        rules=rules,
        rule_set_version=read.rule_set_version,
        asked_for_person=instant.ASKED_FOR_PERSON in (read.review_reason or ""),
        uploaded_instead=tuple(
            ev.name for ev in read.evidence if ev.source_kind == "datahub" and ev.state == "uploaded"
        ),
        steps=tuple(
            StepView(status_label=STATUS_LABELS[t.to_status], at=china_time(t.at), reason=t.reason)
            for t in read.transitions
        ),
        workflow=workflow_panel(read),
    )


def _yes_no(name: str, value: object) -> Text | None:
    if not isinstance(value, bool):
        return None
    if name.endswith(".exists"):
        return Text(N_("Has a record") if value else N_("No record"))
    return Text(N_("Yes") if value else N_("No"))


def field_view(f: FormFieldRead) -> FieldView:
    """One field of the form as the pages show it (the applicant's number masked)."""
    last = f.name.rsplit(".", 1)[-1]
    suffix = FACT_SUFFIXES.get(last) if f.source == "datahub" and f.name.count(".") >= 2 else None
    value = f.value
    if f.name == "applicant.key" and f.label == "Resident ID number" and isinstance(value, str):
        value = mask_resident_id(value)  # the applicant's own number, shown as the home page shows it
    return FieldView(
        label=f.label,
        is_label_msgid=f.source == "identity",
        suffix=suffix,
        value="" if value is None else str(value),
        value_text=_yes_no(f.name, value),
        source=f.source_label if f.source in ("datahub", "certificate") else None,
        source_date=china_date(f.source_date),
        is_locked=f.is_locked,
        is_certificate=f.source == "certificate",
    )


def rule_view(rule: dict[str, object], passed: bool, actual: object, reason: str) -> RuleView:
    name = str(rule.get("fact") or rule.get("field") or "")
    return RuleView(
        label=str(rule.get("label") or name),
        passed=passed,
        actual="" if actual is None else str(actual),
        actual_text=_yes_no(name, actual),
        reason=RULE_REASONS.get(reason, reason),
    )


def problem(found: Problem, read: ApplicationView | None = None) -> ProblemView:
    """A problem of a form on the application page, in words the page can translate."""
    if isinstance(found, REFUSED):
        return refused(found)
    names = {u.position: u.name for u in read.uploads} if read else {}
    sources = {s.position: s.name for s in read.sources} if read else {}
    details: list[Detail] = []
    for error in found.errors:
        pointer = error.get("pointer", "")
        detail = error.get("detail", "")
        if pointer == "#/pledge":
            details.append(Detail(None, Text(MISSING_PLEDGE)))
        elif pointer.startswith("#/materials/") and pointer.removeprefix("#/materials/").isdigit():
            position = int(pointer.removeprefix("#/materials/"))
            if position in names:
                details.append(Detail(None, Text(MISSING_UPLOAD, {"material": names[position]})))
            else:
                details.append(
                    Detail(None, Text(MISSING_MATERIAL, {"material": sources.get(position, detail)}))
                )
        elif pointer.startswith("#/items/") and detail.startswith("answer: "):
            details.append(Detail(None, Text(STILL_TO_ANSWER, {"detail": detail.removeprefix("answer: ")})))
        elif detail in UPLOAD_PROBLEMS:
            details.append(Detail(None, Text(UPLOAD_PROBLEMS[detail])))
        elif detail.startswith("the file is larger than"):
            size = "".join(c for c in detail if c.isdigit())
            megabytes = f"{int(size) / 1024 / 1024:g}" if size else "?"
            details.append(Detail(None, Text(TOO_LARGE, {"megabytes": megabytes})))
        else:
            details.append(Detail(None, Text(detail)))
    return ProblemView(title=found.title, details=tuple(details))


def message(msgid: str) -> ProblemView:
    return ProblemView(title=N_("Your request is not valid"), details=(Detail(None, Text(msgid)),))


# -- the list -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    number: str
    item_name: str
    applicant_name: str
    status_label: str
    tone: str
    created_at: str
    decided_at: str


@dataclass(frozen=True)
class ListView:
    rows: tuple[ListRow, ...]
    pager: Pager


def my_applications(db: Session, actor: Actor, *, page: int) -> ListView:
    rows, total = application_queries.list_own_applications(db, actor=actor, page=page, per_page=PER_PAGE)
    summaries = application_queries.application_summaries(db, rows)
    return ListView(
        rows=tuple(
            ListRow(
                number=s.number,
                item_name=s.item_name,
                applicant_name=s.applicant_name,
                status_label=STATUS_LABELS[s.status],
                tone=STATUS_TONES.get(s.status, "muted"),
                created_at=china_time(s.created_at),
                decided_at=china_time(s.decided_at),
            )
            for s in summaries
        ),
        pager=pager("/me/applications", {}, page=page, per_page=PER_PAGE, total=total),
    )
