"""Keeping what start-up built out of the garbage collector's way.

A process's configuration, modules and schemas live as long as it does:
about two hundred thousand objects with every plugin. Left to the collector,
each full collection walks them all again (about 120 ms, every request or
call waiting meanwhile), and in a worker forked from a server's master it
writes to each of their pages, so the worker ends up with a private copy of
memory it could have shared. Frozen (:func:`gc.freeze`), the collector skips
them for good: a full collection takes a few milliseconds, and a forked
worker copies only the pages its own work writes to (a web worker's private
memory 64 MiB before, 28 after: bench/README.md, "memory"). The collector
still collects everything made afterwards.
"""

from __future__ import annotations

import gc


def freeze_start_up() -> None:
    """Freeze every object alive now: call once start-up is over.

    The app factory calls it, so the app is frozen in any server, and
    gunicorn's workers, forked from the master in which pserve built it,
    start frozen; ``pyramidion realtime`` calls it once its app is loaded.
    """
    gc.collect()  # start-up's garbage goes first: frozen, it would stay
    gc.freeze()
