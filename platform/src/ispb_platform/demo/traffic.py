"""The demo's traffic: what a real network would feed the graphs and the usage, made up while the demo serves.

``ispb demo`` has neither real subscribers nor a FreeRADIUS between its simulated router and the database, so
this stands in for both: every minute the simulated router's interfaces count some traffic (``add_traffic``) and
each online demo customer's accounting session grows as a NAS's Interim-Updates through FreeRADIUS would grow it
(the same ``radacct`` columns and ``radacct_key`` row FreeRADIUS's queries write). The real jobs do the rest:
``netsync.usage_rollup`` and ``netsync.rrd_update`` every 5 minutes, so the customer page, the portal and the
router page show graphs that move. Customer 1 of each operator downloads much more than the others, so it is
the one that crosses its package's data allowance first.
"""

import asyncio
import logging
from datetime import date

from ispb_netsync.routeros.simulator import RouterOSPeer
from ispb_tenants import Database, TenantRef

log = logging.getLogger(__name__)

EVERY = 60.0
"""Seconds between two readings: finer than the 5-minute poll, so each poll sees a few of them."""

MB = 1024 * 1024

FAIR_USE_PACKAGE = "Fair Use 10 Mbps (2 GB)"
"""The demo's package with a data allowance: customer 1 (the portal login) is on it and nearly through it."""

_GROW = """
WITH online AS (
    SELECT c.id, c.pppoe_username AS username, $2::inet AS nas,
           ('10.' || $3::int || '.0.' || c.id)::inet AS address,
           -- a heavy user (customer 1), then a few MB a minute each, varying with the minute
           CASE WHEN c.id = 1 THEN 40 ELSE 2 + (c.id + extract(minute FROM now())::int) % 5 END * $4::bigint AS down,
           (1 + c.id % 3) * $4::bigint / 4 AS up
    FROM customer c JOIN router r ON r.id = c.router_id
    WHERE r.name = $1 AND c.status = 'active' AND c.pppoe_username IS NOT NULL
), keys AS (
    INSERT INTO radacct_key (acctuniqueid, acctstarttime)
    SELECT 'demo-' || id, now() FROM online
    ON CONFLICT (acctuniqueid) DO NOTHING
    RETURNING acctuniqueid, acctstarttime
), opened AS (
    INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,
                         framedipaddress, acctinputoctets, acctoutputoctets)
    SELECT 'demo-' || o.id, k.acctuniqueid, o.username, o.nas, k.acctstarttime, now(), o.address, 0, 0
    FROM online o JOIN keys k ON k.acctuniqueid = 'demo-' || o.id
)
UPDATE radacct a SET acctupdatetime = now(), acctinputoctets = a.acctinputoctets + o.up,
    acctoutputoctets = a.acctoutputoctets + o.down
FROM online o JOIN radacct_key k ON k.acctuniqueid = 'demo-' || o.id
WHERE a.acctuniqueid = k.acctuniqueid AND a.acctstarttime = k.acctstarttime AND a.acctstoptime IS NULL
RETURNING o.down, o.up
"""


async def one_minute(db: Database, tenant: TenantRef, peer: RouterOSPeer, router_name: str, n: int) -> int:
    """One minute of demo traffic for ``tenant``'s simulated router; returns the sessions that grew."""
    async with db.tenant(tenant) as scope:
        grown = await scope.connection.fetch(_GROW, router_name, "127.0.0.1", 20 + n, MB)
    down, up = sum(int(r["down"]) for r in grown), sum(int(r["up"]) for r in grown)
    peer.add_traffic("ether2", rx_bytes=up, tx_bytes=down)  # the customers' side
    peer.add_traffic("ether1", rx_bytes=down + down // 20, tx_bytes=up + up // 20)  # the uplink, with overhead
    return len(grown)


async def simulate(db: Database, tenant: TenantRef, peer: RouterOSPeer, router_name: str, n: int) -> None:
    """Run ``one_minute`` every ``EVERY`` seconds until cancelled; a failed minute is logged and the next tries."""
    while True:
        try:
            await one_minute(db, tenant, peer, router_name, n)
        except Exception:  # the demo's background traffic must never stop the demo
            log.exception("demo traffic for %s failed this minute", tenant.slug)
        await asyncio.sleep(EVERY)


async def prepare_fair_usage(db: Database, tenant: TenantRef, today: date) -> None:
    """Customer 1 (the demo's portal login) on a package with a 2 GB allowance, 1.9 GB of it used today, so the
    demo's made-up traffic carries them over within minutes and ``billing.fup_enforce`` reduces their speed
    (idempotent: the package and the day's usage are written once)."""
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        await connection.execute(
            "INSERT INTO package (name, price_minor, download_kbps, upload_kbps, data_allowance_mb,"
            " fup_download_kbps, fup_upload_kbps) VALUES ($1, 50000, 10000, 5000, 2048, 1000, 512)"
            " ON CONFLICT (name) DO NOTHING",
            FAIR_USE_PACKAGE,
        )
        package_id = await connection.fetchval("SELECT id FROM package WHERE name = $1", FAIR_USE_PACKAGE)
        # a monthly package: customer 1 follows the default (monthly) billing profile
        await connection.execute(
            "UPDATE customer SET package_id = $1, billing_profile_id = NULL"
            " WHERE id = 1 AND package_id IS DISTINCT FROM $1",
            package_id,
        )
        await connection.execute(
            "INSERT INTO customer_usage_daily (customer_id, day, download_octets, upload_octets)"
            " SELECT 1, $1, $2, $3 WHERE EXISTS (SELECT 1 FROM customer WHERE id = 1) ON CONFLICT DO NOTHING",
            today,
            1900 * MB,
            50 * MB,
        )
