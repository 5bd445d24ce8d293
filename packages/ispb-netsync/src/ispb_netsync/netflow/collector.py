"""nfcapd (Debian package ``nfdump``): the collector that receives routers' NetFlow v5/v9 and IPFIX.

One nfcapd listens on one UDP port for every exporter. Each known exporter is a source (``-n ident,IP,dir``):
nfcapd writes its flows into its own directory and drops packets from any other address, logging
``Unknown flow source: '<ip>'`` (nfcapd 1.7.1). Garbage packets from a known exporter are counted as bad
packets and dropped. So unknown exporters and junk are handled by nfcapd itself; `unknown_exporter` picks
the address out of its log for the platform's log.

nfcapd reads its sources only at start: `NfcapdCollector.apply` restarts it when the set changes (SIGTERM
makes nfcapd close and rename its current files first; UDP packets that arrive during the restart, well
under a second, are lost, as with any collector restart).
"""

import asyncio
import contextlib
import ipaddress
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ispb_netsync.netflow.errors import NetFlowError, NfdumpMissing
from ispb_netsync.netflow.files import ROTATION
from ispb_netsync.netflow.query import Address

APT_HINT = "install it with: apt-get install nfdump (it brings nfcapd)"
STOP_WAIT_S = 10.0
_IDENT = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_UNKNOWN = re.compile(r"Unknown flow source: '([0-9A-Fa-f:.]+)'")


@dataclass(frozen=True, order=True)
class ExporterSource:
    """One router that exports flows: its name in nfcapd's statistics, its source address, its directory."""

    ident: str
    address: Address
    directory: Path

    def __post_init__(self) -> None:
        if not _IDENT.fullmatch(self.ident):
            raise NetFlowError(f"an exporter name must be 1-100 letters, digits, '.', '_' or '-': {self.ident!r}")
        if "," in str(self.directory):
            raise NetFlowError(f"nfcapd cannot take a directory with a comma: {self.directory}")

    def argument(self) -> str:
        return f"{self.ident},{self.address},{self.directory}"


def nfcapd_arguments(
    sources: Sequence[ExporterSource], *, host: str, port: int, rotation_s: int = int(ROTATION.total_seconds())
) -> list[str]:
    """nfcapd's arguments (without the program) for ``sources`` on ``host``:``port``, in the foreground.

    >>> nfcapd_arguments([ExporterSource("r1", ipaddress.ip_address("10.0.0.1"), Path("/d/r1"))],
    ...                  host="0.0.0.0", port=9995)
    ['-b', '0.0.0.0', '-p', '9995', '-t', '300', '-C', 'none', '-n', 'r1,10.0.0.1,/d/r1']
    """
    if not sources:
        raise NetFlowError("nfcapd needs at least one exporter")
    addresses = [source.address for source in sources]
    if len(set(addresses)) != len(addresses):
        raise NetFlowError("two exporters have the same source address; nfcapd cannot tell them apart")
    arguments = ["-b", host, "-p", str(port), "-t", str(rotation_s), "-C", "none"]
    for source in sorted(sources):
        arguments += ["-n", source.argument()]
    return arguments


def unknown_exporter(line: str) -> Address | None:
    """The address in nfcapd's ``Unknown flow source: '<ip>'`` line, else None."""
    match = _UNKNOWN.search(line)
    if match is None:
        return None
    try:
        return ipaddress.ip_address(match.group(1))
    except ValueError:
        return None


LogLine = Callable[[str], Awaitable[None]]


@dataclass
class NfcapdCollector:
    """Runs nfcapd for a changing set of exporters, and hands each of its log lines to ``log``."""

    host: str
    port: int
    log: LogLine
    binary: str = "nfcapd"
    rotation_s: int = int(ROTATION.total_seconds())
    _sources: tuple[ExporterSource, ...] = field(default=(), init=False)
    _process: asyncio.subprocess.Process | None = field(default=None, init=False)
    _reader: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def sources(self) -> tuple[ExporterSource, ...]:
        return self._sources

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def apply(self, sources: Sequence[ExporterSource]) -> bool:
        """Run nfcapd for exactly ``sources`` (none: stop it); True when it (re)started."""
        wanted = tuple(sorted(sources))
        if wanted == self._sources and (self.running or not wanted):
            return False
        await self.stop()
        self._sources = wanted
        if not wanted:
            return False
        for source in wanted:
            source.directory.mkdir(parents=True, exist_ok=True)
        arguments = nfcapd_arguments(wanted, host=self.host, port=self.port, rotation_s=self.rotation_s)
        try:
            self._process = await asyncio.create_subprocess_exec(
                self.binary,
                *arguments,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=dict(os.environ, TZ="UTC"),  # file names in UTC (files.py)
            )
        except (FileNotFoundError, PermissionError):
            self._sources = ()
            raise NfdumpMissing(f"the nfcapd program ({self.binary}) is not installed; {APT_HINT}") from None
        self._reader = asyncio.create_task(self._forward(self._process))
        return True

    async def stop(self) -> None:
        """SIGTERM (nfcapd finishes its current files), then wait; kill after `STOP_WAIT_S`."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader is not None:
            await self._reader
            self._reader = None

    async def wait(self) -> int:
        """Until nfcapd ends on its own (a bound port, a bad directory); its exit status."""
        if self._process is None:
            raise NetFlowError("nfcapd is not running")
        return await self._process.wait()

    async def _forward(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            if line:
                await self.log(line)
