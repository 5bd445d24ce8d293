"""The platform's declared version ranges admit the libraries it is built with (each library is released on its
own, so a range that excludes the workspace's version would install an older API from an index)."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = {
    "ispb-billing": ROOT / "packages" / "ispb-billing",
    "ispb-netsync": ROOT / "packages" / "ispb-netsync",
    "ispb-notify": ROOT / "packages" / "ispb-notify",
    "ispb-monitor": ROOT / "packages" / "ispb-monitor",
    "ispb-tenants": ROOT / "tenants",
}


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def test_the_platform_admits_every_workspace_librarys_version() -> None:
    declared = {Requirement(line).name: Requirement(line) for line in _project(ROOT / "platform")["dependencies"]}
    refused = {
        name: (str(declared[name].specifier), _project(folder)["version"])
        for name, folder in MEMBERS.items()
        if not declared[name].specifier.contains(_project(folder)["version"])
    }
    assert refused == {}
