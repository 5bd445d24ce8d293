"""Benchmark: importing a 100,000-line bank / mobile-money statement, against recording payments one by one.

Run:  uv run python tests/bench/payment_import.py [--lines 100000] [--customers 100000] [--single 300]

It creates a scratch database (tests/bench/common.py; ``scripts/bench`` runs it with the others), one
tenant with ``--customers`` demo customers billed for this month (the real bill job; not timed), ``--suspended``
of them suspended, and a statement of ``--lines`` lines: customers in random order, most paying their bill
exactly, some part of it, some more (advance credit), a few twice; amounts written "1,234.50". Then it times:

1. preview: read the file and judge every line (``preview_statement``, one transaction);
2. confirm: the "Record" button (``request_confirmation``) and the job's work (``confirm_import``, as
   ``payments.confirm_imports`` runs it: a transaction per chunk of customers): payments, allocations, bills,
   balances, ``payment.received`` events, reactivations, activity;
3. for comparison, ``--single`` payments recorded as the panel records one (``record_payment`` and
   ``activate_if_paid`` in a transaction of its own each): their p50 and p95.

It checks the work was really done (payments and their sum, allocations equal to what the bills' paid amounts
moved, the balance cache equal to the ledger for every customer, one event per payment, every suspended
customer that paid in full active again) and reports payments per second (goal: > 5,000/s) with the peak RSS
of preview and confirm, their ratio to a floor (the same payment rows alone, one raw ``INSERT ... SELECT``), and
the single payment's p50.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from common import Figure, peak_rss, report, scratch_database

from ispb_billing import Money
from ispb_platform.auth.roles import Principal, Role, SessionKind
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.billing.suspension.actions import activate_if_paid
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.imports import service
from ispb_platform.payments.imports.service import confirm_import, preview_statement, request_confirmation
from ispb_platform.payments.queries import PaymentMethod
from ispb_platform.payments.service import record_payment
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

GOAL_PER_SECOND = 5_000


def _money(minor: int) -> str:
    return f"{minor // 100:,}.{minor % 100:02d}"


async def _seed(db: Database, customers: int, suspended: int) -> tuple[TenantRef, list[tuple[int, str, int]]]:
    """The tenant, its customers billed for this month, and (customer id, code, amount due) of each."""
    tenant = await create_tenant(db, "bench-pay", "Bench ISP")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, customers, seed=7)
    today = local_today(datetime.now(UTC), tenant)
    started = time.perf_counter()
    await generate_bills(JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant))
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE customer SET status = 'active' WHERE status = 'suspended'")
        await scope.connection.execute(
            "UPDATE customer SET status = 'suspended' WHERE id IN (SELECT customer_id FROM customer_account"
            " WHERE balance_minor > 0 ORDER BY customer_id LIMIT $1)",
            suspended,
        )
        rows = await scope.connection.fetch(
            "SELECT c.id, c.code, a.balance_minor FROM customer c JOIN customer_account a ON a.customer_id = c.id"
            " ORDER BY c.id"
        )
    print(f"seeded {len(rows):,} customers, billed in {time.perf_counter() - started:.1f} s")
    return tenant, [(r["id"], r["code"], int(r["balance_minor"])) for r in rows]


def _statement(customers: list[tuple[int, str, int]], lines: int, today_text: str) -> tuple[bytes, int]:
    """The CSV (bKash-like header, CRLF, quoted amounts with thousands separators) and its total in minor units."""
    rng = random.Random(12)
    payers = [customers[i % len(customers)] for i in range(lines)]
    rng.shuffle(payers)
    out = ["TrxID,Customer ID,Amount,Date,Method"]
    total = 0
    for n, (_, code, due) in enumerate(payers):
        roll = rng.random()
        amount = due if roll < 0.7 and due > 0 else (due // 3 or 5000) if roll < 0.9 else due + 20000
        amount = max(amount, 1)
        total += amount
        out.append(f'BK{n:08d}X,{code},"{_money(amount)}",{today_text} 10:{n % 60:02d},bKash')
    return ("\r\n".join(out) + "\r\n").encode(), total


async def _checks(db: Database, tenant: TenantRef, lines: int, total: int) -> list[str]:
    async with db.tenant(tenant) as scope:
        c = scope.connection
        problems = []
        payments, amount = await c.fetchrow(
            "SELECT count(*), coalesce(sum(amount_minor), 0) FROM payment WHERE reference LIKE 'BK%'"
        )
        if (payments, amount) != (lines, total):
            problems.append(f"payments {payments} / {amount}, expected {lines} / {total}")
        allocated = await c.fetchval("SELECT coalesce(sum(amount_minor), 0) FROM payment_allocation")
        paid = await c.fetchval("SELECT coalesce(sum(paid_minor), 0) FROM bill")
        if allocated != paid:
            problems.append(f"allocations {allocated} differ from the bills' paid amounts {paid}")
        drift = await c.fetchval(
            "SELECT count(*) FROM customer_account a LEFT JOIN (SELECT customer_id, sum(CASE WHEN kind = 'debit'"
            " THEN amount_minor ELSE -amount_minor END) AS s FROM ledger_entry GROUP BY customer_id) l"
            " ON l.customer_id = a.customer_id WHERE a.balance_minor <> coalesce(l.s, 0)"
        )
        if drift:
            problems.append(f"{drift} balance caches differ from the ledger")
        events = await c.fetchval("SELECT count(*) FROM domain_event WHERE name = 'payment.received'")
        if events != lines:
            problems.append(f"{events} payment events for {lines} payments")
        stuck = await c.fetchval(
            "SELECT count(*) FROM customer c JOIN customer_account a ON a.customer_id = c.id"
            " WHERE c.status = 'suspended' AND a.balance_minor <= 0"
        )
        if stuck:
            problems.append(f"{stuck} suspended customers paid in full and were not reactivated")
    return problems


async def _single(db: Database, tenant: TenantRef, customers: list[tuple[int, str, int]], count: int) -> list[float]:
    """Payments recorded one at a time, as the panel records them, each in its own transaction."""
    today = local_today(datetime.now(UTC), tenant)
    timings = []
    for n, (customer_id, _, _) in enumerate(customers[:count]):
        started = time.perf_counter()
        async with db.tenant(tenant) as scope:
            await record_payment(
                scope.connection,
                customer_id=customer_id,
                amount=Money(10000, tenant.currency),
                method=PaymentMethod.MOBILE_MONEY,
                reference=f"SINGLE{n:06d}",
                received_on=today,
                received_by="bench",
            )
            await activate_if_paid(scope.connection, tenant, customer_id, today, secret_key="", actor="bench")
        timings.append(time.perf_counter() - started)
    return timings


FLOOR = """
INSERT INTO payment_floor (customer_id, received_on, amount_minor, currency, method, reference, note, received_by,
                           unapplied_minor)
