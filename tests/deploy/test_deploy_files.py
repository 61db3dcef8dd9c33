"""The files of deploy/ are what an operator installs: the systemd units must
pass ``systemd-analyze verify`` and the nginx site ``nginx -t``, with the
commands the units run present in this very environment.

Both tools come from Debian packages that ``.ci/run`` installs; on a machine
without them the checks are skipped, in CI they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALLED_BIN = "/opt/pyramidion/venv/bin/"


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def _units_here(tmp_path: Path) -> list[Path]:
    """The units with the installed venv's path replaced by this environment's."""
    here = str(Path(sys.executable).parent) + "/"
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED_BIN, here))
        units.append(copy)
    return units


def test_every_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    units = _units_here(tmp_path)
    # A template is verified through an instance of it.
    instances = [u.with_name(u.name.replace("@.", "@1.")) if "@." in u.name else u for u in units]
    result = subprocess.run(
        [analyze, "verify", "--man=no", *map(str, instances)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    # verify exits 0 on many parse errors ("ignoring"): any line it prints is a finding.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_units_run_the_commands_of_the_production_guide() -> None:
    execs = {
        unit.name: next(
            line.split("=", 1)[1] for line in unit.read_text().splitlines() if line.startswith("ExecStart=")
        )
        for unit in (DEPLOY / "systemd").glob("*.service")
    }
    ini = "/etc/pyramidion/production.ini"
    assert execs == {
        "pyramidion-web.service": f"{INSTALLED_BIN}pserve {ini}",
        "pyramidion-worker.service": f"{INSTALLED_BIN}pyramidion worker {ini}",
        "pyramidion-worker@.service": f"{INSTALLED_BIN}pyramidion worker {ini} --no-periodic",
        "pyramidion-router.service": f"{INSTALLED_BIN}pyramidion router start {ini}",
        "pyramidion-realtime.service": f"{INSTALLED_BIN}pyramidion realtime {ini}",
    }
    target = (DEPLOY / "systemd" / "pyramidion.target").read_text()
    for name in ("pyramidion-web", "pyramidion-worker", "pyramidion-router", "pyramidion-realtime"):
        assert f"{name}.service" in target


def test_the_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _tool("nginx")
    openssl = _tool("openssl")
    cert, key = tmp_path / "site.pem", tmp_path / "site.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pyramidion.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (
        (DEPLOY / "nginx" / "pyramidion.conf")
        .read_text()
        .replace("/etc/ssl/certs/pyramidion.pem", str(cert))
        .replace("/etc/ssl/private/pyramidion.key", str(key))
        .replace("/var/cache/nginx/pyramidion", str(tmp_path / "cache"))
    )
    (tmp_path / "site.conf").write_text(site)
    mime_types = Path("/etc/nginx/mime.types")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    {'include ' + str(mime_types) + ';' if mime_types.exists() else ''}\n"
        f"    access_log off;\n    include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
