"""Ratings (好差评): the applicant rates a completed application once (1–5, a comment, tags); a bad rating
(2 or less) is answered by the office that handled it with what it found and changed (整改); the figures
per department (how many, the average, the share of bad ones answered) are for the staff over it.
Actions add and flush; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed, ValidationFailed
from zerotrip.services import applications, workflow
from zerotrip.services.errors import RatingNotAllowed
from zerotrip.services.models import Application
from zerotrip.services.models_workflow import BAD_SCORE, RATING_TAGS, Rating
from zerotrip.services.permissions import review_paths
from zerotrip.services.reviewing import held_application
from zerotrip.services.workflow_schemas import DepartmentRatings, RatingSummary

RATED = "services.rating.given"
RECTIFIED = "services.rating.rectified"


def find_rating(db: Session, application: Application) -> Rating | None:
    return db.scalar(select(Rating).where(Rating.application_id == application.id))


def rate_application(
    db: Session, *, actor: Actor, number: str, score: int, comment: str = "", tags: Sequence[str] = ()
) -> Rating:
    """The applicant rates their approved or refused application, once. Raises ApplicationNotFound,
    RatingNotAllowed (not completed, already rated), ValidationFailed (a score outside 1–5, an unknown
    tag)."""
    application = applications.own_application(db, actor, number, lock=True)
    if application.status not in workflow.COMPLETED_STATUSES:
        raise RatingNotAllowed(f"a {application.status} application is rated once it is decided")
    if find_rating(db, application) is not None:
        raise RatingNotAllowed("this application is already rated")
    if not 1 <= score <= 5:
        raise ValidationFailed.field("score", "a score from 1 to 5")
    unknown = [t for t in tags if t not in RATING_TAGS]
    if unknown:
        raise ValidationFailed.field("tags", f"not tags: {', '.join(unknown)}")
    rating = Rating(
        application_id=application.id,
        department_org_id=application.department_org_id,
        department_path=application.department_path,
        score=score,
        comment=comment.strip(),
        tags=list(dict.fromkeys(tags)),
        rated_at=clock.now(),
        rated_by=actor.principal,
    )
    db.add(rating)
    record_event(
        db,
        actor=actor.principal,
        action=RATED,
        subject_type="service_application",
        subject_id=application.number,
        data={"score": score, "tags": rating.tags},
    )
    return rating


def rectify_rating(db: Session, *, actor: Actor, number: str, answer: str) -> Rating:
    """The office's reviewers answer a bad rating of one of its applications with what they found and
    changed, once. Raises ApplicationNotFound, ReviewNotAllowed, RatingNotAllowed (no rating, not a bad
    one, already answered), ValidationFailed."""
    application = held_application(db, actor, number)
    rating = find_rating(db, application)
    if rating is None:
        raise RatingNotAllowed("the application has no rating")
    if rating.score > BAD_SCORE:
        raise RatingNotAllowed(f"only a rating of {BAD_SCORE} or less takes a rectification answer")
    if rating.rectification is not None:
        raise RatingNotAllowed("this rating is already answered")
    if not answer.strip():
        raise ValidationFailed.field("answer", "say what was found and changed")
    rating.rectification = answer.strip()
    rating.rectified_at = clock.now()
    rating.rectified_by = actor.principal
    record_event(
        db,
        actor=actor.principal,
        action=RECTIFIED,
        subject_type="service_application",
        subject_id=application.number,
        data={"score": rating.score},
    )
    return rating


@dataclass(frozen=True)
class _Row:
    department_id: int
    ratings: int
    total: int
    bad: int
    bad_rectified: int


def rating_summary(db: Session, *, actor: Actor) -> RatingSummary:
    """Per department within the actor's reach (the subtrees where they are reviewer or platform
    administrator; the province's administrator sees every department): how many ratings, their
    average, how many bad ones and how many of those are answered. Raises NotAllowed (not staff)."""
    paths = review_paths(actor, roles=("reviewer", "platform_admin"))
    if actor.kind != "staff" or not paths:
        raise NotAllowed("the ratings per department are for the staff of the departments")
    is_bad = Rating.score <= BAD_SCORE
    rows = db.execute(
        select(
            Rating.department_org_id,
            func.count(),
            func.sum(Rating.score),
            func.sum(case((is_bad, 1), else_=0)),
            func.sum(case((is_bad & Rating.rectification.is_not(None), 1), else_=0)),
        )
        .where(or_(*(Rating.department_path.startswith(p, autoescape=True) for p in paths)))
        .group_by(Rating.department_org_id)
    ).all()
    found = [_Row(int(d), int(n), int(t or 0), int(b or 0), int(r or 0)) for d, n, t, b, r in rows]
    departments = []
    for row in found:
        org = identity_queries.get_organisation(db, row.department_id)
        departments.append(
            DepartmentRatings(
                department_id=row.department_id,
                department=org.name,
                ratings=row.ratings,
                average=round(row.total / row.ratings, 2),
                bad=row.bad,
                bad_rectified=row.bad_rectified,
                rectified_share=round(row.bad_rectified / row.bad, 3) if row.bad else None,
            )
        )
    departments.sort(key=lambda d: (-d.ratings, d.department))
    count = sum(r.ratings for r in found)
    total = sum(r.total for r in found)
    return RatingSummary(
        departments=departments, ratings=count, average=round(total / count, 2) if count else None
    )
