"""Benchmark: ``billing.generate_bills`` for 100 tenants × 1,000 customers, against a raw SQL floor.

Run:  uv run python tests/bench/bill_generation.py [--tenants 100] [--customers 1000] [--parallel 2,4] [--months 3]

It creates a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL),
provisions the tenants with the demo packages and customers (not timed), then, for each of ``--months`` billing
days (1 December, 1 January, ...), times:

1. the real job, run for every tenant as the worker runs it (``jobs.runs.execute``: run record, per-tenant
   advisory lock, rules from ``ispb_billing`` per customer, set-based writes of bills, lines, cursors and
   balances), ``--parallel`` tenants at a time (2 = one per core here; 4 = oversubscribed);
2. the floor: per tenant, one raw ``INSERT ... SELECT`` producing the same bill rows (numbers, period, VAT,
   totals) into a copy of the bill table (same checks, indexes and foreign keys), with the same parallelism.

Each phase starts after a CHECKPOINT, and the two alternate which goes first, so neither inherits the other's
dirty pages or the autovacuum its inserts wake. Prints wall time, bills per second and the ratio job / floor per
month and their median, and checks both made the same bills. Targets (2-core machine): under 20 s, ratio under 3.
"""

import argparse
import asyncio
import statistics
import time
from datetime import date

from common import Figure, peak_rss, report, scratch_database

from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

FIRST_BILLING_DAY = date(2026, 12, 1)

# The same bills, in one statement: monthly period from the 1st (daily prepaid: the package's validity),
# VAT per the package (exclusive: on the net;
# inclusive: taken out of the price), rounded half away from zero like ispb_billing; numbers go on from the
# year's last one, like the invoice counter.
FLOOR = """
INSERT INTO bill_floor (customer_id, number, period_start, period_end, issue_date, due_date, currency, net_minor,
                        vat_minor, total_minor, paid_minor, status, package_id, package_name, prorata, created_by)
SELECT x.id, 'INV-' || extract(year FROM $1) || '-' || lpad(($3 + row_number() OVER (ORDER BY x.id))::text, 6, '0'),
       $1,
       CASE WHEN x.cycle = 'daily' THEN $1 + x.validity_days - 1
            ELSE ($1 + interval '1 month' - interval '1 day')::date END,
       $1, $1 + x.due_days, $2, x.net, x.gross - x.net, x.gross,
       0, 'open', x.package_id, x.package_name, x.prorata, 'floor'
FROM (
    SELECT c.id, bp.due_days, bp.prorata, bp.cycle, p.validity_days, p.id AS package_id, p.name AS package_name,
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


async def _timed(tenants: list[TenantRef], parallel: int, one: object) -> float:
    gate = asyncio.Semaphore(parallel)

    async def run(tenant: TenantRef) -> None:
        async with gate:
            await one(tenant)  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(run(t) for t in tenants))
    return time.perf_counter() - started


def _add_month(day: date, months: int) -> date:
    return date(day.year + (day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1, day.day)


async def _mismatches(db: Database, tenants: list[TenantRef]) -> int:
    found = 0
    for tenant in tenants:
        async with db.tenant(tenant) as scope:
            found += await scope.connection.fetchval(
                "SELECT count(*) FROM (SELECT customer_id, number, period_start, period_end, due_date, net_minor,"
                " vat_minor, total_minor FROM bill EXCEPT SELECT customer_id, number, period_start, period_end,"
                " due_date, net_minor, vat_minor, total_minor FROM bill_floor) d"
            )
    return found


async def _one_level(url: str, tenant_count: int, customers: int, parallel: int, months: int) -> None:
    db = await Database.connect(url, min_size=2, max_size=parallel + 2)
    try:
        await migrate_platform(db)
        tenants = await _provision(db, tenant_count, customers)
        job = get_job("billing.generate_bills")
        print(f"-- {parallel} tenants at a time")
        ratios: list[float] = []
        job_times: list[float] = []
        floor_times: list[float] = []
        peak_mb = 0.0
        for month in range(months):
            day = _add_month(FIRST_BILLING_DAY, month)
            counts: list[int] = []
            numbered: dict[int, int] = {}  # bills each tenant's floor table already has this year (not timed)
            for tenant in tenants:
                async with db.tenant(tenant) as scope:
                    numbered[tenant.id] = await scope.connection.fetchval(
                        "SELECT count(*) FROM bill_floor"
                        " WHERE date_trunc('year', period_start) = date_trunc('year', $1::date)",
                        day,
                    )

            async def real(tenant: TenantRef, day: date = day, counts: list[int] = counts) -> None:
                record = await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="bench", today=day)
                counts.append(record.counts["billed"])

            async def floor(tenant: TenantRef, day: date = day, numbered: dict[int, int] = numbered) -> None:
                async with db.tenant(tenant) as scope:
                    await scope.connection.execute(FLOOR, day, tenant.currency, numbered[tenant.id])

            phases = [("job", real), ("floor", floor)]
            timings: dict[str, float] = {}
            for label, work in phases if month % 2 == 0 else phases[::-1]:
                await db.pool.execute("CHECKPOINT")
                with peak_rss() as peak:
                    timings[label] = await _timed(tenants, parallel, work)
                if label == "job":
                    peak_mb = max(peak_mb, peak.mb)
            bills = sum(counts)
            assert bills > 0, "the job billed nobody"
            ratios.append(timings["job"] / timings["floor"])
            job_times.append(timings["job"])
            floor_times.append(timings["floor"])
            print(
                f"{day:%d %b %Y}: job {timings['job']:6.2f} s ({bills:,} bills, {bills / timings['job']:,.0f}/s),"
                f" floor {timings['floor']:5.2f} s, ratio {ratios[-1]:.2f}"
            )
        print(f"ratio job / floor, median of {months} months   {statistics.median(ratios):6.2f}  (target < 3)")
        differing = await _mismatches(db, tenants)
        print(f"bills differing from the floor            {differing:6d}")
        assert differing == 0, f"{differing} bills differ from the floor's"
        report(
            Figure(
                f"bill generation, {parallel} tenants at a time",
                f"{tenant_count} tenants x {customers:,} customers, median of {months} months",
                statistics.median(job_times),
                "s",
                goal_below=20,
                floor=statistics.median(floor_times),
                ratio_goal=2,
                peak_rss_mb=peak_mb,
            )
        )
    finally:
        await db.close()


async def main(tenant_count: int, customers: int, parallel: list[int], months: int) -> None:
    for level in parallel:  # a fresh database per level, so both runs bill the same first month
        async with scratch_database() as url:
            await _one_level(url, tenant_count, customers, level, months)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--parallel", default="2,4", help="tenants billed at once; a comma list runs each level")
    parser.add_argument("--months", type=int, default=3, help="billing days measured (1 December onwards)")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.parallel.split(",")]
    asyncio.run(main(arguments.tenants, arguments.customers, levels, arguments.months))
