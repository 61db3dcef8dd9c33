"""Login through the external member database, as an identity source of the core.

With ``bar.members.url`` set, a password login first asks the member
database: ``POST <url>`` with ``{"username", "password"}`` and
``Authorization: Bearer <bar.members.token>``. A 200 answer
``{"id", "username", "email"}`` accepts the member; any 4xx rejects them and
the core goes on to the local password. The member's local user and wallet
are created on first login (in the ``bar-members`` group when it exists) and
kept up to date on later ones, matched by the member id: a member never takes
over a local account that merely has the same name.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select

from pyramidion.auth.models import Group, User

from .models import Holder

log = logging.getLogger(__name__)

MEMBERS_GROUP = "bar-members"


class Member(BaseModel):
    id: str | int
    username: str
    email: str


def fetch_member(settings: dict[str, Any], username: str, password: str) -> Member | None:
    """The member the database accepts for these credentials, or None."""
    try:
        response = requests.post(
            settings["bar.members.url"],
            json={"username": username, "password": password},
            headers={"Authorization": f"Bearer {settings['bar.members.token']}"},
            timeout=settings["bar.members.timeout"],
        )
    except requests.RequestException as exc:
        log.warning("member database unreachable: %s", exc)
        return None
    if response.status_code != 200:
        if response.status_code >= 500:
            log.warning("member database answered %s", response.status_code)
        return None
    try:
        return Member.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        log.warning("member database sent an answer we cannot read: %s", exc)
        return None


def _link(db: Any, member: Member) -> User | None:
    member_id = str(member.id)
    holder = db.scalar(select(Holder).where(Holder.member_id == member_id))
    taken = select(User.id).where(or_(User.username == member.username, User.email == member.email))
    if holder is not None:
        user = holder.user
        clash = db.scalar(taken.where(User.id != user.id))
        if clash is None:
            user.username, user.email = member.username, member.email
        else:
            log.warning(
                "member %s renamed to %s, which a local user has; kept the old name", member_id, member.username
            )
        return user
    if db.scalar(taken) is not None:
        log.warning(
            "member %s (%s) clashes with a local user; not logged in through the member database",
            member_id,
            member.username,
        )
        return None
    user = User(username=member.username, email=member.email, password_hash=None)
    group = db.scalar(select(Group).where(Group.name == MEMBERS_GROUP))
    if group is not None:
        user.groups.append(group)
    db.add(user)
    db.flush()
    db.add(Holder(user_id=user.id, member_id=member_id))
    db.flush()
    return user


def authenticate_member(request: Any, username: str, password: str) -> User | None:
    settings = request.registry.settings
    if not settings["bar.members.url"]:
        return None
    member = fetch_member(settings, username, password)
    return _link(request.db, member) if member is not None else None
