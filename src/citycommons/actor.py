"""Who is asking: passed explicitly to every service instead of a context dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["admin", "editor", "member"]
ROLE_RANK: dict[str, int] = {"member": 1, "editor": 2, "admin": 3}


@dataclass(frozen=True)
class Actor:
    user_id: str | None = None
    name: str | None = None
    sysadmin: bool = False
    # organisation id -> role
    roles: dict[str, str] = field(default_factory=dict)
    token_id: str | None = None
    client: str = "unknown"

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def role_in(self, organization_id: str | None) -> str | None:
        if organization_id is None:
            return None
        return self.roles.get(organization_id)

    def has_role(self, organization_id: str | None, at_least: Role) -> bool:
        if self.sysadmin:
            return True
        role = self.role_in(organization_id)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[at_least]

    @property
    def member_of(self) -> frozenset[str]:
        return frozenset(self.roles)


ANONYMOUS = Actor()
SYSTEM = Actor(user_id=None, name="system", sysadmin=True, client="system")
