"""Field types shared by every API: money and timestamps as the conventions want them."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler, PlainSerializer, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue

CENT = Decimal("0.01")


def _to_decimal(value: Any) -> Any:
    if isinstance(value, float):
        # A float has no exact cents; take what it prints as, not its binary value.
        return Decimal(repr(value))
    return value


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite amount")
    # Size first: quantizing a huge amount overflows the decimal context.
    if abs(value) >= Decimal("1e9"):
        raise ValueError("is too large")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError("must have at most two decimal places")
    return value.quantize(CENT)


def money(value: Decimal | int | str) -> Decimal:
    """An amount in two places: ``money("1.5") == Decimal("1.50")``."""
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


MONEY_PATTERN = r"^-?[0-9]{1,9}(\.[0-9]{1,2})?$"


class _MoneyInputSchema:
    """What the document says money input is: at most 9 digits and 2 places, as a string or a number."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode != "validation":
            return schema
        branches = schema.get("anyOf", [schema])
        numbers = [branch for branch in branches if branch.get("type") == "number"]
        for number in numbers:
            number["multipleOf"] = 0.01
            number.setdefault("exclusiveMaximum", 1e9)
            number.setdefault("exclusiveMinimum", -1e9)
        bounded = any(key in number for number in numbers for key in ("minimum", "maximum"))
        bounded = bounded or any(number["exclusiveMinimum"] != -1e9 for number in numbers)
        strings = [] if bounded else [{"type": "string", "pattern": MONEY_PATTERN}]
        # A bounded amount (gt=0) is documented as a number only: a pattern cannot say "above zero".
        return {"anyOf": [*numbers, *strings]} if numbers else schema


# Money is a decimal string with two places ("12.50") both ways; a number is
# accepted on input too.
Money = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    AfterValidator(_two_places),
    _MoneyInputSchema(),
    PlainSerializer(lambda d: f"{d.quantize(CENT):f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["12.50"]}, mode="serialization"),
]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone (e.g. 2026-01-31T12:00:00Z)")
    return value.astimezone(dt.UTC)


def _iso_only(value: Any) -> Any:
    # pydantic would read a number ("0.5", 1700000000) as seconds since 1970:
    # the document promises an ISO 8601 date-time, so that is all that counts.
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise ValueError("must be an ISO 8601 date-time with a time zone, not a number")
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("must be an ISO 8601 date-time with a time zone, not a number")
    return value


# A timestamp with its time zone, normalised to UTC.
Timestamp = Annotated[dt.datetime, BeforeValidator(_iso_only), AfterValidator(_aware)]


def _known_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone name") from None
    return name


# An IANA time zone name ("Europe/Zurich"), checked against the zone database.
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
