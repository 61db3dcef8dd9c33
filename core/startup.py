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
import os

_freezes_before_forks = False


def freeze_start_up() -> None:
    """Freeze every object alive now: call once start-up is over."""
    gc.collect()  # start-up's garbage goes first: frozen, it would stay
    gc.freeze()


def freeze_before_forks() -> None:
    """Freeze what is alive before each fork of this process (a server's master forking its workers).

    pserve builds the app before the server starts, so gunicorn's workers are
    forked from a master that holds it. Registered once per process, however
    many apps it builds; a fork that execs at once (``subprocess``) does not
    run it.
    """
    global _freezes_before_forks
    if not _freezes_before_forks:
        os.register_at_fork(before=freeze_start_up)
        _freezes_before_forks = True
