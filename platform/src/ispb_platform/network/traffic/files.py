"""The traffic files of this process: one ``RRDStore`` (librrd is not thread-safe: the store's lock is per
process) and where a tenant's files are (``ispb_netsync.rrd`` layout under ``ISPB_DATA_DIR``).

By default each process writes the files directly. With ``ISPB_RRDCACHED_SOCKET`` every write goes through one
rrdcached (Debian ``rrdcached``), the one owner of the files: it batches each file's updates in memory and
writes them every 30 minutes, spread out, so 100,000 files per 5-minute poll cost the disk a trickle instead
of a burst (tests/bench/rrd_update.py measures both). A worker starts the daemon when nothing answers on the
socket and stops it, flushing, when the worker stops; web processes only read through it (a graph flushes its
file first). `rrd_files` is that rule, entered once per process.
"""

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from ispb_netsync.rrd import (
    GraphLook,
    GraphPeriod,
    RRDCached,
    RRDCachedUnavailable,
    RRDError,
    RRDStore,
    RunningRRDCached,
    customer_rrd,
    ping,
    tenant_dir,
)
from ispb_tenants import TenantRef

_daemon: list[str | None] = [None]  # this process's rrdcached address, set by `rrd_files`


def store() -> RRDStore:
    """The process's store (one lock around librrd for every caller in the process), through rrdcached when
    `rrd_files` configured it."""
    return _store(_daemon[0])


@cache
def _store(daemon: str | None) -> RRDStore:
    return RRDStore(daemon=daemon)


def _start_unless_running(config: RRDCached) -> RunningRRDCached | None:
    """Start the daemon unless one answers; a lock file keeps two workers starting at once from racing (the
    second would take the first one's socket)."""
    config.socket.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{config.socket}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            ping(config.address)
            return None  # another worker's daemon: use it, leave it alone
        except RRDCachedUnavailable:
            return config.start()


@asynccontextmanager
async def rrd_files(socket: Path | None, data_dir: Path, *, owner: bool) -> AsyncIterator[str | None]:
    """While inside, this process's traffic files go through rrdcached at ``socket`` (None: written directly);
    an ``owner`` (a worker) starts the daemon if nothing answers there and stops it on the way out. Yields the
    daemon's address. Raises `RRDCachedUnavailable` (with the apt hint) when an owner cannot start it."""
    if socket is None:
        yield None
        return
    config = RRDCached(socket, base_dir=data_dir / "rrd")
    running = await asyncio.to_thread(_start_unless_running, config) if owner else None
    _daemon[0] = config.address
    try:
        yield config.address
    finally:
        _daemon[0] = None
        if running is not None:
            await asyncio.to_thread(running.stop)


def router_interfaces(data_dir: Path, tenant: str, router_id: int) -> list[str]:
    """The interfaces of a router that have a traffic file, by name (as the router spells them)."""
    prefix = f"router-{router_id}-"
    directory = tenant_dir(data_dir, tenant)
    if not directory.is_dir():
        return []
    return sorted(
        unquote(path.name.removeprefix(prefix).removesuffix(".rrd")) for path in directory.glob(f"{prefix}*.rrd")
    )


GRAPH_SIZES = {"wide": (640, 180), "narrow": (300, 150)}
"""Plot area in pixels: ``wide`` for desktops, ``narrow`` for phones (pages offer it below 40rem), so the
axis labels stay readable instead of a wide image shrunk to half its size."""


def graph_png(
    path: Path, period: GraphPeriod, *, title: str, labels: tuple[str, str], time_zone: str, size: str = "wide"
) -> bytes:
    """The file's graph in the panel's look; ``RRDError`` when it cannot be drawn (no file yet); ``KeyError``
    for a size that is not in `GRAPH_SIZES`."""
    width, height = GRAPH_SIZES[size]
    look = GraphLook(
        width=width,
        height=height,
        title=title,
        download_label=labels[0],
        upload_label=labels[1],
        download_colour="#0F766E",
        upload_colour="#1D4ED8",
        time_zone=time_zone,
    )
    return store().graph(path, period, now=datetime.now(UTC), look=look)


def customer_graph(
    data_dir: Path, tenant: TenantRef, customer_id: int, period: str, title: str, size: str = "wide"
) -> bytes | None:
    """The customer's traffic graph for ``period`` ("day", "week", "month", "year") in ``size`` ("wide",
    "narrow"); None when there is no such period or size or no graph yet (the caller answers 404)."""
    if period not in {p.value for p in GraphPeriod} or size not in GRAPH_SIZES:
        return None
    try:
        return graph_png(
            customer_rrd(data_dir, tenant.slug, customer_id),
            GraphPeriod(period),
            title=title,
            labels=("Download", "Upload"),
            time_zone=tenant.timezone,
            size=size,
        )
    except RRDError:
        return None
