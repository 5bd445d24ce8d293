"""Benchmark: ``billing.advance_debit`` on the 1st for 100,000 customers with advance credit, against a raw SQL
floor.

Run:  uv run python tests/bench/advance_debit.py [--customers 100000]

It creates a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL) and
seeds it (not timed): one tenant, customers on a 500.00 package, payments made before December's bill (advance
credit, the balance cache moved as a payment moves it): by ``id % 10``, 0-5 paid 1,500.00 (the bill is paid,
credit is left), 6-7 paid 300.00 (the bill stays open), 8 paid 200.00 then 400.00 (two payments, oldest first),
9 paid exactly 500.00; then December's bills made by the real bill job on 1 December. On 1 December it times:

1. the floor: ONE statement that makes the same allocations (oldest payment on oldest bill: the overlap of their
   running sums), inserts them and moves the bills' paid amounts and statuses and the payments' credit, on the
   same tables (triggers, foreign keys, indexes); rolled back, twice, the faster counts;
2. the job, as the worker runs it (``jobs.runs.execute``: run record, chunks, locks, ``ispb_billing.allocate``
   per payment, one write per chunk), with the peak RSS of this process while it runs.

It checks the work: the job's counts, the same allocations as the floor's (bill, payment, amount), every bill's
paid amount and status, no credit spent twice, and a second run that settles nothing. Goal: < 10 s.
"""

import argparse
import asyncio
import time
from datetime import date

from common import Figure, peak_rss, report, rss_mb, scratch_database

from ispb_platform.billing.generate import bill_customers
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

DEC_1 = date(2026, 12, 1)
PRICE = 50000

_CUSTOMERS = """
INSERT INTO customer (code, name, phone, package_id, pppoe_username, connection_date)
SELECT 'C' || lpad(g::text, 6, '0'), 'Customer ' || g, '+88017' || lpad(g::text, 8, '0'), $2, 'user' || g,
       DATE '2026-01-01'
FROM generate_series(1, $1::int) AS g
"""

# Advance credit by id % 10 (see the module doc), each payment all unapplied, the balance cache moved with it.
_PAYMENTS = """
WITH made AS (
    INSERT INTO payment (customer_id, received_on, amount_minor, currency, method, received_by, unapplied_minor)
    SELECT c.id, DATE '2026-11-20' + k.n, k.amount, 'BDT', 'cash', 'bench', k.amount
    FROM customer c
    CROSS JOIN LATERAL (VALUES
        (0, CASE WHEN c.id % 10 < 6 THEN 150000 WHEN c.id % 10 < 8 THEN 30000 WHEN c.id % 10 = 8 THEN 20000
                 ELSE 50000 END),
        (1, CASE WHEN c.id % 10 = 8 THEN 40000 END)
    ) AS k(n, amount)
    WHERE k.amount IS NOT NULL
    RETURNING customer_id, amount_minor
)
UPDATE customer_account a SET balance_minor = a.balance_minor - m.total
FROM (SELECT customer_id, sum(amount_minor) AS total FROM made GROUP BY customer_id) m
WHERE a.customer_id = m.customer_id
"""

# Oldest payment on oldest bill, as allocate() per payment does it: a payment covers [before, before + credit)
# of the customer's credit, a bill [before, before + outstanding) of what is owed; they share the overlap.
_PAIRS = """
WITH credit AS (
    SELECT id AS payment_id, customer_id, unapplied_minor AS amount,
           coalesce(sum(unapplied_minor) OVER (PARTITION BY customer_id ORDER BY received_on, id
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM payment WHERE unapplied_minor > 0
), owed AS (
    SELECT id AS bill_id, customer_id, total_minor - paid_minor AS amount,
           coalesce(sum(total_minor - paid_minor) OVER (PARTITION BY customer_id ORDER BY due_date, issue_date, id
                                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM bill WHERE kind = 'invoice' AND status = 'open'
)
SELECT o.bill_id, c.payment_id,
       least(c.before + c.amount, o.before + o.amount) - greatest(c.before, o.before) AS amount
FROM credit c JOIN owed o USING (customer_id)
WHERE least(c.before + c.amount, o.before + o.amount) > greatest(c.before, o.before)
"""

FLOOR = f"""
WITH pairs AS ({_PAIRS}
), allocated AS (
    INSERT INTO payment_allocation (bill_id, payment_id, amount_minor, source)
    SELECT bill_id, payment_id, amount, 'advance_debit' FROM pairs
), bills AS (
    UPDATE bill b SET paid_minor = b.paid_minor + s.amount,
        status = CASE WHEN b.paid_minor + s.amount = b.total_minor THEN 'paid' ELSE b.status END, updated_at = now()
    FROM (SELECT bill_id, sum(amount) AS amount FROM pairs GROUP BY bill_id) s WHERE b.id = s.bill_id
)
UPDATE payment p SET unapplied_minor = p.unapplied_minor - s.amount
FROM (SELECT payment_id, sum(amount) AS amount FROM pairs GROUP BY payment_id) s WHERE p.id = s.payment_id
"""


