"""Publishing without a router, the settings, and the router commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyramidion import make_config
from pyramidion.realtime.router import crossbar_venv, router_installed
from pyramidion.settings import SettingsError


def test_a_rest_call_succeeds_and_counts_the_loss_when_the_router_is_down(make_app, demo, make_user, login):
    # The test settings point at port 1, where nothing listens.
    app = make_app(extra_plugins=[("demo", demo)])
    alice = make_user("alice")

    response = app.post("/api/demo/ping?note=lost", headers=login(alice), status=200)

    assert response.json == {"published": "lost"}
    assert app.app.registry.realtime.failures == 1
    health = app.get("/api/health", status=200).json
    assert health["status"] == "degraded"
    assert health["router"]["ok"] is False


def test_a_short_secret_stops_startup(base_settings):
    with pytest.raises(SettingsError, match="realtime.secret"):
        make_config({**base_settings, "realtime.secret": "too-short"})


def pyramidion(*args: str, **env: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("pyramidion")), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **env})


@pytest.mark.router
def test_router_install_is_quick_when_the_router_is_there():
    if not router_installed():
        pytest.skip("the Crossbar router is not installed: run `pyramidion router install`")
    result = pyramidion("router", "install", "--venv", str(crossbar_venv()))
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout


def test_router_start_says_how_to_install_a_missing_router(tmp_path):
    ini = tmp_path / "test.ini"
    ini.write_text(
        "[app:main]\nuse = egg:pyramidion\njwt.secret = "
        + "x" * 40
        + f"\nsqlalchemy.url = sqlite:///{tmp_path}/db.sqlite\n"
    )
    result = pyramidion("router", "start", str(ini), PYRAMIDION_REALTIME_CROSSBAR_VENV=str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "pyramidion router install" in result.stderr
