"""Health tells the truth: readiness (``/api/health``), liveness (``/api/health/live``), ``pyramidion health``,
and a database that is down, gone or read-only answered with a 503 by a process that survives it.

The SQLite faults are made on a real file under a real server process
(pserve, waitress): the file deleted, the ``-shm`` file truncated (SIGBUS
before). PostgreSQL's are a closed port and a server that refuses writes.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from pyramidion import hookimpl, make_config, migrations
from pyramidion.heartbeat import KEY
from pyramidion.settings import SettingsError
from pyramidion.testing import free_port, wait_for

BIN = Path(sys.executable).parent
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"  # nothing listens on port 1
PASSWORD = "a long and uncommon passphrase 7"
answered = functools.partial(wait_for, timeout=60, ignoring=(requests.RequestException,))


def register(base: str, name: str) -> requests.Response:
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    return requests.post(f"{base}/api/auth/register", json=body, timeout=10)


def token(base: str, name: str) -> requests.Response:
    return requests.post(f"{base}/api/auth/token", json={"username": name, "password": PASSWORD}, timeout=10)


# -- readiness and liveness, in process -------------------------------------------


def test_ready_names_every_check_and_is_degraded_by_the_router_alone(app, registry):
    response = app.get("/api/health", status=200)
    health = response.json
    assert response.headers["Cache-Control"] == "no-store"
    assert health["ready"] is True and health["failing"] == []
    assert health["status"] == "degraded"  # nothing listens on the test router port
    assert health["version"] == registry.pyramidion_version
    assert health["database"] == {"ok": True, "detail": "reachable, writable", "required": True}
    assert health["router"]["ok"] is False and health["router"]["required"] is False
    assert health["queue"]["ok"] is True and health["worker"]["ok"] is True  # immediate: tasks run in process
    sources = {row["source"]: row for row in health["migrations"]["sources"]}
    assert set(sources) == {"core", *(s.name for s in migrations.sources(registry) if s.name != "core")}
    assert all(row["at_head"] and row["revision"] == row["head"] for row in sources.values())
    assert health["migrations"]["ok"] is True and health["migrations"]["required"] is True


def test_an_unreachable_database_is_not_ready_but_the_process_is_live(make_app, make_user, login):
    headers = login(make_user("ann"))  # a valid token, whose identity the broken app cannot look up
    broken = make_app(sqlalchemy__url=UNREACHABLE)
    health = broken.get("/api/health", status=503).json
    assert health["status"] == "not ready" and health["ready"] is False
    assert health["failing"] == ["database", "migrations"]
    assert "Connection refused" in health["database"]["detail"] or "connect" in health["database"]["detail"]
    assert health["migrations"]["sources"] is None
    assert health["error"]["status"] == 503
    assert health["error"]["message"] == "not ready: database, migrations failing"
    assert [d["check"] for d in health["error"]["details"]] == ["database", "migrations"]

    assert broken.get("/api/health/live", status=200).json == {"status": "ok"}

    refused = broken.post_json("/api/auth/token", {"username": "ann", "password": PASSWORD}, status=503)
    assert refused.json["error"]["message"] == "the database is unavailable; try again"
    assert refused.headers["Retry-After"] == "5"
    me = broken.get("/api/auth/me", headers=headers, status=503)
    assert me.json["error"]["message"] == "the database is unavailable; try again"


def test_the_console_shows_its_error_page_when_the_database_is_unreachable(make_app):
    broken = make_app(sqlalchemy__url=UNREACHABLE)
    form = {"username": "ann", "password": PASSWORD}
    page = broken.post("/console/login", form, headers={"Origin": "http://localhost"}, status=503)
    assert page.content_type == "text/html"
    assert "Database unavailable" in page.text and "The database is unavailable; try again." in page.text


def test_a_database_that_refuses_writes_is_a_503_saying_so(make_app, base_settings, make_user):
    make_user("ann")
    url = base_settings["sqlalchemy.url"]
    if url.startswith("sqlite"):
        read_only = f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    else:
        read_only = f"{url}?options=-c%20default_transaction_read_only%3Don"
    app = make_app(sqlalchemy__url=read_only)

    health = app.get("/api/health", status=503).json
    assert health["failing"] == ["database"]
    assert health["database"]["detail"].startswith("read-only")
    assert health["migrations"]["ok"] is True  # it can still be read
    refused = app.post_json(
        "/api/auth/register", {"username": "bob", "email": "bob@example.com", "password": PASSWORD}, status=503
    )
    assert refused.json["error"]["message"] == (
        "the database is read-only: nothing can be saved until an operator makes it writable"
    )


class Probe:
    """A plugin whose one revision the database does not have yet."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def pyramidion_migrations(self) -> str:
        return str(self.folder)


