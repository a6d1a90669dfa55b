"""Reads of applications: an applicant sees only their own, the implementing department's reviewers (and
the platform administrator over it) see its applications; anyone else is told there is no such number."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from zerotrip.identity.actor import ANONYMOUS, Actor
from zerotrip.identity.models import Organisation
from zerotrip.services import wallet_evidence
from zerotrip.services.application_schemas import (
    ApplicationRead,
    ApplicationSummary,
    EvidenceRead,
    FormFieldRead,
    RuleOutcomeRead,
    RuleSetRead,
    TransitionRead,
)
from zerotrip.services.applications import needs_upload, normalise_number
from zerotrip.services.bundle_models import BundleMember
from zerotrip.services.bundle_overview import bundle_overview
from zerotrip.services.errors import ApplicationNotFound
from zerotrip.services.instant import latest_rule_set
from zerotrip.services.models import Application, Evidence, FormField, Item, RuleSet, Transition
from zerotrip.services.models_workflow import Rating, SupplementRequest
from zerotrip.services.permissions import can_read_applications_of, is_filer
from zerotrip.services.queries import get_item
from zerotrip.services.rules import RuleSetSpec
from zerotrip.services.workflow_queries import workflow_read


def get_application(db: Session, *, actor: Actor, number: str) -> Application:
    """The application if ``actor`` may read it. Raises ApplicationNotFound otherwise."""
    application = db.scalar(select(Application).where(Application.number == normalise_number(number)))
    if application is None:
        raise ApplicationNotFound()
    if is_filer(actor, application.filed_by_person_id):
        return application
    if can_read_applications_of(actor, application.department_path, application.escalated_to_path):
        return application
    raise ApplicationNotFound()


def list_own_applications(
    db: Session, *, actor: Actor, page: int = 1, per_page: int = 20
) -> tuple[list[Application], int]:
    """The signed-in citizen's applications (drafts included), newest first; nobody else has any."""
    if actor.kind != "citizen" or actor.person_id is None:
        return [], 0
    query = select(Application).where(Application.filed_by_person_id == actor.person_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Application.created_at.desc(), Application.number)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def application_summaries(db: Session, applications: list[Application]) -> list[ApplicationSummary]:
    items = {i.id: i for i in db.scalars(select(Item).where(Item.id.in_({a.item_id for a in applications})))}
    return [
        ApplicationSummary(
            number=a.number,
            item_code=items[a.item_id].code,
            item_name=items[a.item_id].name,
            applicant_name=a.applicant_name,
            status=a.status,
            created_at=a.created_at,
            submitted_at=a.submitted_at,
            decided_at=a.decided_at,
            result_certificate_number=a.result_certificate_number,
        )
        for a in applications
    ]


def application_read(db: Session, application: Application, *, actor: Actor = ANONYMOUS) -> ApplicationRead:
    """The whole application as ``actor`` (who may read it) sees it: whether they may rate it depends on
    who they are."""
    # In one statement: the item's code and name, the department's name, the rule set's version, the
    # bundle the application is a part of (a part belongs to one at most), and whether a rating or a
    # supplement request has to be read for the workflow panel.
    item_code, item_name, department, rule_set_version, bundle_application_id, has_rating, has_supplements = (
        db.execute(
            select(
                Item.code,
                Item.name,
                Organisation.name,
                RuleSet.version,
                BundleMember.bundle_application_id,
                exists().where(Rating.application_id == application.id),
                exists().where(SupplementRequest.application_id == application.id),
            )
            .select_from(Item)
            .join(Organisation, Organisation.id == application.department_org_id)
            .outerjoin(RuleSet, RuleSet.id == application.rule_set_id)
            .outerjoin(BundleMember, BundleMember.application_id == application.id)
            .where(Item.id == application.item_id)
        ).one()
    )
    evidence = db.scalars(
        select(Evidence).where(Evidence.application_id == application.id).order_by(Evidence.position)
    )
    form = db.scalars(
        select(FormField).where(FormField.application_id == application.id).order_by(FormField.position)
    )
    transitions = db.scalars(
        select(Transition).where(Transition.application_id == application.id).order_by(Transition.id)
    )
    return ApplicationRead(
        number=application.number,
        item_code=item_code,
        item_name=item_name,
        department=department,
        applicant_kind=application.applicant_kind,
        applicant_name=application.applicant_name,
        division_code=application.division_code,
        status=application.status,
        created_at=application.created_at,
        submitted_at=application.submitted_at,
        decided_at=application.decided_at,
        decision_text=application.decision_text,
        review_reason=application.review_reason,
        result_certificate_number=application.result_certificate_number,
        rule_set_version=rule_set_version,
        rule_results=[RuleOutcomeRead.model_validate(r) for r in application.rule_results]
        if application.rule_results is not None
        else None,
        evidence=[
            EvidenceRead(
                position=ev.position,
                name=ev.material_name,
                is_required=ev.is_required,
                is_deferrable=ev.is_deferrable,
                source_kind=ev.source_kind,
                source_ref=ev.source_ref,
                state=ev.state,
                consent=ev.consent,
                values=ev.values,
                department=ev.source_org_name,
                source_updated_at=ev.source_updated_at,
                fetched_at=ev.fetched_at,
                upload_name=ev.upload_name,
                upload_type=ev.upload_type,
                upload_size=ev.upload_size,
                note=ev.note,
                needs_upload=needs_upload(ev),
                certificate=wallet_evidence.used_certificate(ev),
            )
            for ev in evidence
        ],
        form=[
            FormFieldRead(
                name=f.name,
                label=f.label,
                value=f.value,
                source=f.source,
                source_label=f.source_label,
                source_date=f.source_date,
                is_locked=f.is_locked,
            )
            for f in form
        ],
        transitions=[
            TransitionRead(
                from_status=t.from_status,
                to_status=t.to_status,
                at=t.at,
                by=t.by,
                reason=t.reason,
                step=t.step,
            )
            for t in transitions
        ],
        workflow=workflow_read(
            db,
            application,
            actor=actor,
            office_name=department,
            has_rating=has_rating,
            has_supplements=has_supplements,
        ),
        bundle=bundle_overview(db, application, bundle_application_id)
        if bundle_application_id is not None
        else None,
    )


def rule_set_read(db: Session, item_code: str) -> RuleSetRead | None:
    """The item's current instant-approval rules (public: they decide applications, PIPL art. 24 asks for
    transparency of automated decisions). Raises ItemNotFound."""
    item = get_item(db, item_code)
    rule_set = latest_rule_set(db, item.id)
    if rule_set is None:
        return None
    spec = RuleSetSpec.model_validate({"rules": rule_set.rules})
    return RuleSetRead(
        item_code=item.code,
        version=rule_set.version,
        defined_by=rule_set.defined_by,
        defined_at=rule_set.defined_at,
        rules=spec.rules,
    )


def uploaded_file(db: Session, application: Application, position: int) -> tuple[str, str, str] | None:
    """(path under the data directory, media type, name as sent) of the file that stands for the material
    at ``position`` now; None when none was uploaded. The caller checked who may read the application."""
    ev = db.scalar(
        select(Evidence).where(Evidence.application_id == application.id, Evidence.position == position)
    )
    if ev is None or ev.upload_path is None:
        return None
    return ev.upload_path, ev.upload_type or "application/octet-stream", ev.upload_name or "upload"
