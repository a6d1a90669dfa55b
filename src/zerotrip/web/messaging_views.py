"""View-models of the staff notices pages: the inbox, a notice, the roll-up and the directory (composing is
in ``messaging_compose_views``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.permissions import has_role_over
from zerotrip.messaging import directory, notices_queries, notices_receipts, reports, rollups
from zerotrip.messaging.errors_notices import FollowNotAllowed
from zerotrip.messaging.live import cursor_of
from zerotrip.messaging.notices_permissions import ADMIN, PUBLISHER, can_approve, oversees
from zerotrip.messaging.schemas_notices import Missing, NoticePage, NoticeRead, RollupUnit
from zerotrip.problems import Problem
from zerotrip.web.datahub_text import Detail, ProblemView, Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_time, pager
from zerotrip.web.views import MEMBER_LABEL, ROLE_LABELS

PER_PAGE = 20
PRIORITY_LABELS = {"normal": N_("Normal"), "urgent": N_("Urgent"), "emergency": N_("Emergency")}
PRIORITY_TONES = {"normal": "", "urgent": "badge-warn", "emergency": "badge-danger"}
STATUS_LABELS = {
    "draft": N_("Draft"),
    "pending_approval": N_("Waiting for approval"),
    "published": N_("Notice published"),
    "rejected": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
}
# Titles of messaging's problems, which the forms and the error page show translated.
PROBLEM_TITLES = (
    N_("No such notice"),
    N_("Publishing notices takes the notice publisher role over the publishing unit"),
    N_("A target lies outside the units you publish for"),
    N_("The notice is not valid"),
    N_("The notice is not in a state that allows this"),
    N_("You may not approve this notice"),
    N_("This notice does not ask for an acknowledgement"),
    N_("You may not follow this notice for this unit"),
    N_("No such attachment"),
    N_("The attachment cannot be accepted"),
    N_("This notice asks for no report-back"),
    N_("The report-back answer is not valid"),
    N_("You may not answer for this unit"),
    N_("This part of the directory is not open to you"),
    N_("Staff notices are for signed-in staff"),
)
NOT_UNDER = re.compile(r"^(?P<unit>.+) is not under (?P<publisher>.+)$")
REGION_OUTSIDE = re.compile(r"^the region (?P<code>\d{6}) lies outside (?P<unit>.+)$")
DETAILS = {
    "a number is needed": N_("a number is needed"),
    "the file is empty": N_("The file is empty."),
    "send a PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx) file": N_(
        "Send a PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx) file."
    ),
    "say why the notice is refused": N_("Say why the notice is refused."),
    "you publish for several units: name the one": N_("You publish for several units: choose one."),
}
# A roll-up refreshes itself while the notice is this fresh.
FRESH_HOURS = 48


def problem_view(found: Problem, label_of: Callable[[str], str | None] | None = None) -> ProblemView:
    """A messaging problem in words the page translates (a phrase it does not know is shown as it is),
    each detail with the form field ``label_of`` finds for its pointer."""
    details: list[Detail] = []
    for error in found.errors or [{"detail": found.detail or "", "pointer": ""}]:
        detail = str(error.get("detail", ""))
        label = label_of(str(error.get("pointer", ""))) if label_of else None
        if not detail or detail == found.title:
            continue
        if (m := NOT_UNDER.match(detail)) is not None:
            text = Text(N_("%(unit)s is not under %(publisher)s."), m.groupdict())
        elif (m := REGION_OUTSIDE.match(detail)) is not None:
            text = Text(N_("The region %(code)s lies outside %(unit)s."), m.groupdict())
        else:
            text = Text(DETAILS.get(detail, detail))
        details.append(Detail(label, text))
    return ProblemView(title=found.title, details=tuple(details))


def message(msgid: str) -> ProblemView:
    return ProblemView(title=N_("Your request is not valid"), details=(Detail(None, Text(msgid)),))


def is_publisher(actor: Actor) -> bool:
    return actor.kind == "staff" and any(g.role == PUBLISHER for g in actor.grants)


def is_approver(actor: Actor) -> bool:
    return actor.kind == "staff" and any(g.role in (PUBLISHER, ADMIN) for g in actor.grants)


# -- the inbox ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    id: int
    title: str
    priority: str
    priority_label: str
    tone: str
    publisher_org_name: str
    published_at: str
    is_unread: bool
    is_withdrawn: bool
    needs_ack: bool  # asks for an acknowledgement the reader has not given
    is_acked: bool
    has_form: bool
    is_reminded: bool


@dataclass(frozen=True)
class InboxView:
    rows: tuple[InboxRow, ...]
    total: int
    unread: int
    pager: Pager
    stream_url: str
    is_publisher: bool
    is_approver: bool


def inbox(db: Session, actor: Actor, *, page: int) -> InboxView:
    """The reader's notices, unread urgent ones first. Raises StaffOnly."""
    cursor = cursor_of(clock.now())  # the stream replays what is published after the page was read
    found = notices_queries.list_inbox(db, actor=actor, page=page, per_page=PER_PAGE)
    rows = tuple(
        InboxRow(
            id=i.id,
            title=i.title,
            priority=i.priority,
            priority_label=PRIORITY_LABELS[i.priority],
            tone=PRIORITY_TONES[i.priority],
            publisher_org_name=i.publisher_org_name,
            published_at=china_time(i.published_at),
            is_unread=i.read_at is None and i.status == "published",
            is_withdrawn=i.status == "withdrawn",
            needs_ack=i.requires_ack and i.acked_at is None and i.status == "published",
            is_acked=i.acked_at is not None,
            has_form=i.has_form,
            is_reminded=i.is_reminded,
        )
        for i in found.items
    )
    return InboxView(
        rows=rows,
        total=found.total,
        unread=found.unread,
        pager=pager("/staff/notices", {}, page=page, per_page=PER_PAGE, total=found.total),
        stream_url=f"/staff/notices/stream?since={cursor}",
        is_publisher=is_publisher(actor),
        is_approver=is_approver(actor),
    )