SELECT customer_id, received_on, amount_minor, 'BDT', method, reference, 'floor', 'floor', 0
FROM payment_import_line WHERE import_id = $1 AND status = 'ready'
"""


async def _floor(db: Database, tenant: TenantRef, import_id: int) -> float:
    """The machine's floor: the same payment rows alone, in one raw ``INSERT ... SELECT`` into a copy of the payment
    table (its checks, indexes, the unique reference index, the customer foreign key). The import writes about
    five rows' worth per payment (payment, allocation, bill, balance, event), so a ratio near 5 is the floor's."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "CREATE TABLE payment_floor (LIKE payment INCLUDING ALL);"
            " ALTER TABLE payment_floor ADD FOREIGN KEY (customer_id) REFERENCES customer (id)"
        )
    await db.pool.execute("CHECKPOINT")
    started = time.perf_counter()
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(FLOOR, import_id)
    return time.perf_counter() - started


def _time_reactivation() -> list[float]:
    """Time the import's reactivation of the paid suspended customers apart (a set, after the payments)."""
    spent: list[float] = []
    original = service._reactivate_paid

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    service._reactivate_paid = timed  # type: ignore[assignment]
    return spent


async def _run(url: str, lines: int, customers: int, suspended: int, single: int) -> int:
    db = await Database.connect(url, min_size=1, max_size=3)
    try:
        await migrate_platform(db)
        tenant, rows = await _seed(db, customers, suspended)
        today = local_today(datetime.now(UTC), tenant)
        content, total = _statement(rows, lines, today.strftime("%d/%m/%Y"))
        operator = Principal("bench", SessionKind.STAFF, 0, Role.OPERATOR_ADMIN, "Bench", "bench@isp.test", tenant)
        reactivation = _time_reactivation()
        await db.pool.execute("CHECKPOINT")
        with peak_rss() as peak:
            started = time.perf_counter()
            async with db.tenant(tenant) as scope:
                import_id = await preview_statement(
                    scope,
                    operator,
                    file_name="bench.csv",
                    content=content,
                    default_method=PaymentMethod.MOBILE_MONEY,
                    default_date=today,
                    today=today,
                )
            previewed = time.perf_counter() - started
            del content
            await db.pool.execute("CHECKPOINT")
            started = time.perf_counter()
            async with db.tenant(tenant) as scope:  # the "Record" button
                await request_confirmation(scope, operator, import_id, queue=None, ip="127.0.0.1")
            done = await confirm_import(db, tenant, import_id, today=today, secret_key="", queue=None)  # the job
            confirmed = time.perf_counter() - started
        problems = await _checks(db, tenant, lines, total)
        if done.summary.recorded != lines:
            problems.append(f"recorded {done.summary.recorded} of {lines} lines ({done.summary})")
        floor = await _floor(db, tenant, import_id)
        timings = sorted(await _single(db, tenant, rows, single))
    finally:
        await db.close()
    for problem in problems:
        print(f"CHECK FAILED: {problem}")
    size = f"{lines:,} lines, {customers:,} customers"
    alone = confirmed - sum(reactivation)
    figures = (
        Figure(
            "statement import: payments recorded",
            size,
            lines / confirmed,
            "payments/s",
            goal_above=GOAL_PER_SECOND,
            peak_rss_mb=peak.mb,
        ),
        Figure(
            f"statement import without its {done.reactivated} reactivations",
            size,
            lines / alone,
            "payments/s",
            goal_above=GOAL_PER_SECOND,
        ),
        Figure("statement import confirm vs the payment rows alone in raw SQL", size, confirmed, "s", floor=floor),
        Figure("statement import: preview (read, COPY, judge)", size, lines / previewed, "lines/s"),
        Figure(
            "single payment at the counter, p50", f"{len(timings)} payments", statistics.median(timings) * 1000, "ms"
        ),
    )
    for figure in figures:
        report(figure)
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 1 if problems else 0


async def main(lines: int, customers: int, suspended: int, single: int) -> int:
    async with scratch_database() as url:
        return await _run(url, lines, customers, suspended, single)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--suspended", type=int, default=200, help="customers suspended before the import")
    parser.add_argument("--single", type=int, default=300, help="payments recorded one by one for comparison")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.lines, arguments.customers, arguments.suspended, arguments.single)))
