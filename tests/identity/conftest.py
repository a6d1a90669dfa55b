"""A small world for identity tests: a province, two cities with a county each, people, staff, a client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.config import IdentitySettings
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import system
from zerotrip.identity.models import Organisation, Person

PASSWORD = "correct horse battery"


@dataclass
class World:
    province: Organisation
    hangzhou: Organisation
    xihu: Organisation
    ningbo: Organisation
    haishu: Organisation
    alice: Person  # lives in Xihu, Hangzhou
    bob: Person  # lives in Haishu, Ningbo

    def login(self, db: Session, login_name: str, portal: str = "citizen") -> str:
        outcome = auth.attempt_login(
            db,
            login_name=login_name,
            password=PASSWORD,
            client_address="198.51.100.7",
            portal=portal,  # type: ignore[arg-type]
            settings=IdentitySettings(),
        )
        assert outcome.status == "signed_in", outcome
        assert outcome.token is not None
        return outcome.token


@pytest.fixture
def world(db: Session) -> World:
    root = system("test")
    province = actions.create_organisation(
        db, actor=root, kind="province", code="330000", name="浙江省", division_code="330000"
    )
    hangzhou = actions.create_organisation(
        db,
        actor=root,
        kind="city",
        code="330100",
        name="杭州市",
        division_code="330100",
        parent_id=province.id,
    )
    xihu = actions.create_organisation(
        db,
        actor=root,
        kind="county",
        code="330106",
        name="西湖区",
        division_code="330106",
        parent_id=hangzhou.id,
    )
    ningbo = actions.create_organisation(
        db,
        actor=root,
        kind="city",
        code="330200",
        name="宁波市",
        division_code="330200",
        parent_id=province.id,
    )
    haishu = actions.create_organisation(
        db,
        actor=root,
        kind="county",
        code="330203",
        name="海曙区",
        division_code="330203",
        parent_id=ningbo.id,
    )
    alice = actions.register_person(
        db,
        actor=root,
        name="林晓雯",
        division_code="330106",
        resident_id=make_resident_id(
            division_code="330106", birth_date=date(1990, 5, 17), sequence=21, sex="female"
        ),
    )
    bob = actions.register_person(
        db,
        actor=root,
        name="陈建国",
        division_code="330203",
        resident_id=make_resident_id(
            division_code="330203", birth_date=date(1985, 2, 3), sequence=13, sex="male"
        ),
    )
    actions.create_citizen_account(db, actor=root, person_id=alice.id, login_name="alice", password=PASSWORD)
    actions.create_citizen_account(db, actor=root, person_id=bob.id, login_name="bob", password=PASSWORD)
    actions.add_staff_member(
        db,
        actor=root,
        org_id=hangzhou.id,
        login_name="hz-admin",
        display_name="王管理",
        role="platform_admin",
        password=PASSWORD,
    )
    actions.add_staff_member(
        db,
        actor=root,
        org_id=xihu.id,
        login_name="xh-reviewer",
        display_name="赵审核",
        role="reviewer",
        password=PASSWORD,
    )
    db.flush()
    return World(province, hangzhou, xihu, ningbo, haishu, alice, bob)
