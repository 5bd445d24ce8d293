"""``netsync.rrd_update``: customers' and routers' traffic into their RRD files, every 5 minutes.

Customers: the accounting's movement is rolled up first (``radius/usage.py``; safe to run beside the rollup's own
job), then every customer's only-growing totals (``customer_traffic_total``, one read) go into
``customer-<id>.rrd`` in one ``update_many``.

Routers: every API-managed router's interface byte counters into its RRD files.

Every 5 minutes each router is asked once for ``/interface`` (64-bit ``rx-byte``/``tx-byte``), several routers
at once; the readings go into ``router-<id>-<interface>.rrd`` in one ``update_many`` (files created on first
sight, the reading then being the baseline). rrdtool derives the rates; a counter that went down (a router
reboot) leaves one unknown point, never a spike (DERIVE min=0, ``ispb_netsync.rrd.archive``). A router that does
not answer is counted and skipped: its graph shows the gap. "In" is what the router received on the interface,
"Out" what it sent.

librrd calls block: they run in a worker thread (``asyncio.to_thread``) under the store's lock.
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from ispb_netsync.routeros import RouterError, RouterSession
from ispb_netsync.rrd import TrafficSample, customer_rrd, interface_rrd
from ispb_platform.jobs.job import Counts
from ispb_platform.network.radius import usage
from ispb_platform.network.routers import queries
from ispb_platform.network.routers.queries import address_of
from ispb_platform.network.traffic.files import store
from ispb_platform.secrets_box import SealError
from ispb_tenants import Database, TenantRef

ROUTERS_AT_ONCE = 8
TIMEOUT = 10.0
"""Seconds a router may take to answer: a poll of many routers must end well inside its 5 minutes."""


async def _read(router: queries.RouterRow, secret_key: str, tenant: TenantRef) -> list[tuple[str, int, int]]:
    address = address_of(router, secret_key, tenant.id, router["id"], timeout=TIMEOUT)
    async with RouterSession.open(address) as session:
        return [(i.name, i.rx_bytes, i.tx_bytes) for i in await session.interfaces() if i.name]


async def poll_routers(db: Database, tenant: TenantRef, secret_key: str, data_dir: Path) -> Counts:
    """Read every API-managed router's interface counters and record them (see the module doc)."""
    async with db.tenant(tenant):
        routers = await queries.api_routers()
    gate = asyncio.Semaphore(ROUTERS_AT_ONCE)
    when = datetime.now(UTC)

    async def one(router: queries.RouterRow) -> list[TrafficSample] | None:
        async with gate:
            try:
                readings = await _read(router, secret_key, tenant)
            except (RouterError, SealError, OSError):
                return None
        return [
            TrafficSample(interface_rrd(data_dir, tenant.slug, router["id"], name), when, rx, tx)
            for name, rx, tx in readings
        ]

    results = await asyncio.gather(*(one(router) for router in routers))
    samples = [sample for found in results if found is not None for sample in found]
    report = await asyncio.to_thread(store().update_many, samples, create_missing=True)
    return {
        "routers_read": sum(found is not None for found in results),
        "routers_unreachable": sum(found is None for found in results),
        "interfaces_updated": report.updated,
        "interfaces_created": len(report.created),
        "interfaces_stale": len(report.stale),
        "interfaces_refused": len(report.refused),
    }


async def poll_customers(db: Database, tenant: TenantRef, data_dir: Path) -> Counts:
    """Roll the accounting up, then record every customer's traffic totals (see the module doc)."""
    rolled = await usage.rollup(db, tenant)
    async with db.tenant(tenant) as scope:
        totals = await usage.traffic_totals(scope.connection)
    when = datetime.now(UTC)
    samples = [
        TrafficSample(customer_rrd(data_dir, tenant.slug, customer_id), when, download, upload)
        for customer_id, download, upload in totals
    ]
    report = await asyncio.to_thread(store().update_many, samples, create_missing=True)
    return {
        "sessions_rolled_up": rolled["sessions"],
        "customers_updated": report.updated,
        "customers_created": len(report.created),
        "customers_refused": len(report.refused),
    }
