"""Benchmark: ``billing.generate_bills`` for 100 tenants × 1,000 customers, against a raw SQL floor.

Run:  uv run python tests/bench/bill_generation.py [--tenants 100] [--customers 1000] [--parallel 2,4]

It creates a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL),
provisions the tenants with the demo packages and customers (not timed), then times:

1. the real job, run for every tenant as the worker runs it (``jobs.runs.execute``: run record, per-tenant
   advisory lock, rules from ``ispb_billing`` per customer, set-based writes of bills, lines, ledger entries,
   cursors and balances), ``--parallel`` tenants at a time (2 = one per core here; 4 = oversubscribed);
2. the floor: per tenant, one raw ``INSERT ... SELECT`` producing the same bill rows (numbers, period, VAT,
   totals) into a copy of the bill table (same checks, indexes and foreign keys), with the same parallelism.

Prints wall time, bills per second and the ratio job / floor, and checks both made the same bills.
Targets (2-core machine): under 20 s in total, ratio under 3.
"""

import argparse
import asyncio
import os
import secrets
import socket
import tempfile
import time
from datetime import date
from pathlib import Path

import asyncpg

from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.embedded_postgres import start_embedded_postgres
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

TODAY = date(2026, 12, 1)

# The same bills, in one statement: monthly period from the 1st, VAT per the package (exclusive: on the net;
# inclusive: taken out of the price), rounded half away from zero like ispb_billing.
FLOOR = """
INSERT INTO bill_floor (customer_id, number, period_start, period_end, issue_date, due_date, currency, net_minor,
                        vat_minor, total_minor, paid_minor, status, package_id, package_name, prorata, created_by)
SELECT x.id, 'INV-2026-' || lpad(row_number() OVER (ORDER BY x.id)::text, 6, '0'), $1,
       ($1 + interval '1 month' - interval '1 day')::date, $1, $1 + x.due_days, $2, x.net, x.gross - x.net, x.gross,
       0, 'open', x.package_id, x.package_name, x.prorata, 'floor'
FROM (
    SELECT c.id, bp.due_days, bp.prorata, p.id AS package_id, p.name AS package_name,
           CASE WHEN p.vat_inclusive THEN round(p.price_minor * 10000.0 / (10000 + p.vat_rate_bp))::bigint
                ELSE p.price_minor END AS net,
           CASE WHEN p.vat_inclusive THEN p.price_minor
                ELSE p.price_minor + round(p.price_minor * p.vat_rate_bp / 10000.0)::bigint END AS gross
    FROM customer c
    JOIN package p ON p.id = c.package_id
    JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
    WHERE c.status = 'active' AND c.connection_date <= $1
) x
"""


def _server() -> str:
    if url := os.environ.get("ISPB_BENCH_DATABASE_URL"):
        return url
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    return start_embedded_postgres(Path(tempfile.mkdtemp(prefix="ispb-bench-")))


async def _provision(db: Database, tenants: int, customers: int) -> list[TenantRef]:
    made: list[TenantRef] = []
    started = time.perf_counter()
    for n in range(tenants):
        tenant = await create_tenant(db, f"bench-{n:03d}", f"Bench ISP {n}")
        async with db.tenant(tenant) as scope:
            await ensure_packages(scope)
            await seed_customers(scope, customers, seed=n)
            # the same table as bill: defaults, checks, indexes (unique ones too) and foreign keys
            await scope.connection.execute(
                "CREATE TABLE bill_floor (LIKE bill INCLUDING ALL);"
                " ALTER TABLE bill_floor ADD FOREIGN KEY (customer_id) REFERENCES customer (id),"
                " ADD FOREIGN KEY (package_id) REFERENCES package (id)"
            )
        made.append(tenant)
    print(f"provisioned {tenants} tenants × {customers} customers in {time.perf_counter() - started:.1f} s")
    return made


async def _timed(label: str, tenants: list[TenantRef], parallel: int, one: object) -> float:
    gate = asyncio.Semaphore(parallel)

    async def run(tenant: TenantRef) -> None:
        async with gate:
            await one(tenant)  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(run(t) for t in tenants))
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {elapsed:8.2f} s")
    return elapsed


async def _one_round(url: str, server: str, tenant_count: int, customers: int, parallel: int) -> None:
    db = await Database.connect(url, min_size=2, max_size=parallel + 2)
    try:
        await migrate_platform(db)
        tenants = await _provision(db, tenant_count, customers)
        job = get_job("billing.generate_bills")
        counts: list[int] = []

        async def real(tenant: TenantRef) -> None:
            record = await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="bench", today=TODAY)
            counts.append(record.counts["billed"])

        async def floor(tenant: TenantRef) -> None:
            async with db.tenant(tenant) as scope:
                await scope.connection.execute(FLOOR, TODAY, tenant.currency)

        print(f"-- {parallel} tenants at a time")
        job_s = await _timed("billing.generate_bills (the job)", tenants, parallel, real)
        floor_s = await _timed("floor: one INSERT ... SELECT", tenants, parallel, floor)
        mismatches = 0
        for tenant in tenants:
            async with db.tenant(tenant) as scope:
                mismatches += await scope.connection.fetchval(
                    "SELECT count(*) FROM (SELECT customer_id, number, period_start, period_end, due_date, net_minor,"
                    " vat_minor, total_minor FROM bill EXCEPT SELECT customer_id, number, period_start, period_end,"
                    " due_date, net_minor, vat_minor, total_minor FROM bill_floor) d"
                )
        bills = sum(counts)
        print(f"bills made                         {bills:8d}  ({bills / job_s:,.0f} bills/s)")
        print(f"ratio job / floor                  {job_s / floor_s:8.2f}  (target < 3)")
        print(f"total job wall time                {job_s:8.2f} s (target < 20 s)")
        print(f"bills differing from the floor     {mismatches:8d}")
    finally:
        await db.close()


async def main(tenant_count: int, customers: int, parallel: list[int]) -> None:
    server = _server()
    for level in parallel:  # a fresh database per level, so both runs bill the same first month
        name = f"ispb_bench_{secrets.token_hex(3)}"
        admin = await asyncpg.connect(server)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        try:
            await _one_round(server.rsplit("/", 1)[0] + "/" + name, server, tenant_count, customers, level)
        finally:
            admin = await asyncpg.connect(server)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--parallel", default="2,4", help="tenants billed at once; a comma list runs each level")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.parallel.split(",")]
    asyncio.run(main(arguments.tenants, arguments.customers, levels))
