"""An installed copy (``pip install .``, not editable) holds everything the checkout runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "core": "pyramidion",
    **{f"plugins/{p.name}": f"pyramidion_{p.name}" for p in (ROOT / "plugins").iterdir() if p.is_dir()},
}


def _copy_of_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools would reuse what an earlier build left in build/.
    source = tmp_path_factory.mktemp("source") / "pyramidion"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".hypothesis"),
    )
    return source


@pytest.fixture(scope="module")
def wheel_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], str]:
    """The names in a wheel built from a copy of the checkout, and what the build printed."""
    source = _copy_of_the_checkout(tmp_path_factory)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = out.glob("pyramidion-*.whl")
    return set(zipfile.ZipFile(wheel).namelist()), build.stdout + build.stderr


@pytest.fixture(scope="module")
def wheel_files(wheel_build: tuple[set[str], str]) -> set[str]:
    return wheel_build[0]


def _installed_name(source: Path) -> str:
    relative = source.relative_to(ROOT)
    for folder, package in FOLDERS.items():
        if relative.is_relative_to(folder):
            return str(Path(package) / relative.relative_to(folder))
    raise AssertionError(f"{relative} is in no package folder")


def test_every_module_and_migration_is_in_the_wheel(wheel_files: set[str]) -> None:
    sources = [path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts]
    missing = sorted(_installed_name(path) for path in sources if _installed_name(path) not in wheel_files)
    assert missing == []


def test_the_alembic_environment_and_core_revisions_are_in_the_wheel(wheel_files: set[str]) -> None:
    shared = {name.split("/data/", 1)[1] for name in wheel_files if ".data/data/" in name}
    expected = {
        f"share/pyramidion/alembic/{p.relative_to(ROOT / 'alembic')}"
        for p in (ROOT / "alembic").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected <= shared


def test_the_templates_of_new_plugin_are_in_the_wheel(wheel_files: set[str]) -> None:
    templates = list((ROOT / "core" / "scaffold" / "template").rglob("*.tmpl"))
    assert templates
    assert sorted(_installed_name(path) for path in templates if _installed_name(path) not in wheel_files) == []


def _assert_quiet(output: str) -> None:
    # A Python warning from the build backend (setuptools' "Package ... is absent
    # from the `packages` configuration" for every data folder, deprecations).
    # pip's own "WARNING:" lines are about this machine's package indexes.
    assert "absent from the `packages` configuration" not in output
    assert re.findall(r"\w+Warning: .*", output) == []


def test_the_build_prints_no_warning(wheel_build: tuple[set[str], str]) -> None:
    _assert_quiet(wheel_build[1])


def test_the_editable_build_prints_no_warning(tmp_path_factory: pytest.TempPathFactory) -> None:
    # What `pip install -e .` asks of the build backend, with all it prints.
    source = _copy_of_the_checkout(tmp_path_factory)
    out = tmp_path_factory.mktemp("editable")
    build = subprocess.run(
        [sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_editable({str(out)!r})"],
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
    )
    assert list(out.glob("pyramidion-*.editable-*.whl"))
    _assert_quiet(build.stdout + build.stderr)
