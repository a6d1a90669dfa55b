"""Reads of the workflow: an office's queue (its reviewers', and the platform administrator's over it; the
office above reads what was escalated to it), and where one application stands (steps, deadline,
supplement requests, rating)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed
from zerotrip.services import workflow
from zerotrip.services.models import Application, Evidence, Item
from zerotrip.services.models_workflow import BAD_SCORE, Rating, SupplementItem, SupplementRequest
from zerotrip.services.permissions import is_filer, review_paths
from zerotrip.services.workflow_schemas import (
    QueueEntry,
    RatingRead,
    StepRead,
    SupplementItemRead,
    SupplementRequestRead,
    WorkflowRead,
)

QUEUE_ROLES = ("reviewer", "platform_admin")
# What a queue shows unless a status is asked for: everything not yet decided.
WAITING = (*workflow.OPEN_STATUSES, "supplement")


def list_queue(
    db: Session,
    *,
    actor: Actor,
    status: str | None = None,
    is_overdue: bool = False,
    is_escalated: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[QueueEntry], int]:
    """The applications with the offices in the actor's reach (or, ``is_escalated``, escalated to them),
    due soonest first; by default those not yet decided. ``is_overdue``: only those past their deadline.
    Raises NotAllowed (not staff of any office)."""
    paths = review_paths(actor, roles=QUEUE_ROLES)
    if not paths:
        raise NotAllowed("the queue is for the staff of the offices")
    column = Application.escalated_to_path if is_escalated else Application.department_path
    query = select(Application).where(or_(*(column.startswith(p, autoescape=True) for p in paths)))
    if status is not None:
        query = query.where(Application.status == status)
    else:
        query = query.where(Application.status.in_(WAITING))
    now = clock.now()
    if is_overdue:
        query = query.where(Application.status.in_(workflow.OPEN_STATUSES), Application.due_at <= now)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.scalars(
            query.order_by(Application.due_at.asc().nulls_last(), Application.number)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    items = {i.id: i for i in db.scalars(select(Item).where(Item.id.in_({a.item_id for a in rows})))}
    offices = {o: identity_queries.get_organisation(db, o).name for o in {a.department_org_id for a in rows}}
    entries = [
        QueueEntry(
            number=a.number,
            item_code=items[a.item_id].code,
            item_name=items[a.item_id].name,
            applicant_name=a.applicant_name,
            office=offices[a.department_org_id],
            status=a.status,
            current_step=_step_name(a),
            submitted_at=a.submitted_at,
            due_at=a.due_at,
            is_overdue=workflow.is_overdue(a.status, a.due_at, now=now),
            is_escalated=a.escalated_at is not None,
        )
        for a in rows
    ]
    return entries, total


def workflow_read(
    db: Session,
    application: Application,
    *,
    actor: Actor,
    office_name: str | None = None,
    has_rating: bool = True,
    has_supplements: bool = True,
) -> WorkflowRead | None:
    """Where a submitted application stands; None for a draft. ``office_name``: the name of the office
    the application is routed to, when the caller has read it already; ``has_rating`` and
    ``has_supplements`` False when the caller knows there is no rating or supplement request to read."""
    if application.status == "draft" or application.step_index is None:
        return None
    if office_name is None:
        office_name = identity_queries.get_organisation(db, application.department_org_id).name
    escalated_to = (
        identity_queries.get_organisation(db, application.escalated_to_org_id).name
        if application.escalated_to_org_id is not None
        else None
    )
    is_final = application.status in workflow.FINAL_STATUSES
    steps = [
        StepRead(
            kind=s["kind"],
            name=s["name"],
            presence=s["presence"],
            is_current=i == application.step_index and not is_final,
            is_done=i < application.step_index
            or (application.status == "approved" and i <= application.step_index),
        )
        for i, s in enumerate(application.steps)
    ]
    rating = db.scalar(select(Rating).where(Rating.application_id == application.id)) if has_rating else None
    return WorkflowRead(
        office=office_name,
        steps=steps,
        current_step=None if is_final else _step_name(application),
        accepted_at=application.accepted_at,
        due_at=application.due_at,
        is_overdue=workflow.is_overdue(application.status, application.due_at, now=clock.now()),
        is_paused=application.paused_at is not None,
        paused_working_days=application.paused_working_days,
        escalated_at=application.escalated_at,
        escalated_to=escalated_to,
        refusal_reasons=application.refusal_reasons,
        supplements=_supplements(db, application) if has_supplements else [],
        rating=RatingRead(
            score=rating.score,
            comment=rating.comment,
            tags=rating.tags,
            rated_at=rating.rated_at,
            is_bad=rating.score <= BAD_SCORE,
            rectification=rating.rectification,
            rectified_at=rating.rectified_at,
        )
        if rating is not None
        else None,
        can_rate=rating is None
        and application.status in workflow.COMPLETED_STATUSES
        and is_filer(actor, application.filed_by_person_id),
    )


def _supplements(db: Session, application: Application) -> list[SupplementRequestRead]:
    requests = list(
        db.scalars(
            select(SupplementRequest)
            .where(SupplementRequest.application_id == application.id)
            .order_by(SupplementRequest.sequence)
        )
    )
    if not requests:
        return []
    items: dict[int, list[SupplementItem]] = {r.id: [] for r in requests}
    for item in db.scalars(
        select(SupplementItem)
        .where(SupplementItem.request_id.in_(items))
        .order_by(SupplementItem.request_id, SupplementItem.position)
    ):
        items[item.request_id].append(item)
    names = {
        position: name
        for position, name in db.execute(
            select(Evidence.position, Evidence.material_name).where(Evidence.application_id == application.id)
        )
    }
    return [
        SupplementRequestRead(
            sequence=r.sequence,
            note=r.note,
            requested_at=r.requested_at,
            requested_by=r.requested_by,
            resubmitted_at=r.resubmitted_at,
            paused_working_days=r.paused_working_days,
            items=[
                SupplementItemRead(
                    position=i.position,
                    material=i.material_position,
                    material_name=names.get(i.material_position) if i.material_position is not None else None,
                    detail=i.detail,
                    answer_text=i.answer_text,
                    upload_name=i.upload_name,
                    upload_type=i.upload_type,
                    upload_size=i.upload_size,
                    answered_at=i.answered_at,
                )
                for i in items[r.id]
            ],
        )
        for r in requests
    ]


def _step_name(application: Application) -> str | None:
    if application.step_index is None or not application.steps:
        return None
    return application.steps[application.step_index]["name"]
