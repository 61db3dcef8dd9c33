"""Who the caller is to the bar: staff, active personnel, the owner of a wallet."""

from __future__ import annotations

from typing import Any, TypeVar

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select

from .models import Holder, Personnel

SELL = "bar.sell"
TOP_UP = "bar.top_up"
MANAGE = "bar.manage"
MEMBER = "bar.member"

T = TypeVar("T")


def is_staff(request: Any) -> bool:
    """Staff (sellers, managers) see every wallet, purchase and card; members only their own."""
    return bool(request.has_permission(SELL) or request.has_permission(MANAGE))


def get_or_404(request: Any, model: type[T], key: str = "id", what: str | None = None) -> T:
    obj = request.db.get(model, int(request.matchdict[key]))
    if obj is None:
        raise HTTPNotFound(f"no such {what or model.__name__.lower()}")
    return obj


def own_holder(request: Any) -> Holder | None:
    return request.db.scalar(select(Holder).where(Holder.user_id == request.identity.user.id))


def require_own_holder(request: Any) -> Holder:
    holder = own_holder(request)
    if holder is None:
        raise HTTPNotFound("you have no bar wallet; ask a bar manager to open one")
    return holder


def visible_holder(request: Any, holder_id: int) -> Holder:
    """The wallet ``holder_id`` if the caller may see it (staff, or its owner); else 404/403."""
    holder = request.db.get(Holder, holder_id)
    if holder is None:
        raise HTTPNotFound("no such wallet")
    if holder.user_id != request.identity.user.id and not is_staff(request):
        raise HTTPForbidden("this is not your wallet")
    return holder


def acting_personnel(request: Any) -> Personnel:
    """The caller as active bar personnel: sales, top-ups and till counts are signed by them."""
    personnel = request.db.scalar(select(Personnel).where(Personnel.user_id == request.identity.user.id))
    if personnel is None or not personnel.active:
        raise HTTPForbidden("only active bar personnel may do this")
    return personnel
