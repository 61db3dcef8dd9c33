"""Pyramidion: a Pyramid platform of plugins.

``main`` builds the WSGI app: settings, plugins, then the core (storage,
identity, API, background work, real time), committed before any plugin adds
its routes under ``/api/<name>``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable
from typing import Any

# Pyramid 2.1 imports pkg_resources, which setuptools >= 80 warns about on
# every start of every command. The warning is for Pyramid's maintainers; our
# users can do nothing about it, so it is not shown to them.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated as an API", category=UserWarning)

from pyramid.config import Configurator  # noqa: E402

from .plugins import core_version, hookimpl, load_plugins  # noqa: E402
from .settings import SettingsError, resolve  # noqa: E402
from .startup import freeze_start_up  # noqa: E402

__all__ = ["hookimpl", "main", "make_app", "make_config"]


def make_config(settings: dict[str, Any], extra_plugins: Iterable[tuple[str, Any]] = ()) -> Configurator:
    """The configured, committed app configuration; raises SettingsError on bad settings."""
    settings = resolve(settings)
    pm = load_plugins(settings, extra_plugins)
    pm.hook.pyramidion_settings(settings=settings)

    config = Configurator(settings=settings)
    config.registry.pm = pm
    config.registry.pyramidion_version = core_version()
    config.include("pyramid_services")
    config.include(".db")
    config.include(".api")
    config.include(".auth")
    config.include(".queue")
    config.include(".heartbeat")
    config.include(".mail")
    config.include(".realtime")
    config.commit()

    from .auth.permissions import collect_permissions
    from .queue import register_plugin_tasks

    collect_permissions(config.registry)
    register_plugin_tasks(config.registry)
    for impl in pm.hook.pyramidion_includeme.get_hookimpls():
        config.include(impl.function, route_prefix=f"/api/{impl.plugin_name}")
    config.include(".console")  # the core's pages, then each plugin's pyramidion_console
    config.commit()
    return config


def check_services(registry: Any) -> None:
    """Raise :class:`SettingsError` naming the database or queue that cannot be reached."""
    from redis.exceptions import RedisError
    from sqlalchemy.exc import OperationalError

    engine = registry.db_engine
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise SettingsError(f"cannot reach the database {engine.url.render_as_string()}: {exc.orig}") from None
    storage = registry.huey.storage
    if hasattr(storage, "conn") and hasattr(storage.conn, "ping"):
        try:
            storage.conn.ping()
        except RedisError as exc:
            raise SettingsError(f"cannot reach Redis for huey.url: {exc}") from None


def make_app(settings: dict[str, Any], extra_plugins: Iterable[tuple[str, Any]] = ()) -> Any:
    """The WSGI app for ``settings``; ``extra_plugins`` are registered as if installed."""
    return make_config(settings, extra_plugins).make_wsgi_app()


def main(global_config: dict[str, Any], **settings: Any) -> Any:
    """The PasteDeploy app factory (``pserve development.ini``).

    The app it returns is frozen (:mod:`pyramidion.startup`): the garbage
    collector leaves it alone, in the server's process and in every worker
    gunicorn forks from it.
    """
    try:
        config = make_config(settings)
        check_services(config.registry)
    except SettingsError as exc:
        # One line naming the problem, not a traceback: this is a setup error.
        print(f"pyramidion: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app = config.make_wsgi_app()
    freeze_start_up()
    return app
