"""Background work: mailing notifications over SMTP.

Huey retries a failed delivery (``tasks.notify.retries`` times,
``tasks.notify.retry_delay`` seconds apart, given per message by
:func:`pyramidion_tasks.notify.notify`); after the last attempt the failure is
logged and the message dropped.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from pyramidion import queue
from pyramidion.request import Request

from .settings import TasksSettings

log = logging.getLogger(__name__)


def deliver(config: TasksSettings, recipients: list[str], subject: str, body: str) -> None:
    """Send one message to ``recipients``; raises on any SMTP or network failure."""
    message = EmailMessage()
    message["From"] = config.smtp_sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config.smtp_sender.rpartition("@")[2] or None)
    message.set_content(body)
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.smtp_timeout) as smtp:
        if config.smtp_starttls:
            smtp.starttls()
        if config.smtp_username:
            smtp.login(config.smtp_username, config.smtp_password)
        refused = smtp.send_message(message)
    if refused:
        # The server took the message for the others; retrying would mail them twice.
        log.warning("notification %r: recipients refused: %s", subject, ", ".join(sorted(refused)))


# context=True: Huey passes the running task as ``task``, whose ``retries`` says
# how many attempts are left.
@queue.task(context=True)
def send_notification(request: Request, recipients: list[str], subject: str, body: str, task: Any) -> None:
    """Mail one notification about a task to its people."""
    try:
        deliver(request.registry.tasks_settings, recipients, subject, body)
    except (smtplib.SMTPException, OSError) as exc:
        if task.retries:
            log.warning("notification %r not delivered (%s); %d retries left", subject, exc, task.retries)
            raise
        log.error("notification %r to %s failed for good: %s", subject, ", ".join(recipients), exc)
