"""The demo's NetFlow: the simulated routers export flows for their online customers to the platform's collector.

``ispb demo`` runs what production runs separately with ``ispb netflow collect``: nfcapd (Debian ``nfdump``)
for every demo router, here on loopback with one-minute files so flows are searchable a minute or two after
they are sent. Each demo operator's router exports from its own loopback address (``127.77.0.<n>``, set as its
NetFlow address): both routers' API is 127.0.0.1, and a shared exporter address could not be filed under one
operator. Every minute each online demo customer (from the demo's accounting, ``traffic.py``) sends a few flows
(web, video, DNS) through ``ispb_netsync.netflow.NetFlowV9Exporter``, so Logs → NetFlow finds a customer's flows
by customer id or address. Without nfcapd the demo runs on and says so once.
"""

import asyncio
import logging
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from litestar import Litestar

from ispb_netsync.netflow import APT_HINT, Flow, NetFlowV9Exporter, NfcapdCollector
from ispb_platform.demo.router import ROUTER_NAME
from ispb_platform.network.netflow.collect import CollectorLog, run_collector
from ispb_tenants import Database, TenantRef, get_tenant

log = logging.getLogger(__name__)

EVERY = 60.0
ROTATION_S = 60
REFRESH_S = 30.0
_ONLINE = """
SELECT host(framedipaddress) AS address, username FROM radacct
WHERE acctstoptime IS NULL AND acctuniqueid LIKE 'demo-%' AND framedipaddress IS NOT NULL
ORDER BY username
"""


def exporter_address(n: int) -> str:
    """The n-th demo router's NetFlow source address (any 127.x.y.z is this host)."""
    return f"127.77.0.{n}"


def collector_available() -> bool:
    return shutil.which("nfcapd") is not None


def availability_note(port: int) -> str:
    """One line for the demo's start: where flows go, or why there are none."""
    if collector_available():
        return f"NetFlow: demo routers export to nfcapd on 127.0.0.1:{port}; Logs → NetFlow finds them within ~2 min"
    return f"NetFlow: nfcapd is not installed, so the demo's routers export no flows ({APT_HINT})"


def demo_flows(address: str, now: datetime, minute: int) -> list[Flow]:
    """A minute of one customer's traffic: a video stream down, web browsing, a DNS look-up."""
    first, last = now - timedelta(seconds=55), now - timedelta(seconds=1)
    video = f"151.101.{minute % 250 + 1}.10"
    web = f"142.250.{(minute * 7) % 250 + 1}.46"
    return [
        Flow(video, address, 443, 50000 + minute, 6, 8_000_000 + minute * 1000, 5800, first, last),
        Flow(address, video, 50000 + minute, 443, 6, 240_000, 2900, first, last),
        Flow(address, web, 51000 + minute, 443, 6, 90_000, 120, first, last),
        Flow(address, "8.8.8.8", 52000 + minute, 53, 17, 140, 2, first, first + timedelta(seconds=1)),
    ]


async def export_minutes(db: Database, tenant: TenantRef, n: int, port: int) -> None:
    """Every ``EVERY`` seconds, the online customers' flows from router ``n`` to the collector; never raises."""
    exporter = NetFlowV9Exporter(source_id=n, boot=datetime.now(UTC) - timedelta(hours=1))
    minute = 0
    while True:
        try:
            async with db.tenant(tenant) as scope:
                online = await scope.connection.fetch(_ONLINE)
            now = datetime.now(UTC)
            flows = [flow for row in online for flow in demo_flows(row["address"], now, minute)]
            _send(list(exporter.packets(flows, now=now)), exporter_address(n), port)
        except Exception:  # the demo's made-up flows must never stop the demo
            log.exception("demo NetFlow for %s failed this minute", tenant.slug)
        minute += 1
        await asyncio.sleep(EVERY)


def _send(packets: list[bytes], source: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((source, 0))
        for packet in packets:
            udp.sendto(packet, ("127.0.0.1", port))


def demo_netflow(
    slugs: list[str], data_dir: Path, port: int
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan hook for ``create_app``: the collector and the demo routers' exports while the demo serves."""

    @asynccontextmanager
    async def collecting(app: Litestar) -> AsyncIterator[None]:
        if not collector_available():
            log.warning(availability_note(port))
            yield
            return
        db: Database = app.state.runtime.db
        async with AsyncExitStack() as stack:
            for n, slug in enumerate(slugs, start=1):
                tenant = await get_tenant(db, slug)
                async with db.tenant(tenant) as scope:
                    await scope.connection.execute(
                        "UPDATE router SET netflow_address = $2 WHERE name = $1", ROUTER_NAME, exporter_address(n)
                    )
                exports = asyncio.create_task(export_minutes(db, tenant, n, port), name=f"demo-netflow-{slug}")
                stack.callback(exports.cancel)
            collector = NfcapdCollector(host="127.0.0.1", port=port, log=CollectorLog(), rotation_s=ROTATION_S)
            collecting_task = asyncio.create_task(run_collector(db, data_dir, collector, refresh_s=REFRESH_S))
            stack.push_async_callback(_stop, collecting_task)
            yield

    return collecting


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
