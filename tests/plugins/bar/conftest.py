"""Fixtures for the bar tests: staff and members with wallets, products, local stand-in servers."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from pyramidion_bar.models import Event, Holder, LedgerKind, PaymentMethod, Personnel, Product, Stock
from pyramidion_bar.services import wallet

STAFF = ("bar.member", "bar.sell", "bar.top_up", "bar.manage")


class Bar:
    """Arranges bar data the way the bar would have it (money only through the ledger)."""

    def __init__(self, app: Any, make_user: Callable, login: Callable, in_transaction: Callable) -> None:
        self.app = app
        self.make_user = make_user
        self.login = login
        self.in_transaction = in_transaction

    def staff(
        self, username: str = "barkeeper", permissions: tuple[str, ...] = STAFF, active: bool = True
    ) -> dict[str, str]:
        """Headers of a user who is bar personnel with ``permissions``."""
        user = self.make_user(username, permissions=permissions)
        self.in_transaction(lambda db: db.add(Personnel(user_id=user.id, nickname=username.title(), active=active)))
        return self.login(user)

    def member(
        self, username: str, balance: str = "0.00", permissions: tuple[str, ...] = ("bar.member",)
    ) -> tuple[int, dict[str, str]]:
        """A member's wallet id and headers; the balance arrives as a cash top-up."""
        user = self.make_user(username, permissions=permissions)

        def open_wallet(db: Any) -> int:
            holder = Holder(user_id=user.id)
            db.add(holder)
            db.flush()
            if Decimal(balance):
                wallet.credit(db, holder.id, Decimal(balance), LedgerKind.top_up, method=PaymentMethod.cash)
            return holder.id

        return self.in_transaction(open_wallet), self.login(user)

    def product(self, name: str, price: str, units: str = "1", stock: str | None = None) -> int:
        def add(db: Any) -> int:
            stock_row = None
            if stock is not None:
                stock_row = db.scalar(select(Stock).where(Stock.name == stock)) or Stock(
                    name=stock, quantity=Decimal("100")
                )
            product = Product(name=name, price=Decimal(price), units=Decimal(units), stock=stock_row)
            db.add(product)
            db.flush()
            return product.id

        return self.in_transaction(add)

    def event(self, title: str = "Beer tasting", cost: str = "12.50", max_participants: int | None = None) -> int:
        """An event a week from now whose registration is open; its id."""

        def add(db: Any) -> int:
            now = dt.datetime.now(dt.UTC)
            event = Event(
                title=title,
                starts_at=now + dt.timedelta(days=7),
                registration_opens_at=now - dt.timedelta(hours=1),
                registration_closes_at=now + dt.timedelta(days=6),
                cost=Decimal(cost),
                max_participants=max_participants,
            )
            db.add(event)
            db.flush()
            return event.id

        return self.in_transaction(add)

    def balance(self, holder_id: int) -> Decimal:
        return self.in_transaction(lambda db: db.get(Holder, holder_id).balance)

    def ledger_ok(self) -> bool:
        return self.in_transaction(wallet.ledger_mismatches) == []


@pytest.fixture
def bar(app: Any, make_user: Callable, login: Callable, in_transaction: Callable) -> Bar:
    return Bar(app, make_user, login, in_transaction)


class StandIn(ThreadingHTTPServer):
    """A JSON HTTP server on loopback, in a thread, answering through ``handle(method, path, body, headers)``."""

    daemon_threads = True

    def __init__(self, handle: Callable[[str, str, Any, Any], tuple[int, Any]]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                status, answer = handle(self.command, self.path, body, self.headers)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def stand_in() -> Iterator[Callable[..., StandIn]]:
    """Start stand-in servers for this test; all are shut down after it."""
    servers: list[StandIn] = []

    def start(handle: Callable[[str, str, Any, Any], tuple[int, Any]]) -> StandIn:
        server = StandIn(handle)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
