"""Mollie unreachable or failing: the member gets a clear 503, the log one line saying what happens next, no traceback.

Against a closed loopback port and a real loopback HTTP server answering errors.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from pyramidion.testing import free_port

API_KEY = "test_bar0123456789abcdefghijklmnopq"


def failure_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_top_up_while_mollie_is_unreachable(make_app: Any, bar: Any, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    app = make_app(bar__mollie__api_key=API_KEY, bar__mollie__api_url=f"http://127.0.0.1:{port}")
    holder, member = bar.member("ann")

    with caplog.at_level(logging.WARNING):
        answer = app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=member, status=503)

    assert answer.json["error"]["message"] == "the payment provider is unavailable; try again later"
    (line,) = failure_lines(caplog)
    assert line.exc_info is None
    assert line.getMessage().startswith(f"Mollie at 127.0.0.1:{port} is not reachable: online top-up ")
    assert line.getMessage().endswith(
        "not opened (kept as not_created, never credited); the member is told to try again later"
    )
    assert bar.balance(holder) == Decimal("0.00")


def test_a_webhook_while_mollie_answers_errors(
    make_app: Any, bar: Any, stand_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    state = {"up": True}

    def mollie(method: str, path: str, body: Any, headers: Any) -> tuple[int, Any]:
        if not state["up"]:
            return 500, {"status": 500, "title": "Internal Server Error", "detail": "something broke"}
        payment = {
            "resource": "payment",
            "id": "tr_test0001",
            "status": "open",
            "amount": {"currency": "EUR", "value": "10.00"},
            "_links": {"checkout": {"href": "https://pay.example/tr_test0001", "type": "text/html"}},
        }
        return (201 if method == "POST" else 200), payment

    server = stand_in(mollie)
    app = make_app(bar__mollie__api_key=API_KEY, bar__mollie__api_url=server.url)
    _, member = bar.member("ann")
    app.post_json("/api/bar/online-top-ups", {"amount": "10.00"}, headers=member, status=201)
    state["up"] = False

    with caplog.at_level(logging.WARNING):
        answer = app.post("/api/bar/mollie/webhook", {"id": "tr_test0001"}, status=503)

    assert answer.json["error"]["message"] == "the payment provider is unavailable; try again later"
    (line,) = failure_lines(caplog)
    assert line.exc_info is None
    host = server.url.removeprefix("http://")
    assert line.getMessage() == (
        f"Mollie at {host} answered 500: something broke: payment tr_test0001 not settled now; "
        "it is at Mollie's next webhook or the member's return"
    )