def expected_applied(customers: int) -> int:
    credit = {0: 150000, 1: 150000, 2: 150000, 3: 150000, 4: 150000, 5: 150000, 6: 30000, 7: 30000, 8: 60000}
    return sum(min(credit.get(n % 10, 50000), PRICE) for n in range(1, customers + 1))


async def seed(db: Database, customers: int) -> TenantRef:
    started = time.perf_counter()
    tenant = await create_tenant(db, "bench-advance", "Bench Advance ISP")
    async with db.tenant(tenant) as scope:
        package_id = await scope.connection.fetchval(
            "INSERT INTO package (name, price_minor, download_kbps, upload_kbps) VALUES ('Home 10', $1, 10000, 10000)"
            " RETURNING id",
            PRICE,
        )
        await scope.connection.execute(_CUSTOMERS, customers, package_id)
        await scope.connection.execute(_PAYMENTS)
    await bill_customers(db, tenant, DEC_1)
    await db.pool.execute("VACUUM ANALYZE")
    print(f"seeded {customers:,} customers in {time.perf_counter() - started:.1f} s")
    return tenant


async def floor(db: Database, tenant: TenantRef) -> tuple[float, set[tuple[int, int, int]]]:
    """The floor's time (rolled back: the job runs on the same rows next) and the allocations it makes."""
    await db.pool.execute("CHECKPOINT")
    async with db.pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(f'SET LOCAL search_path TO "{tenant.schema}", platform')
        pairs = {(r["bill_id"], r["payment_id"], r["amount"]) for r in await connection.fetch(_PAIRS)}
        started = time.perf_counter()
        await connection.execute(FLOOR)
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    return elapsed, pairs


async def check(db: Database, tenant: TenantRef, customers: int, counts: dict[str, int], floor_pairs: set) -> None:
    assert counts["customers_settled"] == customers, counts
    assert counts["minor_units_applied"] == expected_applied(customers), counts
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        made = {
            (r["bill_id"], r["payment_id"], r["amount_minor"])
            for r in await connection.fetch(
                "SELECT bill_id, payment_id, amount_minor FROM payment_allocation WHERE source = 'advance_debit'"
            )
        }
        wrong_bills = await connection.fetchval(
            "SELECT count(*) FROM bill b LEFT JOIN (SELECT bill_id, sum(amount_minor) AS paid FROM payment_allocation"
            " WHERE released_at IS NULL GROUP BY bill_id) a ON a.bill_id = b.id"
            " WHERE b.paid_minor <> coalesce(a.paid, 0) OR (b.status = 'paid') <> (b.paid_minor = b.total_minor)"
        )
        wrong_payments = await connection.fetchval(
            "SELECT count(*) FROM payment p LEFT JOIN (SELECT payment_id, sum(amount_minor) AS spent"
            " FROM payment_allocation WHERE released_at IS NULL GROUP BY payment_id) a ON a.payment_id = p.id"
            " WHERE p.unapplied_minor <> p.amount_minor - coalesce(a.spent, 0)"
        )
        paid = await connection.fetchval("SELECT count(*) FROM bill WHERE status = 'paid'")
    assert made == floor_pairs, f"{len(made ^ floor_pairs)} allocations differ from the floor's"
    assert wrong_bills == 0 and wrong_payments == 0, (wrong_bills, wrong_payments)
    full = sum(1 for n in range(1, customers + 1) if n % 10 not in (6, 7))
    assert paid == full, (paid, full)
    print(f"checked: {len(made):,} allocations (= the floor's), {paid:,} bills paid, bills and payments agree")


async def main(customers: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=2, max_size=4)
        try:
            await migrate_platform(db)
            tenant = await seed(db, customers)
            job = get_job("billing.advance_debit")
            floors = [await floor(db, tenant) for _ in range(2)]
            floor_s, floor_pairs = min(t for t, _ in floors), floors[0][1]
            await db.pool.execute("VACUUM ANALYZE")  # the rolled-back floors' dead rows
            await db.pool.execute("CHECKPOINT")
            before = rss_mb()
            with peak_rss() as peak:
                started = time.perf_counter()
                record = await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="bench", today=DEC_1)
                elapsed = time.perf_counter() - started
            counts = dict(record.counts)
            print(f"job counts: {counts}")
            print(
                f"job {elapsed:6.2f} s ({customers / elapsed:,.0f} customers/s), floor {floor_s:5.2f} s"
                f" (runs {', '.join(f'{t:.2f}' for t, _ in floors)}), ratio {elapsed / floor_s:.2f};"
                f" peak RSS {peak.mb:,.0f} MB (before the job {before:,.0f} MB)"
            )
            await db.pool.execute("ANALYZE")  # the checks' plans need the new rows' statistics
            await check(db, tenant, customers, counts, floor_pairs)
            rerun = await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="bench-2", today=DEC_1)
            assert rerun.counts["customers_settled"] == 0, rerun.counts
            report(
                Figure(
                    "billing.advance_debit",
                    f"{customers:,} customers with credit",
                    elapsed,
                    "s",
                    goal_below=10,
                    floor=floor_s,
                    peak_rss_mb=peak.mb,
                )
            )
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().customers))
