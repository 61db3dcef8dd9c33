"""A worker process for the lease tests: ``python lease_worker.py SETTINGS.json [--periodic]``.

It builds the app from the settings as ``pyramidion worker`` builds it from
an ini file, with one more template, and runs the same Huey consumer. The
template ``wait_for_release(release)`` holds each host whose data says
``hold`` until the file ``release`` exists, so a test can kill its worker
(SIGKILL), stop it (SIGSTOP) or let it go mid-run.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from pyramidion import hookimpl, make_config
from pyramidion.testing import wait_for


def wait_for_release(task: Task, release: str) -> Result:
    """Holds the hosts whose data says ``hold`` until the file ``release`` exists.

    Args:
        release: the file whose creation lets the held hosts go on
    """
    if task.host.get("hold"):
        wait_for(lambda: Path(release).exists(), timeout=600, message=f"{release} was never created")
    return Result(host=task.host, result="released")


class LeaseTemplates:
    @hookimpl
    def pyramidion_job_templates(self) -> dict[str, Any]:
        return {"wait_for_release": wait_for_release}


PLUGINS = (("lease_templates", LeaseTemplates()),)


def main(settings_file: str, periodic: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    settings = json.loads(Path(settings_file).read_text())
    huey = make_config(settings, PLUGINS).registry.huey
    huey.create_consumer(workers=2, worker_type="thread", periodic=periodic, check_worker_health=True).run()


if __name__ == "__main__":
    main(sys.argv[1], "--periodic" in sys.argv[2:])