# -- one notice -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportUnit:
    """A unit the reader answers the report-back for, with its answer so far."""

    org_id: int
    name: str
    values: dict[str, int]
    answered_by: str | None
    answered_at: str


@dataclass(frozen=True)
class NoticeView:
    notice: NoticeRead
    priority_label: str
    tone: str
    status_label: str
    published_at: str
    created_at: str
    targets: tuple[tuple[str, tuple[str, ...]], ...]  # (label, role msgids)
    is_recipient: bool
    read_at: str
    acked_at: str
    can_ack: bool
    report_units: tuple[ReportUnit, ...]
    can_report: bool
    can_follow: bool
    is_own_draft: bool
    can_decide: bool
    can_withdraw: bool
    decided_at: str


def notice(db: Session, actor: Actor, notice_id: int) -> NoticeView:
    """The notice as the actor may see it; opening a notice addressed to them marks it read. Raises
    NoticeNotFound (not theirs to see)."""
    found, reached = notices_queries.get_notice(db, actor=actor, notice_id=notice_id)
    if reached and found.status == "published":
        notices_receipts.mark_read(db, actor=actor, notice_id=notice_id)
    read = notices_queries.notice_read(db, found, actor=actor, reached=reached)
    receipt = read.receipt
    report_units: list[ReportUnit] = []
    if read.form and reached:
        for position in reached:
            answer = reports.get_answer(db, actor=actor, notice_id=notice_id, org_id=position.org_id)
            org = identity_queries.get_organisation(db, position.org_id)
            report_units.append(
                ReportUnit(
                    org_id=position.org_id,
                    name=org.name,
                    values=answer.values if answer else {},
                    answered_by=answer.answered_by_name if answer else None,
                    answered_at=china_time(answer.amended_at or answer.answered_at) if answer else "",
                )
            )
    overseer = oversees(actor, found)
    follows = overseer or any(has_role_over(actor, PUBLISHER, p.org_path) for p in reached)
    return NoticeView(
        notice=read,
        priority_label=PRIORITY_LABELS[read.priority],
        tone=PRIORITY_TONES[read.priority],
        status_label=STATUS_LABELS[read.status],
        published_at=china_time(read.published_at),
        created_at=china_time(read.created_at),
        targets=tuple(
            (t.label, tuple(ROLE_LABELS.get(r, MEMBER_LABEL) for r in t.roles)) for t in read.targets
        ),
        is_recipient=bool(reached),
        read_at=china_time(receipt.read_at) if receipt else "",
        acked_at=china_time(receipt.acked_at) if receipt else "",
        can_ack=bool(reached)
        and read.requires_ack
        and read.status == "published"
        and (receipt is None or receipt.acked_at is None),
        report_units=tuple(report_units),
        can_report=read.status == "published",
        can_follow=follows and read.status in ("published", "withdrawn"),
        is_own_draft=read.status == "draft" and found.publisher_account_id == actor.account_id,
        can_decide=read.status == "pending_approval" and can_approve(actor, found),
        can_withdraw=read.status == "published" and overseer,
        decided_at=china_time(read.decided_at),
    )


