"""``pyramidion.testing``: the test kit for the platform and for any plugin.

Installed with Pyramidion, it is a pytest plugin (entry points in the group
``pytest11``): every fixture below is available to a plugin's tests with no
conftest at all. ``README.md`` in this folder lists the fixtures; in short:

* :mod:`.fixtures`: ``app``, ``registry``, ``db``, ``make_user``, ``login``,
  ``client``, ``make_app``, ``in_transaction``, ``run_tasks``, ``worker``;
* :mod:`.realtime`: ``router``, ``start_backend``, ``realtime_app``,
  ``ticket``, ``wamp_client``;
* :mod:`.browser`: ``live_server``, ``browser``, ``screenshot``... (the console's).

Helpers a test imports: :func:`free_port`, :func:`wait_for`, :data:`TIMEOUT`,
:class:`JoinRefused`, :func:`recorded_statements`.
"""

from __future__ import annotations

from .support import TIMEOUT, JoinRefused, free_port, recorded_statements, wait_for

__all__ = ["TIMEOUT", "JoinRefused", "free_port", "recorded_statements", "wait_for"]
