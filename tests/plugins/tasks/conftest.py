"""Fixtures for the tasks plugin: a real SMTP server on loopback and an app mailing through it."""

from __future__ import annotations

import datetime as dt
import email
import threading
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from webtest import TestApp

from pyramidion.testing import free_port


class Mailbox:
    """An aiosmtpd handler keeping what it received; it can refuse the first deliveries."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []
        self.attempts = 0
        self.fail_first = 0
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
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

    def wait_for(self, condition: Callable[[Mailbox], bool], timeout: float = 15.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: condition(self), timeout), "the SMTP server never saw it"

    def recipients(self) -> list[list[str]]:
        return [sorted(envelope.rcpt_tos) for envelope in self.envelopes]

    def subjects(self) -> list[str]:
        return [message["Subject"] for message in self.messages]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


@pytest.fixture
def tasks_settings(mailbox: Mailbox, tmp_path: Any) -> dict[str, str]:
    """Settings mailing through ``mailbox`` and keeping attachments under ``tmp_path``."""
    return {
        "mail__host": "127.0.0.1",
        "mail__port": str(mailbox.port),
        "mail__sender": "tasks@example.com",
        "mail__timeout": "5",
        "tasks__attachments__path": str(tmp_path / "attachments"),
        "tasks__attachments__max_size": "1000",
    }


@pytest.fixture
def tasks_app(make_app: Callable[..., TestApp], tasks_settings: dict[str, str]) -> TestApp:
    return make_app(**tasks_settings)


@pytest.fixture
def due() -> str:
    """A due date a week ahead."""
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)).isoformat()


@pytest.fixture
def create_task(tasks_app: TestApp, due: str) -> Callable[..., dict[str, Any]]:
    """Create a task over the API as ``headers``' user; returns the answer."""

    def create(
        headers: dict[str, str], performers: list[Any], name: str = "Fix the roof", **fields: Any
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "specification": "It leaks.",
            "due_date": due,
            "performer_ids": [p.id for p in performers],
            **fields,
        }
        return tasks_app.post_json("/api/tasks", body, headers=headers, status=201).json

    return create