# -- lists of notices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    id: int
    title: str
    priority_label: str
    tone: str
    status: str
    status_label: str
    publisher: str
    created_at: str
    published_at: str


@dataclass(frozen=True)
class NoticeListView:
    rows: tuple[SummaryRow, ...]
    pager: Pager


def sent(db: Session, actor: Actor, *, page: int) -> NoticeListView:
    return _list(
        notices_queries.list_sent(db, actor=actor, page=page, per_page=PER_PAGE), "/staff/notices/sent"
    )


def approvals(db: Session, actor: Actor, *, page: int) -> NoticeListView:
    found = notices_queries.list_awaiting_approval(db, actor=actor, page=page, per_page=PER_PAGE)
    return _list(found, "/staff/notices/approvals")


def _list(found: NoticePage, path: str) -> NoticeListView:
    rows = tuple(
        SummaryRow(
            id=n.id,
            title=n.title,
            priority_label=PRIORITY_LABELS[n.priority],
            tone=PRIORITY_TONES[n.priority],
            status=n.status,
            status_label=STATUS_LABELS[n.status],
            publisher=f"{n.publisher_org_name} {n.publisher_name}",
            created_at=china_time(n.created_at),
            published_at=china_time(n.published_at),
        )
        for n in found.items
    )
    return NoticeListView(
        rows=rows, pager=pager(path, {}, page=found.page, per_page=found.per_page, total=found.total)
    )


# -- the roll-up ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    org_id: int
    name: str
    recipients: int
    read: int
    acked: int
    read_pct: float
    acked_pct: float
    url: str | None  # drill down (None: nobody reached there)


@dataclass(frozen=True)
class SumRow:
    name: str
    totals: tuple[int, ...]
    answered: int
    expected: int


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


@dataclass(frozen=True)
class RollupView:
    notice_id: int
    title: str
    priority_label: str
    tone: str
    requires_ack: bool
    unit: FigureRow
    own: FigureRow | None
    children: tuple[FigureRow, ...]
    crumbs: tuple[Crumb, ...]
    missing: Missing
    non_readers: tuple[tuple[str, str], ...]  # (name, unit)
    non_reader_total: int
    non_reader_pager: Pager
    form_labels: tuple[str, ...]
    sums: tuple[SumRow, ...]  # the unit's total first, then its children
    as_of: str
    is_fresh: bool


