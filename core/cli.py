"""The ``pyramidion`` command.

Every subcommand takes the ini file (default ``development.ini``) and says
what it did. A setup problem (a bad setting, an unreachable database) is one
line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from . import check_services
from .commands import CommandError, in_transaction, ini_argument, load
from .settings import SettingsError
from .supervisor import Supervisor

# Demo data only: documented in the README, never created outside demo-data.
DEMO_ADMIN = "admin"

# -- db ----------------------------------------------------------------------


def cmd_db(args: argparse.Namespace) -> None:
    from . import migrations

    registry = load(args.ini)
    if args.action == "upgrade":
        for name, before, after in migrations.upgrade(registry, args.plugin):
            change = "already at head" if before == after else f"{before or 'empty'} -> {after}"
            print(f"{name}: {change}")
    elif args.action == "current":
        for name, revision, head in migrations.current(registry):
            state = "up to date" if revision == head else "NEEDS UPGRADE"
            print(f"{name}: {revision or 'empty'} (head {head or 'none'}) {state}")
    elif args.action == "check":
        problems = migrations.check(registry)
        for name, problem in problems:
            print(f"{name}: models and migrations differ: {problem}")
        if problems:
            raise SystemExit(1)
        print("models and migrations agree")
    elif args.action == "revision":
        if not args.plugin or not args.message:
            raise CommandError("db revision needs --plugin NAME (or core) and -m MESSAGE")
        migrations.revision(registry, args.plugin, args.message)


# -- users and groups ----------------------------------------------------------


def cmd_createsuperuser(args: argparse.Namespace) -> None:
    from .auth.models import User

    registry = load(args.ini)
    username = args.username or input("Username: ").strip()
    email = args.email or input("Email: ").strip()
    password = args.password or os.environ.get("PYRAMIDION_SUPERUSER_PASSWORD")
    if not password:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the passwords differ")
    if len(password) < 8:
        raise CommandError("the password must have at least 8 characters")

    def create(db: Any) -> str:
        user = db.scalar(select(User).where(User.username == username))
        if user is not None:
            user.is_superuser = True
            user.is_active = True
            user.password_hash = registry.passwords.hash(password)
            return f"made {username} a superuser"
        if db.scalar(select(User).where(User.email == email)) is not None:
            raise CommandError(f"the email {email} belongs to another user")
        db.add(User(username=username, email=email, password_hash=registry.passwords.hash(password), is_superuser=True))
        return f"created superuser {username}"

    print(in_transaction(registry, create))


def cmd_create_groups(args: argparse.Namespace) -> None:
    from .auth.permissions import create_default_groups

    registry = load(args.ini)
    changes = in_transaction(registry, lambda db: create_default_groups(db, registry))
    print("\n".join(changes) if changes else "default groups already in place")


def cmd_demo_data(args: argparse.Namespace) -> None:
    from .auth.permissions import create_default_groups

    registry = load(args.ini)

    def fill(db: Any) -> None:
        from .demo import demo_user

        create_default_groups(db, registry)
        demo_user(db, registry, DEMO_ADMIN, superuser=True)
        registry.pm.hook.pyramidion_demo_data(db=db, registry=registry)

    in_transaction(registry, fill)
    print(f"demo data in place for: core, {', '.join(registry.pm.names)}")


def cmd_plugins(args: argparse.Namespace) -> None:
    from .plugins import describe

    registry = load(args.ini)
    for info in describe(registry.pm, include_core=args.all):
        print(f"{info.name} {info.version or '?'} ({info.module}): {', '.join(info.hooks)}")


def cmd_health(args: argparse.Namespace) -> None:
    """The checks of ``GET /api/health``, run now; exit status 0 when ready, 1 when not."""
    from .health import run_checks

    report = run_checks(load(args.ini))
    width = max(len(name) for name in report.checks)
    for name, check in report.checks.items():
        state = "ok" if check.ok else ("FAILING" if check.required else "failing")
        print(f"{name:<{width}}  {state:<7}  {check.detail}")
    if not report.ready:
        print(f"not ready: {', '.join(report.failing)} (required by health.required)")
        raise SystemExit(1)
    print(f"ready, degraded: {', '.join(report.degraded_by)}" if report.degraded_by else "ready")


# -- processes -----------------------------------------------------------------


def cmd_worker(args: argparse.Namespace) -> None:
    registry = load(args.ini)
    check_services(registry)
    huey = registry.huey
    if huey.immediate:
        raise CommandError("huey.url is 'immediate': tasks run in the web process, there is nothing to consume")
    periodic = registry.settings["huey.periodic"] if args.periodic is None else args.periodic
    workers = args.workers or registry.settings["huey.workers"]
    print(
        f"worker: {workers} thread(s), periodic tasks {'on' if periodic else 'off'}, {len(registry.huey_tasks)} task(s)"
    )
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic, check_worker_health=True)
    consumer.run()


def cmd_run(args: argparse.Namespace) -> None:
    """Web server, worker, router and realtime backend together, on embedded defaults."""
    from . import migrations

    registry = load(args.ini)
    check_services(registry)
    for name, before, after in migrations.upgrade(registry):
        if before != after:
            print(f"migrated {name}: {before or 'empty'} -> {after}")
    if args.demo_data:
        cmd_demo_data(args)
    # The console script rather than `python -m pyramidion.cli`: under -m this
    # module runs as __main__, and a CommandError raised by a command module
    # (which imports pyramidion.cli) would escape as a traceback.
    me = [str(Path(sys.executable).with_name("pyramidion"))]
    children: list[tuple[str, list[str]]] = []
    if not args.no_router:
        from .realtime.router import crossbar_venv, router_installed

        venv = crossbar_venv(registry.settings["realtime.crossbar_venv"])
        if router_installed(venv):
            children.append(("router", [*me, "router", "start", args.ini]))
            children.append(("realtime", [*me, "realtime", args.ini]))
        else:
            print(
                f"router not installed in {venv} (run `pyramidion router install {args.ini}`); starting without real time"
            )
    if not registry.huey.immediate:
        children.append(("worker", [*me, "worker", args.ini]))
    # pserve imports Pyramid, and so pkg_resources and its deprecation warning, before
    # the app's own filter (core/__init__.py) runs: the interpreter filters it instead.
    quiet = ["-W", "ignore:pkg_resources is deprecated as an API:UserWarning"]
    children.append(("web", [sys.executable, *quiet, str(Path(sys.executable).with_name("pserve")), args.ini]))
    print(f"running: {', '.join(name for name, _ in children)}; a part that dies is restarted; Ctrl-C stops everything")
    raise SystemExit(Supervisor(children).run())


# -- writing a plugin ----------------------------------------------------------


def cmd_new_plugin(args: argparse.Namespace) -> None:
    from .scaffold import ScaffoldError, write_plugin

    try:
        root = write_plugin(args.name, Path(args.directory) if args.directory else None)
    except ScaffoldError as exc:
        raise CommandError(str(exc)) from None
    print(f"wrote the plugin {args.name} in {root}")
    print("next:")
    print(f"  pip install -e '{root}[test]'")
    print(f"  (cd {root} && pytest)")
    print("  pyramidion db upgrade        # creates its table; the next start serves /api/" + args.name)


# -- the parser ----------------------------------------------------------------


def build_parser(plugin_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyramidion", description="Run and manage a Pyramidion platform.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database migrations: upgrade, current, check, revision")
    db.add_argument("action", choices=["upgrade", "current", "check", "revision"])
    ini_argument(db)
    db.add_argument("--plugin", help="only this source (core or a plugin name)")
    db.add_argument("-m", "--message", help="message of a new revision")
    db.set_defaults(func=cmd_db)

    su = sub.add_parser("createsuperuser", help="create an administrator (or promote an existing user)")
    ini_argument(su)
    su.add_argument("--username")
    su.add_argument("--email")
    su.add_argument("--password", help="or PYRAMIDION_SUPERUSER_PASSWORD; asked for when neither is given")
    su.set_defaults(func=cmd_createsuperuser)

    groups = sub.add_parser("create-groups", help="create each plugin's default groups with their permissions")
    ini_argument(groups)
    groups.set_defaults(func=cmd_create_groups)

    demo = sub.add_parser("demo-data", help="add sample data from the core and every plugin")
    ini_argument(demo)
    demo.set_defaults(func=cmd_demo_data)

    worker = sub.add_parser("worker", help="run a Huey consumer for background tasks")
    ini_argument(worker)
    worker.add_argument("-w", "--workers", type=int, help="worker threads (default huey.workers)")
    worker.add_argument(
        "--periodic", dest="periodic", action="store_true", default=None, help="run the periodic scheduler"
    )
    worker.add_argument(
        "--no-periodic", dest="periodic", action="store_false", help="do not run periodic tasks (all consumers but one)"
    )
    worker.set_defaults(func=cmd_worker)

    run = sub.add_parser("run", help="migrate, then run web server, worker, router and realtime backend together")
    ini_argument(run)
    run.add_argument("--demo-data", action="store_true", help="add demo data first")
    run.add_argument("--no-router", action="store_true", help="do not start the WAMP router")
    run.set_defaults(func=cmd_run)

    health = sub.add_parser(
        "health", help="check the database, migrations, queue, worker and router; exit 1 when not ready"
    )
    ini_argument(health)
    health.set_defaults(func=cmd_health)

    plugins = sub.add_parser("plugins", help="list the loaded plugins with versions and hooks")
    ini_argument(plugins)
    plugins.add_argument("--all", action="store_true", help="list the core's own hook implementations too")
    plugins.set_defaults(func=cmd_plugins)

    new_plugin = sub.add_parser(
        "new-plugin", help="write a new plugin distribution (route, model, migration, task, console page, tests)"
    )
    new_plugin.add_argument("name", help="the plugin's name: lower case, e.g. library (package pyramidion_library)")
    new_plugin.add_argument("--directory", help="where to write it (default ./pyramidion-<name>)")
    new_plugin.set_defaults(func=cmd_new_plugin)

    _add_hook_commands(sub, plugin_commands)
    return parser


def _add_hook_commands(sub: Any, plugin_commands: bool) -> None:
    # The commands of the pyramidion_commands hook: the core's own (router,
    # realtime) and, unless left out, the installed plugins', found without
    # settings: the ini file is only read once a command runs.
    from .plugins import core_plugin_manager, load_plugins

    pm = core_plugin_manager()
    if plugin_commands:
        try:
            pm = load_plugins({})
        except SettingsError as exc:
            print(f"pyramidion: warning: plugin commands unavailable: {exc}", file=sys.stderr)
    # One broken plugin must not take the core's commands (and the others') down.
    for impl in pm.hook.pyramidion_commands.get_hookimpls():
        try:
            impl.function(*(sub for _ in impl.argnames))  # the hook's one argument, if taken
        except Exception as exc:
            print(
                f"pyramidion: warning: commands of plugin {impl.plugin_name!r} unavailable: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (SettingsError, CommandError) as exc:
        print(f"pyramidion: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except OperationalError as exc:
        print(f"pyramidion: the database is unreachable: {exc.orig}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
