"""Who hears of what happens to a task, and what the mail says."""

from __future__ import annotations

from typing import Any

from pyramidion.auth.models import User

from .models import Task
from .tasks import send_notification


def describe(task: Task) -> str:
    """The task as a mail shows it."""
    lines = [
        f"Task: {task.name}",
        f"Status: {task.status.value.replace('_', ' ')}",
        f"Due: {task.due_date.isoformat()}",
        f"Creator: {task.creator.username}",
        f"Performers: {', '.join(user.username for user in task.performers)}",
    ]
    if task.delegated:
        lines.append("Delegated: yes")
    if task.specification:
        lines += ["", task.specification]
    return "\n".join(lines)


def notify(request: Any, task: Task, actor: User, subject: str, news: str = "") -> None:
    """Mail ``news`` and the task's state to its creator and performers, except
    the ``actor``, once the request's transaction commits."""
    people = {user.id: user for user in (task.creator, *task.performers)}
    recipients = sorted(user.email for user in people.values() if user.id != actor.id and user.is_active)
    if not recipients:
        return
    body = f"{news}\n\n{describe(task)}\n" if news else f"{describe(task)}\n"
    config = request.registry.tasks_settings
    request.task(send_notification)(
        recipients, subject, body, retries=config.notify_retries, retry_delay=config.notify_retry_delay
    )