def test_a_plugin_behind_its_head_is_not_ready_naming_it_until_upgraded(make_app, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "probe_0001.py").write_text(
        'revision = "probe_0001"\ndown_revision = None\nbranch_labels = ("probe",)\n'
        "def upgrade():\n    pass\n\ndef downgrade():\n    pass\n"
    )
    app = make_app(extra_plugins=[("probe", Probe(folder))], health__cache_seconds="0")
    registry = app.app.registry
    try:
        health = app.get("/api/health", status=503).json
        assert health["failing"] == ["migrations"]
        assert "probe at nothing, head probe_0001" in health["migrations"]["detail"]
        probe = [row for row in health["migrations"]["sources"] if row["source"] == "probe"]
        assert probe == [{"source": "probe", "revision": None, "head": "probe_0001", "at_head": False}]

        migrations.upgrade(registry, "probe")
        health = app.get("/api/health", status=200).json
        assert health["ready"] is True and "probe probe_0001" in health["migrations"]["detail"]
    finally:
        with registry.db_engine.begin() as conn:
            conn.execute(text('DROP TABLE IF EXISTS "alembic_version_probe"'))


def test_the_checks_run_once_per_period_and_each_period_again(make_app):
    cached = make_app(health__cache_seconds="3600")
    first = cached.get("/api/health").json["checked_at"]
    assert cached.get("/api/health").json["checked_at"] == first
    fresh = make_app(health__cache_seconds="0")
    first = fresh.get("/api/health").json["checked_at"]
    wait_for(lambda: fresh.get("/api/health").json["checked_at"] != first, timeout=5)


def test_required_checks_are_a_setting_and_unknown_ones_are_refused(make_app, base_settings):
    strict = make_app(huey__url="memory", health__required="database migrations worker")
    health = strict.get("/api/health", status=503).json
    assert health["failing"] == ["worker"]
    assert health["worker"]["detail"] == "no worker has taken work yet (none started)"
    with pytest.raises(SettingsError, match="health.required: .*unknown checks coffee"):
        make_config({**base_settings, "health.required": "database coffee"})


def test_a_real_worker_beats_and_a_silent_one_is_reported_as_such(worker, make_app):
    app = worker(health__cache_seconds="0", health__required="database worker")
    wait_for(lambda: app.get("/api/health", expect_errors=True).json["worker"]["ok"], message="the worker beat")
    health = app.get("/api/health", status=200).json
    assert health["worker"]["detail"].startswith("alive: a worker took work ")

    silent = make_app(huey__url="memory", health__required="database worker")
    silent.app.registry.huey.put(KEY, time.time() - 600)  # the last ask for work, ten minutes ago
    health = silent.get("/api/health", status=503).json
    assert health["failing"] == ["worker"]
    assert health["worker"]["detail"] == "no worker took work for 600 s (more than health.worker_within = 60 s)"


def test_the_dashboard_shows_each_check_and_what_readiness_needs(app, make_user):
    make_user("ann")
    form = app.get("/console/login").forms[0]
    form["username"], form["password"] = "ann", "password123"
    form.submit(headers={"Origin": "http://localhost"})
    page = app.get("/console/")
    cards = {card.h3.text: card.text for card in page.html.select(".status")}
    assert set(cards) == {"Database", "Migrations", "Queue", "Worker", "Router"}
    assert "Required" in cards["Database"] and "Required" in cards["Migrations"] and "Required" not in cards["Router"]
    assert page.html.select_one(".status-summary").text.strip() == "Ready, degraded: router."


# -- real processes on a real SQLite file ---------------------------------------------


def write_ini(folder: Path, port: int, **settings: str) -> Path:
    lines = [
        "[app:main]",
        "use = egg:pyramidion",
        f"sqlalchemy.url = sqlite:///{folder}/var/db.sqlite",
        "huey.url = immediate",
        "jwt.secret = health-test-secret-0123456789abcdef0123456789",
        "realtime.port = 1",
        "realtime.publish_timeout = 0.5",
        "auth.password_time_cost = 1",
        "auth.password_memory_cost = 64",
        "tm.manager_hook = pyramid_tm.explicit_manager",
        "mail.port = 1",
        "mail.retries = 0",
        *(f"{key} = {value}" for key, value in settings.items()),
        "",
        "[server:main]",
        "use = egg:waitress#main",
        f"listen = 127.0.0.1:{port}",
        "threads = 4",
    ]
    ini = folder / "health.ini"
    ini.write_text("\n".join(lines) + "\n")
    return ini


