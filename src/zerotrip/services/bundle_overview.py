"""What a part of a bundle (一件事) shows of its bundle: the one status and each part's department and
status. Whoever may read one part (its department's staff, the applicant) sees this much of the others:
no numbers, decisions, evidence or results of parts they may not open."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.identity import queries as identity_queries
from zerotrip.services import bundle_rules
from zerotrip.services.application_schemas import BundleOverviewRead, BundlePartOverviewRead
from zerotrip.services.bundle_models import Bundle, BundleApplication, BundleMember
from zerotrip.services.models import Application, Item


def bundle_overview(
    db: Session, application: Application, bundle_application_id: uuid.UUID
) -> BundleOverviewRead:
    """The bundle application ``bundle_application_id``, which ``application`` is a part of (the caller
    found it with the application), seen from that part."""
    bundle_application = db.get_one(BundleApplication, bundle_application_id)
    parts = db.execute(
        select(BundleMember, Application, Item)
        .join(Application, Application.id == BundleMember.application_id)
        .join(Item, Item.id == Application.item_id)
        .where(BundleMember.bundle_application_id == bundle_application.id)
        .order_by(BundleMember.position)
    ).all()
    bundle = db.get_one(Bundle, bundle_application.bundle_id)
    state = bundle_application.state
    return BundleOverviewRead(
        number=bundle_application.number,
        bundle_code=bundle.code,
        bundle_name=bundle.name,
        status=bundle_rules.combined_status(state, [a.status for _, a, _ in parts]),
        submitted_at=bundle_application.submitted_at,
        parts=[
            BundlePartOverviewRead(
                position=member.position,
                item_code=item.code,
                item_name=item.name,
                department=identity_queries.get_organisation(db, part.department_org_id).name,
                status=bundle_rules.part_status(part.status, bundle_state=state),
                needs=list(member.needs),
                submitted_at=part.submitted_at,
                decided_at=part.decided_at,
                is_this=part.id == application.id,
            )
            for member, part, item in parts
        ],
    )
