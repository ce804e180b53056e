"""Who may moderate initiatives: sysadmins (a "moderators" role can widen this one function later)."""

from __future__ import annotations

from citycommons.actor import Actor
from citycommons.errors import Forbidden, NotAuthenticated


def can_moderate(actor: Actor) -> bool:
    return actor.sysadmin


def require_moderator(actor: Actor) -> None:
    if not actor.authenticated and not actor.sysadmin:
        raise NotAuthenticated("Sign in as a moderator")
    if not can_moderate(actor):
        raise Forbidden("Only moderators may do this")
