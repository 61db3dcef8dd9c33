"""Online top-ups through Mollie, against a stand-in speaking the Mollie payments API on loopback."""

import logging
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select
from webtest import TestApp

from pyramidion import make_config
from pyramidion_bar.models import OnlinePayment
from pyramidion_bar.mollie import IMollieGateway, RemotePayment

API_KEY = "test_bar0123456789abcdefghijklmnopq"


class FakeMollie:
    """The part of the Mollie payments API the bar uses: create a payment, get one."""

    def __init__(self) -> None:
        self.payments: dict[str, dict] = {}
        self.up = True
        self.lock = threading.Lock()
        self.on_create = None  # called with the request's headers before a payment is made

    def handle(self, method, path, body, headers):
        if not self.up:
            return 503, {"status": 503, "title": "Service Unavailable", "detail": "maintenance"}
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, {"status": 401, "title": "Unauthorized Request", "detail": "Missing authentication"}
        if method == "POST" and path == "/v2/payments":
            if self.on_create is not None:
                self.on_create(headers)
            with self.lock:
                payment_id = f"tr_test{len(self.payments) + 1:04d}"
                self.payments[payment_id] = {
                    "resource": "payment",
                    "id": payment_id,
                    "mode": "test",
                    "status": "open",
                    "amount": body["amount"],
                    "description": body["description"],
                    "redirectUrl": body["redirectUrl"],
                    "webhookUrl": body["webhookUrl"],
                    "metadata": body["metadata"],
                    "_links": {"checkout": {"href": f"https://pay.example/{payment_id}", "type": "text/html"}},
                }
            return 201, self.payments[payment_id]
        if method == "GET" and path.startswith("/v2/payments/"):
            payment = self.payments.get(path.rsplit("/", 1)[1])
            if payment is None:
                return 404, {"status": 404, "title": "Not Found", "detail": "No payment exists with this token"}
            return 200, payment
        return 404, {"status": 404, "title": "Not Found", "detail": "unknown endpoint"}

    def pay(self, payment_id: str, value: str | None = None) -> None:
        payment = self.payments[payment_id]
        payment.update(status="paid", paidAt="2026-01-01T12:00:00+00:00")
        if value is not None:
            payment["amount"] = {"currency": "EUR", "value": value}


@pytest.fixture
def mollie(stand_in):
    fake = FakeMollie()
    fake.server = stand_in(fake.handle)
    return fake


@pytest.fixture
def mollie_app(make_app, mollie):
    return make_app(
        bar__mollie__api_key=API_KEY,
        bar__mollie__api_url=mollie.server.url,
        bar__mollie__public_url="https://bar.example",
    )


def test_a_paid_top_up_is_credited_once_however_often_mollie_and_the_member_come_back(mollie_app, mollie, bar):
    holder, member = bar.member("ann", "1.00")

    started = mollie_app.post_json("/api/bar/online-top-ups", {"amount": "20.00"}, headers=member, status=201).json
    assert started["status"] == "open"
    payment_id = started["checkout_url"].rsplit("/", 1)[1]
    sent = mollie.payments[payment_id]
    assert sent["amount"] == {"currency": "EUR", "value": "20.00"}
    assert sent["webhookUrl"] == "https://bar.example/api/bar/mollie/webhook"
    return_path = sent["redirectUrl"].removeprefix("https://bar.example")

    # Not paid yet: webhook and return page credit nothing.
    mollie_app.post("/api/bar/mollie/webhook", {"id": payment_id}, status=200)
    assert mollie_app.get(return_path).json["credited_at"] is None
    assert bar.balance(holder) == Decimal("1.00")

    mollie.pay(payment_id)
    for _ in range(3):
        mollie_app.post("/api/bar/mollie/webhook", {"id": payment_id}, status=200)
    returned = mollie_app.get(return_path).json
    mollie_app.get(return_path)

    assert (returned["status"], returned["amount"]) == ("paid", "20.00")
    assert returned["credited_at"] is not None
    assert bar.balance(holder) == Decimal("21.00")
    ledger = mollie_app.get(f"/api/bar/holders/{holder}/ledger?kind=online_top_up", headers=member).json
    assert [(e["amount"], e["online_payment_id"]) for e in ledger["results"]] == [("20.00", started["id"])]
    assert bar.ledger_ok()


def test_concurrent_webhooks_credit_once(mollie_app, mollie, bar):
    holder, member = bar.member("ann")
    started = mollie_app.post_json("/api/bar/online-top-ups", {"amount": "15.00"}, headers=member, status=201).json
    payment_id = started["checkout_url"].rsplit("/", 1)[1]
    mollie.pay(payment_id)
    go = threading.Event()
    statuses = []

    def notify() -> None:
        client = TestApp(mollie_app.app)  # a request of its own in each thread
        go.wait()
        statuses.append(client.post("/api/bar/mollie/webhook", {"id": payment_id}, expect_errors=True).status_int)

    threads = [threading.Thread(target=notify) for _ in range(8)]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 8
    assert bar.balance(holder) == Decimal("15.00")
    assert bar.ledger_ok()


