"""Run ``nfdump`` (Debian package ``nfdump``) over capture files and read its flows.

nfdump is a C program that reads nfcapd's files at hundreds of thousands of flows a second; doing the same in
Python would cost an order of magnitude more (tests/bench/netflow_search.py). One nfdump process reads one
exporter's directory (``-R first:last`` of the files the time range needs); its CSV is read as it streams and
the process is stopped once the search has enough flows. Arguments go to the program as a list, never through a
shell, and the filter is built from typed values (`query.nfdump_filter`).
"""

import asyncio
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ispb_netsync.netflow.errors import NfdumpFailed, NfdumpMissing
from ispb_netsync.netflow.files import ROTATION, files_for
from ispb_netsync.netflow.query import FlowQuery, nfdump_filter
from ispb_netsync.netflow.records import CsvColumns, FlowRecord

APT_HINT = "install it with: apt-get install nfdump"
_FILE_TROUBLE = ("Short read", "bad magic", "Open file", "GetNextFile", "Unable to open", "Corrupt", "stat() error")


@dataclass(frozen=True)
class FlowSearch:
    """What a search found: ``flows`` (oldest first), whether ``truncated`` at the query's limit, how many
    capture ``files`` were read, and ``warnings`` about files nfdump could not read (they are skipped, the rest
    is still searched)."""

    flows: tuple[FlowRecord, ...]
    truncated: bool
    files: int
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Nfdump:
    """The nfdump program: ``binary`` (a name on PATH or a path), a time-out per directory, how many run at once."""

    binary: str = "nfdump"
    timeout_s: float = 60.0
    rotation_s: int = int(ROTATION.total_seconds())
    parallel: int = 2
    """nfdump processes at once for a search over several exporters (each uses one CPU)."""

    async def version(self) -> str:
        """``nfdump -V``'s answer, e.g. ``nfdump: Version: NSEL-NEL1.7.1``; `NfdumpMissing` without it."""
        process = await self._start("-V")
        stdout, _ = await process.communicate()
        return stdout.decode(errors="replace").strip()

    async def check_filter(self, expression: str) -> None:
        """Let nfdump compile ``expression`` (``-Z``); `NfdumpFailed` with its message when it refuses."""
        process = await self._start("-Z", expression)
        stdout, stderr = await process.communicate()
        if process.returncode != 0:
            raise NfdumpFailed(_last_words(stdout + stderr) or f"nfdump refused the filter {expression!r}")

    async def search(self, directories: Sequence[Path], query: FlowQuery) -> FlowSearch:
        """The flows in ``directories`` (one per exporter) that match ``query``, oldest first.

        Up to ``parallel`` nfdump processes run at once (one per directory); if one fails, the others are
        stopped and its error is raised.
        """
        gate = asyncio.Semaphore(self.parallel)
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._directory(directory, query, gate)) for directory in directories]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        flows: list[FlowRecord] = []
        warnings: list[str] = []
        truncated = False
        files = 0
        for task in tasks:
            found, cut, trouble, read = task.result()
            flows.extend(found)
            truncated |= cut
            warnings.extend(trouble)
            files += read
        flows.sort(key=lambda flow: (flow.first, flow.last))
        if len(flows) > query.limit:
            flows, truncated = flows[: query.limit], True
        return FlowSearch(tuple(flows), truncated, files, tuple(warnings))

    async def _directory(
        self, directory: Path, query: FlowQuery, gate: asyncio.Semaphore
    ) -> tuple[list[FlowRecord], bool, list[str], int]:
        """One exporter's part: its files for the range (listed off the event loop: a year is 100,000 names),
        then one nfdump over them."""
        selected = await asyncio.to_thread(files_for, directory, query.window, timedelta(seconds=self.rotation_s))
        if not selected:
            return [], False, [], 0
        async with gate:
            found, cut, trouble = await self._read(directory, selected[0].path.name, selected[-1].path.name, query)
        return found, cut, trouble, len(selected)

    async def _read(
        self, directory: Path, first: str, last: str, query: FlowQuery
    ) -> tuple[list[FlowRecord], bool, list[str]]:
        process = await self._start("-R", f"{directory / first}:{last}", "-o", "csv", nfdump_filter(query))
        try:
            async with asyncio.timeout(self.timeout_s):
                found, truncated, complaint = await _collect(process, query)
                stderr = b"" if truncated or process.stderr is None else await process.stderr.read()
                if not truncated:
                    await process.wait()
        except TimeoutError:
            raise NfdumpFailed(f"nfdump took longer than {self.timeout_s:g} s over {directory}") from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        text = stderr.decode(errors="replace")
        if not truncated and (complaint or process.returncode != 0):
            words = _last_words((complaint + text).encode())
            raise NfdumpFailed(words or f"nfdump ended with status {process.returncode}")
        trouble = [f"{directory.name}: {line.strip()}" for line in text.splitlines() if line.startswith(_FILE_TROUBLE)]
        return found, truncated, trouble

    async def _start(self, *arguments: str) -> asyncio.subprocess.Process:
        environment = dict(os.environ, TZ="UTC")
        try:
            return await asyncio.create_subprocess_exec(
                self.binary,
                *arguments,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=environment,
            )
        except (FileNotFoundError, PermissionError):
            raise NfdumpMissing(f"the nfdump program ({self.binary}) is not installed; {APT_HINT}") from None


async def _collect(process: asyncio.subprocess.Process, query: FlowQuery) -> tuple[list[FlowRecord], bool, str]:
    """Read the CSV as nfdump writes it; (flows, truncated, nfdump's own words when it printed no CSV)."""
    assert process.stdout is not None
    columns: CsvColumns | None = None
    found: list[FlowRecord] = []
    number = 0
    async for raw in process.stdout:
        number += 1
        line = raw.decode(errors="replace").strip()
        if columns is None:
            if "," not in line:  # nfdump's complaint (a filter it refuses) instead of a header
                return found, False, line + (await process.stdout.read()).decode(errors="replace")
            columns = CsvColumns.from_header(line)
        elif columns.is_end(line):
            break
        else:
            record = columns.record(line, number)
            if query.overlaps(record.first, record.last):
                found.append(record)
                if len(found) > query.limit:
                    return found, True, ""
    await process.stdout.read()
    return found, False, ""


def _last_words(output: bytes) -> str:
    lines = [line.strip() for line in output.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""
