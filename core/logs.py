"""Log formats: plain lines for people, JSON lines for a log collector.

The ini files' ``[formatter_generic]`` is :class:`Formatter`: the ini's
``format`` line, or one JSON object per line when the environment says
``PYRAMIDION_LOGGING_FORMAT=json``. ``[formatter_json]`` is
:class:`JSONFormatter` always: point ``[handler_console]`` at it (``formatter
= json``) to choose JSON in the ini itself. Each JSON line holds ``time``
(UTC, ISO 8601), ``level``, ``logger``, ``message``, ``process``, ``thread``
and, when there is one, ``exception`` (the traceback as text).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from typing import Any

FORMAT_VARIABLE = "PYRAMIDION_LOGGING_FORMAT"
FORMATS = ("text", "json")


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback's newlines are escaped inside it)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class Formatter(logging.Formatter):
    """The ini's ``format`` line, or JSON lines when ``PYRAMIDION_LOGGING_FORMAT`` is ``json``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = os.environ.get(FORMAT_VARIABLE, "text").strip().lower() or "text"
        if chosen not in FORMATS:
            # Logging is not set up yet, and a typo is no reason to stop a service: say so, log text.
            print(f"{FORMAT_VARIABLE}: {chosen!r} is not one of {', '.join(FORMATS)}; logging text", file=sys.stderr)
        self._json = JSONFormatter() if chosen == "json" else None

    def format(self, record: logging.LogRecord) -> str:
        return self._json.format(record) if self._json else super().format(record)
