"""Publishing from web and worker processes through the router's HTTP bridge.

Every request to the bridge is signed the way Crossbar's publisher service
checks it: ``HMAC-SHA256(secret, key | timestamp | seq | nonce | body)``,
base64url, with the parameters in the query string. The bridge also accepts
loopback clients only (see :func:`pyramidion.realtime.router.router_config`).
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
from typing import Any

import requests
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


def unreachable(exc: requests.RequestException) -> str:
    """What went wrong talking to the router, in a few words (not urllib3's retry story)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"answered {exc.response.status_code}"
    if isinstance(exc, requests.Timeout):
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
        self._http = threading.local()  # a requests.Session is not thread-safe
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def http(self) -> requests.Session:
        if not hasattr(self._http, "session"):
            self._http.session = requests.Session()
        return self._http.session

    def publish(self, topic: str, *args: Any, **kwargs: Any) -> bool:
        """Publish now; True when the router took the event. Never raises."""
        try:
            body = event_body(topic, args, kwargs)
            response = self.http.post(
                f"{self.config.base_url}/publish",
                params=signed_query(self.config.secret, body, next(self._seq)),
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self.config.publish_timeout,
            )
            response.raise_for_status()
        except requests.RequestException as exc:  # the data is committed already: an event is not worth a 500
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
            response = self.http.get(f"{self.config.base_url}/info", timeout=self.config.publish_timeout)
            response.raise_for_status()
        # One sentence for the dashboard and health, not urllib3's retry story.
        except requests.HTTPError:
            raise ConnectionError(f"{self.config.base_url}/info answered {response.status_code}") from None
        except requests.RequestException:
            raise ConnectionError(f"not reachable at {self.config.base_url}") from None
        realm = response.json().get("realm")
        if realm != self.config.realm:
            raise RuntimeError(
                f"the router at {self.config.base_url} serves realm {realm!r}, not {self.config.realm!r}"
            )
        return f"reachable, realm {realm}; this process published {self.published}, lost {self.failures}"
