"""The bar's tables: wallets and their ledger, the catalogue, sales, cycles, events, online payments.

Money is ``Numeric(12, 2)`` read as ``Decimal``. A wallet's ``balance`` is a
running total kept for fast, atomic debits; the ledger (:class:`LedgerEntry`)
is the record it must always equal (``pyramidion bar-check-ledger``). Ledger
rows are only ever inserted. Each references at most one source (a purchase,
an online payment, an event registration) through a unique column, so the
database itself refuses to book the same source twice.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from pyramidion.auth import User
from pyramidion.db import Base, UTCDateTime, utcnow

MONEY = Numeric(12, 2)
QUANTITY = Numeric(12, 3)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored by value ("wallet"), checked by a constraint on SQLite and PostgreSQL alike.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class PaymentMethod(str, enum.Enum):
    wallet = "wallet"
    cash = "cash"
    pin = "pin"


class LedgerKind(str, enum.Enum):
    purchase = "purchase"
    top_up = "top_up"
    refund = "refund"
    online_top_up = "online_top_up"
    event_charge = "event_charge"


class StockUnit(str, enum.Enum):
    pieces = "pieces"
    litres = "litres"
    kilograms = "kilograms"


class ReportAction(str, enum.Enum):
    open = "open"
    middle = "middle"  # a count while the bar is open, compared with what the till should hold then
    close = "close"


class RegistrationStatus(str, enum.Enum):
    registered = "registered"
    charged = "charged"
    unpaid = "unpaid"  # the last charge run found too little in the wallet


class Holder(Base):
    """A wallet, owned by one user; ``member_id`` links it to the external member database."""

    __tablename__ = "bar_holder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), unique=True)
    balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    member_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def username(self) -> str:
        return self.user.username


class Personnel(Base):
    """Bar staff: who sells and counts the till."""

    __tablename__ = "bar_personnel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), unique=True)
    nickname: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def username(self) -> str:
        return self.user.username


class Card(Base):
    """An NFC card; ``card_id`` is the UID the reader reports."""

    __tablename__ = "bar_card"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[str] = mapped_column(String(64), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("bar_holder.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    holder: Mapped[Holder] = relationship(lazy="joined", innerjoin=True)


class Stock(Base):
    """A store of something sold (a keg, a crate); products take ``units`` of it per sale."""

    __tablename__ = "bar_stock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    unit: Mapped[StockUnit] = mapped_column(_enum(StockUnit, "bar_stock_unit"), default=StockUnit.pieces)


class StockMutation(Base):
    """Stock delivered (positive) or written off (negative), with what it cost."""

    __tablename__ = "bar_stock_mutation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stock_id: Mapped[int] = mapped_column(ForeignKey("bar_stock.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    cost: Mapped[Decimal | None] = mapped_column(MONEY)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


category_product = Table(
    "bar_category_product",
    Base.metadata,
    Column("category_id", ForeignKey("bar_category.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("bar_product.id", ondelete="CASCADE"), primary_key=True),
)


class Product(Base):
    __tablename__ = "bar_product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    price: Mapped[Decimal] = mapped_column(MONEY)
    colour: Mapped[str] = mapped_column(String(7), default="#ffffff")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    image: Mapped[str | None] = mapped_column(String(500))
    # How much of the stock one sale takes (0.25 litres of the keg, 1 bottle).
    units: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("1"))
    stock_id: Mapped[int | None] = mapped_column(ForeignKey("bar_stock.id", ondelete="SET NULL"), index=True)
    ledger_account: Mapped[str] = mapped_column(String(50), default="")

    stock: Mapped[Stock | None] = relationship()
    categories: Mapped[list[Category]] = relationship(
        secondary=category_product, back_populates="products", order_by="Category.name"
    )


class Category(Base):
    __tablename__ = "bar_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    products: Mapped[list[Product]] = relationship(
        secondary=category_product, back_populates="categories", order_by="Product.name"
    )


class Purchase(Base):
    """One sale: who sold, to whom (wallet sales only need a buyer), how it was paid."""

    __tablename__ = "bar_purchase"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("bar_holder.id", ondelete="RESTRICT"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("bar_personnel.id", ondelete="RESTRICT"), index=True)
    payment_method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod, "bar_payment_method"))
    total: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    lines: Mapped[list[PurchaseLine]] = relationship(order_by="PurchaseLine.id", cascade="all")
    wallet_entry: Mapped[LedgerEntry | None] = relationship(viewonly=True)

    @property
    def balance_after(self) -> Decimal | None:
        """What the wallet held after a wallet purchase."""
        return self.wallet_entry.balance_after if self.wallet_entry is not None else None


class PurchaseLine(Base):
    """A product sold, at the price it had then."""

    __tablename__ = "bar_purchase_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("bar_purchase.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("bar_product.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)

    product: Mapped[Product] = relationship(lazy="joined", innerjoin=True)

    @property
    def product_name(self) -> str:
        return self.product.name


class OnlinePayment(Base):
    """A top-up paid through Mollie; credited once, when Mollie says it is paid."""

    __tablename__ = "bar_online_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("bar_holder.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    # The token in the return URL: not guessable, unlike the numeric id.
    identifier: Mapped[str] = mapped_column(String(32), unique=True)
    mollie_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    credited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Report(Base):
    """The till counted when the bar opens, while it is open, or when it closes."""

    __tablename__ = "bar_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[ReportAction] = mapped_column(_enum(ReportAction, "bar_report_action"))
    personnel_id: Mapped[int] = mapped_column(ForeignKey("bar_personnel.id", ondelete="RESTRICT"))
    cash: Mapped[Decimal] = mapped_column(MONEY)
    flow_meter_1: Mapped[Decimal] = mapped_column(QUANTITY)
    flow_meter_2: Mapped[Decimal] = mapped_column(QUANTITY)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cycle(Base):
    """The bar from opening to closing."""

    __tablename__ = "bar_cycle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opening_report_id: Mapped[int] = mapped_column(ForeignKey("bar_report.id", ondelete="RESTRICT"), unique=True)
    closing_report_id: Mapped[int | None] = mapped_column(ForeignKey("bar_report.id", ondelete="RESTRICT"), unique=True)
    # True while open, NULL once closed: a unique column holds any number of
    # NULLs but one True, so two cycles can never be open at once, even when
    # two openings race.
    is_open: Mapped[bool | None] = mapped_column(Boolean, unique=True, default=True)

    opening_report: Mapped[Report] = relationship(foreign_keys=[opening_report_id], lazy="joined", innerjoin=True)
    closing_report: Mapped[Report | None] = relationship(foreign_keys=[closing_report_id], lazy="joined")


class Event(Base):
    """A paid event ("Happen"): members register, a charge run debits their wallets."""

    __tablename__ = "bar_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cost: Mapped[Decimal] = mapped_column(MONEY)
    max_participants: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Registration(Base):
    __tablename__ = "bar_registration"
    __table_args__ = (UniqueConstraint("event_id", "holder_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("bar_event.id", ondelete="CASCADE"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("bar_holder.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    comment: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus, "bar_registration_status"), default=RegistrationStatus.registered
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    charged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    holder: Mapped[Holder] = relationship(lazy="joined", innerjoin=True)

    @property
    def username(self) -> str:
        return self.holder.user.username


# Places taken, read with each event in the same query.
Event.participants = column_property(
    select(func.coalesce(func.sum(Registration.quantity), 0))
    .where(Registration.event_id == Event.id)
    .correlate_except(Registration)
    .scalar_subquery()
)


class LedgerEntry(Base):
    """One movement of a wallet's money; inserted, never changed."""

    __tablename__ = "bar_ledger_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("bar_holder.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[LedgerKind] = mapped_column(_enum(LedgerKind, "bar_ledger_kind"))
    amount: Mapped[Decimal] = mapped_column(MONEY)  # signed: what the wallet gained
    balance_after: Mapped[Decimal] = mapped_column(MONEY)
    # How the money came in or went out for top-ups and refunds (cash, pin);
    # for the rest it follows from the kind.
    method: Mapped[PaymentMethod | None] = mapped_column(_enum(PaymentMethod, "bar_ledger_method"))
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("bar_purchase.id", ondelete="RESTRICT"), unique=True)
    online_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("bar_online_payment.id", ondelete="RESTRICT"), unique=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("bar_registration.id", ondelete="RESTRICT"), unique=True
    )
