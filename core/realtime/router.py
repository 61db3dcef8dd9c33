"""The Crossbar.io router: its own virtualenv, its configuration, its process.

Crossbar pins old libraries (idna 2.5 among them) that must not enter the
app's environment, so it lives in a virtualenv of its own, by default
``~/.cache/pyramidion/crossbar-<version>-r<recipe>`` (``realtime.crossbar_venv`` or
``PYRAMIDION_REALTIME_CROSSBAR_VENV`` elsewhere). The app only speaks to it
over the network, with autobahn.

The node configuration is generated from the settings on every start, so it
never drifts from them: one realm, one web transport on the configured
loopback address with

* ``/ws``: WAMP over WebSocket; clients authenticate with a ticket (checked by
  the backend's dynamic authenticator), the backend with WAMP-CRA; browsers
  only from the console's origins (``realtime.allowed_origins``);
* ``/publish``: the HTTP publisher bridge for web and worker processes,
  loopback clients only and every request signed with ``realtime.secret``;
* ``/info``: a small JSON document, for ``GET /api/health``.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..settings import env_name
from .publisher import PUBLISHER_KEY
from .settings import RealtimeSettings
from .uris import AUTHENTICATE, AUTHORIZE, BACKEND_ROLE, PUBLISHER_ROLE

CROSSBAR_VERSION = "26.10.1"
# What the router's virtualenv holds. Crossbar's bjdata codec is built for
# NumPy 1 and prints a traceback at every start next to NumPy 2.
ROUTER_REQUIREMENTS = (f"crossbar=={CROSSBAR_VERSION}", "numpy<2")
# Part of the virtualenv's name: a new recipe gets a fresh virtualenv.
ROUTER_RECIPE = 2
CONFIG_FILE = "config.json"

_EVERYTHING = {"call": True, "register": True, "publish": True, "subscribe": True}


def crossbar_venv(location: str = "") -> Path:
    """The router's virtualenv: ``location`` (the setting), its environment variable, or the default."""
    # The variable counts even when the ini file does not name the setting.
    location = location or os.environ.get(env_name("realtime.crossbar_venv"), "")
    if location:
        return Path(location).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "pyramidion" / f"crossbar-{CROSSBAR_VERSION}-r{ROUTER_RECIPE}"


def crossbar_executable(venv: Path) -> Path:
    return venv / "bin" / "crossbar"


def router_installed(venv: Path | None = None) -> bool:
    """Whether the pinned Crossbar is installed in ``venv`` (default: from the environment)."""
    venv = venv or crossbar_venv()
    installed = venv.glob(f"lib/python3*/site-packages/crossbar-{CROSSBAR_VERSION}.dist-info")
    return crossbar_executable(venv).is_file() and any(installed)


def install_router(venv: Path, report: Callable[[str], None] = lambda step: None) -> bool:
    """Create ``venv`` with the pinned Crossbar; False when it was there already.

    ``report`` hears each step as it starts (a minute's work in all). Two
    installs at once (parallel CI jobs) take turns; after a failure the next
    run picks up where this one stopped. Raises
    :class:`subprocess.CalledProcessError` when venv or pip fails (pip's
    output is its ``output``).
    """
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if router_installed(venv):
            return False
        python = venv / "bin" / "python"
        if not python.is_file():
            report(f"creating the virtualenv {venv}")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        report(f"resolving {' and '.join(ROUTER_REQUIREMENTS)} with their dependencies")
        _pip_install(python, ROUTER_REQUIREMENTS, report)
        # Crossbar imports a great deal at start: prove it can.
        report("checking that Crossbar starts")
        subprocess.run([str(crossbar_executable(venv)), "version"], check=True, capture_output=True)
        return True


PROGRESS_EVERY = 25  # packages found between two progress lines while pip resolves


