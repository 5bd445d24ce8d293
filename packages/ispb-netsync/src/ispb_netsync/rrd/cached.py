"""rrdcached (Debian package ``rrdcached``): the daemon that owns every RRD write, and how to run and reach it.

rrdcached keeps each file's new values in memory and writes them in one go every ``write_interval`` seconds
(spread by ``write_jitter``), so a file is written once per half hour instead of every 5 minutes; a journal
replays what it had accepted after a crash. Every process that updates, fetches or graphs passes its address
(``unix:/path``), and rrdcached flushes a file before a fetch or graph reads it.

`ping` is the one call made to the daemon outside librrd: librrd has no liveness check, and when the daemon
is gone its ``update`` returns success without writing anything (rrdtool 1.7.2: after one "socket error",
every later update "succeeds"), so `RRDStore` pings before and after a batch.

>>> RRDCached(Path("/run/ispb/rrdcached.sock"), base_dir=Path("/var/ispb/rrd")).address
'unix:/run/ispb/rrdcached.sock'
"""

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ispb_netsync.rrd.errors import RRDCachedUnavailable

APT_HINT = "rrdcached is not installed: apt-get install -y rrdcached"


def ping(address: str, timeout: float = 2.0) -> None:
    """Ask rrdcached at ``address`` (``unix:/path``) for ``PONG``; `RRDCachedUnavailable` if it does not say it."""
    if not address.startswith("unix:"):
        raise RRDCachedUnavailable(f"{address}: only unix: socket addresses are supported (files are shared)")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(address.removeprefix("unix:"))
            connection.sendall(b"PING\n")
            answer = connection.recv(64)
    except OSError as error:
        raise RRDCachedUnavailable(f"rrdcached at {address}: {error.strerror or error}") from None
    if not answer.startswith(b"0 PONG"):
        raise RRDCachedUnavailable(f"rrdcached at {address} answered {answer[:40]!r} instead of PONG")


@dataclass(frozen=True)
class RRDCached:
    """One rrdcached: its socket, the directory it may write under, its journal and write timing.

    Defaults: each file written every 30 minutes (6 polls per write), writes spread over 30 minutes so 100,000
    files do not all hit the disk at once, old values flushed within an hour, everything flushed at shutdown.
    """

    socket: Path
    base_dir: Path
    journal_dir: Path | None = None
    write_interval: int = 1800
    write_jitter: int = 1800
    flush_interval: int = 3600
    write_threads: int = 4

    @property
    def journal(self) -> Path:
        return self.journal_dir or self.base_dir / ".journal"

    @property
    def log_file(self) -> Path:
        """rrdcached's own messages (failed writes, journal replays): beside the journal."""
        return self.journal / "rrdcached.log"

    @property
    def address(self) -> str:
        """What librrd's ``--daemon`` and `ping` take."""
        return f"unix:{self.socket}"

    def command(self, executable: str = "rrdcached") -> list[str]:
        """The foreground command line (``-g``), for a supervisor or `start`."""
        return [
            executable,
            "-g",  # foreground: the caller supervises it
            "-l",
            self.address,
            "-m",
            "0660",  # socket: the owner and its group only
            "-b",
            str(self.base_dir),
            "-B",  # no file outside base_dir
            "-O",  # CREATE never overwrites a file
            "-j",
            str(self.journal),
            "-o",
            str(self.log_file),
            "-F",  # flush everything on shutdown
            "-w",
            str(self.write_interval),
            "-z",
            str(self.write_jitter),
            "-f",
            str(self.flush_interval),
            "-t",
            str(self.write_threads),
        ]

    def start(self, timeout: float = 10.0) -> "RunningRRDCached":
        """Start it and wait until it answers `ping`; stop it with ``.stop()`` or a ``with`` block."""
        executable = shutil.which("rrdcached") or shutil.which("rrdcached", path="/usr/sbin:/usr/bin")
        if executable is None:
            raise RRDCachedUnavailable(APT_HINT)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.journal.mkdir(parents=True, exist_ok=True)
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)  # a socket left by a killed daemon would refuse the bind
        with self.log_file.open("ab") as log:  # never a pipe: nobody reads it, and a full pipe blocks the daemon
            process = subprocess.Popen(  # noqa: S603 - a fixed executable with our own arguments
                self.command(executable), stdout=log, stderr=log
            )
        running = RunningRRDCached(self, process)
        deadline = time.monotonic() + timeout
        while True:
            try:
                ping(self.address, timeout=1.0)
                return running
            except RRDCachedUnavailable:
                if process.poll() is not None or time.monotonic() > deadline:
                    problem = running.stop()
                    raise RRDCachedUnavailable(f"rrdcached did not start: {problem}") from None
                time.sleep(0.05)


@dataclass
class RunningRRDCached:
    """A started rrdcached; `stop` flushes (``-F``) and ends it."""

    config: RRDCached
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return self.config.address

    def stop(self, timeout: float = 60.0) -> str:
        """End the daemon (SIGTERM: it writes every queued value first); how it ended and its last messages."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            messages = self.config.log_file.read_text(errors="replace").strip().splitlines()[-5:]
        except OSError:
            messages = []
        return "; ".join([f"exit status {self.process.returncode}", *messages])

    def __enter__(self) -> "RunningRRDCached":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
