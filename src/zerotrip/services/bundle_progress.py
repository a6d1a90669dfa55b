"""Bundles move on by themselves: a part's result is pushed to the parts that need it, and each waiting part
starts (is submitted to its department) as soon as every part it needs is approved.

``advance`` is run when the applicant submits the bundle, and ``push_result_onward`` after any decision on
an application (the staff workflow's approval or refusal, a withdrawal): when the application is a part of
a submitted bundle, the bundle advances in the same transaction. For each part still waiting, in run order:

- every part it needs is approved → their results are attached to its ``prior_result`` materials (the
  earlier application's number, its decision and result certificate), and it is submitted on the
  applicant's standing instruction, given when they submitted the bundle (with their pledge). An
  instantly approvable part may be decided at once, which can let the next part start: the pass repeats
  until nothing changes.
- a part it needs was refused or withdrawn → it can never start and is withdrawn, with the reason.

The bundle application's row is locked first, so two departments approving two parts of one bundle at the
same moment advance it one after the other, the second seeing the first's approval.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.keys import KeyStore
from zerotrip.services import applications, applying, bundle_rules
from zerotrip.services.applications import SERVICES
from zerotrip.services.bundle_models import BundleApplication, BundleMember
from zerotrip.services.models import Application, Evidence, Item

RESULT_PASSED_ON = "services.bundle_application.result_passed_on"


def push_result_onward(db: Session, *, application: Application, keys: KeyStore, settings: Settings) -> None:
    """After ``application`` was decided or withdrawn: when it is a part of a submitted bundle, push its
    result to the parts that need it and start or withdraw them (``advance``). Nothing otherwise."""
    member = db.scalar(select(BundleMember).where(BundleMember.application_id == application.id))
    if member is None:
        return
    bundle_application = db.scalar(
        select(BundleApplication)
        .where(BundleApplication.id == member.bundle_application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert bundle_application is not None  # the member's foreign key
    advance(db, bundle_application, keys=keys, settings=settings)


def members_with_applications(
    db: Session, bundle_application: BundleApplication, *, fresh: bool = False
) -> list[tuple[BundleMember, Application]]:
    """The parts in position order with their applications (``fresh``: re-read, not from the session)."""
    query = (
        select(BundleMember, Application)
        .join(Application, Application.id == BundleMember.application_id)
        .where(BundleMember.bundle_application_id == bundle_application.id)
        .order_by(BundleMember.position)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return [(m, a) for m, a in db.execute(query)]


def advance(
    db: Session, bundle_application: BundleApplication, *, keys: KeyStore, settings: Settings
) -> None:
    """Start every waiting part of a submitted bundle whose needed parts are approved, withdraw those that
    never can start; repeat while that changes anything. The caller holds the bundle application's lock."""
    if bundle_application.state != "submitted":
        return
    parts = members_with_applications(db, bundle_application, fresh=True)
    by_position = {m.position: a for m, a in parts}
    order = bundle_rules.run_order({str(m.position): frozenset(str(n) for n in m.needs) for m, _ in parts})
    members = {m.position: m for m, _ in parts}
    changed = True
    while changed:
        changed = False
        for key in order:
            member = members[int(key)]
            application = by_position[member.position]
            if application.status != "draft":
                continue
            needed = [by_position[n] for n in member.needs]
            readiness = bundle_rules.readiness([a.status for a in needed])
            if readiness == "blocked":
                names = "、".join(_item_name(db, a) for a in needed if a.status != "approved")
                applications.move(
                    db,
                    application,
                    "withdraw",
                    actor=SERVICES,
                    reason=f"cannot start: it needs the result of {names}, which was not approved",
                )
                changed = True
            elif readiness == "ready":
                _attach_results(db, bundle_application, application, needed)
                applying.submit_draft(
                    db,
                    application,
                    actor=SERVICES,
                    keys=keys,
                    settings=settings,
                    pledge=bundle_application.pledged_at is not None,
                    reason=f"bundle {bundle_application.number}: the parts it needs are approved",
                )
                changed = True


def _attach_results(
    db: Session,
    bundle_application: BundleApplication,
    application: Application,
    needed: Sequence[Application],
) -> None:
    """Each earlier part's result becomes the evidence of the materials that ask for it."""
    codes = {_item_code(db, a): a for a in needed}
    for ev in db.scalars(
        select(Evidence).where(
            Evidence.application_id == application.id, Evidence.source_kind == "prior_result"
        )
    ):
        earlier = codes.get(ev.source_ref or "")
        if earlier is None:
            continue
        ev.state = "attached"
        ev.note = earlier.number
        ev.values = {
            "application": earlier.number,
            "item": ev.source_ref,
            "decision_text": earlier.decision_text,
            "decided_at": earlier.decided_at.isoformat() if earlier.decided_at else None,
            "result_certificate_number": earlier.result_certificate_number,
        }
        ev.source_org_name = _department_name(db, earlier)
        ev.source_updated_at = earlier.decided_at
        record_event(
            db,
            actor=SERVICES.principal,
            action=RESULT_PASSED_ON,
            subject_type="service_bundle_application",
            subject_id=bundle_application.number,
            data={"from": earlier.number, "to": application.number, "material": ev.position},
        )


def _item_code(db: Session, application: Application) -> str:
    return db.get_one(Item, application.item_id).code


def _item_name(db: Session, application: Application) -> str:
    return db.get_one(Item, application.item_id).name


def _department_name(db: Session, application: Application) -> str:
    return identity_queries.get_organisation(db, application.department_org_id).name
