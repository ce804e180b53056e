from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from citycommons.catalog.schemas import NAME_RE, Email, Strict

Password = Annotated[str, StringConstraints(min_length=8, max_length=500)]


class UserCreate(Strict):
    name: Annotated[str, StringConstraints(pattern=NAME_RE, max_length=100)]
    email: Email
    password: Password
    fullname: Annotated[str, StringConstraints(max_length=200)] = ""
    sysadmin: bool = False


class UserRead(BaseModel):
    id: str
    name: str
    fullname: str
    sysadmin: bool
    state: str
    created: datetime


class UserPrivateRead(UserRead):
    email: str


class TokenCreated(BaseModel):
    id: str
    name: str
    token: str
    created: datetime


class TokenRead(BaseModel):
    id: str
    name: str
    created: datetime
    last_used: datetime | None
    revoked: datetime | None


class MembershipChange(Strict):
    user: str
    role: Literal["admin", "editor", "member"]
