"""Reads of bundle applications: the applicant sees only their own (anyone else is told there is no such
number); each part's department sees that part as any application of its item."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.services import applications, bundle_rules, form_prefill
from zerotrip.services import evidence as evidence_source
from zerotrip.services.application_schemas import FormFieldRead
from zerotrip.services.bundle_models import Bundle, BundleApplication, BundleMember, BundleSource
from zerotrip.services.bundle_progress import members_with_applications
from zerotrip.services.bundle_schemas import (
    BundleApplicationRead,
    BundleApplicationSummary,
    BundleMemberRead,
    BundleSourceRead,
    UploadNeedRead,
)
from zerotrip.services.bundles import own_bundle_application
from zerotrip.services.models import Application, FormField, Item


def get_bundle_application(db: Session, *, actor: Actor, number: str) -> BundleApplication:
    """The bundle application if ``actor`` filed it. Raises BundleApplicationNotFound otherwise."""
    return own_bundle_application(db, actor, number)


def bundle_of_application(db: Session, application: Application) -> str | None:
    """The number of the bundle application ``application`` is a part of, if any."""
    return db.scalar(
        select(BundleApplication.number)
        .join(BundleMember, BundleMember.bundle_application_id == BundleApplication.id)
        .where(BundleMember.application_id == application.id)
    )


def list_own_bundle_applications(
    db: Session, *, actor: Actor, page: int = 1, per_page: int = 20
) -> tuple[list[BundleApplication], int]:
    """The signed-in citizen's bundle applications (drafts included), newest first; nobody else has any."""
    if actor.kind != "citizen" or actor.person_id is None:
        return [], 0
    query = select(BundleApplication).where(BundleApplication.filed_by_person_id == actor.person_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(BundleApplication.created_at.desc(), BundleApplication.number)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def combined_status(db: Session, bundle_application: BundleApplication) -> bundle_rules.CombinedStatus:
    statuses = [a.status for _, a in members_with_applications(db, bundle_application)]
    return bundle_rules.combined_status(bundle_application.state, statuses)


def bundle_application_summaries(
    db: Session, rows: list[BundleApplication]
) -> list[BundleApplicationSummary]:
    found = []
    for row in rows:
        bundle = db.get_one(Bundle, row.bundle_id)
        statuses = [a.status for _, a in members_with_applications(db, row)]
        found.append(
            BundleApplicationSummary(
                number=row.number,
                bundle_code=bundle.code,
                bundle_name=bundle.name,
                applicant_name=row.applicant_name,
                status=bundle_rules.combined_status(row.state, statuses),
                parts=len(statuses),
                approved=sum(1 for s in statuses if s == "approved"),
                created_at=row.created_at,
                submitted_at=row.submitted_at,
            )
        )
    return found


def bundle_application_read(db: Session, bundle_application: BundleApplication) -> BundleApplicationRead:
    """The one status, each part with its department and decision, the sources read once, the one form,
    and what is still to be uploaded."""
    bundle = db.get_one(Bundle, bundle_application.bundle_id)
    parts = members_with_applications(db, bundle_application)
    items = {i.id: i for i in db.scalars(select(Item).where(Item.id.in_({m.item_id for m, _ in parts})))}
    codes = {items[m.item_id].code for m, _ in parts}
    sources = list(
        db.scalars(
            select(BundleSource)
            .where(BundleSource.bundle_application_id == bundle_application.id)
            .order_by(BundleSource.position)
        )
    )
    fed = {(p, m) for s in sources for p, m in s.feeds}
    uploads = [
        UploadNeedRead(
            path=f"sources/{s.position}",
            name=s.material_name,
            parts=sorted({p for p, _ in s.feeds}),
            reason="declined" if s.consent == "declined" else "unavailable",
            upload_name=s.upload_name,
        )
        for s in sources
        if s.consent == "declined" or s.state in ("unavailable", "uploaded")
    ]
    for member, application in parts:
        for ev in applications.evidence_of(db, application):
            passed_on = ev.source_kind == "prior_result" and ev.source_ref in codes
            if (member.position, ev.position) in fed or passed_on or not applications.needs_upload(ev):
                continue
            uploads.append(
                UploadNeedRead(
                    path=f"parts/{member.position}/materials/{ev.position}",
                    name=ev.material_name,
                    parts=[member.position],
                    reason="declined"
                    if ev.consent == "declined"
                    else "asked"
                    if ev.source_kind == "upload"
                    else "unavailable",
                    upload_name=ev.upload_name,
                )
            )
    return BundleApplicationRead(
        number=bundle_application.number,
        bundle_code=bundle.code,
        bundle_name=bundle.name,
        applicant_kind=bundle_application.applicant_kind,
        applicant_name=bundle_application.applicant_name,
        state=bundle_application.state,
        status=bundle_rules.combined_status(bundle_application.state, [a.status for _, a in parts]),
        created_at=bundle_application.created_at,
        submitted_at=bundle_application.submitted_at,
        pledged_at=bundle_application.pledged_at,
        parts=[
            BundleMemberRead(
                position=member.position,
                item_code=items[member.item_id].code,
                item_name=items[member.item_id].name,
                department=identity_queries.get_organisation(db, application.department_org_id).name,
                application_number=application.number,
                status=bundle_rules.part_status(application.status, bundle_state=bundle_application.state),
                needs=list(member.needs),
                submitted_at=application.submitted_at,
                decided_at=application.decided_at,
                decision_text=application.decision_text,
                result_certificate_number=application.result_certificate_number,
            )
            for member, application in parts
        ],
        sources=[
            BundleSourceRead(
                position=s.position,
                name=s.material_name,
                resource_code=s.source_ref,
                fields=list(s.source_fields),
                exists_only=s.is_exists_fact,
                state=s.state,
                consent=s.consent,
                department=s.source_org_name,
                source_updated_at=s.source_updated_at,
                fetched_at=s.fetched_at,
                upload_name=s.upload_name,
                note=s.note,
                parts=sorted({p for p, _ in s.feeds}),
            )
            for s in sources
        ],
        form=_one_form(db, parts[0][1] if parts else None, sources),
        uploads=uploads,
    )


def _one_form(db: Session, first: Application | None, sources: list[BundleSource]) -> list[FormFieldRead]:
    """The applicant's identity (the same in every part), then what each source read, once."""
    form: list[FormFieldRead] = []
    if first is not None:
        for f in db.scalars(
            select(FormField)
            .where(FormField.application_id == first.id, FormField.source == "identity")
            .order_by(FormField.position)
        ):
            form.append(
                FormFieldRead(
                    name=f.name,
                    label=f.label,
                    value=f.value,
                    source="identity",
                    source_label=None,
                    source_date=f.source_date,
                    is_locked=f.is_locked,
                )
            )
    for source in sources:
        fetched = evidence_source.fetched(source)
        if fetched is None:
            continue
        described = evidence_source.describe_source(db, source.source_ref)
        titles = described.field_titles if described else {}
        form.extend(
            FormFieldRead(
                name=f"{source.position}.{name}",
                label=label,
                value=value,
                source="datahub",
                source_label=source.source_org_name,
                source_date=source.source_updated_at,
                is_locked=True,
            )
            for name, label, value in form_prefill.form_values(fetched, source.material_name, titles)
        )
    return form
