"""Benchmark: the report jobs and the Overview's reads for 100,000 customers with a year of bills and payments,
against a raw SQL floor.

Run:  uv run python tests/bench/reports.py [--customers 100000]

It creates a scratch database and seeds it (not timed, set-based SQL): one tenant, customers connected through
2026, one invoice per customer and month they were connected (about 700k at full size), a payment for four in five of
them, a credit note for one bill in a hundred, a suspension logged for one customer in twenty. It times:

1. the floor: the month figures as ONE plain aggregate SELECT over the same tables (no upsert), twice, the faster;
2. ``reports.bills_vs_payments`` as the worker runs it (``jobs.runs.execute``: run record, lock, upserts, the
   customer snapshot and the top overdue list), then ``reports.yearly_summary``;
3. the Overview's reads (``reports.queries``: twelve months and the top overdue), the median of 20.

It checks the work: every month's billed and paid amounts equal the floor's, and a second run changes nothing.
Goals: each job < 30 s, the Overview's reads < 50 ms (they read the small precomputed tables only).
"""

import argparse
import asyncio
import statistics
import time
from datetime import date

from common import Figure, peak_rss, report, scratch_database

from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_platform.reports import queries
from ispb_platform.reports.overview import month_window
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

TODAY = date(2026, 12, 28)

_CUSTOMERS = """
INSERT INTO customer (code, name, phone, pppoe_username, connection_date)
SELECT 'C' || lpad(g::text, 6, '0'), 'Customer ' || g, '+88017' || lpad(g::text, 8, '0'), 'user' || g,
       DATE '2026-01-01' + (g % 330)
FROM generate_series(1, $1::int) AS g
"""

_BILLS = """
INSERT INTO bill (customer_id, number, period_start, period_end, issue_date, due_date, currency, net_minor,
                  vat_minor, total_minor, paid_minor, status)
SELECT c.id, 'INV-B-' || c.id || '-' || m.n, m.start, (m.start + interval '1 month - 1 day')::date, m.start,
       m.start + 7, 'BDT', 50000 + c.id % 7 * 1000, 0, 50000 + c.id % 7 * 1000,
       CASE WHEN c.id % 5 = 0 THEN 0 ELSE 50000 + c.id % 7 * 1000 END,
       CASE WHEN c.id % 5 = 0 THEN 'open' ELSE 'paid' END
FROM customer c
CROSS JOIN LATERAL (SELECT n, (DATE '2026-01-01' + (n - 1) * interval '1 month')::date AS start
                    FROM generate_series(1, 12) AS n) m
WHERE m.start >= date_trunc('month', c.connection_date)
"""

_PAYMENTS = """
INSERT INTO payment (customer_id, received_on, amount_minor, currency, method, received_by, unapplied_minor)
SELECT customer_id, issue_date + 3 + customer_id % 25, total_minor, 'BDT', 'cash', 'bench', 0
FROM bill WHERE status = 'paid'
"""

_CREDIT_NOTES = """
INSERT INTO bill (customer_id, kind, number, period_start, period_end, issue_date, due_date, currency, net_minor,
                  vat_minor, total_minor, status, reverses_bill_id)
SELECT customer_id, 'credit_note', 'CN-B-' || id, period_start, period_end, issue_date + 10, issue_date + 10, 'BDT',
       net_minor, vat_minor, total_minor, 'issued', id
FROM bill WHERE id % 100 = 0 AND kind = 'invoice'
"""

_SUSPENSIONS = """
INSERT INTO suspension_log (customer_id, action, actor, at)
SELECT id, 'suspended', 'bench', TIMESTAMPTZ '2026-03-01 00:00+06' + (id % 280) * interval '1 day'
FROM customer WHERE id % 20 = 0
"""

FLOOR = """
SELECT month, sum(billed) AS billed, sum(paid) AS paid FROM (
    SELECT date_trunc('month', issue_date)::date AS month,
           sum(CASE kind WHEN 'invoice' THEN total_minor ELSE -total_minor END) AS billed, 0 AS paid
    FROM bill GROUP BY 1
    UNION ALL
    SELECT date_trunc('month', received_on)::date, 0, sum(amount_minor) FROM payment GROUP BY 1
) f GROUP BY month ORDER BY month
"""


async def seed(db: Database, customers: int) -> TenantRef:
    started = time.perf_counter()
    tenant = await create_tenant(db, "bench-reports", "Bench Reports ISP")
    async with db.tenant(tenant) as scope:
        for statement in (_CUSTOMERS, _BILLS, _PAYMENTS, _CREDIT_NOTES, _SUSPENSIONS):
            await scope.connection.execute(statement, *((customers,) if statement is _CUSTOMERS else ()))
        bills = await scope.connection.fetchval("SELECT count(*) FROM bill")
    await db.pool.execute("VACUUM ANALYZE")
    print(f"seeded {customers:,} customers and {bills:,} bills in {time.perf_counter() - started:.1f} s")
    return tenant


async def floor(db: Database, tenant: TenantRef) -> tuple[float, dict[date, tuple[int, int]]]:
    async with db.tenant(tenant) as scope:
        started = time.perf_counter()
        rows = await scope.connection.fetch(FLOOR)
        elapsed = time.perf_counter() - started
    return elapsed, {r["month"]: (int(r["billed"]), int(r["paid"])) for r in rows}


async def month_figures(db: Database, tenant: TenantRef) -> dict[date, tuple[int, int]]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT month, billed_minor - credited_minor, paid_minor FROM report_month")
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


async def overview_reads(db: Database, tenant: TenantRef) -> float:
    times = []
    for _ in range(20):
        async with db.tenant(tenant) as scope:
            started = time.perf_counter()
            months = await queries.months(scope.connection, *month_window(TODAY))
            overdue = await queries.top_overdue(scope.connection)
            times.append(time.perf_counter() - started)
    assert len(months) == 12 and len(overdue) == 10, (len(months), len(overdue))
    return statistics.median(times)


async def main(customers: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=2, max_size=4)
        try:
            await migrate_platform(db)
            tenant = await seed(db, customers)
            floors = [await floor(db, tenant) for _ in range(2)]
            floor_s, truth = min(t for t, _ in floors), floors[0][1]
            size = f"{customers:,} customers, 12 months"
            for name in ("reports.bills_vs_payments", "reports.yearly_summary"):
                with peak_rss() as peak:
                    started = time.perf_counter()
                    record = await execute(
                        db, get_job(name), tenant=tenant, trigger=Trigger.MANUAL, key="bench", today=TODAY
                    )
                    elapsed = time.perf_counter() - started
                print(f"{name}: {elapsed:.2f} s, counts {dict(record.counts)}")
                report(Figure(name, size, elapsed, "s", goal_below=30, floor=floor_s, peak_rss_mb=peak.mb))
            assert await month_figures(db, tenant) == truth, "the month figures differ from the floor's"
            before = await month_figures(db, tenant)
            await execute(
                db,
                get_job("reports.bills_vs_payments"),
                tenant=tenant,
                trigger=Trigger.MANUAL,
                key="bench-2",
                today=TODAY,
            )
            assert await month_figures(db, tenant) == before
            print(f"checked: {len(truth)} months equal the floor's; a second run changed nothing")
            read_s = await overview_reads(db, tenant)
            report(Figure("Overview reads (12 months, top overdue)", size, read_s * 1000, "ms", goal_below=50))
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().customers))
