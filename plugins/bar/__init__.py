"""Pyramidion plugin ``bar``: a point of sale with wallets, bar cycles, events and online top-ups.

Routes live under ``/api/bar``, console pages under ``/console/bar``; see
README.md for the endpoints, pages, settings, permissions and tasks. This
module holds the hooks only.
"""

from __future__ import annotations

from typing import Any

from pyramidion import hookimpl
from pyramidion.request import Request

from .commands import add_commands
from .demo import add_demo_data
from .member_database import IMemberDatabase, MemberDatabase
from .mollie import IMollieGateway, MollieGateway
from .services import access
from .services.access import MANAGE, MEMBER, SELL, TOP_UP
from .services.members import link_member
from .settings import read_settings
from .tasks import charge_event

ROUTES = {
    "bar.holders": "/holders",
    "bar.holder": r"/holders/{id:\d+}",
    "bar.holder.ledger": r"/holders/{id:\d+}/ledger",
    "bar.holder.top_ups": r"/holders/{id:\d+}/top-ups",
    "bar.holder.refunds": r"/holders/{id:\d+}/refunds",
    "bar.wallet": "/wallet",
    "bar.personnel": "/personnel",
    "bar.personnel.one": r"/personnel/{id:\d+}",
    "bar.cards": "/cards",
    "bar.card": "/cards/{card_id}",
    "bar.stock": "/stock",
    "bar.stock.one": r"/stock/{id:\d+}",
    "bar.stock.mutations": r"/stock/{id:\d+}/mutations",
    "bar.products": "/products",
    "bar.product": r"/products/{id:\d+}",
    "bar.categories": "/categories",
    "bar.category": r"/categories/{id:\d+}",
    "bar.purchases": "/purchases",
    "bar.purchase": r"/purchases/{id:\d+}",
    "bar.online_top_ups": "/online-top-ups",
    "bar.online_top_up": r"/online-top-ups/{id:\d+}",
    "bar.online_top_up.return": "/online-top-ups/return/{identifier}",
    "bar.mollie.webhook": "/mollie/webhook",
    "bar.reports": "/reports",
    "bar.cycles": "/cycles",
    "bar.cycles.current": "/cycles/current",
    "bar.cycle": r"/cycles/{id:\d+}",
    "bar.overview": "/overview",
    "bar.overview.xlsx": "/overview.xlsx",
    "bar.events": "/events",
    "bar.event": r"/events/{id:\d+}",
    "bar.event.registrations": r"/events/{id:\d+}/registrations",
    "bar.event.registration": r"/events/{id:\d+}/registration",
    "bar.event.charge": r"/events/{id:\d+}/charge",
}


@hookimpl
def pyramidion_settings(settings: dict[str, Any]) -> None:
    read_settings(settings)


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [
        (MEMBER, "use the bar as a member: register for events, top up your own wallet online"),
        (SELL, "sell, look up cards and wallets, count the till"),
        (TOP_UP, "top up and refund wallets at the bar, register cards"),
        (MANAGE, "manage products, stock, personnel, wallets and events; see revenue"),
    ]


@hookimpl
def pyramidion_groups() -> dict[str, list[str]]:
    return {
        "bar-members": [MEMBER],
        "bar-personnel": [MEMBER, SELL, TOP_UP],
        "bar-managers": [MEMBER, SELL, TOP_UP, MANAGE],
    }


@hookimpl
def pyramidion_includeme(config: Any) -> None:
    settings = read_settings(config.get_settings())
    config.registry.bar_settings = settings
    config.register_service(MollieGateway.from_settings(settings), IMollieGateway)
    config.register_service(MemberDatabase.from_settings(settings), IMemberDatabase)
    for name, pattern in ROUTES.items():
        config.add_route(name, pattern)
    config.scan(".views")


@hookimpl
def pyramidion_console(config: Any) -> None:
    config.add_route("bar.console.till", "/")
    config.add_route("bar.console.wallets", "/wallets")
    config.add_route("bar.console.counts", "/counts")
    config.add_route("bar.console.cycle", r"/cycles/{id:\d+}")
    config.add_route("bar.console.overview", "/revenue")
    config.add_route("bar.console.events", "/events")
    config.add_route("bar.console.event", r"/events/{id:\d+}")
    # The same permissions as the API endpoints each page uses.
    config.add_console_menu("Till", "bar.console.till", permission=SELL, order=30)
    config.add_console_menu("Wallets", "bar.console.wallets", permission=TOP_UP, order=31)
    config.add_console_menu("Till counts", "bar.console.counts", permission=SELL, order=32)
    config.add_console_menu("Revenue", "bar.console.overview", permission=MANAGE, order=33)
    config.add_console_menu("Bar events", "bar.console.events", permission=MEMBER, order=34)
    config.add_console_static("pyramidion_bar:console/static")
    config.scan(".console")


@hookimpl
def pyramidion_background_tasks(huey: Any) -> list[Any]:
    return [charge_event]


@hookimpl
def pyramidion_authenticate(request: Request, username: str, password: str) -> Any:
    member = request.find_service(IMemberDatabase).authenticate(username, password)
    return link_member(request.db, member) if member is not None else None


@hookimpl
def pyramidion_me(request: Request, user: Any) -> dict[str, Any]:
    return {"bar": access.me(request.db, user)}


@hookimpl
def pyramidion_capabilities() -> dict[str, Any]:
    return {
        "description": "A bar's point of sale: wallets, sales, till counts, events, online top-ups",
        "url": "/api/bar",
        "console": "/console/bar/",
    }


@hookimpl
def pyramidion_commands(subparsers: Any) -> None:
    add_commands(subparsers)


@hookimpl
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    add_demo_data(db, registry)
