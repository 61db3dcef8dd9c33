"""Quiet, useful logs: an expected failure is one line saying what happens next, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyramidion.realtime.router import CROSSBAR_VERSION

PYRAMIDION = Path(sys.executable).parent / "pyramidion"


def test_router_install_shows_its_steps_and_pips_reason_when_it_fails(tmp_path: Path) -> None:
    # No package index and no wheel folder with Crossbar: pip fails at once, after the virtualenv exists.
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path), "PIP_CONFIG_FILE": os.devnull}
    venv = tmp_path / "crossbar"
    result = subprocess.run(
        [str(PYRAMIDION), "router", "install", "--venv", str(venv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stdout.splitlines() == [
        f"installing Crossbar {CROSSBAR_VERSION} in {venv}; this takes a minute or two",
        f"  creating the virtualenv {venv}",
        f"  resolving crossbar=={CROSSBAR_VERSION} and numpy<2 with their dependencies",
    ]
    assert f"No matching distribution found for crossbar=={CROSSBAR_VERSION}" in result.stderr
    assert "could not install the router" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
