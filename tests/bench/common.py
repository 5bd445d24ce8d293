"""What every bench shares: a scratch database, the peak memory of the work, and the row it adds to the
one bench table that ``scripts/bench`` prints (tests/bench/run_all.py collects the rows).

A bench calls `report` once per figure. The figure prints as a line of its own output and, when the bench runs
under ``run_all.py`` (``ISPB_BENCH_REPORT`` names a file), is appended to that file as one JSON line.
"""

import json
import os
import secrets
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg

from ispb_platform.embedded_postgres import start_embedded_postgres


@dataclass(frozen=True)
class Figure:
    """One row of the bench table. ``goal_below``/``goal_above`` bound ``result``; ``ratio_goal`` bounds
    result / floor when the bench measured a floor (the same work done the cheapest way we know)."""

    figure: str
    size: str
    result: float
    unit: str
    goal_below: float | None = None
    goal_above: float | None = None
    floor: float | None = None
    ratio_goal: float | None = None
    peak_rss_mb: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.result / self.floor if self.floor else None

    @property
    def goal(self) -> str:
        bound = f"< {self.goal_below:g} {self.unit}" if self.goal_below is not None else ""
        bound = bound or (f"> {self.goal_above:,g} {self.unit}" if self.goal_above is not None else "")
        ratio = f"ratio <= {self.ratio_goal:g}" if self.ratio_goal is not None else ""
        return ", ".join(part for part in (bound, ratio) if part) or "-"

    @property
    def met(self) -> bool:
        ratio = self.ratio
        return (
            (self.goal_below is None or self.result < self.goal_below)
            and (self.goal_above is None or self.result > self.goal_above)
            and (self.ratio_goal is None or (ratio is not None and ratio <= self.ratio_goal))
        )


def report(figure: Figure) -> None:
    ratio = f", floor {figure.floor:,.2f} {figure.unit}, ratio {figure.ratio:.2f}" if figure.ratio else ""
    memory = f", peak RSS {figure.peak_rss_mb:,.0f} MB" if figure.peak_rss_mb is not None else ""
    verdict = "met" if figure.met else "NOT met"
    print(
        f"[bench] {figure.figure} ({figure.size}): {figure.result:,.2f} {figure.unit}{ratio}{memory}"
        f"; goal {figure.goal}: {verdict}",
        flush=True,
    )
    if target := os.environ.get("ISPB_BENCH_REPORT"):
        with open(target, "a", encoding="utf-8") as rows:
            rows.write(json.dumps(asdict(figure)) + "\n")


def server_url() -> str:
    """ISPB_BENCH_DATABASE_URL, else the PostgreSQL on 127.0.0.1:5432, else an embedded one."""
    if url := os.environ.get("ISPB_BENCH_DATABASE_URL"):
        return url
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    return start_embedded_postgres(Path(tempfile.mkdtemp(prefix="ispb-bench-")))


@asynccontextmanager
async def scratch_database(keep: str | None = None, label: str = "") -> AsyncIterator[str]:
    """A database of its own on the bench server, dropped afterwards; yields its URL.

    ``keep`` names a database that is created if missing and NOT dropped: a long bench (the 1,000-operator scale
    drill) can then be resumed, or measured again after a change, without rebuilding its data; drop it by hand
    (``dropdb NAME``) when done. ``label`` goes into a dropped database's name (whose run made it)."""
    server = server_url()
    name = keep or f"ispb_bench_{label + '_' if label else ''}{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server)
    if not (keep and await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)):
        await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base, _, query = server.partition("?")
    try:
        yield base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    finally:
        if keep is None:
            admin = await asyncpg.connect(server)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process now (VmRSS), in MB."""
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Peak:
    mb = 0.0


@contextmanager
def peak_rss(pid: int | None = None, every: float = 0.02) -> Iterator[_Peak]:
    """The highest resident memory of a process while the block runs, sampled by a thread: the memory the
    timed work needed, not what seeding the data left behind (``ru_maxrss`` would count that too)."""
    peak, done = _Peak(), threading.Event()

    def sample() -> None:
        while True:
            peak.mb = max(peak.mb, rss_mb(pid))
            if done.wait(every):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
        peak.mb = max(peak.mb, rss_mb(pid))
