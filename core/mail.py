"""Mail: one SMTP service for the core and every plugin.

::

    from pyramidion.mail import send_mail

    send_mail(request, to=["bob@example.com"], subject="Task created", body="...")

The message leaves through the Huey task :func:`deliver_mail` once the
request's transaction commits (at once when given a registry, from a command).
A failed delivery is retried ``mail.retries`` times (default 3),
``mail.retry_delay`` seconds apart (default 300); each failure logs one line
saying what happens next, and after the last one the message is dropped.

The mailer is a pyramid_services service registered for :class:`IMailer`;
the default, :class:`SMTPMailer`, speaks SMTP with the ``mail.*`` settings. A
test or a plugin swaps it with ``config.register_service(other, IMailer)``.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from huey.exceptions import CancelExecution
from pydantic import Field
from zope.interface import Interface, implementer

from .queue import register_tasks, task
from .request import Request
from .settings import Section, section

log = logging.getLogger(__name__)


class MailSettings(Section):
    host: str = Field("localhost", description="SMTP server")
    port: int = Field(25, gt=0, lt=65536)
    sender: str = Field("pyramidion@localhost", description="the From address")
    username: str = Field("", description="SMTP login; empty: none")
    password: str = ""
    starttls: bool = Field(False, description="upgrade the connection with STARTTLS before logging in")
    ssl: bool = Field(False, description="SMTP over TLS from the first byte (port 465)")
    timeout: float = Field(30, gt=0, description="seconds")
    retries: int = Field(3, ge=0, description="further attempts after a failed delivery")
    retry_delay: float = Field(300, ge=0, description="seconds between attempts")


@dataclasses.dataclass(frozen=True)
class Mail:
    """One message: recipients, subject and a plain-text body."""

    to: tuple[str, ...]
    subject: str
    body: str


class IMailer(Interface):
    """Delivers a :class:`Mail` now, or raises (``smtplib.SMTPException``, ``OSError``)."""

    def send(mail: Mail) -> None:
        """Deliver ``mail``; raise when it could not be handed to the server."""


@implementer(IMailer)
class SMTPMailer:
    """The default mailer: SMTP with the ``mail.*`` settings, one connection per message."""

    def __init__(self, config: MailSettings) -> None:
        self.config = config

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = ", ".join(mail.to)
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        message.set_content(mail.body)
        return message

    def send(self, mail: Mail) -> None:
        config = self.config
        connect = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
        with connect(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls and not config.ssl:
                smtp.starttls()
            if config.username:
                smtp.login(config.username, config.password)
            refused = smtp.send_message(self.message(mail))
        if refused:
            # The server took the message for the others; retrying would mail them twice.
            log.warning("mail %r: recipients refused, not retried: %s", mail.subject, ", ".join(sorted(refused)))


# context=True: Huey passes the running task as ``task``; ``task.retries``
# says how many attempts are left.
@task(context=True)
def deliver_mail(request: Request, to: list[str], subject: str, body: str, task: Any) -> None:
    """Hand one message to the mailer; on failure, retry later or give up, saying which."""
    mail = Mail(tuple(to), subject, body)
    try:
        request.find_service(IMailer).send(mail)
    except (smtplib.SMTPException, OSError) as exc:
        reason = f"{type(exc).__name__}: {exc}".strip()
        if task.retries:
            delay = task.retry_delay
            log.warning(
                "mail %r to %s not delivered (%s); retrying in %g s, %d attempt(s) left",
                subject,
                ", ".join(to),
                reason,
                delay,
                task.retries,
            )
            # CancelExecution(retry=True): Huey schedules the retry and logs a
            # line of its own, without the traceback an exception would get.
            raise CancelExecution(retry=True) from None
        log.error("mail %r to %s failed for good, dropped: %s", subject, ", ".join(to), reason)


def send_mail(request_or_registry: Any, to: list[str] | tuple[str, ...], subject: str, body: str) -> None:
    """Mail ``body`` to ``to``: after the request's transaction commits, or now for a registry."""
    recipients = sorted(set(to))
    if not recipients:
        return
    registry = getattr(request_or_registry, "registry", request_or_registry)
    config: MailSettings = registry.mail_settings
    options = {"retries": config.retries, "retry_delay": config.retry_delay}
    if registry is request_or_registry:
        wrapper = registry.huey_tasks[deliver_mail]
        wrapper.huey.enqueue(wrapper.s(recipients, subject, body, **options))
    else:
        request_or_registry.task(deliver_mail)(recipients, subject, body, **options)


def includeme(config: Any) -> None:
    settings = section(config.get_settings(), "mail", MailSettings)
    config.registry.mail_settings = settings
    config.register_service(SMTPMailer(settings), IMailer)
    register_tasks(config.registry, config.registry.huey, [deliver_mail])
