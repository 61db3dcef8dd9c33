"""Who the caller is to the bar: staff, active personnel, the owner of a wallet.

Every service takes the :class:`Caller` and checks here what it may do, so
an API view and a console page calling the same service can never disagree.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select

from pyramidion.api import get_or_404
from pyramidion.auth import User

from ..models import Holder, Personnel

MEMBER = "bar.member"
SELL = "bar.sell"
TOP_UP = "bar.top_up"
MANAGE = "bar.manage"


@dataclasses.dataclass(frozen=True)
class Caller:
    """The user acting, with the permissions they hold (a superuser holds them all)."""

    user: User
    permissions: frozenset[str]
    superuser: bool = False

    @classmethod
    def of(cls, request: Any) -> Caller:
        """The logged-in user of ``request`` as a caller."""
        identity = request.identity
        if identity is None:
            raise HTTPForbidden("log in first")
        return cls(identity.user, identity.permissions(request.db), identity.user.is_superuser)

    def may(self, permission: str) -> bool:
        return self.superuser or permission in self.permissions

    def require(self, permission: str) -> None:
        """403 unless the caller holds ``permission``."""
        if not self.may(permission):
            raise HTTPForbidden(f"requires the permission {permission!r}")

    @property
    def is_staff(self) -> bool:
        """Staff (sellers, managers) see every wallet, purchase and card; members only their own."""
        return self.may(SELL) or self.may(MANAGE)


def own_holder(db: Any, caller: Caller) -> Holder | None:
    """The caller's own wallet, if they have one."""
    return db.scalar(select(Holder).where(Holder.user_id == caller.user.id))


def require_own_holder(db: Any, caller: Caller) -> Holder:
    """The caller's own wallet, or 404 saying how to get one."""
    holder = own_holder(db, caller)
    if holder is None:
        raise HTTPNotFound("you have no bar wallet; ask a bar manager to open one")
    return holder


def visible_holder(db: Any, caller: Caller, holder_id: Any) -> Holder:
    """The wallet ``holder_id`` if the caller may see it (staff, or its owner); else 404/403."""
    holder = get_or_404(db, Holder, holder_id, what="wallet")
    if holder.user_id != caller.user.id and not caller.is_staff:
        raise HTTPForbidden("this is not your wallet")
    return holder


def acting_personnel(db: Any, caller: Caller) -> Personnel:
    """The caller as active bar personnel: sales, top-ups and till counts are signed by them."""
    personnel = db.scalar(select(Personnel).where(Personnel.user_id == caller.user.id))
    if personnel is None or not personnel.active:
        raise HTTPForbidden("only active bar personnel may do this")
    return personnel


def me(db: Any, user: User) -> dict[str, Any]:
    """What ``GET /api/auth/me`` says of the user's wallet and personnel record."""
    holder = db.scalar(select(Holder).where(Holder.user_id == user.id))
    personnel = db.scalar(select(Personnel).where(Personnel.user_id == user.id))
    return {
        "holder": None if holder is None else {"id": holder.id, "balance": f"{holder.balance:.2f}"},
        "personnel": None
        if personnel is None
        else {"id": personnel.id, "nickname": personnel.nickname, "active": personnel.active},
    }
