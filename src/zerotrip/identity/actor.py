"""Who is asking: the actor every action receives and checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

ActorKind = Literal["anonymous", "citizen", "staff", "client", "system"]


@dataclass(frozen=True)
class Grant:
    """One membership: a role held at an organisation, reaching its whole subtree."""

    org_id: int
    org_path: str
    division_code: str
    role: str | None


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str = ""
    account_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    client_id: str | None = None
    client_org_id: int | None = None
    grants: tuple[Grant, ...] = ()
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def principal(self) -> str:
        """How the audit log names this actor."""
        if self.kind in ("citizen", "staff"):
            return f"{self.kind}:{self.account_id}"
        if self.kind == "client":
            return f"client:{self.client_id}"
        if self.kind == "system":
            return f"system:{self.name or 'platform'}"
        return "anonymous"

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Actor(kind="anonymous")


def system(name: str) -> Actor:
    """The platform acting on its own behalf (CLI commands, seeding, scheduled tasks)."""
    return Actor(kind="system", name=name)