def pyramidion(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "pyramidion"), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    """A migrated SQLite platform served by pserve: (base URL, database file, the server process)."""
    port = free_port()
    ini = write_ini(tmp_path, port)
    assert pyramidion("db", "upgrade", str(ini)).returncode == 0
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "pserve"), str(ini)], stdout=log, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )
    base = f"http://127.0.0.1:{port}"
    try:
        answered(lambda: requests.get(f"{base}/api/health/live", timeout=5).ok, message="the server started")
        yield base, tmp_path / "var" / "db.sqlite", server
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_a_deleted_database_file_is_a_503_everywhere_and_the_process_lives(served: Any) -> None:
    base, database, server = served
    assert register(base, "alice").status_code == 201
    assert token(base, "alice").status_code == 200
    console = requests.Session()
    logged_in = console.post(
        f"{base}/console/login", data={"username": "alice", "password": PASSWORD}, headers={"Origin": base}, timeout=10
    )
    assert logged_in.ok and "Dashboard" in logged_in.text
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)

    refused = register(base, "bob")
    assert refused.status_code == 503
    assert refused.json()["error"]["message"].startswith("the database is gone")
    assert token(base, "alice").status_code == 503
    page = requests.post(
        f"{base}/console/login", data={"username": "alice", "password": PASSWORD}, headers={"Origin": base}, timeout=10
    )
    assert page.status_code == 503 and "The database is gone" in page.text

    def dashboard_says_so() -> bool:
        dashboard = console.get(f"{base}/console/", timeout=10)
        # The page needs no database (who is logged in is known for a moment): it shows what is wrong.
        if dashboard.status_code == 503:
            return "The database is gone" in dashboard.text
        return dashboard.status_code == 200 and "Not ready" in dashboard.text and "was deleted" in dashboard.text

    wait_for(dashboard_says_so, timeout=10, message="the dashboard said the database is gone")

    def not_ready() -> dict[str, Any] | None:
        response = requests.get(f"{base}/api/health", timeout=10)
        return response.json() if response.status_code == 503 else None

    health = wait_for(not_ready, timeout=10, message="health saw the file gone")  # within health.cache_seconds
    assert "database" in health["failing"]
    assert f"{database} was deleted while the platform ran" in health["database"]["detail"]
    assert requests.get(f"{base}/api/health/live", timeout=10).status_code == 200
    assert not database.exists(), "an empty database was created in place of the deleted one"
    assert server.poll() is None


@pytest.mark.slow
def test_a_truncated_shm_file_does_not_kill_the_web_process(served: Any) -> None:
    base, database, server = served
    assert register(base, "alice").status_code == 201
    shm = Path(f"{database}-shm")
    size = shm.stat().st_size
    os.truncate(shm, 0)  # what killed the process with SIGBUS at its next statement

    assert register(base, "bob").status_code == 201
    assert token(base, "alice").status_code == 200 and token(base, "bob").status_code == 200
    assert server.poll() is None, "the web process died"
    assert shm.stat().st_size == size
    assert requests.get(f"{base}/api/health", timeout=10).json()["database"]["ok"] is True


@pytest.mark.slow
def test_the_health_command_prints_each_check_and_exits_non_zero_when_not_ready(tmp_path: Path) -> None:
    ini = write_ini(tmp_path, free_port())
    fresh = pyramidion("health", str(ini))  # the database file exists, but nothing is migrated
    assert fresh.returncode == 1, fresh.stderr
    lines = fresh.stdout.splitlines()
    assert [line.split()[0] for line in lines[:5]] == ["database", "migrations", "queue", "worker", "router"]
    assert lines[1].split()[1] == "FAILING" and "core at nothing" in lines[1]
    assert lines[-1] == "not ready: migrations (required by health.required)"

    assert pyramidion("db", "upgrade", str(ini)).returncode == 0
    ready = pyramidion("health", str(ini))
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert ready.stdout.splitlines()[-1] == "ready, degraded: router"
    assert "router      failing  ConnectionError: not reachable at http://127.0.0.1:1" in ready.stdout
