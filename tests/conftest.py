"""What only this repository's tests need; the fixtures come from ``pyramidion.testing``.

``pyramidion.testing`` is a pytest plugin installed with the platform (see
``core/testing/README.md``): ``app``, ``registry``, ``db``, ``make_user``,
``login``, ``client``, ``make_app``, ``in_transaction``, ``run_tasks``,
``worker``, the router fixtures and the console's browser fixtures.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def router_extra_roles() -> set[str]:
    """The role ``gadget``, which the real-time test plugin (tests/core/realtime) authenticates its principals as."""
    return {"gadget"}
