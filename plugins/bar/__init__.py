"""Pyramidion plugin ``bar``: a point of sale with wallets, bar cycles, events and online top-ups.

Routes live under ``/api/bar``; see README.md for the endpoints, settings,
permissions and tasks.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion.api import TimeZoneName
from pyramidion.settings import Section, section

from . import models
from .access import MANAGE, MEMBER, SELL, TOP_UP


class BarSettings(Section):
    wallet_minimum_balance: Decimal = Field(Decimal("0.00"), alias="wallet.minimum_balance", decimal_places=2)
    time_zone: TimeZoneName = Field("UTC", description="days and months of the revenue overview")
    mollie_api_key: str = Field("", alias="mollie.api_key", description="empty: online top-ups are off")
    mollie_api_url: str = Field("https://api.mollie.com", alias="mollie.api_url")
    mollie_public_url: str = Field(
        "", alias="mollie.public_url", description="base URL Mollie reaches us at; default: the request's"
    )
    members_url: str = Field("", alias="members.url", description="login endpoint of the member database; empty: off")
    members_token: str = Field("", alias="members.token")
    members_timeout: float = Field(5.0, alias="members.timeout", gt=0)

    @field_validator("mollie_api_key")
    @classmethod
    def _mollie_key(cls, value: str) -> str:
        if value and not value.startswith(("test_", "live_")):
            raise ValueError("a Mollie API key starts with test_ or live_")
        return value


@hookimpl
def pyramidion_settings(settings: dict[str, Any]) -> None:
    section(settings, "bar", BarSettings)


@hookimpl
def pyramidion_permissions() -> list[tuple[str, str]]:
    return [
        (MEMBER, "use the bar as a member: register for events, top up your own wallet online"),
        (SELL, "sell, look up cards and wallets, open and close the bar"),
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
    from .mollie import MollieGateway

    config.registry.bar_mollie = MollieGateway.from_settings(config.get_settings())
    routes = {
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
    for name, pattern in routes.items():
        config.add_route(name, pattern)
    config.scan(".views")


@hookimpl
def pyramidion_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def pyramidion_background_tasks(huey: Any) -> list[Any]:
    from .events import charge_event

    return [charge_event]


@hookimpl
def pyramidion_authenticate(request: Any, username: str, password: str) -> Any:
    from .members import authenticate_member

    return authenticate_member(request, username, password)


@hookimpl
def pyramidion_me(request: Any, user: Any) -> dict[str, Any]:
    holder = request.db.scalar(select(models.Holder).where(models.Holder.user_id == user.id))
    personnel = request.db.scalar(select(models.Personnel).where(models.Personnel.user_id == user.id))
    return {
        "bar": {
            "holder": None if holder is None else {"id": holder.id, "balance": f"{holder.balance:.2f}"},
            "personnel": None
            if personnel is None
            else {"id": personnel.id, "nickname": personnel.nickname, "active": personnel.active},
        }
    }


@hookimpl
def pyramidion_commands(subparsers: Any) -> None:
    from .commands import add_commands

    add_commands(subparsers)


@hookimpl
def pyramidion_demo_data(db: Any) -> None:
    from .demo import add_demo_data

    add_demo_data(db)
