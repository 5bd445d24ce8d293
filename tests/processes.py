"""The settings of every ``ispb`` process a test starts: this session's own, never a running demo's.

A demo served from the same checkout (``scripts/demo``) keeps its embedded PostgreSQL, secret key and state
under ``./var`` and may take its settings (``ISPB_DATABASE_URL``, ``ISPB_REDIS_URL``, ``ISPB_PORT``, ...) from
the shell that also runs ``scripts/test``. So a test process gets none of the caller's ``ISPB_`` variables, a
data directory of this session (not ``./var``), and a queue name of this session (not ``ispb``, which a demo
on a shared Redis uses); its database and port are the test's own. ``tests/conftest.py`` applies the same to
the pytest process itself, for commands run in-process.
"""

import os
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

DATA_DIR = Path(tempfile.mkdtemp(prefix="ispb-test-data-"))
QUEUE_NAME = f"test-{os.getpid()}-{secrets.token_hex(3)}"
ISPB = str(Path(sys.executable).parent / "ispb")
KEPT = ("ISPB_TEST_", "ISPB_CHROMIUM")
"""The test suite's own settings, not the platform's."""


def session_settings() -> dict[str, str]:
    return {"ISPB_DATA_DIR": str(DATA_DIR), "ISPB_QUEUE_NAME": QUEUE_NAME}


def ispb_environment(database_url: str | None = None, **settings: str) -> dict[str, str]:
    """``os.environ`` without any ``ISPB_`` setting, plus this session's, ``database_url`` and ``settings``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ISPB_")}
    environment |= session_settings()
    if database_url is not None:
        environment["ISPB_DATABASE_URL"] = database_url
    return environment | settings


def isolate_this_process() -> None:
    """Drop the caller's ``ISPB_`` settings from the pytest process and use this session's (in-process CLI)."""
    for name in [name for name in os.environ if name.startswith("ISPB_") and not name.startswith(KEPT)]:
        del os.environ[name]
    os.environ.update(session_settings())


def start_ispb(command: str, environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``ispb COMMAND`` (``worker``, ``web``) as its own process, its output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([ISPB, command], env=environment, stdout=out, stderr=subprocess.STDOUT)


def stop_ispb(process: subprocess.Popen[bytes]) -> None:
    """Stop it as systemd would: SIGTERM, then SIGKILL if it has not ended after 30 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
