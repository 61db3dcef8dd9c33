"""Every hook a plugin may implement.

A plugin is a module listed in the entry-point group ``pyramidion.plugins``
(the entry-point name is the plugin's name, e.g. ``bar``) that defines some of
these functions, each decorated with :data:`pyramidion.hookimpl`. Hooks are
called with keyword arguments and a plugin takes only those it needs, so new
arguments never break old plugins.

Order of the calls at startup::

    pyramidion_addhooks          plugins add hookspecs of their own
    pyramidion_settings          each plugin checks and fills in its settings
    (core configured and committed: db, auth, api, queue, realtime)
    pyramidion_permissions       the permission names plugins define
    pyramidion_groups            default groups (used by `pyramidion create-groups`)
    pyramidion_background_tasks  Huey tasks, in the web process and the worker alike
    pyramidion_includeme         routes and views, under the route prefix /api/<name>
    pyramidion_console           console pages, under /console/<name> (when the console is enabled)

Called later, when needed: ``pyramidion_migrations`` (``pyramidion db``),
``pyramidion_realtime`` (the backend WAMP session), ``pyramidion_demo_data``
(``pyramidion demo-data``), ``pyramidion_commands`` (the ``pyramidion`` command),
``pyramidion_authenticate`` (password login), ``pyramidion_me`` (``/api/auth/me``),
``pyramidion_capabilities`` (``GET /api/``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .auth.models import User
    from .request import Request

hookspec = pluggy.HookspecMarker("pyramidion")
# Plugins mark their implementations with it (``from pyramidion import hookimpl``).
hookimpl = pluggy.HookimplMarker("pyramidion")


@hookspec
def pyramidion_addhooks(pm: pluggy.PluginManager) -> None:
    """Add hookspecs of the plugin's own, for other plugins to implement.

    ``pm.add_hookspecs(my_hookspecs_module)``; the jobs plugin does this for job
    templates.
    """


@hookspec
def pyramidion_settings(settings: dict[str, Any]) -> None:
    """Fill in defaults and validate the plugin's own ``<name>.*`` settings.

    Use :func:`pyramidion.settings.section` with a pydantic model; raise
    :class:`pyramidion.settings.SettingsError` to stop startup with a message.
    """


@hookspec
def pyramidion_includeme(config: Any) -> None:
    """Add routes and views.

    Called after the core is configured and committed, inside
    ``config.route_prefix_context("/api/<name>")``: ``config.add_route("bar.products",
    "/products")`` answers at ``/api/bar/products``. ``config.scan()`` works as usual.
    """


@hookspec
def pyramidion_migrations() -> str:
    """The folder holding the plugin's Alembic revisions, when it is not the usual one.

    Not needed for the usual place: a plugin package's ``migrations/`` folder
    beside its ``__init__.py`` is found by convention. The plugin's revisions
    form their own history, recorded in the version table
    ``alembic_version_<name>``; they run after the core's, so they may refer
    to core tables (``auth_user``) by foreign key.
    """


@hookspec
def pyramidion_permissions() -> list[tuple[str, str]]:
    """Permissions the plugin defines, as ``(name, description)`` pairs.

    Names read ``<plugin>.<what>`` (``bar.sell``). Views declare them with
    ``permission="bar.sell"``; a user holds a permission through a group.
    """


@hookspec
def pyramidion_groups() -> dict[str, list[str]]:
    """Default groups with their permissions: ``{"bar-personnel": ["bar.sell"]}``."""


@hookspec
def pyramidion_background_tasks(huey: Any) -> list[Any]:
    """The plugin's background tasks: functions made with :func:`pyramidion.queue.task`
    or :func:`pyramidion.queue.periodic_task`.

    Return them (or the module that holds them); the core registers each with
    ``huey`` so that the web process and every worker know the same tasks.
    """


@hookspec
def pyramidion_realtime(session: Any) -> None:
    """Declare the plugin's WAMP side on the backend session.

    ``session`` is a :class:`pyramidion.realtime.BackendSession`, called once
    when ``pyramidion realtime`` (and ``pyramidion router start``, to learn the
    roles) starts; what is declared is served again after every reconnect.
    Every callback is ``fn(request, ...)``, run in a thread inside a
    transaction, like a background task::

        session.register_procedure("pyramidion.robots.frame", receive_frame, roles=["robot"])
        session.subscribe_topic("pyramidion.robots.robot..data", store, match="wildcard")
        session.add_authenticator(robot_principal, role="robot")   # tickets of robots
        session.add_authorizer(may_watch_robot)                    # e.g. users watching shared robots
        session.on_session_join(mark_connected)                    # fn(request, caller)
        session.on_session_leave(mark_disconnected)
        session.on_backend_join(reconcile)                         # fn(request, connected callers)

    A procedure gets the caller's :class:`pyramidion.realtime.Caller` (role,
    authid ``<role>:<id>``, ``user_id``) after the request. URIs read
    ``pyramidion.<plugin>.…``; those of one principal
    ``pyramidion.<plugin>.<role>.<id>.…`` (:func:`pyramidion.realtime.owned_uri`).
    See ``core/realtime/README.md``.
    """


@hookspec
def pyramidion_demo_data(db: Any, registry: Any) -> None:
    """Put sample data in the database session ``db`` (committed by the caller).

    ``registry`` gives the settings and services (``registry.passwords.hash``
    for demo users' passwords). Must be safe to run twice: look before adding.
    """


@hookspec
def pyramidion_commands(subparsers: Any) -> None:
    """Add subcommands to the ``pyramidion`` command (argparse sub-parsers).

    Set ``func`` with ``parser.set_defaults(func=...)``; it is called with the
    parsed arguments.
    """


@hookspec(firstresult=True)
def pyramidion_authenticate(request: Request, username: str, password: str) -> Any:
    """Check a username and password against an identity source of the plugin.

    Return the local user (creating or updating it) when the source accepts
    them, or ``None`` to let the next source and then the local password try.
    """


@hookspec
def pyramidion_me(request: Request, user: User) -> dict[str, Any]:
    """Extra keys for ``GET /api/auth/me`` about ``user``: ``{"robots": [...]}``.

    The rendered answer is kept with the caller's cached identity for up to
    ``auth.identity_cache_seconds`` (1 s): a process drops it as soon as it
    commits any transaction, so what changes there shows at once; what another
    process changes shows within that time. Say nothing here that must be
    fresher (read it from an endpoint of the plugin's own).
    """


@hookspec
def pyramidion_console(config: Any) -> None:
    """Add console pages, menu entries and static files.

    Called once the plugins' API routes are configured (after
    ``pyramidion_includeme``), inside ``config.route_prefix_context("/console/<name>")``,
    and only when the console is enabled (``console.enabled``, the default)::

        @hookimpl
        def pyramidion_console(config):
            config.add_route("tasks.console.list", "/")             # answers /console/tasks/
            config.add_console_menu("Tasks", "tasks.console.list", permission="tasks.read", order=40)
            config.add_console_static("pyramidion_tasks:console/static")
            config.scan(".console")                                # finds @console_view pages

    Views use :class:`pyramidion.console.console_view`; templates extend
    ``pyramidion:console/templates/base.jinja2``. See ``core/console/README.md``.
    """


@hookspec
def pyramidion_capabilities() -> dict[str, Any]:
    """What the plugin offers, listed under its name in the public index ``GET /api/``.

    Keep it small and public (no data, no counts)::

        {"description": "Book rentals with versioned pricing", "url": "/api/rentals/v3",
         "versions": ["v1", "v2", "v3"]}
    """