def _pip_install(python: Path, requirements: Iterable[str], report: Callable[[str], None]) -> None:
    """``pip install`` with its output condensed to a few progress lines."""
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
    command += requirements
    output: list[str] = []
    found = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as pip:
        assert pip.stdout is not None  # stdout=PIPE
        for line in pip.stdout:
            output.append(line)
            # pip's plain-text progress: one "Collecting" (or "Processing", for a
            # local file) per distribution considered, then one line of what it installs.
            if line.startswith(("Collecting ", "Processing ")):
                found += 1
                if found % PROGRESS_EVERY == 0:
                    report(f"{found} packages found")
            elif line.startswith("Installing collected packages:"):
                report(f"installing {len(line.split(':', 1)[1].split(','))} packages")
    if pip.returncode:
        raise subprocess.CalledProcessError(pip.returncode, command, output="".join(output))


# The development server's address (development.ini): the origin allowed when nothing says otherwise.
DEFAULT_ORIGINS = ("http://127.0.0.1:6543", "http://localhost:6543")


def router_config(
    config: RealtimeSettings, client_roles: Iterable[str], allowed_origins: Iterable[str] = ()
) -> dict[str, Any]:
    """The Crossbar node configuration for ``config`` and the realm's client roles.

    Browsers may open the WebSocket only from ``allowed_origins`` (else the
    ``realtime.allowed_origins`` setting, else :data:`DEFAULT_ORIGINS`).
    """
    origins = list(allowed_origins) or config.origins or list(DEFAULT_ORIGINS)
    roles = [
        {
            "name": BACKEND_ROLE,
            "permissions": [
                {
                    "uri": "",
                    "match": "prefix",
                    "allow": _EVERYTHING,
                    "disclose": {"caller": True, "publisher": True},
                    "cache": True,
                }
            ],
        },
        {
            "name": PUBLISHER_ROLE,
            "permissions": [{"uri": "pyramidion.", "match": "prefix", "allow": {"publish": True}, "cache": True}],
        },
        # Clients: every action goes to the backend's dynamic authorizer.
        *({"name": role, "authorizer": AUTHORIZE} for role in sorted(client_roles)),
    ]
    websocket = {
        "type": "websocket",
        "options": {
            # Find dead connections (a robot losing power) within seconds.
            "auto_ping_interval": 10000,
            "auto_ping_timeout": 5000,
            # A page of another site cannot join with a ticket it got hold of.
            "allowed_origins": origins,
            "allow_null_origin": False,
        },
        "auth": {
            "ticket": {"type": "dynamic", "authenticator": AUTHENTICATE},
            "wampcra": {"type": "static", "users": {BACKEND_ROLE: {"secret": config.secret, "role": BACKEND_ROLE}}},
        },
    }
    publisher = {
        "type": "publisher",
        "realm": config.realm,
        "role": PUBLISHER_ROLE,
        "options": {
            "key": PUBLISHER_KEY,
            "secret": config.secret,
            "require_ip": ["127.0.0.0/8", "::1/128"],
            "post_body_limit": 1_048_576,
            "timestamp_delta_limit": 30,
        },
    }
    info = {"type": "json", "value": {"service": "pyramidion-router", "realm": config.realm}}
    return {
        "version": 2,
        "controller": {},
        "workers": [
            {
                "type": "router",
                "realms": [{"name": config.realm, "roles": roles}],
                "transports": [
                    {
                        "type": "web",
                        "endpoint": {"type": "tcp", "interface": config.host, "port": config.port},
                        "paths": {"/": info, "info": info, "ws": websocket, "publish": publisher},
                    }
                ],
            }
        ],
    }


def write_node_config(node_dir: Path, config: dict[str, Any]) -> Path:
    """Write the node configuration, readable by its owner only (it holds the secret)."""
    node_dir.mkdir(parents=True, exist_ok=True)
    path = node_dir / CONFIG_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(config, out, indent=2)
    os.chmod(path, 0o600)
    return path


def start_command(venv: Path, node_dir: Path, loglevel: str = "warn") -> list[str]:
    """The command line that runs the router of ``node_dir`` in the foreground."""
    return [
        str(crossbar_executable(venv)),
        "start",
        "--cbdir",
        str(node_dir),
        "--config",
        CONFIG_FILE,
        "--loglevel",
        loglevel,
        "--color",
        "false",
    ]
