"""The traffic files of this process: one ``RRDStore`` (librrd is not thread-safe: the store's lock is per
process) and where a tenant's files are (``ispb_netsync.rrd`` layout under ``ISPB_DATA_DIR``).

The store writes the files directly. rrdcached (Debian ``rrdcached``) is the next step for many tenants: the
library supports it (``RRDStore(daemon=...)``, tests/bench/rrd_update.py measures both); the platform does not
start one yet.
"""

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from ispb_netsync.rrd import GraphLook, GraphPeriod, RRDError, RRDStore, customer_rrd, tenant_dir
from ispb_tenants import TenantRef


@cache
def store() -> RRDStore:
    """The process's store (one lock around librrd for every caller in the process)."""
    return RRDStore()


def router_interfaces(data_dir: Path, tenant: str, router_id: int) -> list[str]:
    """The interfaces of a router that have a traffic file, by name (as the router spells them)."""
    prefix = f"router-{router_id}-"
    directory = tenant_dir(data_dir, tenant)
    if not directory.is_dir():
        return []
    return sorted(
        unquote(path.name.removeprefix(prefix).removesuffix(".rrd")) for path in directory.glob(f"{prefix}*.rrd")
    )


def graph_png(path: Path, period: GraphPeriod, *, title: str, labels: tuple[str, str], time_zone: str) -> bytes:
    """The file's graph in the panel's look; ``RRDError`` when it cannot be drawn (no file yet)."""
    look = GraphLook(
        width=640,
        height=180,
        title=title,
        download_label=labels[0],
        upload_label=labels[1],
        download_colour="#0F766E",
        upload_colour="#1D4ED8",
        time_zone=time_zone,
    )
    return store().graph(path, period, now=datetime.now(UTC), look=look)


def customer_graph(data_dir: Path, tenant: TenantRef, customer_id: int, period: str, title: str) -> bytes | None:
    """The customer's traffic graph for ``period`` ("day", "week", "month", "year"); None when there is no such
    period or no graph yet (the caller answers 404)."""
    if period not in {p.value for p in GraphPeriod}:
        return None
    try:
        return graph_png(
            customer_rrd(data_dir, tenant.slug, customer_id),
            GraphPeriod(period),
            title=title,
            labels=("Download", "Upload"),
            time_zone=tenant.timezone,
        )
    except RRDError:
        return None
