"""The fixtures pyramidion.testing gives every plugin's tests, used as a plugin's tests use them."""

from __future__ import annotations

import types

from sqlalchemy import inspect, select

from pyramidion import hookimpl
from pyramidion.api import In
from pyramidion.auth import Group
from pyramidion.queue import task
from pyramidion.testing import free_port, wait_for


@task()
def make_group(request, name: str) -> None:
    request.db.add(Group(name=name))


class GroupIn(In):
    name: str


def order_group(request, body: GroupIn) -> dict:
    request.task(make_group)(body.name)
    return {"queued": body.name}


class GroupsPlugin:
    @hookimpl
    def pyramidion_includeme(self, config):
        config.add_route("kitgroups.order", "/order")
        config.add_api_view(order_group, "kitgroups.order", request_method="POST", body=GroupIn, status=202)

    @hookimpl
    def pyramidion_background_tasks(self, huey):
        return [make_group]


PLUGIN = [("kitgroups", GroupsPlugin())]


def groups(db) -> set[str]:
    db.rollback()
    return set(db.scalars(select(Group.name)))


def test_a_client_is_a_fresh_logged_in_user(client):
    ann, bob = client(), client()
    assert ann.get("/api/auth/me").json["username"] == ann.user.username
    assert bob.get("/api/auth/me").json["username"] == bob.user.username != ann.user.username


def test_a_client_holds_exactly_the_permissions_asked_for(client):
    client().get("/api/users", status=403)
    assert client("auth.admin").get("/api/users").json["count"] >= 1
    assert client(superuser=True).get("/api/auth/me").json["is_superuser"] is True


def test_a_client_logs_into_another_app(client, make_app):
    other = make_app(extra_plugins=PLUGIN)
    ann = client(app=other, username="ann")
    assert ann.post_json("/api/kitgroups/order", {"name": "x"}, status=202).json == {"queued": "x"}


def test_tasks_wait_in_a_memory_queue_until_run_tasks(make_app, client, run_tasks, db):
    app = make_app(extra_plugins=PLUGIN, huey__url="memory")
    client(app=app).post_json("/api/kitgroups/order", {"name": "waiting"}, status=202)
    assert "waiting" not in groups(db)
    assert run_tasks(app) == 1
    assert "waiting" in groups(db)
    assert run_tasks(app) == 0


def test_a_real_worker_runs_the_tasks(worker, client, db):
    app = worker(extra_plugins=PLUGIN)
    client(app=app).post_json("/api/kitgroups/order", {"name": "from-worker"}, status=202)
    wait_for(lambda: "from-worker" in groups(db), message="the worker did not run the task")


MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "kitmig_0001"
down_revision = None
branch_labels = ("kitmig",)
depends_on = None


def upgrade():
    op.create_table("kitmig_thing", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("kitmig_thing")
"""


def test_make_app_migrates_a_plugin_registered_for_one_test(make_app, registry, tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_thing.py").write_text(MIGRATION)
    plugin = types.ModuleType("kitmig")
    plugin.__path__ = [str(tmp_path)]
    make_app(extra_plugins=[("kitmig", plugin)], migrate=True)
    assert "kitmig_thing" in inspect(registry.db_engine).get_table_names()


def test_free_port_is_free():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))
