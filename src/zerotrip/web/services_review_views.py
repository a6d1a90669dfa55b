"""View-models of the staff's application pages (办件审批): the office's queue, one application with its
evidence and the moves its reviewer may make, and the ratings per department."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from zerotrip.identity.actor import Actor
from zerotrip.services import application_queries, ratings, workflow_queries
from zerotrip.services.application_schemas import BundleOverviewRead
from zerotrip.services.permissions import can_review
from zerotrip.services.workflow import OPEN_STATUSES
from zerotrip.services.workflow_schemas import QueueStatus
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_date, china_time, pager
from zerotrip.web.services_apply_views import (
    STATUS_LABELS,
    STATUS_TONES,
    FieldView,
    RuleView,
    field_view,
    rule_view,
)
from zerotrip.web.services_bundle_views import COMBINED_LABELS, COMBINED_TONES, PART_LABELS
from zerotrip.web.services_wallet_views import UsedCertificateView, used_view
from zerotrip.web.services_workflow_views import WorkflowPanel, workflow_panel

PER_PAGE = 20
QUEUE_STATUSES: tuple[QueueStatus, ...] = (
    "submitted",
    "accepted",
    "in_review",
    "supplement",
    "approved",
    "refused",
    "withdrawn",
)
SOURCE_LABELS = {
    "certificate": N_("E-certificate"),
    "datahub": N_("Department data"),
    "commitment": N_("Commitment"),
    "prior_result": N_("Earlier result"),
    "upload": N_("Upload"),
    "onsite": N_("Shown in person"),
}
EVIDENCE_STATE_LABELS = {
    "pending": N_("Missing"),
    "fetched": N_("Fetched"),
    "unavailable": N_("Cannot be fetched"),
    "uploaded": N_("Uploaded"),
    "pledged": N_("Pledged"),
    "attached": N_("Attached"),
    "onsite": N_("Checked in person"),
}
APPLICANT_KIND_LABELS = {"person": N_("Person"), "enterprise": N_("Enterprise")}


# -- the queue --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    number: str
    item_name: str
    applicant_name: str
    office: str
    status_label: str
    tone: str
    step: str
    submitted_at: str
    due_date: str
    is_overdue: bool
    is_escalated: bool


@dataclass(frozen=True)
class QueueView:
    rows: tuple[QueueRow, ...]
    total: int
    pager: Pager
    status: str
    is_overdue: bool
    is_escalated: bool
    statuses: tuple[tuple[str, str], ...]  # (value, English msgid)


def queue(
    db: Session, actor: Actor, *, status: QueueStatus | None, is_overdue: bool, is_escalated: bool, page: int
) -> QueueView:
    """Raises NotAllowed for anyone who is not staff of an office."""
    entries, total = workflow_queries.list_queue(
        db,
        actor=actor,
        status=status,
        is_overdue=is_overdue,
        is_escalated=is_escalated,
        page=page,
        per_page=PER_PAGE,
    )
    params = {
        "status": status or "",
        "overdue": "1" if is_overdue else "",
        "escalated": "1" if is_escalated else "",
    }
    return QueueView(
        rows=tuple(
            QueueRow(
                number=e.number,
                item_name=e.item_name,
                applicant_name=e.applicant_name,
                office=e.office,
                status_label=STATUS_LABELS[e.status],
                tone=STATUS_TONES.get(e.status, "muted"),
                step=e.current_step or "",
                submitted_at=china_time(e.submitted_at),
                due_date=china_date(e.due_at - timedelta(seconds=1)) if e.due_at else "",
                is_overdue=e.is_overdue,
                is_escalated=e.is_escalated,
            )
            for e in entries
        ),
        total=total,
        pager=pager(
            "/staff/services/applications",
            {k: v for k, v in params.items() if v},
            page=page,
            per_page=PER_PAGE,
            total=total,
        ),
        status=status or "",
        is_overdue=is_overdue,
        is_escalated=is_escalated,
        statuses=tuple((s, STATUS_LABELS[s]) for s in QUEUE_STATUSES),
    )


# -- one application --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    position: int
    name: str
    source_label: str  # an English msgid
    state_label: str  # an English msgid
    is_missing: bool
    department: str
    source_date: str
    fetched_at: str
    upload_name: str | None
    file_url: str | None
    note: str | None
    certificate: UsedCertificateView | None = None  # the e-certificate used from the applicant's wallet


@dataclass(frozen=True)
class BundlePartRow:
    number: int
    name: str
    department: str
    status_label: str
    tone: str
    after: tuple[str, ...]  # the parts it waits for
    submitted_at: str
    decided_at: str
    is_this: bool


@dataclass(frozen=True)
class BundlePanel:
    """The bundle (一件事) the application is a part of: its one status and every part's department and
    status, nothing more of the other parts."""

    number: str
    name: str
    status_label: str
    tone: str
    parts: tuple[BundlePartRow, ...]


def bundle_panel(read: BundleOverviewRead | None) -> BundlePanel | None:
    if read is None:
        return None
    names = {p.position: p.item_name for p in read.parts}
    return BundlePanel(
        number=read.number,
        name=read.bundle_name,
        status_label=COMBINED_LABELS[read.status],
        tone=COMBINED_TONES.get(read.status, "muted"),
        parts=tuple(
            BundlePartRow(
                number=p.position + 1,
                name=p.item_name,
                department=p.department,
                status_label=PART_LABELS[p.status],
                tone=STATUS_TONES.get(p.status, "muted"),
                after=tuple(names[n] for n in p.needs),
                submitted_at=china_time(p.submitted_at),
                decided_at=china_time(p.decided_at),
                is_this=p.is_this,
            )
            for p in read.parts
        ),
    )


@dataclass(frozen=True)
class ReviewView:
    number: str
    item_name: str
    item_code: str
    applicant_name: str
    applicant_kind_label: str
    division_code: str
    status: str
    status_label: str
    tone: str
    submitted_at: str
    decided_at: str
    decision_text: str | None
    review_reason: str | None
    certificate_number: str | None
    evidence: tuple[EvidenceRow, ...]
    form: tuple[FieldView, ...]
    rules: tuple[RuleView, ...]
    workflow: WorkflowPanel | None
    bundle: BundlePanel | None
    can_act: bool  # a reviewer of the office the application is with
    can_accept: bool
    can_review: bool
    can_decide: bool
    can_refuse: bool
    can_request_supplement: bool
    can_rectify: bool


def application(db: Session, actor: Actor, number: str) -> ReviewView:
    """Raises ApplicationNotFound when the actor may not read it."""
    found = application_queries.get_application(db, actor=actor, number=number)
    read = application_queries.application_read(db, found, actor=actor)
    panel = workflow_panel(read)
    step = next((s for s in read.workflow.steps if s.is_current), None) if read.workflow else None
    kind = step.kind if step else None
    acts = can_review(actor, found.department_path)
    is_open = read.status in OPEN_STATUSES
    rating = read.workflow.rating if read.workflow else None
    base = f"/api/services/applications/{read.number}/materials"
    return ReviewView(
        number=read.number,
        item_name=read.item_name,
        item_code=read.item_code,
        applicant_name=read.applicant_name,
        applicant_kind_label=APPLICANT_KIND_LABELS[read.applicant_kind],
        division_code=read.division_code,
        status=read.status,
        status_label=STATUS_LABELS[read.status],
        tone=STATUS_TONES.get(read.status, "muted"),
        submitted_at=china_time(read.submitted_at),
        decided_at=china_time(read.decided_at),
        decision_text=read.decision_text,
        review_reason=read.review_reason,
        certificate_number=read.result_certificate_number,
        evidence=tuple(
            EvidenceRow(
                position=ev.position,
                name=ev.name,
                source_label=SOURCE_LABELS.get(ev.source_kind, ev.source_kind),
                state_label=EVIDENCE_STATE_LABELS[ev.state],
                is_missing=ev.state in ("pending", "unavailable") and ev.is_required,
                department=ev.department or "",
                source_date=china_date(ev.source_updated_at),
                fetched_at=china_time(ev.fetched_at),
                upload_name=ev.upload_name,
                file_url=f"{base}/{ev.position}/file" if ev.upload_name else None,
                note=ev.note,
                certificate=used_view(ev.certificate) if ev.certificate else None,
            )
            for ev in read.evidence
        ),
        form=tuple(field_view(f) for f in read.form),
        rules=tuple(rule_view(r.rule, r.passed, r.actual, r.reason) for r in read.rule_results or []),
        workflow=panel,
        bundle=bundle_panel(read.bundle),
        can_act=acts,
        can_accept=acts and read.status == "submitted" and kind == "accept",
        can_review=acts and read.status in ("accepted", "in_review") and kind == "review",
        can_decide=acts and read.status in ("accepted", "in_review") and kind == "decide",
        can_refuse=acts and is_open,
        can_request_supplement=acts and is_open,
        can_rectify=acts and rating is not None and rating.is_bad and rating.rectification is None,
    )


# -- ratings per department -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingRow:
    department: str
    ratings: int
    average: str
    bad: int
    bad_rectified: int
    rectified_share: str


@dataclass(frozen=True)
class RatingsView:
    rows: tuple[RatingRow, ...]
    ratings: int
    average: str


def rating_summary(db: Session, actor: Actor) -> RatingsView:
    """Raises NotAllowed for anyone who is not staff of a department."""
    summary = ratings.rating_summary(db, actor=actor)
    return RatingsView(
        rows=tuple(
            RatingRow(
                department=d.department,
                ratings=d.ratings,
                average=f"{d.average:.2f}",
                bad=d.bad,
                bad_rectified=d.bad_rectified,
                rectified_share=f"{d.rectified_share:.0%}" if d.rectified_share is not None else "—",
            )
            for d in summary.departments
        ),
        ratings=summary.ratings,
        average=f"{summary.average:.2f}" if summary.average is not None else "—",
    )
