"""Users, API tokens, memberships and the Actor that every request carries."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citycommons.accounts.models import ApiToken, Membership, User
from citycommons.accounts.schemas import TokenCreated, TokenRead, UserCreate, UserPrivateRead, UserRead
from citycommons.accounts.security import hash_password, new_token, token_digest, verify_password
from citycommons.actor import Actor
from citycommons.db.base import utcnow
from citycommons.errors import Conflict, Forbidden, NotAuthenticated, NotFound, invalid


def _user_read(user: User, *, private: bool) -> UserRead:
    cls = UserPrivateRead if private else UserRead
    return cls.model_validate(user, from_attributes=True)


def _find_user(session: Session, id_or_name: str) -> User | None:
    return session.scalars(
        select(User).where(or_(User.id == id_or_name, User.name == id_or_name, User.email == id_or_name))
    ).first()


def create_user(*, session: Session, actor: Actor, data: UserCreate) -> UserPrivateRead:
    if data.sysadmin and not actor.sysadmin:
        raise Forbidden("Only a sysadmin can create a sysadmin")
    if session.scalar(select(func.count()).select_from(User).where(User.name == data.name)):
        raise Conflict("That user name is taken", fields={"name": ["That user name is taken"]})
    if session.scalar(select(func.count()).select_from(User).where(User.email == data.email)):
        raise Conflict("That e-mail is taken", fields={"email": ["That e-mail is already registered"]})
    user = User(
        name=data.name,
        email=data.email,
        fullname=data.fullname,
        password_hash=hash_password(data.password),
        sysadmin=data.sysadmin,
    )
    session.add(user)
    session.flush()
    return UserPrivateRead.model_validate(user, from_attributes=True)


def get_user(*, session: Session, actor: Actor, id_or_name: str) -> UserRead:
    user = _find_user(session, id_or_name)
    if user is None or user.state != "active":
        raise NotFound("User not found")
    return _user_read(user, private=actor.sysadmin or actor.user_id == user.id)


def list_users(*, session: Session, actor: Actor) -> list[UserRead]:
    """Every user by name; a sysadmin also sees e-mail addresses."""
    rows = session.scalars(select(User).order_by(User.name))
    return [_user_read(user, private=actor.sysadmin or actor.user_id == user.id) for user in rows]


def authenticate_password(*, session: Session, login: str, password: str) -> UserRead:
    user = _find_user(session, login.strip())
    if user is None or user.state != "active" or not verify_password(user.password_hash, password):
        raise NotAuthenticated("Wrong user name or password")
    return UserRead.model_validate(user, from_attributes=True)


def actor_for_user(*, session: Session, user_id: str, token_id: str | None = None, client: str = "") -> Actor:
    user = session.get(User, user_id)
    if user is None or user.state != "active":
        raise NotAuthenticated("Unknown or disabled user")
    roles = {
        m.organization_id: m.role for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
    }
    return Actor(user_id=user.id, name=user.name, sysadmin=user.sysadmin, roles=roles, token_id=token_id, client=client)


def actor_for_token(*, session: Session, token: str, client: str = "") -> Actor:
    row = session.scalars(select(ApiToken).where(ApiToken.digest == token_digest(token.strip()))).first()
    if row is None or row.revoked is not None:
        raise NotAuthenticated("Invalid or revoked API token")
    now = utcnow()
    if row.last_used is None or (now - row.last_used).total_seconds() > 60:
        row.last_used = now
    return actor_for_user(session=session, user_id=row.user_id, token_id=row.id, client=client)


def create_token(*, session: Session, actor: Actor, user: str, name: str) -> TokenCreated:
    target = _find_user(session, user)
    if target is None:
        raise NotFound("User not found")
    if not (actor.sysadmin or actor.user_id == target.id):
        raise Forbidden("You can only create tokens for yourself")
    if not name.strip() or len(name) > 200:
        raise invalid("name", "Give the token a name of at most 200 characters")
    plain = new_token()
    row = ApiToken(user_id=target.id, name=name.strip(), digest=token_digest(plain))
    session.add(row)
    session.flush()
    return TokenCreated(id=row.id, name=row.name, token=plain, created=row.created)


def list_tokens(*, session: Session, actor: Actor, user: str) -> list[TokenRead]:
    target = _find_user(session, user)
    if target is None:
        raise NotFound("User not found")
    if not (actor.sysadmin or actor.user_id == target.id):
        raise Forbidden("You can only list your own tokens")
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == target.id).order_by(ApiToken.created))
    return [TokenRead.model_validate(r, from_attributes=True) for r in rows]


def revoke_token(*, session: Session, actor: Actor, token_id: str) -> TokenRead:
    row = session.get(ApiToken, token_id)
    if row is None or not (actor.sysadmin or actor.user_id == row.user_id):
        raise NotFound("Token not found")
    if row.revoked is None:
        row.revoked = utcnow()
    return TokenRead.model_validate(row, from_attributes=True)


def find_user_id(*, session: Session, id_or_name: str) -> str:
    user = _find_user(session, id_or_name)
    if user is None:
        raise NotFound("User not found", fields={"user": ["No such user"]})
    return user.id
