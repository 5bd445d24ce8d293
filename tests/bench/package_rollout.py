"""Benchmark: a speed edit of a package with 10,000 customers reaches the network in the edit's transaction.

Run:  uv run python tests/bench/package_rollout.py [--customers 10000]

It creates a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL) and
seeds it (not timed): one tenant, one package, ``--customers`` customers on it, half on a RADIUS-managed router
with their FreeRADIUS rows (sealed PPPoE passwords), half on two API-managed routers, and an open accounting
session for one RADIUS customer in ten. It then times ``catalog.rollout.roll_out_package`` in one transaction,
as the package form's save runs it: every RADIUS customer's reply rows brought in step (only the rate rows
differ), an ``apply_profile`` command per API router and an ``apply_package`` (CoA) command per live session.

It checks the work: every RADIUS customer has the new rate limit, two router commands, one session command per
open session. Goal: < 5 s for 10,000 customers (issue 14).
"""

import argparse
import asyncio
import time

from common import Figure, peak_rss, report, scratch_database

from ispb_platform.catalog.rollout import roll_out_package
from ispb_platform.network.radius.sync import sync_customers
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

SECRET_KEY = "b" * 40

_CUSTOMERS = """
INSERT INTO customer (code, name, phone, package_id, pppoe_username, connection_date, router_id)
SELECT 'C' || lpad(g::text, 6, '0'), 'Customer ' || g, '+88017' || lpad(g::text, 8, '0'), $2, 'user' || g,
       DATE '2026-01-01', CASE WHEN g % 2 = 0 THEN $3::int WHEN g % 4 = 1 THEN $4::int ELSE $5::int END
FROM generate_series(1, $1::int) AS g
"""


async def _router(db: Database, tenant: TenantRef, name: str, mode: str) -> int:
    async with db.tenant(tenant) as scope:
        router_id = int(await scope.connection.fetchval("SELECT nextval(pg_get_serial_sequence('router', 'id'))"))
        password = seal(SECRET_KEY, "router-pass", Binding(tenant.id, Purpose.ROUTER_API_PASSWORD, router_id))
        secret = seal(SECRET_KEY, "nas-secret", Binding(tenant.id, Purpose.ROUTER_RADIUS_SECRET, router_id))
        await scope.connection.execute(
            "INSERT INTO router (id, name, host, username, password_sealed, mode, radius_secret_sealed, nas_address)"
            " VALUES ($1::int, $2, '192.0.2.1', 'ispb', $3, $4, $5, ('192.0.2.' || $1::int)::inet)",
            router_id,
            name,
            password,
            mode,
            secret if mode == "radius" else None,
        )
    return router_id


async def seed(db: Database, customers: int) -> tuple[TenantRef, int]:
    tenant = await create_tenant(db, "bench-rollout", "Bench Rollout ISP")
    radius = await _router(db, tenant, "Edge", "radius")
    north, south = await _router(db, tenant, "North", "api"), await _router(db, tenant, "South", "api")
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        package_id = int(
            await connection.fetchval(
                "INSERT INTO package (name, price_minor, download_kbps, upload_kbps)"
                " VALUES ('Home 20', 80000, 20000, 10000) RETURNING id"
            )
        )
        await connection.execute(_CUSTOMERS, customers, package_id, radius, north, south)
        ids = [r["id"] for r in await connection.fetch("SELECT id FROM customer WHERE router_id = $1", radius)]
        sealed = [seal(SECRET_KEY, f"pass-{n}", Binding(tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, n)) for n in ids]
        await connection.execute(
            "UPDATE customer c SET pppoe_password_sealed = u.sealed FROM unnest($1::int[], $2::text[]) AS u(id, sealed)"
            " WHERE c.id = u.id",
            ids,
            sealed,
        )
        await sync_customers(connection, SECRET_KEY, ids)
        await connection.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime)"
            " SELECT 's-' || c.id, 'u-' || c.id, c.pppoe_username, r.nas_address, now(), now()"
            " FROM customer c JOIN router r ON r.id = c.router_id WHERE r.id = $1 AND c.id % 10 = 0",
            radius,
        )
    await db.pool.execute("VACUUM ANALYZE")
    return tenant, package_id


async def main(customers: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=1, max_size=3)
        try:
            await migrate_platform(db)
            tenant, package_id = await seed(db, customers)
            with peak_rss() as peak:
                started = time.perf_counter()
                async with db.tenant(tenant) as scope:
                    edited = await scope.connection.fetchval(
                        "UPDATE package SET download_kbps = 30000, updated_at = now() WHERE id = $1"
                        " RETURNING updated_at",
                        package_id,
                    )
                    done = await roll_out_package(scope.connection, package_id, edited, secret_key=SECRET_KEY)
                elapsed = time.perf_counter() - started
            async with db.tenant(tenant) as scope:
                connection = scope.connection
                radius = int(
                    await connection.fetchval(
                        "SELECT count(*) FROM customer c JOIN router r ON r.id = c.router_id WHERE r.mode = 'radius'"
                    )
                )
                rated = await connection.fetchval(
                    "SELECT count(*) FROM radreply WHERE attribute = 'Mikrotik-Rate-Limit' AND value = '10M/30M'"
                )
                online = await connection.fetchval("SELECT count(*) FROM radacct WHERE acctstoptime IS NULL")
            assert done.radius_customers == radius == rated, (done, radius, rated)
            assert done.router_commands == 2 and done.session_commands == online, (done, online)
            print(f"rolled out to {radius:,} RADIUS customers, 2 routers, {online:,} live sessions in {elapsed:.2f} s")
            report(
                Figure(
                    "package speed edit reaches the network",
                    f"{customers:,} customers on the package",
                    elapsed,
                    "s",
                    goal_below=5,
                    peak_rss_mb=peak.mb,
                )
            )
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().customers))
