"""The ``bar.*`` settings, validated at startup."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from pyramidion.api import TimeZoneName
from pyramidion.settings import Section, section


class BarSettings(Section):
    wallet_minimum_balance: Decimal = Field(
        Decimal("0.00"),
        alias="wallet.minimum_balance",
        decimal_places=2,
        description="lowest balance a debit may leave; negative allows credit",
    )
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


def read_settings(settings: dict[str, Any]) -> BarSettings:
    """Validate the ``bar.*`` settings (startup stops with a message naming a wrong one)."""
    return section(settings, "bar", BarSettings)


def bar_settings(registry: Any) -> BarSettings:
    """The validated ``bar.*`` settings of this app."""
    return registry.bar_settings
