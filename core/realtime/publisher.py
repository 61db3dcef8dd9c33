"""Publishing from web and worker processes through the router's HTTP bridge.

Every request to the bridge is signed the way Crossbar's publisher service
checks it: ``HMAC-SHA256(secret, key | timestamp | seq | nonce | body)``,
base64url, with the parameters in the query string. The bridge also accepts
loopback clients only (see :func:`pyramidion.realtime.router.router_config`).

Each thread keeps one connection to the bridge open (``http.client``, the
standard library's: every web process publishes, and requests with urllib3
would cost each of them about 5 MiB and more time per event).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import secrets
import threading
from http.client import HTTPConnection, HTTPException
from typing import Any
from urllib.parse import urlencode

from pydantic_core import to_jsonable_python

from .settings import RealtimeSettings

log = logging.getLogger(__name__)

PUBLISHER_KEY = "pyramidion"


def signed_query(secret: str, body: bytes, seq: int) -> dict[str, str]:
    """The query parameters that make ``body`` acceptable to the bridge."""
    timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    nonce = str(secrets.randbelow(2**53))
    digest = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    for part in (PUBLISHER_KEY.encode(), timestamp.encode(), str(seq).encode(), nonce.encode(), body):
        digest.update(part)
    signature = base64.urlsafe_b64encode(digest.digest()).decode()
    return {"key": PUBLISHER_KEY, "timestamp": timestamp, "seq": str(seq), "nonce": nonce, "signature": signature}


def event_body(topic: str, args: tuple, kwargs: dict[str, Any]) -> bytes:
    # Decimal, datetime and pydantic models become strings and dicts, as in the API.
    event = {"topic": topic, "args": to_jsonable_python(list(args)), "kwargs": to_jsonable_python(kwargs)}
    return json.dumps(event, separators=(",", ":")).encode()


class BridgeError(Exception):
    """The bridge answered with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"answered {status}")
        self.status = status


def unreachable(exc: Exception) -> str:
    """What went wrong talking to the router, in a few words."""
    if isinstance(exc, BridgeError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "did not answer in time"
    return "not reachable"


class Publisher:
    """``registry.realtime``: publishes now, over the HTTP bridge; thread-safe.

    ``published`` and ``failures`` count what this process sent and lost.
    """

    def __init__(self, config: RealtimeSettings) -> None:
        self.config = config
        self.published = 0
        self.failures = 0
        self._connections = threading.local()  # an HTTPConnection serves one thread
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """One request to the bridge on this thread's connection; the answer's body, or raises.

        A kept connection the router has closed meanwhile (it closes idle ones)
        fails before anything was read from it; such a call is made once more,
        on a new connection.
        """
        connection: HTTPConnection | None = getattr(self._connections, "current", None)
        kept = connection is not None
        while True:
            if connection is None:
                connection = HTTPConnection(self.config.host, self.config.port, timeout=self.config.publish_timeout)
                self._connections.current = connection
            try:
                connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
            except (OSError, HTTPException) as exc:
                connection.close()
                self._connections.current = connection = None
                if kept and isinstance(exc, (ConnectionResetError, BrokenPipeError, HTTPException)):
                    kept = False
                    continue
                raise
            if response.status >= 400:
                raise BridgeError(response.status)
            return answer

    def publish(self, topic: str, *args: Any, **kwargs: Any) -> bool:
        """Publish now; True when the router took the event. Never raises."""
        try:
            body = event_body(topic, args, kwargs)
            query = urlencode(signed_query(self.config.secret, body, next(self._seq)))
            self._call("POST", f"/publish?{query}", body)
        except (OSError, HTTPException, BridgeError) as exc:  # committed already: an event is not worth a 500
            failures = self._lost()
            log.warning(
                "router %s at %s: event on %s dropped, not retried (%d lost by this process)",
                unreachable(exc),
                self.config.base_url,
                topic,
                failures,
            )
            return False
        except Exception:  # a bug (an argument JSON cannot hold): its traceback, and still no 500
            self._lost()
            log.exception("could not publish to %s", topic)
            return False
        with self._lock:
            self.published += 1
        return True

    def _lost(self) -> int:
        with self._lock:
            self.failures += 1
            return self.failures

    def ping(self) -> str:
        """Describe the router; raises when it cannot be reached (``GET /api/health``)."""
        try:
            info = self._call("GET", "/info")
        # One sentence for the dashboard and health.
        except BridgeError as exc:
            raise ConnectionError(f"{self.config.base_url}/info {exc}") from None
        except (OSError, HTTPException):
            raise ConnectionError(f"not reachable at {self.config.base_url}") from None
        realm = json.loads(info).get("realm")
        if realm != self.config.realm:
            raise RuntimeError(
                f"the router at {self.config.base_url} serves realm {realm!r}, not {self.config.realm!r}"
            )
        return f"reachable, realm {realm}; this process published {self.published}, lost {self.failures}"
