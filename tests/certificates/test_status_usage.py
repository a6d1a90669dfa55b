"""What a status list has used is counted over shard rows, so concurrent issues do not wait for each other:
with real transactions on PostgreSQL, an issue whose transaction is still open holds only its own shard."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from zerotrip.certificates import actions, status_entries
from zerotrip.certificates.models import StatusList
from zerotrip.certificates.types import DEMO_TYPES, define_certificate_type
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions as identity_actions
from zerotrip.identity.actor import system
from zerotrip.keys import KeyStore

from .conftest import ROOT
from .test_batches import CARD, card, register


@pytest.mark.postgres_only
def test_an_open_issue_holds_only_its_own_shard(
    new_database: Callable[..., str], keys: KeyStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(new_database(migrate=True))
    factory = make_sessionmaker(engine)
    local = settings.model_copy(update={"database_url": engine.url.render_as_string(hide_password=False)})

    def issue(db: Session, holder: str, n: int) -> None:
        actions.issue_certificate(
            db,
            actor=system("import"),
            certificate_type=CARD,
            holder_key=holder,
            claims=card(n),
            keys=keys,
            settings=local,
            source_ref=f"usage-{n}",
        )

    try:
        with factory() as db, transaction(db):
            province = identity_actions.create_organisation(
                db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            identity_actions.create_organisation(
                db,
                actor=ROOT,
                kind="department",
                code="330000-hrss",
                name="浙江省人力资源和社会保障厅",
                division_code="330000",
                parent_id=province.id,
            )
            define_certificate_type(db, actor=ROOT, spec=next(t for t in DEMO_TYPES if t.code == CARD))
            holders = register(db, 5)
            issue(db, holders[0], 0)  # the department's key and the status list
        picks: Iterator[int] = iter([3, 4, 5, 5])
        monkeypatch.setattr(status_entries, "_pick_shard", lambda: next(picks))
        with factory() as first, factory() as second:
            with transaction(first):
                issue(first, holders[1], 1)  # shard 3, held until this commits
                with transaction(second):
                    second.execute(text("SET LOCAL lock_timeout = '5s'"))
                    issue(second, holders[2], 2)  # shard 4: committed while the first is open
            with transaction(first):
                issue(first, holders[3], 3)  # shard 5, held until this commits
                # The control: the same shard waits for the open transaction (here until the timeout).
                with pytest.raises(OperationalError, match="lock timeout"), transaction(second):
                    second.execute(text("SET LOCAL lock_timeout = '300ms'"))
                    issue(second, holders[4], 4)
        with factory() as db:
            (list_id,) = db.scalars(select(StatusList.id)).all()
            assert status_entries.used_by_list(db, [list_id]) == {list_id: 4}  # the timed-out one is not
    finally:
        engine.dispose()
