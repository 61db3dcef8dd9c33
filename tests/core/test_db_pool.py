"""A pooled PostgreSQL connection closed behind the pool's back (a database
restart, a firewall dropping idle connections) never reaches a request if it
sat idle; one in steady use is not pinged, so the busy path pays no round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from pyramidion import db as core_db


@pytest.fixture
def postgresql(registry):
    if registry.db_engine.dialect.name != "postgresql":
        pytest.skip("a pool of server connections: PostgreSQL only")
    yield registry.db_engine
    # No closed connection is left in the pool for the next test's clean-up.
    registry.db_engine.dispose()


def _close_the_pools_connections(engine):
    """What a database restart does to the pool: every server session of this database ends."""
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    admin.dispose()


def _warm(app, headers):
    assert app.get("/api/auth/me", headers=headers).status_int == 200


def test_a_connection_closed_while_idle_is_replaced_before_any_request_sees_it(
    app, make_user, login, postgresql, monkeypatch
):
    headers = login(make_user("ann"))
    _warm(app, headers)
    _close_the_pools_connections(postgresql)
    monkeypatch.setattr(core_db, "PING_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle

    assert app.get("/api/tasks", headers=headers).status_int == 200


def test_a_connection_in_steady_use_is_not_pinged_and_a_restart_costs_one_503(
    app, make_user, login, postgresql, monkeypatch
):
    headers = login(make_user("ann"))
    _warm(app, headers)
    monkeypatch.setattr(core_db, "PING_IDLE_SECONDS", 3600.0)  # every pooled connection counts as busy
    _close_the_pools_connections(postgresql)

    # Not pinged, so the request meets the closed connection: a clear 503, not a 500...
    refused = app.get("/api/tasks", headers=headers, status=503)
    assert "database" in refused.json["error"]["message"].lower()
    # ...and the pool, told the connection was lost, starts afresh for the next one.
    assert app.get("/api/tasks", headers=headers).status_int == 200
