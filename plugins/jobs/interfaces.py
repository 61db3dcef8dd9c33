"""The jobs plugin's swappable service, found with ``request.find_service(IJobRunner)``."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class IJobRunner(Interface):
    """Runs runs: queues a recorded run for the worker, and runs it there.

    The default is :class:`pyramidion_jobs.runner.NornirRunner` (Huey and
    Nornir); a test or another plugin registers its own for this interface.
    """

    def start(run: Any, sensitive: dict[str, Any]) -> str:
        """Queue ``run`` once the transaction commits (at ``run.scheduled_at`` when set); the queue's task id.

        ``sensitive``: the values of the template's sensitive parameters,
        which travel with the queued work and are never stored.
        """

    def execute(run_id: int, sensitive_token: str | None = None) -> None:
        """Run ``run_id`` to its end, recording results and publishing progress (in the worker).

        While the run's status is ``running`` its ``lease_expires_at`` must be
        kept in the future (renewed within ``jobs.lease_seconds``): a run whose
        lease expires is failed as "worker lost".
        """
