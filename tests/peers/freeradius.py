"""A real FreeRADIUS 3 for tests: a copy of the installed /etc/freeradius/3.0 with our generated files on top,
run in the foreground on loopback ports, stopped (and waited for) when the block ends.

    with running_freeradius(config.files, auth_port=port) as radius:
        ...  # send requests to radius.address:radius.auth_port

Needs ``apt-get install freeradius freeradius-postgresql freeradius-utils``.
"""

import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ispb_platform.network.radius.config import STOCK_FILES

STOCK_DIR = Path("/etc/freeradius/3.0")
_READY = "Ready to process requests"


def free_udp_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct UDP ports that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class FreeRadius:
    directory: Path
    address: str
    auth_port: int
    acct_port: int
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "".join(self.output)


def binary() -> str:
    found = shutil.which("freeradius") or shutil.which("radiusd")
    if found is None or not STOCK_DIR.is_dir():
        # a peer the suite needs is missing: fail loudly (a skip would let the RADIUS tests pass by not running)
        pytest.fail("FreeRADIUS is not installed (apt-get install freeradius freeradius-postgresql freeradius-utils)")
    return found


def prepare(files: Mapping[str, str], directory: Path) -> None:
    """Copy the stock configuration into ``directory``, remove what docs/radius.md tells operators to remove
    (`STOCK_FILES`, nothing more) and lay ``files`` over it (clients.conf replaces the stock one)."""
    shutil.copytree(STOCK_DIR, directory, symlinks=True)
    for relative in STOCK_FILES:
        (directory / relative).unlink(missing_ok=True)
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    # Stay the user that started us (the copy lives in a private temporary directory), and answer rejects
    # at once (the stock one-second reject_delay would make every negative test slow).
    conf = directory / "radiusd.conf"
    lines = conf.read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if line.strip() not in ("user = freerad", "group = freerad")]
    lines = ["\treject_delay = 0" if line.strip() == "reject_delay = 1" else line for line in lines]
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _pump(process: subprocess.Popen[str], sink: list[str], ready: threading.Event) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sink.append(line)
        if _READY in line:
            ready.set()
    ready.set()  # the process ended: stop waiting


@contextmanager
def running_freeradius(
    files: Mapping[str, str], *, auth_port: int, acct_port: int, address: str = "127.0.0.1", debug: bool = False
) -> Iterator[FreeRadius]:
    """Start FreeRADIUS with ``files`` (from ``ispb_platform.network.radius.config.render``) and stop it afterwards.

    ``files`` must listen on ``address``:``auth_port``/``acct_port``. ``debug`` runs with ``-X`` (every
    request's processing in `FreeRadius.log`).
    """
    executable = binary()
    with tempfile.TemporaryDirectory(prefix="ispb-freeradius-") as tmp:
        directory = Path(tmp) / "raddb"
        prepare(files, directory)
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        command = [executable, "-f", "-d", str(directory), "-l", "stdout", "-D", "/usr/share/freeradius"]
        command += ["-X"] if debug else []
        process = subprocess.Popen(  # a real FreeRADIUS, loopback only, ended in `finally`
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp
        )
        radius = FreeRadius(directory, address, auth_port, acct_port, process)
        ready = threading.Event()
        reader = threading.Thread(target=_pump, args=(process, radius.output, ready), daemon=True)
        reader.start()
        try:
            if not ready.wait(15) or process.poll() is not None:
                raise RuntimeError(f"FreeRADIUS did not start:\n{radius.log()[-4000:]}")
            yield radius
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(timeout=5)
            assert process.stdout is not None
            process.stdout.close()
