"""The result of a decided application: the decision letter (办件结果通知书) issued into the applicant's
wallet through the certificates context, by the office that decided it, with the application's number as
its ``source_ref``. A refusal gets one too, with its reasons: the written decision the applicant is owed.

The letter is issued last in a decision's transaction: issuing counts it in the shared status list, whose
row stays locked until the commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from zerotrip.certificates import actions as certificates_actions
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.keys import KeyStore
from zerotrip.services.applications import SERVICES
from zerotrip.services.models import Application, Item

DECISION_LETTER = "decision-letter"  # the certificates context's type for an application's result
APPROVED_DECISION = "准予许可"
REFUSED_DECISION = "不予许可"


def issue_decision_letter(
    db: Session,
    application: Application,
    item: Item,
    *,
    decision: str,
    decided_at: datetime,
    keys: KeyStore,
    settings: Settings,
) -> None:
    """Issue the decision letter to a person applicant and keep its number on the application; an
    enterprise's decision stands without one (the letter is a person's certificate)."""
    if application.applicant_kind != "person":
        return
    office = identity_queries.get_organisation(db, application.department_org_id)
    certificate = certificates_actions.issue_certificate(
        db,
        actor=SERVICES,
        certificate_type=DECISION_LETTER,
        holder_key=application.applicant_key,
        claims={
            "application_no": application.number,
            "service_item": item.name,
            "decision": decision,
            "decision_text": application.decision_text or decision,
            "decided_on": decided_at.astimezone(clock.CHINA).date().isoformat(),
        },
        keys=keys,
        settings=settings,
        issuer_org_code=office.code,
        source_ref=application.number,
    )
    application.result_certificate_number = certificate.number
