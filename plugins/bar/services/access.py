"""Who the caller is to the bar: staff, active personnel, the owner of a wallet.

Every service takes the caller (``request.identity``, a
:class:`pyramidion.auth.Identity`: the user and their permissions) and checks
here what they may do, so an API view and a console page calling the same
service can never disagree.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select

from pyramidion.api import get_or_404
from pyramidion.auth import Identity, User

from ..models import Holder, Personnel

MEMBER = "bar.member"
SELL = "bar.sell"
TOP_UP = "bar.top_up"
MANAGE = "bar.manage"


def require(db: Any, caller: Identity, permission: str) -> None:
    """403 unless the caller holds ``permission``."""
    if not caller.holds(db, permission):
        raise HTTPForbidden(f"requires the permission {permission!r}")


def is_staff(db: Any, caller: Identity) -> bool:
    """Staff (sellers, managers) see every wallet, purchase and card; members only their own."""
    return caller.holds(db, SELL) or caller.holds(db, MANAGE)


def own_holder(db: Any, caller: Identity) -> Holder | None:
    """The caller's own wallet, if they have one."""
    return db.scalar(select(Holder).where(Holder.user_id == caller.user.id))


def require_own_holder(db: Any, caller: Identity) -> Holder:
    """The caller's own wallet, or 404 saying how to get one."""
    holder = own_holder(db, caller)
    if holder is None:
        raise HTTPNotFound("you have no bar wallet; ask a bar manager to open one")
    return holder


def visible_holder(db: Any, caller: Identity, holder_id: Any) -> Holder:
    """The wallet ``holder_id`` if the caller may see it (staff, or its owner); else 404/403."""
    holder = get_or_404(db, Holder, holder_id, what="wallet")
    if holder.user_id != caller.user.id and not is_staff(db, caller):
        raise HTTPForbidden("this is not your wallet")
    return holder


def acting_personnel(db: Any, caller: Identity) -> Personnel:
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
