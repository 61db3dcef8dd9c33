"""Moved: the real-time fixtures are in :mod:`pyramidion.testing.realtime`, the helpers in :mod:`pyramidion.testing`.

Kept so that ``from realtime_fixtures import TIMEOUT, JoinRefused`` in tests
written before the move keeps working; import from ``pyramidion.testing``.
"""

from __future__ import annotations

from pyramidion.testing import TIMEOUT, JoinRefused, free_port

__all__ = ["TIMEOUT", "JoinRefused", "free_port"]
