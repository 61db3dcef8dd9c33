"""A web process imports what a request needs when it needs it (issue 17: a web worker under 70 MiB).

The app is loaded from ``development.ini`` with every installed plugin, in a
fresh interpreter, exactly as ``pserve`` and gunicorn load it, and serves a
few requests; the libraries only some requests or only the worker need stay
out of it. Memory itself is measured by ``python -m bench`` (bench/README.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each costs a web process megabytes (bench/README.md, "Memory"), for a request few make or a worker's job.
NOT_AT_LOAD = {
    "openpyxl": "the bar's overview download",
    "mollie": "the bar's online top-ups",
    "netmiko": "a jobs run, in the worker",
    "napalm": "a jobs run, in the worker",
    "nornir_netmiko": "a jobs run, in the worker",
    "nornir_napalm": "a jobs run, in the worker",
    "schemathesis": "the tests only",
    "selenium": "the tests only",
    "crossbar": "the router's own virtualenv",
    "nornir": "a jobs run, in the worker (the catalogue reads only the templates' parameters)",
    "ruamel": "Nornir's inventory files, in the worker",
    "autobahn": "the realtime backend process (a web process publishes over HTTP)",
    "twisted": "the router",
    "txaio": "the realtime backend process",
    "alembic": "`pyramidion db` (the readiness check reads the revision files as text)",
    "mako": "Alembic's revision templates",
    "requests": "the bar's member database and Mollie (the router publisher uses http.client)",
    "urllib3": "requests' transport",
}

SERVE = """
import json, sys, warnings
warnings.simplefilter("ignore")
from pyramid.paster import get_app
from webtest import TestApp
app = TestApp(get_app(sys.argv[1], "main"))
login = {"username": "admin", "password": "admin-password-0123"}
app.authorization = ("Bearer", app.post_json("/api/auth/token", login).json["access"])
plugins = sorted(app.app.registry.pm.list_name_plugin())
for path in ("/api/health/live", "/api/health", "/api/auth/me", "/api/openapi.json", "/api/tasks", "/api/bar/products",
             "/api/jobs/templates", "/api/jobs/templates/say", "/api/robots"):
    assert app.get(path).status_int == 200, path
# A launch checks the template's variables in the web process; Nornir runs it in the worker.
inventory = app.post_json("/api/jobs/inventories", {"name": "lab"}, status=201).json["id"]
launch = {"template": "say", "inventory_id": inventory, "variables": {"text": "hi"}}
app.post_json("/api/jobs/runs", {**launch, "variables": {"text": 3}}, status=422)
assert app.post_json("/api/jobs/runs", launch, status=202).json["status"] == "created"
print(json.dumps({"modules": sorted({name.split(".")[0] for name in sys.modules}), "plugins": [n for n, _ in plugins]}))
"""


def test_loading_the_app_with_every_plugin_leaves_the_heavy_libraries_out(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYRAMIDION_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/db.sqlite",
        "PYRAMIDION_HUEY_URL": f"sqlite:///{tmp_path}/huey.sqlite",
    }
    ini = str(ROOT / "development.ini")
    cli = Path(sys.executable).parent / "pyramidion"
    subprocess.run([cli, "db", "upgrade", ini], env=env, check=True, capture_output=True)
    admin = ["--username", "admin", "--email", "admin@example.com", "--password", "admin-password-0123"]
    subprocess.run([cli, "createsuperuser", *admin, ini], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, "-c", SERVE, ini],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert {"bar", "jobs", "robots", "tasks", "rentals"} <= set(loaded["plugins"])
    assert {name: why for name, why in NOT_AT_LOAD.items() if name in loaded["modules"]} == {}
