"""``pyramidion new-plugin``: what it writes installs with pip, passes its own tests and its linter at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(*command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scaffold") / "pyramidion-book-club"
    result = _run(str(BIN / "pyramidion"), "new-plugin", "book_club", "--directory", str(folder))
    assert result.returncode == 0, result.stderr
    assert f"wrote the plugin book_club in {folder}" in result.stdout
    return folder


def test_it_writes_the_plugin_skeleton(scaffolded: Path):
    package = scaffolded / "pyramidion_book_club"
    for module in ("__init__", "settings", "models", "schemas", "services", "views", "tasks", "demo"):
        assert (package / f"{module}.py").is_file(), module
    assert (package / "console" / "__init__.py").is_file()
    assert (package / "console" / "templates" / "items.jinja2").is_file()
    assert (package / "migrations" / "0001_items.py").is_file()
    assert 'book_club = "pyramidion_book_club"' in (scaffolded / "pyproject.toml").read_text()
    assert list((scaffolded / "tests").glob("test_*.py"))


def test_it_passes_ruff_as_written(scaffolded: Path):
    lint = _run(str(BIN / "ruff"), "check", ".", cwd=scaffolded)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = _run(str(BIN / "ruff"), "format", "--check", ".", cwd=scaffolded)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.slow
def test_it_installs_with_pip_and_passes_its_own_tests(scaffolded: Path, tmp_path: Path):
    site = tmp_path / "site"
    installed = _run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--target", str(site), str(scaffolded),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    # Quietly: no setuptools warning for its data folders, which its author would see on every install.
    assert "absent from the `packages` configuration" not in installed.stdout + installed.stderr
    assert (site / "pyramidion_book_club" / "console" / "templates" / "items.jinja2").is_file()
    # Its own pytest, from its own folder, as its author would run it; nothing of this run leaks in.
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "PYRAMIDION_TEST_PLUGINS"))
    }
    env.update(PYTHONPATH=str(site), PYRAMIDION_TEST_PLUGINS="book_club", PYTHONWARNINGS="ignore")
    result = _run(str(BIN / "pytest"), "-q", "-p", "no:randomly", cwd=scaffolded, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Books", "is not a plugin name"),
        ("2fast", "is not a plugin name"),
        ("a__b", "is not a plugin name"),
        ("core", "is used by the core"),
    ],
)
def test_a_bad_name_is_refused_with_a_message(tmp_path: Path, name: str, message: str):
    result = _run(str(BIN / "pyramidion"), "new-plugin", name, "--directory", str(tmp_path / "out"))
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_in_use_is_left_alone(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine")
    result = _run(str(BIN / "pyramidion"), "new-plugin", "library", "--directory", str(tmp_path))
    assert result.returncode == 2 and "is not empty" in result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]