def rollup(
    db: Session, actor: Actor, notice_id: int, *, unit_id: int | None, missing: Missing, page: int
) -> RollupView:
    """Read and acknowledged per unit, those who have not, and the report-back sums. Raises
    NoticeNotFound, FollowNotAllowed, OrganisationNotFound."""
    found, unit = rollups.followed_unit(db, actor, notice_id, unit_id)
    figures = rollups.rollup(db, actor=actor, notice_id=notice_id, unit_id=unit.id)
    base = f"/staff/notices/{notice_id}/rollup"

    def row(f: RollupUnit, *, link: bool = True) -> FigureRow:
        return FigureRow(
            org_id=f.org_id,
            name=f.name,
            recipients=f.recipients,
            read=f.read,
            acked=f.acked,
            read_pct=f.read_pct,
            acked_pct=f.acked_pct,
            url=f"{base}?unit={f.org_id}" if link and f.recipients else None,
        )

    non_readers = rollups.list_non_readers(
        db, actor=actor, notice_id=notice_id, unit_id=unit.id, missing=missing, page=page, per_page=50
    )
    crumbs: list[Crumb] = []
    for ancestor in identity_queries.list_ancestors(db, identity_queries.get_organisation(db, unit.id)):
        if ancestor.id == unit.id:
            break
        try:
            rollups.followed_unit(db, actor, notice_id, ancestor.id)
        except FollowNotAllowed:
            continue
        crumbs.append(Crumb(ancestor.name, f"{base}?unit={ancestor.id}"))
    labels: tuple[str, ...] = ()
    sums: list[SumRow] = []
    if found.form:
        report = reports.report_sums(db, actor=actor, notice_id=notice_id, unit_id=unit.id)
        keys = [f.key for f in report.form]
        labels = tuple(f"{f.label}（{f.unit}）" if f.unit else f.label for f in report.form)
        for s in (report.unit, *report.children):
            if s is report.unit or s.expected:
                sums.append(SumRow(s.name, tuple(s.totals[k] for k in keys), s.answered, s.expected))
    published = found.published_at
    return RollupView(
        notice_id=notice_id,
        title=found.title,
        priority_label=PRIORITY_LABELS[found.priority],
        tone=PRIORITY_TONES[found.priority],
        requires_ack=found.requires_ack,
        unit=row(figures.unit, link=False),
        own=row(figures.own, link=False) if figures.own else None,
        children=tuple(row(c) for c in figures.children if c.recipients or c.read),
        crumbs=tuple(crumbs),
        missing=missing,
        non_readers=tuple((p.display_name, p.org_name) for p in non_readers.items),
        non_reader_total=non_readers.total,
        non_reader_pager=pager(
            base,
            {"unit": str(unit.id), "missing": missing},
            page=page,
            per_page=50,
            total=non_readers.total,
        ),
        form_labels=labels,
        sums=tuple(sums),
        as_of=china_time(clock.now()),
        is_fresh=published is not None
        and found.status == "published"
        and (clock.now() - published).total_seconds() < FRESH_HOURS * 3600,
    )


# -- the directory --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryRow:
    name: str
    unit: str
    role_label: str
    title: str


@dataclass(frozen=True)
class RoleOption:
    value: str
    label: str
    is_selected: bool


@dataclass(frozen=True)
class DirectoryView:
    q: str
    role: str
    roles: tuple[RoleOption, ...]
    rows: tuple[DirectoryRow, ...]
    total: int
    pager: Pager


def staff_directory(db: Session, actor: Actor, *, q: str, role: str, page: int) -> DirectoryView:
    """Staff the searcher may see by name and role. Raises DirectoryNotAllowed, ValidationFailed."""
    found = directory.search_staff(
        db, actor=actor, q=q or None, role=role or None, page=page, per_page=PER_PAGE
    )
    rows = tuple(
        DirectoryRow(
            name=e.display_name,
            unit=e.org_name,
            role_label=ROLE_LABELS.get(e.role or "", MEMBER_LABEL),
            title=e.title or "",
        )
        for e in found.items
    )
    return DirectoryView(
        q=q,
        role=role,
        roles=tuple(RoleOption(value, label, value == role) for value, label in ROLE_LABELS.items()),
        rows=rows,
        total=found.total,
        pager=pager(
            "/staff/directory", {"q": q, "role": role}, page=page, per_page=PER_PAGE, total=found.total
        ),
    )
