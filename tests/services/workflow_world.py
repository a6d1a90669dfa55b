"""A world for the staff workflow, on top of ``apply_world``: 余杭区 beside 西湖区, the civil affairs
bureaus of Hangzhou and both districts, a county-level item of 西湖区民政局 (temporary assistance, 临时救助)
that every district's bureau handles for its own residents, with two review steps, a 5-working-day
promise, an upload and a declared household income; reviewers in each bureau, the city bureau above them,
the district's platform administrator, and a citizen in each district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from zerotrip.common.checks import make_resident_id
from zerotrip.config import Settings
from zerotrip.identity import actions
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.services import applying, catalogue, uploads
from zerotrip.services.models import Application, Item
from zerotrip.services.schemas import ItemSpec, MaterialSpec, SourceSpec, StepSpec

from .apply_world import PASSWORD, ROOT, ApplyWorld, Citizen, _staff, build_apply_world

ASSISTANCE = "330106-civil-0901"
PDF = b"%PDF-1.4\n%%EOF\n"


@dataclass(frozen=True)
class WorkflowWorld:
    apply: ApplyWorld
    item: Item
    xihu_civil_id: int
    yuhang_civil_id: int
    city_civil_id: int
    xihu_resident: Citizen
    yuhang_resident: Citizen
    xihu_reviewer: Actor
    yuhang_reviewer: Actor
    city_reviewer: Actor
    xihu_admin: Actor
    renter_reviewer: Actor  # the housing fund's reviewer: another department altogether

    @property
    def settings(self) -> Settings:
        return self.apply.settings


def assistance_spec(department_id: int) -> ItemSpec:
    return ItemSpec(
        code=ASSISTANCE,
        name="临时救助申请",
        department_org_id=department_id,
        type="payment",
        legal_basis="《社会救助暂行办法》第四十七条",
        statutory_days=10,
        promised_days=5,
        channels=["online", "window"],
        materials=[
            MaterialSpec(name="家庭收入情况说明", source=SourceSpec(kind="upload")),
            MaterialSpec(name="困难情况证明", source=SourceSpec(kind="upload")),
        ],
        steps=[
            StepSpec(kind="accept"),
            StepSpec(kind="review", name="初审"),
            StepSpec(kind="review", name="入户核查", presence="inspection"),
            StepSpec(kind="decide"),
            StepSpec(kind="issue"),
        ],
    )


def _resident(db: Session, name: str, division: str, sequence: int, login_name: str) -> Citizen:
    resident_id = make_resident_id(
        division_code=division, birth_date=date(1985, 7, 1), sequence=sequence, sex="male"
    )
    person = actions.register_person(
        db, actor=ROOT, name=name, division_code=division, resident_id=resident_id
    )
    account = actions.create_citizen_account(
        db, actor=ROOT, person_id=person.id, login_name=login_name, password=PASSWORD
    )
    actor = Actor(kind="citizen", name=name, account_id=account.id, person_id=person.id)
    return Citizen(actor=actor, resident_id=resident_id, name=name, login_name=login_name)


def _find(db: Session, code: str) -> int:
    org = identity_queries.find_organisation_by_code(db, code)
    assert org is not None, code
    return org.id


def build_workflow_world(db: Session, settings: Settings) -> WorkflowWorld:
    world = build_apply_world(db, settings)
    city, xihu = _find(db, "330100"), _find(db, "330106")
    yuhang = actions.create_organisation(
        db, actor=ROOT, kind="county", code="330110", name="余杭区", division_code="330110", parent_id=city
    ).id

    def department(code: str, name: str, division: str, parent: int) -> int:
        return actions.create_organisation(
            db, actor=ROOT, kind="department", code=code, name=name, division_code=division, parent_id=parent
        ).id

    city_civil = department("330100-civil", "杭州市民政局", "330100", city)
    xihu_civil = department("330106-civil", "西湖区民政局", "330106", xihu)
    yuhang_civil = department("330110-civil", "余杭区民政局", "330110", yuhang)
    item = catalogue.define_item(db, actor=ROOT, spec=assistance_spec(xihu_civil))
    db.flush()
    built = WorkflowWorld(
        apply=world,
        item=item,
        xihu_civil_id=xihu_civil,
        yuhang_civil_id=yuhang_civil,
        city_civil_id=city_civil,
        xihu_resident=world.renter,
        yuhang_resident=_resident(db, "王建国", "330110", 17, "13800000011"),
        xihu_reviewer=_staff(db, xihu_civil, "hz-xh-civil-reviewer", "reviewer"),
        yuhang_reviewer=_staff(db, yuhang_civil, "hz-yh-civil-reviewer", "reviewer"),
        city_reviewer=_staff(db, city_civil, "hz-civil-reviewer", "reviewer"),
        xihu_admin=_staff(db, xihu, "hz-xh-admin", "platform_admin"),
        renter_reviewer=world.fund_reviewer,
    )
    db.flush()
    return built


def submitted_application(db: Session, world: WorkflowWorld, citizen: Citizen, keys: KeyStore) -> Application:
    """A temporary-assistance application of ``citizen`` with both uploads, submitted."""
    draft = applying.start_application(db, actor=citizen.actor, item_code=ASSISTANCE)
    for position in (0, 1):
        uploads.attach_upload(
            db,
            actor=citizen.actor,
            number=draft.number,
            position=position,
            filename=f"{position}.pdf",
            content=PDF,
            settings=world.settings,
        )
    return applying.submit_application(
        db, actor=citizen.actor, number=draft.number, keys=keys, settings=world.settings
    )
