"""Web workers forked from a master that built the app (gunicorn under pserve) get it frozen.

A frozen object is one the garbage collector never walks again: a worker's
full collections stay short, and they no longer write to the pages the
worker shares with its master (bench/README.md, "memory"). Run in a fresh
interpreter, so that this test process registers no fork hook of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Builds the app as pserve does (the PasteDeploy factory), leaves a garbage
# cycle behind, forks, and reports what the worker's collector still tracks.
WORKER = """
import gc, json, os, sys, weakref
import pyramidion

app = pyramidion.main({}, **json.loads(sys.argv[1]))

class Garbage:
    pass

cycle = Garbage()
cycle.itself = cycle
left_over = weakref.ref(cycle)
del cycle

reading, writing = os.pipe()
worker = os.fork()
if worker == 0:
    tracked = gc.get_objects()  # every generation but the frozen one
    report = {
        "app tracked": any(thing is app for thing in tracked),
        "registry tracked": any(thing is app.registry for thing in tracked),
        "garbage kept": left_over() is not None,
        "frozen": gc.get_freeze_count(),
    }
    made_after = [[]]
    report["new objects tracked"] = any(thing is made_after for thing in gc.get_objects())
    os.write(writing, json.dumps(report).encode())
    os._exit(0)
os.close(writing)
print(os.read(reading, 4096).decode())
os.waitpid(worker, 0)
"""


def test_a_worker_forked_after_the_app_factory_has_the_app_frozen(base_settings):
    settings = {**base_settings, "pyramidion.plugins.enabled": ""}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(settings)], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["app tracked"] is False and report["registry tracked"] is False
    assert report["frozen"] > 10_000  # the modules, the configuration, the schemas
    assert report["garbage kept"] is False  # what start-up left as garbage was collected, not frozen
    assert report["new objects tracked"] is True  # the worker's own objects are collected as usual
