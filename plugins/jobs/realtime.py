"""Run events over WAMP: the topics, and who may follow them.

The worker publishes each run's progress on ``pyramidion.jobs.run.<id>``
(see :mod:`.runner`). Every logged-in user may read runs over REST, so
every logged-in user may follow one run (exact topic) or all of them (a
prefix subscription to ``pyramidion.jobs.run``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pyramidion.request import Request

if TYPE_CHECKING:
    from pyramidion.realtime import Caller  # Autobahn: only the backend process needs it

RUNS_TOPIC = "pyramidion.jobs.run"
_ONE_RUN = re.compile(r"^pyramidion\.jobs\.run\.\d+$")


def run_topic(run_id: int) -> str:
    """The topic of one run's events."""
    return f"{RUNS_TOPIC}.{run_id}"


def may_follow_runs(request: Request, caller: Caller, uri: str, action: str) -> bool | None:
    """The router's authorizer: logged-in users may subscribe to run topics."""
    if action == "subscribe" and caller.user_id is not None and (uri == RUNS_TOPIC or _ONE_RUN.match(uri)):
        return True
    return None  # no opinion: the core denies what nobody allows
