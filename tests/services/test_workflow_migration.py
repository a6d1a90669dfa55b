"""Migration 0011 gives the applications made before it their office's path and their item's steps."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Integer, String, Uuid, column, insert, select, table

from zerotrip.common.checks import make_resident_id
from zerotrip.db import UTCDateTime, make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import system
from zerotrip.migrations import upgrade
from zerotrip.services import catalogue
from zerotrip.services.models import Application

from .workflow_world import assistance_spec

ROOT = system("test")
AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)

old_application = table(
    "services_application",
    column("id", Uuid),
    column("number", String),
    column("item_id", Integer),
    column("item_version", Integer),
    column("applicant_kind", String),
    column("applicant_key", String),
    column("applicant_name", String),
    column("filed_by_person_id", Uuid),
    column("division_code", String),
    column("department_org_id", Integer),
    column("status", String),
    column("created_at", UTCDateTime()),
    column("updated_at", UTCDateTime()),
)


def test_earlier_applications_get_their_office_path_and_steps(new_database: Callable[..., str]) -> None:
    engine = make_engine(new_database(migrate=False))
    factory = make_sessionmaker(engine)
    try:
        upgrade(engine, "0007")
        with factory() as db, transaction(db):
            province = actions.create_organisation(
                db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            civil = actions.create_organisation(
                db,
                actor=ROOT,
                kind="department",
                code="330000-civil",
                name="浙江省民政厅",
                division_code="330000",
                parent_id=province.id,
            )
            resident_id = make_resident_id(
                division_code="330106", birth_date=date(1990, 1, 1), sequence=5, sex="male"
            )
            person = actions.register_person(
                db, actor=ROOT, name="张三", division_code="330106", resident_id=resident_id
            )
            item = catalogue.define_item(db, actor=ROOT, spec=assistance_spec(civil.id))
            db.flush()
            ids = (uuid.uuid4(), uuid.uuid4())
            db.execute(
                insert(old_application),
                [
                    {
                        "id": application_id,
                        "number": f"BJ00000000{n}",
                        "item_id": item.id,
                        "item_version": 1,
                        "applicant_kind": "person",
                        "applicant_key": resident_id,
                        "applicant_name": "张三",
                        "filed_by_person_id": person.id,
                        "division_code": "330106",
                        "department_org_id": civil.id,
                        "status": status,
                        "created_at": AT,
                        "updated_at": AT,
                    }
                    for n, (application_id, status) in enumerate(
                        zip(ids, ("draft", "submitted"), strict=True)
                    )
                ],
            )
            path = civil.path
        upgrade(engine)
        with factory() as db, transaction(db):
            migrated = list(db.scalars(select(Application).order_by(Application.number)))
            assert [a.department_path for a in migrated] == [path, path]
            assert [s["name"] for s in migrated[1].steps] == ["受理", "初审", "入户核查", "决定", "办结送达"]
            assert [a.paused_working_days for a in migrated] == [0, 0]
            assert migrated[1].due_at is None and migrated[1].step_index is None
    finally:
        engine.dispose()
