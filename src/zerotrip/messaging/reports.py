"""Report-back (报送): a notice may carry a small form of whole numbers ("people evacuated", "shelters
open"); each unit the notice reached answers once and may amend its answer (audited with the values before
and after); the answers sum up the tree as they arrive, replacing level-by-level written reports.

Each number is a row (notice, unit, field) carrying the unit's path, so a subtree's sums are one SUM …
GROUP BY over that notice's rows. Actions add and flush; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.staff_queries import subtree_clause
from zerotrip.messaging.errors_notices import (
    InvalidReport,
    NoReportForm,
    NoticeNotFound,
    NoticeStateConflict,
    ReportNotAllowed,
    StaffOnly,
)
from zerotrip.messaging.models_notices import Notice, OrgHeadcount, ReportAnswer, ReportValue
from zerotrip.messaging.notices_inbox import VISIBLE_TO_RECIPIENTS
from zerotrip.messaging.notices_queries import reached_in
from zerotrip.messaging.rollups import bucket_of, followed_unit, headcount_reached
from zerotrip.messaging.rollups_headcount import ensure_headcount
from zerotrip.messaging.schemas_notices import FormFieldSpec, ReportAnswerRead, ReportSums, ReportUnitSums
from zerotrip.problems import FieldError

ANSWERED = "messaging.report.answered"
AMENDED = "messaging.report.amended"
MAX_VALUE = 10**12


def answer_report(
    db: Session, *, actor: Actor, notice_id: int, values: dict[str, int], org_id: int | None = None
) -> ReportAnswer:
    """Give (or amend) the answer of the actor's unit the notice reached them in (``org_id`` when it
    reached them in several). Raises StaffOnly, NoticeNotFound, NoReportForm, NoticeStateConflict,
    ReportNotAllowed, InvalidReport."""
    if actor.kind != "staff":
        raise StaffOnly()
    notice = db.get(Notice, notice_id)
    visible = notice is not None and notice.status in VISIBLE_TO_RECIPIENTS
    reached = reached_in(db, actor, notice) if notice is not None and visible else []
    if notice is None or not reached:
        raise NoticeNotFound()
    if notice.status != "published":
        raise NoticeStateConflict("the notice was withdrawn; it takes no more answers")
    if not notice.form:
        raise NoReportForm()
    if org_id is None:
        if len(reached) > 1:
            raise InvalidReport.field("org_id", "the notice reached you in several units: name the one")
        position = reached[0]
    else:
        matching = [p for p in reached if p.org_id == org_id]
        if not matching:
            raise ReportNotAllowed()
        position = matching[0]
    checked = _check_values(notice.form, values)
    answer = db.scalar(
        select(ReportAnswer).where(
            ReportAnswer.notice_id == notice.id, ReportAnswer.org_id == position.org_id
        )
    )
    now = clock.now()
    if answer is None:
        answer = ReportAnswer(
            notice_id=notice.id,
            org_id=position.org_id,
            org_path=position.org_path,
            values=checked,
            answered_by_account_id=actor.account_id,
            answered_by_name=actor.name[:60],
            answered_at=now,
            revision=1,
        )
        try:
            with db.begin_nested():
                db.add(answer)
                db.flush()
        except IntegrityError:
            # Someone else of the unit answered a moment ago: this answer amends theirs.
            answer = db.scalars(
                select(ReportAnswer).where(
                    ReportAnswer.notice_id == notice.id, ReportAnswer.org_id == position.org_id
                )
            ).one()
        else:
            _store_values(db, answer, checked)
            record_event(
                db,
                actor=actor.principal,
                action=ANSWERED,
                subject_type="notice",
                subject_id=str(notice.id),
                data={"org_id": position.org_id, "values": checked},
            )
            return answer
    before = dict(answer.values)
    answer.values = checked
    answer.answered_by_account_id = actor.account_id  # type: ignore[assignment]
    answer.answered_by_name = actor.name[:60]
    answer.amended_at = now
    answer.revision += 1
    _store_values(db, answer, checked)
    record_event(
        db,
        actor=actor.principal,
        action=AMENDED,
        subject_type="notice",
        subject_id=str(notice.id),
        data={"org_id": position.org_id, "before": before, "after": checked, "revision": answer.revision},
    )
    return answer


def get_answer(db: Session, *, actor: Actor, notice_id: int, org_id: int) -> ReportAnswerRead | None:
    """A unit's answer (None if it has not answered), for its own reached staff and those who follow the
    notice there. Raises NoticeNotFound, FollowNotAllowed, ReportNotAllowed."""
    notice = db.get(Notice, notice_id)
    if notice is None:
        raise NoticeNotFound()
    if not any(p.org_id == org_id for p in reached_in(db, actor, notice)):
        followed_unit(db, actor, notice_id, org_id)
    answer = db.scalar(
        select(ReportAnswer).where(ReportAnswer.notice_id == notice_id, ReportAnswer.org_id == org_id)
    )
    return answer_read(db, answer) if answer is not None else None


def answer_read(db: Session, answer: ReportAnswer) -> ReportAnswerRead:
    org = identity_queries.get_organisation(db, answer.org_id)
    return ReportAnswerRead(
        notice_id=answer.notice_id,
        org_id=answer.org_id,
        org_name=org.name,
        values=dict(answer.values),
        answered_by_name=answer.answered_by_name,
        answered_at=answer.answered_at,
        amended_at=answer.amended_at,
        revision=answer.revision,
    )


def report_sums(db: Session, *, actor: Actor, notice_id: int, unit_id: int | None = None) -> ReportSums:
    """The form's totals over the unit's subtree and each unit directly under it, with how many units
    answered out of those the notice reached. Raises NoticeNotFound, FollowNotAllowed, NoReportForm."""
    notice, unit = followed_unit(db, actor, notice_id, unit_id)
    if not notice.form:
        raise NoReportForm()
    form = [FormFieldSpec(**f) for f in notice.form]
    keys = [f.key for f in form]
    ensure_headcount(db)
    sums: dict[str, dict[str, int]] = {}
    for path, key, total in db.execute(
        select(ReportValue.org_path, ReportValue.field_key, func.sum(ReportValue.value))
        .where(ReportValue.notice_id == notice.id, subtree_clause(ReportValue.org_path, unit.path))
        .group_by(ReportValue.org_path, ReportValue.field_key)
    ):
        bucket = sums.setdefault(bucket_of(unit.path, path), dict.fromkeys(keys, 0))
        if key in bucket:
            bucket[key] += int(total)
    answered: dict[str, int] = {}
    for (path,) in db.execute(
        select(ReportAnswer.org_path).where(
            ReportAnswer.notice_id == notice.id, subtree_clause(ReportAnswer.org_path, unit.path)
        )
    ):
        key = bucket_of(unit.path, path)
        answered[key] = answered.get(key, 0) + 1
    expected: dict[str, int] = {}
    for (path,) in db.execute(
        select(OrgHeadcount.org_path)
        .where(subtree_clause(OrgHeadcount.org_path, unit.path), headcount_reached(notice.id))
        .distinct()
    ):
        key = bucket_of(unit.path, path)
        expected[key] = expected.get(key, 0) + 1

    def unit_sums(org_id: int, name: str, kind: str, buckets: list[str]) -> ReportUnitSums:
        totals = dict.fromkeys(keys, 0)
        for b in buckets:
            for key, value in sums.get(b, {}).items():
                totals[key] += value
        return ReportUnitSums(
            org_id=org_id,
            name=name,
            kind=kind,
            totals=totals,
            answered=sum(answered.get(b, 0) for b in buckets),
            expected=sum(expected.get(b, 0) for b in buckets),
        )

    every = set(sums) | set(answered) | set(expected)
    own = db.scalar(
        select(ReportAnswer).where(ReportAnswer.notice_id == notice.id, ReportAnswer.org_id == unit.id)
    )
    return ReportSums(
        notice_id=notice.id,
        form=form,
        unit=unit_sums(unit.id, unit.name, unit.kind, sorted(every)),
        own=answer_read(db, own) if own is not None else None,
        children=[
            unit_sums(child.id, child.name, child.kind, [child.path])
            for child in identity_queries.list_children(db, unit.id)
        ],
    )


def _check_values(form: list[dict[str, object]], values: dict[str, int]) -> dict[str, int]:
    keys = [str(f["key"]) for f in form]
    errors: list[FieldError] = []
    for key in keys:
        value = values.get(key)
        if value is None:
            errors.append({"detail": "a number is needed", "pointer": f"#/values/{key}"})
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VALUE:
            errors.append({"detail": f"a whole number from 0 to {MAX_VALUE}", "pointer": f"#/values/{key}"})
    for key in values:
        if key not in keys:
            errors.append({"detail": "the form has no such field", "pointer": f"#/values/{key}"})
    if errors:
        raise InvalidReport("; ".join(f"{e['pointer']}: {e['detail']}" for e in errors), errors=errors)
    return {key: int(values[key]) for key in keys}


def _store_values(db: Session, answer: ReportAnswer, values: dict[str, int]) -> None:
    db.execute(
        delete(ReportValue).where(
            ReportValue.notice_id == answer.notice_id, ReportValue.org_id == answer.org_id
        )
    )
    db.execute(
        insert(ReportValue),
        [
            {
                "notice_id": answer.notice_id,
                "org_id": answer.org_id,
                "field_key": key,
                "org_path": answer.org_path,
                "value": value,
            }
            for key, value in values.items()
        ],
    )
