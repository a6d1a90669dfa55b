"""Staff in every department, provisioned as from a directory: roles, no passwords (they activate later)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.demo.names import NameGenerator, Sex
from zerotrip.demo.orgs import OrgTree
from zerotrip.demo.people import DEFAULT_SEED
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor

Progress = Callable[[str, int, int], None]

# The roles a department's staff hold, in the order they are handed out: the first staff member of a
# health department runs its vaccination site, the first of a data bureau administers the platform there.
_ROLES_BY_DEPARTMENT: dict[str, tuple[str, ...]] = {
    "health": ("site_operator", "reviewer", "data_steward", "certificate_issuer", "notice_publisher"),
    "data": ("platform_admin", "data_steward", "notice_publisher", "reviewer"),
    "emergency": ("notice_publisher", "reviewer", "data_steward", "certificate_issuer"),
}
_DEFAULT_ROLES = ("reviewer", "certificate_issuer", "data_steward", "notice_publisher")
TITLES = {
    "reviewer": "审核员",
    "certificate_issuer": "制证员",
    "data_steward": "数据专员",
    "site_operator": "接种点操作员",
    "notice_publisher": "通知发布员",
    "platform_admin": "平台管理员",
}


def roles_for(department_key: str) -> tuple[str, ...]:
    return _ROLES_BY_DEPARTMENT.get(department_key, _DEFAULT_ROLES)


@dataclass(frozen=True)
class StaffPlan:
    org_code: str
    login_name: str
    display_name: str
    role: str
    title: str


def plan_staff(org_tree: OrgTree, *, per_department: int = 3, seed: int = DEFAULT_SEED) -> list[StaffPlan]:
    """``per_department`` people in each department, login names such as ``hz-xh-health-01``."""
    rng = random.Random(f"staff:{seed}")
    names = NameGenerator(rng)
    result = []
    for dept in sorted(org_tree.departments(), key=lambda d: d.code):
        assert dept.department_key is not None
        roles = roles_for(dept.department_key)
        for n in range(per_department):
            role = roles[n % len(roles)]
            sex: Sex = rng.choice(("male", "female"))
            result.append(
                StaffPlan(
                    org_code=dept.code,
                    login_name=f"{dept.login_prefix}-{dept.department_key}-{n + 1:02d}",
                    display_name=names.full_name(sex=sex, birth_year=rng.randint(1966, 2002)),
                    role=role,
                    title=TITLES[role],
                )
            )
    return result


def build_staff(
    db: Session,
    *,
    actor: Actor,
    org_tree: OrgTree,
    per_department: int = 3,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> list[StaffPlan]:
    """Provision the planned staff through ``add_staff_member`` without passwords, with one summary audit
    event instead of one per membership. Returns the plan that was written."""
    plan = plan_staff(org_tree, per_department=per_department, seed=seed)
    # Login names in the plan are unique, so the action's "is this name taken" check need not see the
    # pending rows: flushing in batches lets the driver insert many rows per statement.
    with db.no_autoflush:
        for i, staff in enumerate(plan, start=1):
            actions.add_staff_member(
                db,
                actor=actor,
                org_id=org_tree.get(staff.org_code).id,
                login_name=staff.login_name,
                display_name=staff.display_name,
                role=staff.role,
                title=staff.title,
                audit=False,
            )
            if i % 1000 == 0 or i == len(plan):
                db.flush()
                if progress is not None:
                    progress("staff", i, len(plan))
    record_event(
        db,
        actor=actor.principal,
        action="demo.staff.provisioned",
        subject_type="demo",
        subject_id=f"staff:{seed}",
        data={"seed": seed, "staff": len(plan), "per_department": per_department},
    )
    return plan
