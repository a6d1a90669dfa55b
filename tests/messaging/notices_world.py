"""A small organisation tree with staff for the notices tests, built through identity's actions.

浙江省 (with its emergency department) → 杭州市 → 西湖区 (emergency and health bureaus) and 滨江区 (emergency
bureau); → 宁波市 → 海曙区 (emergency bureau). Publishers at the province (two of them, for approval), in
Hangzhou and in 西湖区's emergency bureau; a platform administrator; ordinary staff with and without
roles; and someone who works in two units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.config import IdentitySettings, NoticesSettings
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import actions, auth
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import WebSession
from zerotrip.identity.secrets import hash_password, token_hash
from zerotrip.messaging import notices
from zerotrip.messaging.models_notices import Notice
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec

PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)
ROOT = system("test")
SETTINGS = NoticesSettings()


@dataclass
class NoticesWorld:
    orgs: dict[str, int] = field(default_factory=dict)  # code → id
    paths: dict[str, str] = field(default_factory=dict)  # code → path
    staff: dict[str, Actor] = field(default_factory=dict)  # login → actor

    def actor(self, db: Session, login: str) -> Actor:
        """The staff member as signing in would make them (grants read again)."""
        found = auth.find_staff_actor(db, login)
        assert found is not None, login
        return found

    def publish(
        self,
        db: Session,
        login: str = "zj-pub",
        *,
        targets: list[TargetSpec] | None = None,
        settings: NoticesSettings = SETTINGS,
        **fields: object,
    ) -> Notice:
        spec = NoticeCreate(
            title=str(fields.pop("title", "防御台风紧急通知")),
            body=str(fields.pop("body", "各单位立即进入防台风应急状态。")),
            targets=targets or [TargetSpec()],
            publish=True,
            **fields,  # type: ignore[arg-type]
        )
        notice = notices.create_notice(db, actor=self.actor(db, login), spec=spec, settings=settings)
        db.flush()
        return notice


UNITS = (
    # (kind, code, name, division code, parent code)
    ("province", "330000", "浙江省", "330000", None),
    ("department", "330000-emergency", "浙江省应急管理厅", "330000", "330000"),
    ("city", "330100", "杭州市", "330100", "330000"),
    ("department", "330100-emergency", "杭州市应急管理局", "330100", "330100"),
    ("county", "330106", "西湖区", "330106", "330100"),
    ("department", "330106-emergency", "杭州市西湖区应急管理局", "330106", "330106"),
    ("department", "330106-health", "杭州市西湖区卫生健康局", "330106", "330106"),
    ("county", "330108", "滨江区", "330108", "330100"),
    ("department", "330108-emergency", "杭州市滨江区应急管理局", "330108", "330108"),
    ("city", "330200", "宁波市", "330200", "330000"),
    ("county", "330203", "海曙区", "330203", "330200"),
    ("department", "330203-emergency", "宁波市海曙区应急管理局", "330203", "330203"),
)

STAFF = (
    # (login, unit code, role, name)
    ("zj-pub", "330000", "notice_publisher", "钱发布"),
    ("zj-pub2", "330000", "notice_publisher", "孙审批"),
    ("zj-admin", "330000", "platform_admin", "李管理"),
    ("zj-em-1", "330000-emergency", "reviewer", "周应急"),
    ("hz-pub", "330100", "notice_publisher", "吴发布"),
    ("hz-em-1", "330100-emergency", None, "郑值班"),
    ("xh-em-pub", "330106-emergency", "notice_publisher", "王发布"),
    ("xh-em-1", "330106-emergency", "reviewer", "冯审核"),
    ("xh-em-2", "330106-emergency", None, "陈值班"),
    ("xh-em-3", "330106-emergency", "data_steward", "褚数据"),
    ("xh-health-1", "330106-health", "reviewer", "卫审核"),
    ("bj-em-1", "330108-emergency", "reviewer", "蒋审核"),
    ("hs-em-1", "330203-emergency", "reviewer", "沈审核"),
    # Someone who works in two units: 西湖区卫健局 (reviewer) and 滨江区应急管理局 (site operator).
    ("two-units", "330106-health", "reviewer", "韩双岗"),
    ("two-units", "330108-emergency", "site_operator", "韩双岗"),
    # And someone holding two roles in one unit.
    ("xh-em-pub", "330106-emergency", "reviewer", "王发布"),
)


def build_notices_world(db: Session) -> NoticesWorld:
    world = NoticesWorld()
    for kind, code, name, division, parent in UNITS:
        org = actions.create_organisation(
            db,
            actor=ROOT,
            kind=kind,
            code=code,
            name=name,
            division_code=division,
            parent_id=world.orgs[parent] if parent else None,
        )
        world.orgs[code] = org.id
        world.paths[code] = org.path
    for login, unit, role, name in STAFF:
        actions.add_staff_member(
            db,
            actor=ROOT,
            org_id=world.orgs[unit],
            login_name=login,
            display_name=name,
            role=role,
            password_hash=PASSWORD_HASH,
        )
        db.flush()
    for login, *_ in STAFF:
        world.staff[login] = world.actor(db, login)
    return world


def sign_in_api(client: TestClient, db: Session, login_name: str) -> dict[str, str]:
    """Sign in through identity's login; the headers an API call from the signed-in page sends."""
    outcome = auth.attempt_login(
        db,
        login_name=login_name,
        password=PASSWORD,
        client_address="10.0.0.1",
        portal="staff",
        settings=IdentitySettings(),
    )
    assert outcome.token, outcome
    db.flush()  # the API's session shares the test's connection but not its pending rows
    client.cookies.set(SESSION_COOKIE, outcome.token)
    session = db.get(WebSession, token_hash(outcome.token))
    assert session is not None
    return {"X-CSRF-Token": session.csrf_token}
