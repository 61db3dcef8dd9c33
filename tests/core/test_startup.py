"""The app factory freezes the app: in the server's process and in the workers gunicorn forks from it.

A frozen object is one the garbage collector never walks again: full
collections stay short, and a forked worker's collections no longer write to
the pages it shares with its master (bench/README.md, "memory"). Run in a
fresh interpreter, so that this test process freezes nothing of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Leaves a garbage cycle behind, builds the app as pserve does (the
# PasteDeploy factory), forks as gunicorn does, and reports what the
# collector still tracks in the server's process and in the worker.
SERVER = """
import gc, json, os, sys, weakref
import pyramidion

class Garbage:
    pass

cycle = Garbage()
cycle.itself = cycle
left_over = weakref.ref(cycle)
del cycle

app = pyramidion.main({}, **json.loads(sys.argv[1]))

def report():
    made_after = [[]]
    tracked = gc.get_objects()  # every generation but the frozen one
    return {
        "app tracked": any(thing is app for thing in tracked),
        "registry tracked": any(thing is app.registry for thing in tracked),
        "garbage kept": left_over() is not None,
        "frozen": gc.get_freeze_count(),
        "new objects tracked": any(thing is made_after for thing in tracked),
    }

reading, writing = os.pipe()
worker = os.fork()
if worker == 0:
    os.write(writing, json.dumps(report()).encode())
    os._exit(0)
os.close(writing)
in_worker = json.loads(os.read(reading, 4096))
os.waitpid(worker, 0)
print(json.dumps({"server": report(), "worker": in_worker}))
"""


def test_the_app_factory_leaves_the_app_frozen_in_the_server_and_its_forked_workers(base_settings):
    settings = {**base_settings, "pyramidion.plugins.enabled": ""}
    done = subprocess.run(
        [sys.executable, "-c", SERVER, json.dumps(settings)], capture_output=True, text=True, timeout=120, check=True
    )
    reports = json.loads(done.stdout.strip().splitlines()[-1])
    for where, report in reports.items():
        assert report["app tracked"] is False and report["registry tracked"] is False, where
        assert report["frozen"] > 10_000, where  # the modules, the configuration, the schemas
        assert report["garbage kept"] is False, where  # start-up's garbage was collected, not frozen
        assert report["new objects tracked"] is True, where  # what comes later is collected as usual