def test_webhooks_are_verified_with_mollie(mollie_app, mollie, bar):
    holder, member = bar.member("ann")
    started = mollie_app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=member, status=201).json
    payment_id = started["checkout_url"].rsplit("/", 1)[1]

    # A forged notice for a payment Mollie says is open, and one for nothing at all.
    mollie_app.post("/api/bar/mollie/webhook", {"id": payment_id}, status=200)
    mollie_app.post("/api/bar/mollie/webhook", {"id": "tr_forged"}, status=200)
    # Mollie reports a different amount paid: not credited.
    mollie.pay(payment_id, value="1.00")
    mollie_app.post("/api/bar/mollie/webhook", {"id": payment_id}, status=200)
    assert bar.balance(holder) == Decimal("0.00")

    # Mollie unreachable: the webhook fails so Mollie calls again, and nothing is credited meanwhile.
    mollie.pay(payment_id, value="10.00")
    mollie.up = False
    mollie_app.post("/api/bar/mollie/webhook", {"id": payment_id}, status=503)
    assert bar.balance(holder) == Decimal("0.00")
    mollie.up = True
    mollie_app.post("/api/bar/mollie/webhook", {"id": payment_id}, status=200)
    assert bar.balance(holder) == Decimal("10.00")


def test_starting_a_top_up(mollie_app, mollie, app, bar, make_user, login):
    holder, member = bar.member("ann")
    no_wallet = login(make_user("walletless", permissions=("bar.member",)))

    mollie_app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, status=401)
    mollie_app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=no_wallet, status=404)
    too_little = mollie_app.post_json("/api/bar/online-top-ups", {"amount": "0.50"}, headers=member, status=422).json
    assert too_little["error"]["details"][0]["field"] == "amount"
    mollie_app.post_json("/api/bar/online-top-ups", {"amount": "1.005"}, headers=member, status=422)
    # Without a Mollie key (the default app) online top-ups are off.
    app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=member, status=503)
    mollie.up = False
    mollie_app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=member, status=503)
    assert mollie_app.get("/api/bar/online-top-ups", headers=member).json["count"] == 0


def test_the_local_record_is_committed_before_mollie_is_asked_and_mollies_id_after(
    mollie_app, mollie, bar, in_transaction
):
    holder, member = bar.member("ann")
    seen_by_mollie = []

    def committed_already(headers):
        # What another connection sees while Mollie is being asked: only what was committed.
        key = headers.get("Idempotency-Key")
        found = in_transaction(
            lambda db: db.scalar(select(OnlinePayment.status).where(OnlinePayment.identifier == key))
        )
        seen_by_mollie.append(found)

    mollie.on_create = committed_already
    started = mollie_app.post_json("/api/bar/online-top-ups", {"amount": "12.00"}, headers=member, status=201).json

    assert seen_by_mollie == ["creating"]
    recorded = in_transaction(lambda db: db.get(OnlinePayment, started["id"]))
    assert (recorded.mollie_id, recorded.status) == (started["checkout_url"].rsplit("/", 1)[1], "open")


def test_a_top_up_mollie_could_not_open_is_kept_but_never_credited(mollie_app, mollie, bar, in_transaction, caplog):
    holder, member = bar.member("ann")
    mollie.up = False
    mollie_app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=member, status=503)
    mollie.up = True

    (kept,) = in_transaction(lambda db: list(db.scalars(select(OnlinePayment))))
    assert (kept.status, kept.mollie_id, kept.credited_at) == ("not_created", None, None)
    assert mollie_app.get("/api/bar/online-top-ups", headers=member).json["count"] == 0
    # The member comes back on its return URL anyway: logged, nothing credited.
    with caplog.at_level(logging.WARNING, logger="pyramidion_bar"):
        back = mollie_app.get(f"/api/bar/online-top-ups/return/{kept.identifier}", status=200).json
    assert back["credited_at"] is None
    assert "never recorded" in caplog.text
    assert bar.balance(holder) == Decimal("0.00")


def test_a_webhook_for_a_payment_never_recorded_is_logged_and_credits_nothing(mollie_app, mollie, bar, caplog):
    holder, member = bar.member("ann")
    mollie_app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=member, status=201)
    # A payment Mollie has (paid, even) but this bar never recorded the id of.
    mollie.payments["tr_elsewhere"] = {**next(iter(mollie.payments.values())), "id": "tr_elsewhere"}
    mollie.pay("tr_elsewhere")

    with caplog.at_level(logging.WARNING, logger="pyramidion_bar"):
        mollie_app.post("/api/bar/mollie/webhook", {"id": "tr_elsewhere"}, status=200)
        mollie_app.get("/api/bar/online-top-ups/return/no-such-identifier", status=404)
    assert "'tr_elsewhere', which was never recorded" in caplog.text
    assert "'no-such-identifier', which was never recorded" in caplog.text
    assert bar.balance(holder) == Decimal("0.00")
    assert bar.ledger_ok()


class OfflineGateway:
    """A Mollie gateway swapped in through pyramid_services: every payment it opens is paid at once."""

    enabled = True

    def __init__(self):
        self.opened = {}

    def create_payment(self, amount, description, redirect_url, webhook_url, metadata, idempotency_key):
        payment = RemotePayment(id=f"tr_{idempotency_key[:8]}", status="open", checkout_url="https://pay.example/x")
        self.opened[payment.id] = amount
        return payment

    def get_payment(self, mollie_id):
        return RemotePayment(id=mollie_id, status="paid", paid=True, currency="EUR", value=self.opened[mollie_id])


def test_a_test_swaps_the_mollie_gateway_through_pyramid_services(base_settings, bar):
    config = make_config(dict(base_settings))
    gateway = OfflineGateway()
    config.register_service(gateway, IMollieGateway)
    config.commit()
    app = TestApp(config.make_wsgi_app())
    holder, member = bar.member("ann")

    started = app.post_json("/api/bar/online-top-ups", {"amount": "7.50"}, headers=member, status=201).json
    (mollie_id,) = gateway.opened
    app.post("/api/bar/mollie/webhook", {"id": mollie_id}, status=200)
    assert app.get(f"/api/bar/online-top-ups/{started['id']}", headers=member).json["credited_at"] is not None
    assert bar.balance(holder) == Decimal("7.50")
    config.registry.db_engine.dispose()
