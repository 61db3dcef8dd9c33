"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

The ``mailbox`` fixture starts one per test; point an app at it with
``make_app(mail__host="127.0.0.1", mail__port=str(mailbox.port))``.
"""

from __future__ import annotations

import email
import threading
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

import pytest

from .support import free_port

__all__ = ["Mailbox", "mailbox"]


class Mailbox:
    """An aiosmtpd handler keeping what it received; it can refuse the first ``fail_first`` deliveries."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []
        self.attempts = 0
        self.fail_first = 0
        self.port = 0
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook for a message: keep it, or refuse it while ``fail_first`` says so."""
        with self.changed:
            self.attempts += 1
            try:
                if self.attempts <= self.fail_first:
                    return "451 4.3.0 temporary failure, try again later"
                self.envelopes.append(envelope)
                self.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"
            finally:
                self.changed.notify_all()

    def wait_for(self, condition: Callable[[Mailbox], bool], timeout: float = 30.0) -> None:
        """Block until ``condition(mailbox)`` holds; fail the test after ``timeout`` seconds."""
        with self.changed:
            assert self.changed.wait_for(lambda: condition(self), timeout), "the SMTP server never saw it"

    def recipients(self) -> list[list[str]]:
        """Each delivery's recipients, sorted."""
        return [sorted(envelope.rcpt_tos) for envelope in self.envelopes]

    def subjects(self) -> list[str]:
        """Each kept message's subject."""
        return [message["Subject"] for message in self.messages]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A :class:`Mailbox` listening on a free loopback port (``mailbox.port``) for this test."""
    from aiosmtpd.controller import Controller  # the test extra's: imported only by tests that mail

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()
