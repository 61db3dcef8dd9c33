"""Request and response bodies of the bar API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, WithJsonSchema, field_validator

from pyramidion.api import In, Money, Out, Patch, Timestamp

from .models import LedgerKind, PaymentMethod, RegistrationStatus, ReportAction, StockUnit

# The id of a row (an Integer primary key): what is larger is no id at all.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
QUANTITY_PATTERN = r"^-?[0-9]{1,9}(\.[0-9]{1,3})?$"


def _quantity(ge: Decimal | None = None, gt: Decimal | None = None) -> Any:
    """A decimal of at most 9 digits and 3 places (litres, kilograms), documented as the check is.

    An unbounded one is documented as a number or a string of that pattern; a
    bounded one as a number only (a pattern cannot say "above zero"), though a
    string is still read, as money is (:data:`pyramidion.api.Money`).
    """
    number: dict[str, Any] = {"type": "number", "multipleOf": 0.001, "exclusiveMaximum": 1e9}
    if ge is not None:
        number["minimum"] = float(ge)
    elif gt is not None:
        number["exclusiveMinimum"] = float(gt)
    else:
        number["exclusiveMinimum"] = -1e9
    bounded = ge is not None or gt is not None
    documented = number if bounded else {"anyOf": [number, {"type": "string", "pattern": QUANTITY_PATTERN}]}
    return Annotated[
        Decimal, Field(ge=ge, gt=gt, max_digits=12, decimal_places=3), WithJsonSchema(documented, mode="validation")
    ]


Quantity = _quantity()
Reading = _quantity(ge=Decimal("0"))  # a flow meter
Units = _quantity(gt=Decimal("0"))  # how much of a stock one sale takes
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#ffcc00"])]


# -- holders, personnel, cards --------------------------------------------------


class HolderIn(In):
    user_id: RowId


class HolderOut(Out):
    id: int
    user_id: int
    username: str
    balance: Money
    member_id: str | None


class PersonnelIn(In):
    user_id: RowId
    nickname: str = Field(min_length=1, max_length=100)
    active: bool = True


class PersonnelPatch(Patch):
    nickname: str = Field(min_length=1, max_length=100)
    active: bool


class PersonnelOut(Out):
    id: int
    user_id: int
    username: str
    nickname: str
    active: bool


class CardIn(In):
    card_id: str = Field(min_length=1, max_length=64, description="the NFC UID")
    holder_id: RowId
    name: str = Field("", max_length=100)


class CardOut(Out):
    id: int
    card_id: str
    name: str
    holder: HolderOut


# -- catalogue and stock ----------------------------------------------------------


class StockIn(In):
    name: str = Field(min_length=1, max_length=100)
    unit: StockUnit = StockUnit.pieces


class StockOut(Out):
    id: int
    name: str
    unit: StockUnit
    quantity: Quantity


class MutationIn(In):
    quantity: Quantity = Field(description="delivered (positive) or written off (negative)")
    cost: Money | None = None
    comment: str = Field("", max_length=500)

    @field_validator("quantity")
    @classmethod
    def _nonzero(cls, quantity: Decimal) -> Decimal:
        if quantity == 0:
            raise ValueError("must not be zero")
        return quantity


class MutationOut(Out):
    id: int
    stock_id: int
    quantity: Quantity
    cost: Money | None
    comment: str
    created_by_id: int | None
    created_at: dt.datetime


class ProductIn(In):
    name: str = Field(min_length=1, max_length=100)
    price: Money = Field(ge=0)
    colour: Colour = "#ffffff"
    active: bool = True
    image: str | None = Field(None, max_length=500)
    # The document gives the default as the number it is documented as.
    units: Units = Field(Decimal("1"), json_schema_extra={"default": 1})
    stock_id: RowId | None = None
    ledger_account: str = Field("", max_length=50)
    category_ids: list[RowId] = []


class ProductPatch(Patch):
    name: str = Field(min_length=1, max_length=100)
    price: Money = Field(ge=0)
    colour: Colour
    active: bool
    image: str | None = Field(max_length=500)
    units: Units
    stock_id: RowId | None
    ledger_account: str = Field(max_length=50)
    category_ids: list[RowId]


class CategoryRef(Out):
    id: int
    name: str


class ProductOut(Out):
    id: int
    name: str
    price: Money
    colour: str
    active: bool
    image: str | None
    units: Quantity
    stock_id: int | None
    ledger_account: str
    categories: list[CategoryRef]


class CategoryIn(In):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=500)


class CategoryPatch(Patch):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(max_length=500)


class ProductRef(Out):
    id: int
    name: str
    price: Money
    colour: str
    active: bool


class CategoryOut(Out):
    id: int
    name: str
    description: str
    products: list[ProductRef]


# -- purchases and the ledger -------------------------------------------------------


class LineIn(In):
    product_id: RowId
    quantity: int = Field(gt=0, le=1000)


class PurchaseIn(In):
    payment_method: PaymentMethod
    holder_id: RowId | None = Field(None, description="the paying wallet: required for wallet, optional otherwise")
    lines: list[LineIn] = Field(min_length=1, max_length=100)


class LineOut(Out):
    product_id: int
    product_name: str
    quantity: int
    unit_price: Money


class PurchaseOut(Out):
    id: int
    holder_id: int | None
    seller_id: int
    payment_method: PaymentMethod
    total: Money
    created_at: dt.datetime
    lines: list[LineOut]
    balance_after: Money | None = Field(None, description="the wallet balance after a wallet purchase")


class TopUpIn(In):
    amount: Money = Field(gt=0)
    method: Literal[PaymentMethod.cash, PaymentMethod.pin]
    comment: str = Field("", max_length=500)


class LedgerOut(Out):
    id: int
    holder_id: int
    kind: LedgerKind
    amount: Money
    balance_after: Money
    method: PaymentMethod | None
    comment: str
    created_by_id: int | None
    created_at: dt.datetime
    purchase_id: int | None
    online_payment_id: int | None
    registration_id: int | None


# -- online top-ups -------------------------------------------------------------------


class OnlineTopUpIn(In):
    amount: Money = Field(ge=Decimal("1.00"), le=Decimal("500.00"))


class OnlineTopUpOut(Out):
    id: int
    holder_id: int
    amount: Money
    status: str
    checkout_url: str | None
    created_at: dt.datetime
    credited_at: dt.datetime | None


class WebhookIn(BaseModel):
    # Mollie's notice, not a client's body: a field Mollie adds one day must
    # not make every notice fail (Mollie would retry it for days).

    id: str = Field(min_length=1, max_length=64)


# -- reports and cycles ------------------------------------------------------------------


class ReportIn(In):
    action: ReportAction = Field(description="open the bar, count the till while it is open (middle), or close it")
    cash: Money = Field(ge=0)
    flow_meter_1: Reading
    flow_meter_2: Reading
    comment: str = Field("", max_length=2000)


class ReportOut(Out):
    id: int
    action: ReportAction
    personnel_id: int
    cash: Money
    flow_meter_1: Quantity
    flow_meter_2: Quantity
    comment: str
    created_at: dt.datetime


class CycleTotals(Out):
    sales: dict[PaymentMethod, Money] = Field(description="sales per payment method")
    total_sales: Money
    cash_top_ups: Money
    cash_refunds: Money
    expected_cash: Money = Field(description="opening cash + cash sales + cash top-ups - cash refunds")
    cash_difference: Money | None = Field(description="counted at closing - expected; null while open")
    flow_meter_1_difference: Quantity | None = Field(description="closing - opening reading; null while open")
    flow_meter_2_difference: Quantity | None


class MiddleCount(Out):
    report: ReportOut
    expected_cash: Money = Field(description="what the till should have held at this count")
    cash_difference: Money = Field(description="counted - expected")
    flow_meter_1_difference: Quantity = Field(description="this reading - the opening reading")
    flow_meter_2_difference: Quantity


class CycleOut(Out):
    id: int
    is_open: bool
    opening_report: ReportOut
    middle_counts: list[MiddleCount] = Field(description="counts made while the bar was open, oldest first")
    closing_report: ReportOut | None
    totals: CycleTotals


class CycleSummary(Out):
    id: int
    opening_report: ReportOut
    closing_report: ReportOut | None


# -- overview --------------------------------------------------------------------------


class OverviewQuery(BaseModel):
    start: dt.date | None = Field(None, description="first day (default: 30 days before end)")
    end: dt.date | None = Field(None, description="last day, included (default: today)")
    period: Literal["day", "month"] = "day"


class OverviewRow(Out):
    period: str
    category: str
    payment_method: PaymentMethod
    quantity: int
    revenue: Money


class OverviewOut(Out):
    start: dt.date
    end: dt.date
    period: Literal["day", "month"]
    time_zone: str
    rows: list[OverviewRow]
    totals: dict[PaymentMethod, Money] = Field(description="revenue per payment method over the whole range")


# -- events ------------------------------------------------------------------------------


class EventIn(In):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    starts_at: Timestamp
    registration_opens_at: Timestamp
    registration_closes_at: Timestamp
    cost: Money = Field(ge=0)
    max_participants: int | None = Field(None, gt=0)

    @field_validator("registration_closes_at")
    @classmethod
    def _after_opening(cls, closes_at: dt.datetime, info: ValidationInfo) -> dt.datetime:
        opens_at = info.data.get("registration_opens_at")
        if opens_at is not None and closes_at <= opens_at:
            raise ValueError("must be after registration_opens_at")
        return closes_at


class EventOut(Out):
    id: int
    title: str
    description: str
    starts_at: dt.datetime
    registration_opens_at: dt.datetime
    registration_closes_at: dt.datetime
    cost: Money
    max_participants: int | None
    participants: int = 0


class RegistrationIn(In):
    quantity: int = Field(1, gt=0, le=10, description="places taken (yourself and guests)")
    comment: str = Field("", max_length=500)


class RegistrationOut(Out):
    id: int
    event_id: int
    holder_id: int
    username: str
    quantity: int
    comment: str
    status: RegistrationStatus
    created_at: dt.datetime
    charged_at: dt.datetime | None


class ChargeQueued(Out):
    task_id: str


class ChargeReport(Out):
    event_id: int
    charged: int = Field(description="registrations paid (by this run or an earlier one)")
    unpaid: list[RegistrationOut] = Field(description="registrations whose wallet could not pay")
    pending: int = Field(description="registrations not charged yet")
