"""Mail notifications: who hears of what, through a real SMTP server, and retries through a real queue."""

from __future__ import annotations

import logging
import threading

import pytest


def test_creating_mails_the_performers_but_not_the_creator(create_task, mailbox, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    create_task(login(alice), [bob, carol], name="Fix the roof")
    assert mailbox.recipients() == [["bob@example.com", "carol@example.com"]]
    message = mailbox.messages[0]
    assert message["Subject"] == 'Task "Fix the roof" created by alice'
    assert message["From"] == "tasks@example.com"
    body = message.get_payload()
    assert "Performers: bob, carol" in body and "It leaks." in body


def test_nobody_else_to_tell_sends_nothing(create_task, mailbox, make_user, login):
    alice = make_user("alice")
    create_task(login(alice), [alice])
    assert mailbox.attempts == 0


def test_changing_commenting_and_delegating_mail_everyone_but_the_actor(
    create_task, tasks_app, mailbox, make_user, login
):
    alice, bob, carol, dave = make_user("alice"), make_user("bob"), make_user("carol"), make_user("dave")
    task = create_task(login(alice), [bob, carol])
    url = f"/api/tasks/{task['id']}"

    tasks_app.patch_json(url, {"status": "in_work"}, headers=login(bob))
    tasks_app.post_json(f"{url}/comments", {"text": "Ladder is in the shed."}, headers=login(carol))
    tasks_app.post_json(f"{url}/delegate", {"user_id": dave.id}, headers=login(carol))

    assert mailbox.subjects()[1:] == [
        'Task "Fix the roof" changed by bob',
        'New comment on "Fix the roof" by carol',
        'Task "Fix the roof" delegated by carol to dave',
    ]
    assert mailbox.recipients()[1:] == [
        ["alice@example.com", "carol@example.com"],
        ["alice@example.com", "bob@example.com"],
        ["alice@example.com", "bob@example.com", "dave@example.com"],
    ]
    assert "Changed: status" in mailbox.messages[1].get_payload()
    assert "Ladder is in the shed." in mailbox.messages[2].get_payload()


def test_rejected_changes_mail_nobody(create_task, tasks_app, mailbox, make_user, login):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    task = create_task(login(alice), [bob])
    url = f"/api/tasks/{task['id']}"
    tasks_app.patch_json(url, {"performer_ids": [carol.id]}, headers=login(bob), status=403)
    tasks_app.patch_json(url, {"status": "new"}, headers=login(bob))  # no change at all
    assert len(mailbox.messages) == 1


class _FailureLog(logging.Handler):
    """Keeps every warning and error logged; sets ``given_up`` when the mailer
    logs a notification as failed for good."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.given_up = threading.Event()
        self.messages: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if record.name == "pyramidion.mail" and record.levelno >= logging.ERROR:
            self.messages.append(record.getMessage())
            self.given_up.set()

    def mail_warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.name == "pyramidion.mail" and r.levelno == logging.WARNING]

    def tracebacks(self) -> list[logging.LogRecord]:
        return [record for record in self.records if record.exc_info or record.exc_text or record.stack_info]


@pytest.fixture
def queued_app(make_app, tasks_settings, tmp_path):
    """An app with a real (SQLite) queue, short retry delays, and a consumer thread working it."""
    app = make_app(huey__url=f"sqlite:///{tmp_path / 'queue.sqlite'}", mail__retry_delay="0.1", **tasks_settings)
    huey = app.app.registry.huey
    consumer = huey.create_consumer(
        workers=1, worker_type="thread", periodic=False, initial_delay=0.05, backoff=1, max_delay=0.05
    )
    failures = _FailureLog()
    logger = logging.getLogger()
    logger.addHandler(failures)
    consumer.start()
    app.failures = failures
    yield app
    consumer.stop(graceful=True)
    logger.removeHandler(failures)


def test_smtp_failures_are_retried_until_delivered_once(queued_app, mailbox, make_user, login, due):
    alice, bob = make_user("alice"), make_user("bob")
    mailbox.fail_first = 2
    body = {"name": "Retry me", "due_date": due, "performer_ids": [bob.id]}
    queued_app.post_json("/api/tasks", body, headers=login(alice), status=201)
    mailbox.wait_for(lambda box: len(box.messages) == 1)
    assert mailbox.attempts == 3
    assert mailbox.subjects() == ['Task "Retry me" created by alice']
    assert not queued_app.failures.given_up.is_set()
    # Each failed attempt: one line saying what happens next, and no traceback anywhere.
    warnings = queued_app.failures.mail_warnings()
    assert len(warnings) == 2 and all("Retry me" in line and "retrying" in line for line in warnings)
    assert queued_app.failures.tracebacks() == []


def test_after_three_retries_the_notification_is_logged_as_failed(queued_app, mailbox, make_user, login, due):
    alice, bob = make_user("alice"), make_user("bob")
    mailbox.fail_first = 1000
    body = {"name": "Never arrives", "due_date": due, "performer_ids": [bob.id]}
    queued_app.post_json("/api/tasks", body, headers=login(alice), status=201)
    assert queued_app.failures.given_up.wait(15), "the failure was never logged"
    huey = queued_app.app.registry.huey
    assert mailbox.attempts == 4  # the first try and three retries
    assert mailbox.messages == []
    assert "Never arrives" in queued_app.failures.messages[0] and "bob@example.com" in queued_app.failures.messages[0]
    assert (huey.pending_count(), huey.scheduled_count()) == (0, 0)
    assert len(queued_app.failures.mail_warnings()) == 3
    assert queued_app.failures.tracebacks() == []
