"""Pure rules on who may publish, approve, read and follow staff notices."""

from __future__ import annotations

from zerotrip.identity.actor import Actor, Grant
from zerotrip.identity.permissions import has_role_over
from zerotrip.messaging.models_notices import Notice

PUBLISHER = "notice_publisher"
ADMIN = "platform_admin"


def publisher_grants(actor: Actor) -> list[Grant]:
    """The units the actor holds the notice publisher role at (each reaching its subtree)."""
    if actor.kind != "staff":
        return []
    return [g for g in actor.grants if g.role == PUBLISHER]


def can_publish_for(actor: Actor, org_path: str) -> bool:
    """Publishing for a unit takes the notice publisher role there or above it."""
    return actor.kind == "staff" and has_role_over(actor, PUBLISHER, org_path)


def oversees(actor: Actor, notice: Notice) -> bool:
    """The publisher, and those holding the notice publisher or platform administrator role over the
    publishing unit, see the notice in every state and follow it everywhere it reached."""
    if actor.kind == "system":
        return True
    if actor.kind != "staff":
        return False
    return (
        actor.account_id == notice.publisher_account_id
        or has_role_over(actor, PUBLISHER, notice.publisher_org_path)
        or has_role_over(actor, ADMIN, notice.publisher_org_path)
    )


def can_approve(actor: Actor, notice: Notice) -> bool:
    """Four eyes: someone other than the publisher, holding the notice publisher or platform administrator
    role over the publishing unit."""
    if actor.kind != "staff" or actor.account_id == notice.publisher_account_id:
        return False
    return has_role_over(actor, PUBLISHER, notice.publisher_org_path) or has_role_over(
        actor, ADMIN, notice.publisher_org_path
    )


def can_follow(actor: Actor, notice: Notice, unit_path: str, *, is_recipient: bool) -> bool:
    """Following a notice in a unit (roll-up, who has not read, report sums): those who oversee it, for
    any unit under the publishing one; and a notice publisher the notice reached, for the units under
    their own (a county chases its own staff)."""
    if oversees(actor, notice):
        return unit_path.startswith(notice.publisher_org_path) or actor.kind == "system"
    return is_recipient and has_role_over(actor, PUBLISHER, unit_path)
