"""Refresh the console's vendored browser assets from the npm registry.

Run ``python -m pyramidion.console.vendor`` (or ``make vendor``) with ``npm``
on PATH. Each package is fetched with ``npm pack`` at the version pinned in
:data:`ASSETS`, its chosen files and license copied under
``core/console/static/vendor/<folder>/``, and ``VENDORED.md`` rewritten with
versions, licenses and SHA-256 sums. Nothing is fetched at run time: the
assets ship inside the package, so a fresh machine needs only Python.

To upgrade, change a version here, run the command, look at the pages (the
browser tests take screenshots) and commit the result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"


@dataclasses.dataclass(frozen=True)
class Asset:
    package: str  # npm name
    version: str
    folder: str  # under static/vendor/
    files: tuple[str, ...]  # paths inside the npm tarball's package/ folder
    why: str


ASSETS = (
    Asset(
        "htmx.org",
        "2.0.11",
        "htmx",
        ("dist/htmx.min.js", "LICENSE"),
        "partial page updates (hx-get, hx-post); the 2.x line: 4.x changed attribute inheritance and events",
    ),
    Asset(
        "@picocss/pico",
        "2.1.1",
        "pico",
        ("css/pico.min.css", "LICENSE.md"),
        "small class-light CSS framework: readable forms and tables from 360 px phones to desktops",
    ),
    Asset(
        "autobahn-browser",
        "22.11.1",
        "autobahn",
        ("autobahn.min.js", "LICENSE"),
        "WAMP client for live pages (pyramidion-live.js)",
    ),
    Asset(
        "swagger-ui-dist",
        "5.35.0",
        "swagger-ui",
        ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"),
        "the API explorer at /api/docs; reads OpenAPI 3.1",
    ),
)


def _license_of(package_json: dict) -> str:
    license = package_json.get("license", "")
    return license if isinstance(license, str) else license.get("type", "")


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    """A file of the npm tarball's ``package/`` folder; KeyError names it when missing."""
    member = archive.extractfile(f"package/{name}")
    if member is None:
        raise KeyError(f"package/{name} is not a file")
    return member.read()


def fetch(asset: Asset, workdir: Path) -> tuple[str, list[tuple[str, str]]]:
    """Unpack ``asset`` from npm into its folder; its license name and (file, sha256) pairs."""
    spec = f"{asset.package}@{asset.version}"
    out = subprocess.run(
        ["npm", "pack", "--silent", "--pack-destination", str(workdir), spec],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = workdir / out.stdout.strip().splitlines()[-1]
    target = VENDOR / asset.folder
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    sums = []
    with tarfile.open(tarball) as archive:
        package_json = json.loads(_member(archive, "package.json"))
        for name in asset.files:
            data = _member(archive, name)
            destination = target / Path(name).name
            destination.write_bytes(data)
            sums.append((f"{asset.folder}/{destination.name}", hashlib.sha256(data).hexdigest()))
    return _license_of(package_json), sums


def write_record(rows: list[tuple[Asset, str, list[tuple[str, str]]]]) -> None:
    lines = [
        "# Vendored browser assets",
        "",
        "Served from the package (no CDN at run time). Refresh with `make vendor`",
        "(`python -m pyramidion.console.vendor`, needs `npm`); versions are pinned in",
        "`core/console/vendor.py`. Each folder holds the package's own license file.",
        "",
        "| package | version | license | folder | used for |",
        "| --- | --- | --- | --- | --- |",
    ]
    for asset, license, _ in rows:
        lines.append(f"| `{asset.package}` | {asset.version} | {license} | `{asset.folder}/` | {asset.why} |")
    lines += ["", "## SHA-256", "", "```"]
    for _, _, sums in rows:
        lines += [f"{digest}  {name}" for name, digest in sums]
    lines += ["```", ""]
    (VENDOR / "VENDORED.md").write_text("\n".join(lines))


def main() -> int:
    if shutil.which("npm") is None:
        print("vendor: npm is needed to refresh the assets (apt-get install npm)", file=sys.stderr)
        return 2
    VENDOR.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for asset in ASSETS:
            license, sums = fetch(asset, Path(workdir))
            rows.append((asset, license, sums))
            print(f"vendor: {asset.package} {asset.version} ({license}) -> static/vendor/{asset.folder}/")
    write_record(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
