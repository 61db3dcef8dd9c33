"""Members of the external member database as local users with a wallet.

The member's local user and wallet are created on their first login (in
the ``bar-members`` group when it exists) and kept up to date on later
ones, matched by the member id: a member never takes over a local account
that merely has the same name or email.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_, select

from pyramidion.auth import Group, User

from ..member_database import Member
from ..models import Holder

log = logging.getLogger(__name__)

MEMBERS_GROUP = "bar-members"


def link_member(db: Any, member: Member) -> User | None:
    """The local user of ``member``, created or brought up to date; None if it would take over a local account."""
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
