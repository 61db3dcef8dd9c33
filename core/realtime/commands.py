"""``pyramidion router install|start`` and ``pyramidion realtime``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plaster  # type: ignore[import-untyped]
from pyramid.paster import get_appsettings

from ..commands import CommandError, load
from ..settings import as_list, resolve, section
from ..startup import freeze_start_up
from .backend import BackendSession
from .router import (
    CROSSBAR_VERSION,
    crossbar_venv,
    install_router,
    router_config,
    router_installed,
    start_command,
    write_node_config,
)
from .settings import RealtimeSettings

PIP_LINES_SHOWN = 20  # of pip's output, when installing the router failed


def backend_session(registry: Any) -> BackendSession:
    """The backend session with everything the plugins declare."""
    session = BackendSession(registry)
    registry.pm.hook.pyramidion_realtime(session=session)
    return session


def node_dir(config: RealtimeSettings, ini: str) -> Path:
    return Path(config.node_dir) if config.node_dir else Path(ini).resolve().parent / "var" / "router"


def cmd_router_install(args: argparse.Namespace) -> None:
    if args.venv:
        venv = Path(args.venv)
    else:
        if not Path(args.ini).is_file():
            raise CommandError(f"no such ini file: {args.ini}")
        settings = resolve(dict(get_appsettings(args.ini, name="main")))
        venv = crossbar_venv(section(settings, "realtime", RealtimeSettings).crossbar_venv)
    if router_installed(venv):
        print(f"router already installed in {venv}")
        return
    print(f"installing Crossbar {CROSSBAR_VERSION} in {venv}; this takes a minute or two", flush=True)
    started = time.monotonic()
    try:
        install_router(venv, report=lambda step: print(f"  {step}", flush=True))
    except subprocess.CalledProcessError as exc:
        if exc.output:  # pip's account of what went wrong, its last lines
            sys.stderr.write("".join(exc.output.splitlines(keepends=True)[-PIP_LINES_SHOWN:]))
        raise CommandError(f"could not install the router: {' '.join(exc.cmd)} exited with {exc.returncode}") from None
    print(f"router installed in {venv} in {time.monotonic() - started:.0f} s")


def server_origins(ini: str) -> list[str]:
    """The origins of the web server an ini file's ``[server:main]`` describes (``listen``, or ``host`` and ``port``)."""
    try:
        server = plaster.get_loader(ini, protocols=["wsgi"]).get_settings("server:main")
    except (plaster.PlasterError, LookupError, ValueError):
        return []
    addresses = as_list(server.get("listen"))
    if not addresses and server.get("port"):
        addresses = [f"{server.get('host', '127.0.0.1')}:{server['port']}"]
    origins = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        names = ["127.0.0.1", "localhost"] if host in ("127.0.0.1", "0.0.0.0", "localhost", "::", "::1") else [host]
        origins += [f"http://{name}:{port}" for name in names]
    return origins


def cmd_router_start(args: argparse.Namespace) -> None:
    registry = load(args.ini)
    session = backend_session(registry)
    config = session.config
    venv = crossbar_venv(config.crossbar_venv)
    if not router_installed(venv):
        raise CommandError(f"the router is not installed in {venv}: run `pyramidion router install {args.ini}`")
    directory = node_dir(config, args.ini)
    origins = config.origins or server_origins(args.ini)
    write_node_config(directory, router_config(config, session.roles, origins))
    print(
        f"router: realm {config.realm} at {config.websocket_url}, client roles {', '.join(sorted(session.roles))}, "
        f"browsers from {', '.join(origins) or 'the default origins'}, node directory {directory}",
        flush=True,
    )
    command = start_command(venv, directory, args.loglevel)
    # Crossbar takes this process over, so signals reach it directly.
    os.execv(command[0], command)


def cmd_realtime(args: argparse.Namespace) -> None:
    session = backend_session(load(args.ini))
    freeze_start_up()  # its start-up objects stay out of the collector's passes: short pauses on every call
    print(f"realtime backend: joining realm {session.config.realm} at {session.config.websocket_url}", flush=True)
    asyncio.run(_serve(session))


async def _serve(session: BackendSession) -> None:
    # SIGTERM (from `pyramidion run`, systemd) ends it as cleanly as Ctrl-C.
    task = asyncio.current_task()
    assert task is not None  # a coroutine run by asyncio.run always has its task
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await session.run()


def add_commands(sub: Any, ini_argument: Callable[[argparse.ArgumentParser], None]) -> None:
    router = sub.add_parser("router", help="the Crossbar.io router: install it, start it")
    actions = router.add_subparsers(dest="router_action", required=True, metavar="ACTION")

    install = actions.add_parser("install", help="create the router's virtualenv with the pinned Crossbar (idempotent)")
    ini_argument(install)
    install.add_argument(
        "--venv", help="where (default realtime.crossbar_venv, or ~/.cache/pyramidion/crossbar-<version>-r<recipe>)"
    )
    install.set_defaults(func=cmd_router_install)

    start = actions.add_parser("start", help="write the router configuration from the settings and run the router")
    ini_argument(start)
    start.add_argument(
        "--loglevel", default="warn", choices=["error", "warn", "info", "debug"], help="Crossbar's (default warn)"
    )
    start.set_defaults(func=cmd_router_start)

    realtime = sub.add_parser("realtime", help="run the backend WAMP session (authentication, plugins' procedures)")
    ini_argument(realtime)
    realtime.set_defaults(func=cmd_realtime)
