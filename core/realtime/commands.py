"""``pyramidion router`` and ``pyramidion realtime`` (placeholder until issue 4 lands)."""

from typing import Any, Callable


def add_commands(sub: Any, ini_argument: Callable) -> None:
    pass
