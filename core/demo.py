"""Demo users, made the same way by the core and every plugin.

Every demo user's password follows one scheme, :func:`demo_password`: the
username followed by ``-password`` (``admin`` / ``admin-password``), so the
README of any plugin can say how to log in as its demo users in one line.
Demo data only: nothing here runs outside ``pyramidion demo-data``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from .auth.models import Group, GroupPermission, User

__all__ = ["demo_password", "demo_user"]


def demo_password(username: str) -> str:
    """The password of the demo user ``username``: ``f"{username}-password"``."""
    return f"{username}-password"


def demo_user(
    db: Any,
    registry: Any,
    username: str,
    *,
    groups: Iterable[str] = (),
    superuser: bool = False,
    email: str | None = None,
    **fields: Any,
) -> User:
    """The demo user ``username``, created on the first call, in ``groups``.

    Safe to call twice: an existing user is returned as it is, only joined to
    any of ``groups`` it is not in yet (a group missing so far is created,
    with its permissions if it is a default group). The password is :func:`demo_password`, hashed with the app's
    own hasher (``registry.passwords``). ``fields`` are other columns of
    :class:`pyramidion.auth.User`.
    """
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(
            username=username,
            email=email or f"{username}@example.com",
            password_hash=registry.passwords.hash(demo_password(username)),
            is_superuser=superuser,
            **fields,
        )
        db.add(user)
    for name in groups:
        if any(group.name == name for group in user.groups):
            continue
        user.groups.append(_group(db, registry, name))
    db.flush()
    return user


def _group(db: Any, registry: Any, name: str) -> Group:
    group = db.scalar(select(Group).where(Group.name == name))
    if group is None:
        permissions = registry.default_groups.get(name, [])
        group = Group(name=name, description=f"default group: {name}" if permissions else f"demo group: {name}")
        group.grants = [GroupPermission(permission=permission) for permission in permissions]
        db.add(group)
    return group
