"""Marking a notice read on PostgreSQL in one statement: the notice and its targets matched against the
reader's units, the receipt insert and the tally upsert, as data-modifying CTEs, with the reader's earlier
receipts read from the statement's snapshot (what was there before it). Adds; the caller commits.

It keeps the rules of ``notices_receipts``: a receipt for each of the reader's units the notice reaches
them in (published or withdrawn), an existing receipt skipped and not counted (reading twice, or from two
devices at once, counts once), the tallies upserted in unit order. A reader who has acknowledged
already and is now reached in a unit more gets the new receipt with the acknowledgement, counted as
acknowledged (a reader acknowledges as a person). Being one statement, it is atomic without a
transaction around it (``db.one_statement`` runs it in autocommit). Only a read that lost a race with the
same reader's other request takes a second statement, a read (its snapshot did not see the receipt that
request committed meanwhile).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.db import UTCDateTime
from zerotrip.identity.actor import Actor
from zerotrip.messaging.errors_notices import NoticeNotFound, StaffOnly
from zerotrip.messaging.models_notices import NoticeReceipt
from zerotrip.messaging.notices_targeting import positions_of
from zerotrip.messaging.schemas_notices import ReceiptState

_READ = (
    text(
        """
WITH pos AS (
    SELECT * FROM unnest(
        CAST(:org_ids AS integer[]), CAST(:org_paths AS text[]),
        CAST(:division_codes AS text[]), CAST(:masks AS integer[])
    ) AS p(org_id, org_path, division_code, mask)
), notice AS (
    SELECT id FROM messaging_notice WHERE id = :notice_id AND status IN ('published', 'withdrawn')
), reached AS (
    SELECT DISTINCT p.org_id, p.org_path
    FROM notice n
    JOIN messaging_notice_target t ON t.notice_id = n.id
    JOIN pos p ON starts_with(p.org_path, t.scope_path)
        AND starts_with(p.division_code, t.division_prefix)
        AND (t.role_mask = 0 OR (t.role_mask & p.mask) <> 0)
), earlier AS (
    SELECT min(read_at) AS read_at, min(acked_at) AS acked_at FROM messaging_notice_receipt
    WHERE notice_id = :notice_id AND account_id = :account_id
), inserted AS (
    INSERT INTO messaging_notice_receipt (notice_id, account_id, org_id, org_path, read_at, acked_at)
    SELECT :notice_id, :account_id, r.org_id, r.org_path, :now, e.acked_at
    FROM reached r CROSS JOIN earlier e ORDER BY r.org_id
    ON CONFLICT DO NOTHING
    RETURNING org_id, org_path, acked_at
), counted AS (
    INSERT INTO messaging_notice_tally AS tally (notice_id, org_id, org_path, read_count, acked_count)
    SELECT :notice_id, org_id, org_path, 1, CASE WHEN acked_at IS NULL THEN 0 ELSE 1 END
    FROM inserted ORDER BY org_id
    ON CONFLICT (notice_id, org_id) DO UPDATE
        SET read_count = tally.read_count + 1, acked_count = tally.acked_count + excluded.acked_count
    RETURNING org_id
)
SELECT
    (SELECT array_agg(org_id) FROM reached) AS reached,
    (SELECT count(*) FROM counted) AS counted,
    earlier.read_at,
    earlier.acked_at
FROM earlier
"""
    )
    .bindparams(bindparam("now", type_=UTCDateTime()))
    .columns(read_at=UTCDateTime(), acked_at=UTCDateTime())
)


def mark_read(db: Session, *, actor: Actor, notice_id: int) -> ReceiptState:
    """Record that the actor has read a notice addressed to them (again: nothing changes). Raises
    StaffOnly, NoticeNotFound (also when the notice is not addressed to them)."""
    if actor.kind != "staff":
        raise StaffOnly()
    positions = positions_of(actor)
    if not positions:
        raise NoticeNotFound()
    now = clock.now()
    params: dict[str, Any] = {
        "notice_id": notice_id,
        "account_id": actor.account_id,
        "now": now,
        "org_ids": [p.org_id for p in positions],
        "org_paths": [p.org_path for p in positions],
        "division_codes": [p.division_code for p in positions],
        "masks": [p.mask for p in positions],
    }
    db.flush()  # the statement runs on the connection, which does not flush the session for us
    row = db.connection().execute(_READ, params).one()
    if not row.reached:
        raise NoticeNotFound()
    reached = set(row.reached)
    units = [p.org_id for p in positions if p.org_id in reached]
    if row.read_at is None:
        if row.counted == len(units):
            return ReceiptState(read_at=now, acked_at=None, units=units)
        # The same reader's other request committed the receipt after this statement's snapshot was taken.
        read_at, acked_at = db.execute(
            select(func.min(NoticeReceipt.read_at), func.min(NoticeReceipt.acked_at)).where(
                NoticeReceipt.notice_id == notice_id, NoticeReceipt.account_id == actor.account_id
            )
        ).one()
        return ReceiptState(read_at=read_at, acked_at=acked_at, units=units)
    return ReceiptState(read_at=row.read_at, acked_at=row.acked_at, units=units)
