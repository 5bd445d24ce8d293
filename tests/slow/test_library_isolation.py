"""Each library installs alone into a fresh venv, imports, and passes its own tests there (DESIGN 1)."""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ["ispb-billing", "ispb-netsync", "ispb-notify", "ispb-monitor"]
EXTRAS = {"ispb-netsync": "[rrd]", "ispb-monitor": "[network]"}
SIBLINGS = {"ispb-monitor": ("ispb-notify", "ispb-netsync")}
TEST_PEERS = {"ispb-netsync": ("snmpsim==1.2.2", "pysmi==2.0.0")}
"""Peers a library's own tests start (the OLT tests' simulated OLTs), at the versions uv.lock holds."""
"""Libraries of this workspace a library depends on (not on PyPI yet): installed from their folders beside it."""
PLATFORM_ONLY = ["litestar", "piccolo", "saq", "ispb_platform", "ispb_tenants", "asyncpg"]

pytestmark = pytest.mark.slow


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, cwd=cwd, timeout=600, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("library", LIBRARIES)
def test_library_installs_and_works_alone(library: str, tmp_path: Path):
    uv = shutil.which("uv")
    assert uv, "uv is needed to build fresh venvs"
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run(uv, "venv", "--quiet", "--python", "3.11", venv)
    # the library and its test tools only (pytest, hypothesis), never the platform
    tools = ("pytest", "pytest-asyncio", "hypothesis", *TEST_PEERS.get(library, ()))
    # with its extras, so the tests of every adapter run (ispb-netsync[rrd]: the rrdtool binding)
    extras = EXTRAS.get(library, "")
    siblings = [ROOT / "packages" / sibling for sibling in SIBLINGS.get(library, ())]
    _run(
        uv, "pip", "install", "--quiet", "--python", python, f"{ROOT / 'packages' / library}{extras}", *siblings, *tools
    )
    module = library.replace("-", "_")
    probe = (
        "import importlib.util, sys\n"
        f"import {module}\n"
        f"present = [m for m in {PLATFORM_ONLY!r} if importlib.util.find_spec(m) is not None]\n"
        "assert not present, f'platform packages installed with the library: {present}'\n"
        f"print({module}.__version__)\n"
    )
    declared = tomllib.loads((ROOT / "packages" / library / "pyproject.toml").read_text())["project"]["version"]
    assert _run(python, "-c", probe).strip() == declared
    # the library's own tests, with only the library (and pytest) installed; no root config
    tests = tmp_path / "tests"
    shutil.copytree(ROOT / "packages" / library / "tests", tests)
    _run(
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        "/dev/null",
        "-o",
        "asyncio_mode=auto",
        "--rootdir",
        tmp_path,
        tests,
        cwd=tmp_path,
    )
