"""Ratings (好差评): after a decision, once, by the applicant; bad ones answered by the office; the figures
per department for the staff over it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from zerotrip.keys import KeyStore
from zerotrip.problems import NotAllowed, ValidationFailed
from zerotrip.services import ratings, reviewing
from zerotrip.services.errors import ApplicationNotFound, RatingNotAllowed, ReviewNotAllowed

from .workflow_world import WorkflowWorld, submitted_application


def _decided(db: Session, w: WorkflowWorld, keys: KeyStore, *, refuse: bool = False) -> str:
    application = submitted_application(db, w, w.xihu_resident, keys)
    if refuse:
        reviewing.refuse_application(
            db,
            actor=w.xihu_reviewer,
            number=application.number,
            reasons=["不符合条件"],
            keys=keys,
            settings=w.settings,
        )
    else:
        reviewing.accept_application(db, actor=w.xihu_reviewer, number=application.number)
        for note in ("初审通过", "核查属实"):
            reviewing.complete_review(db, actor=w.xihu_reviewer, number=application.number, note=note)
        reviewing.approve_application(
            db, actor=w.xihu_reviewer, number=application.number, keys=keys, settings=w.settings
        )
    return application.number


def test_a_decided_application_is_rated_once_by_its_applicant(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    citizen = w.xihu_resident.actor
    waiting = submitted_application(db, w, w.xihu_resident, keys)
    with pytest.raises(RatingNotAllowed):
        ratings.rate_application(db, actor=citizen, number=waiting.number, score=5)
    number = _decided(db, w, keys)
    with pytest.raises(ApplicationNotFound):
        ratings.rate_application(db, actor=w.yuhang_resident.actor, number=number, score=1)
    with pytest.raises(ValidationFailed):
        ratings.rate_application(db, actor=citizen, number=number, score=6)
    with pytest.raises(ValidationFailed):
        ratings.rate_application(db, actor=citizen, number=number, score=4, tags=["nice"])
    rating = ratings.rate_application(
        db, actor=citizen, number=number, score=5, comment=" 很快 ", tags=["fast", "fast", "convenient"]
    )
    assert (rating.score, rating.comment, rating.tags) == (5, "很快", ["fast", "convenient"])
    assert rating.department_org_id == w.xihu_civil_id
    with pytest.raises(RatingNotAllowed):
        ratings.rate_application(db, actor=citizen, number=number, score=1)
    with pytest.raises(RatingNotAllowed):  # a good rating takes no rectification
        ratings.rectify_rating(db, actor=w.xihu_reviewer, number=number, answer="谢谢")


def test_a_bad_rating_is_answered_by_the_office_once_and_counted(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    citizen = w.xihu_resident.actor
    good, bad, unanswered = _decided(db, w, keys), _decided(db, w, keys, refuse=True), _decided(db, w, keys)
    ratings.rate_application(db, actor=citizen, number=good, score=5)
    ratings.rate_application(
        db, actor=citizen, number=bad, score=1, comment="理由不清", tags=["unclear_guide"]
    )
    ratings.rate_application(db, actor=citizen, number=unanswered, score=2, tags=["slow"])
    for stranger, error in ((w.yuhang_reviewer, ApplicationNotFound), (w.xihu_admin, ReviewNotAllowed)):
        with pytest.raises(error):
            ratings.rectify_rating(db, actor=stranger, number=bad, answer="x")
    with pytest.raises(ValidationFailed):
        ratings.rectify_rating(db, actor=w.xihu_reviewer, number=bad, answer=" ")
    answered = ratings.rectify_rating(
        db, actor=w.xihu_reviewer, number=bad, answer="已向申请人电话说明理由，并修订办事指南"
    )
    assert answered.rectified_by == w.xihu_reviewer.principal and answered.rectified_at is not None
    with pytest.raises(RatingNotAllowed):
        ratings.rectify_rating(db, actor=w.xihu_reviewer, number=bad, answer="again")
    summary = ratings.rating_summary(db, actor=w.xihu_admin)
    (department,) = summary.departments
    assert (department.department, department.ratings, department.average) == ("西湖区民政局", 3, 2.67)
    assert (department.bad, department.bad_rectified, department.rectified_share) == (2, 1, 0.5)
    assert summary.ratings == 3
    # Another district's staff see none of it; citizens see no figures.
    assert ratings.rating_summary(db, actor=w.yuhang_reviewer).departments == []
    with pytest.raises(NotAllowed):
        ratings.rating_summary(db, actor=citizen)
