"""A real SSH server on loopback for the netmiko templates, and helpers for the jobs tests.

``ssh_server`` starts Debian's OpenSSH (``/usr/sbin/sshd``, package
openssh-server) on a free port with a throw-away host key, accepting a
throw-away client key for the user running the tests.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyramidion.testing import free_port

SSHD = "/usr/sbin/sshd"


def _wait_for_banner(port: int, process: subprocess.Popen) -> None:
    # Connect until sshd answers with its banner; no sleeping on a clock.
    while process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            continue
    raise RuntimeError(f"sshd exited with {process.returncode}: {process.stderr.read().decode()}")


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(SSHD).exists():
        pytest.skip("OpenSSH server missing: apt-get install -y openssh-server")
    folder = tmp_path_factory.mktemp("sshd")
    folder.chmod(0o700)
    host_key, client_key = folder / "host_key", folder / "client_key"
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    shutil.copy(f"{client_key}.pub", folder / "authorized_keys")
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
        "StrictModes no\nUsePAM no\nPrintMotd no\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        _wait_for_banner(port, process)
        yield {"host": "127.0.0.1", "port": port, "username": getpass.getuser(), "key_file": str(client_key)}
    finally:
        process.terminate()
        process.wait(timeout=10)
