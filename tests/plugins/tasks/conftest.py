"""Fixtures for the tasks plugin: a real SMTP server on loopback and an app mailing through it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from pyramidion.testing.mail import Mailbox


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
