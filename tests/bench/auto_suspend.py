"""Benchmark: ``billing.auto_suspend`` for 100,000 customers of one tenant, 30% overdue, against a raw SQL floor.

Run:  uv run python tests/bench/auto_suspend.py [--customers 100000]

It creates a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL) and
seeds it (not timed): one tenant, the default profile (due 7 days after the 1st, 3 grace days), two routers
(half the customers on an API router, a quarter on a RADIUS router with their FreeRADIUS rows, a quarter on
none), November's bills made by the real bill job on 1 November, and payments made set-based: customers with
``id % 10 >= 3`` paid in full, ``id % 10 == 1`` paid half, ``id % 100 == 2`` hold advance credit covering
their bill (never suspended), the rest paid nothing. On 12 November it times:

1. the floor: ONE ``UPDATE ... FROM`` on a copy of the customer table (same indexes) that computes the same
   set (owed after credit > 0, a bill past due + grace with money left after credit oldest first) and writes
   only the status; run once before the job (rolled back) and once after it, the faster counts;
2. the job, as the worker runs it (``jobs.runs.execute``: run record, chunks, locks, ``ispb_billing.decide``
   per customer, log rows, statuses, events, RADIUS rows, router commands), with the peak RSS of this process
   while it runs. The job then hands the router commands to ``netsync.router_commands``, whose lock this bench
   holds as a running router worker would (talking to 75,000 routers is network work, not this figure).

It checks that the work was done: the job's counts, the same customers suspended as by the floor, one log row
and one ``customer.suspended`` event per suspended customer, a router command for each one with a router, the
RADIUS customers in the suspended group; and that a second run changes nothing. Goal: < 10 s, ratio <= 3.
"""

import argparse
import asyncio
import time
from datetime import date

from common import Figure, peak_rss, report, rss_mb, scratch_database

from ispb_platform.billing.generate import bill_customers
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_platform.network.radius.sync import sync_customers
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

SECRET_KEY = "b" * 40
NOV_1, NOV_5, NOV_12 = date(2026, 11, 1), date(2026, 11, 5), date(2026, 11, 12)

# Customers: router by id % 4 (0, 1: the API router; 2: the RADIUS router; 3: none).
_CUSTOMERS = """
INSERT INTO customer (code, name, phone, package_id, pppoe_username, connection_date, router_id)
SELECT 'C' || lpad(g::text, 6, '0'), 'Customer ' || g, '+88017' || lpad(g::text, 8, '0'), $2,
       'user' || g, DATE '2026-01-01', CASE WHEN g % 4 < 2 THEN $3::int WHEN g % 4 = 2 THEN $4::int END
FROM generate_series(1, $1::int) AS g
"""

# Payments (the ledger written as record_payment and advance credit leave it): id % 10 >= 3 pay in full,
# id % 10 = 1 pay half; id % 100 = 2 pay their bill's amount before it is applied (advance credit).
_PAYMENTS = """
WITH target AS (
    SELECT b.id AS bill_id, b.customer_id, b.total_minor,
           CASE WHEN b.customer_id % 10 >= 3 THEN b.total_minor WHEN b.customer_id % 10 = 1 THEN b.total_minor / 2
           END AS applied,
           CASE WHEN b.customer_id % 100 = 2 THEN b.total_minor END AS credit
    FROM bill b
), paid AS (
    INSERT INTO payment (customer_id, received_on, amount_minor, currency, method, received_by, unapplied_minor)
    SELECT customer_id, $1, coalesce(applied, credit), 'BDT', 'cash', 'bench', coalesce(credit, 0)
    FROM target WHERE applied IS NOT NULL OR credit IS NOT NULL
    RETURNING id, customer_id
), allocated AS (
    INSERT INTO payment_allocation (bill_id, payment_id, amount_minor, source)
    SELECT t.bill_id, p.id, t.applied, 'payment' FROM paid p JOIN target t USING (customer_id)
    WHERE t.applied IS NOT NULL
), bills AS (
    UPDATE bill b SET paid_minor = t.applied, status = CASE WHEN t.applied = b.total_minor THEN 'paid' ELSE 'open' END
    FROM target t WHERE b.id = t.bill_id AND t.applied IS NOT NULL
)
UPDATE customer_account a SET balance_minor = a.balance_minor - coalesce(t.applied, t.credit)
FROM target t WHERE a.customer_id = t.customer_id AND (t.applied IS NOT NULL OR t.credit IS NOT NULL)
"""

# The floor: the same set as the dunning rule on this data (grace-days profiles), in one UPDATE that writes the
# status only. Bills past their suspension date are the oldest ones, so "a bill past it still has money after
# the credit is applied oldest first" is "their outstanding sum exceeds the credit".
FLOOR = """
UPDATE customer_floor c SET status = 'suspended', updated_at = now()
FROM (
    SELECT b.customer_id
    FROM bill b
    JOIN customer_floor f ON f.id = b.customer_id AND f.status = 'active'
    JOIN billing_profile bp ON bp.id = COALESCE(f.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
    LEFT JOIN (SELECT customer_id, sum(unapplied_minor) AS credit FROM payment WHERE unapplied_minor > 0
               GROUP BY customer_id) cr ON cr.customer_id = b.customer_id
    WHERE b.kind = 'invoice' AND b.status = 'open' AND bp.auto_suspend
    GROUP BY b.customer_id, cr.credit
    HAVING sum(b.total_minor - b.paid_minor) > coalesce(cr.credit, 0)
       AND coalesce(sum(b.total_minor - b.paid_minor) FILTER (WHERE b.due_date + bp.grace_days < $1), 0)
           > coalesce(cr.credit, 0)
) s
WHERE c.id = s.customer_id
"""


def expected_suspended(customers: int) -> int:
    return sum(1 for n in range(1, customers + 1) if n % 10 < 3 and n % 100 != 2)


async def _router(db: Database, tenant: TenantRef, name: str, mode: str) -> int:
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        router_id = int(await connection.fetchval("SELECT nextval(pg_get_serial_sequence('router', 'id'))"))
        password = seal(SECRET_KEY, "router-pass", Binding(tenant.id, Purpose.ROUTER_API_PASSWORD, router_id))
        radius = seal(SECRET_KEY, "nas-secret", Binding(tenant.id, Purpose.ROUTER_RADIUS_SECRET, router_id))
        await connection.execute(
            "INSERT INTO router (id, name, host, username, password_sealed, mode, radius_secret_sealed, nas_address)"
            " VALUES ($1, $2, '192.0.2.1', 'ispb', $3, $4, $5, '192.0.2.1')",
            router_id,
            name,
            password,
            mode,
            radius if mode == "radius" else None,
        )
    return router_id


async def seed(db: Database, customers: int) -> TenantRef:
    started = time.perf_counter()
    tenant = await create_tenant(db, "bench-suspend", "Bench Suspend ISP")
    api_router, radius_router = await _router(db, tenant, "Core", "api"), await _router(db, tenant, "Edge", "radius")
    async with db.tenant(tenant) as scope:
        package_id = await scope.connection.fetchval(
            "INSERT INTO package (name, price_minor, download_kbps, upload_kbps) VALUES ('Home 20', 80000, 20000,"
            " 10000) RETURNING id"
        )
        await scope.connection.execute(_CUSTOMERS, customers, package_id, api_router, radius_router)
        radius_ids = [r["id"] for r in await scope.connection.fetch("SELECT id FROM customer WHERE id % 4 = 2")]
        sealed = [
            seal(SECRET_KEY, f"pass-{n}", Binding(tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, n)) for n in radius_ids
        ]
        await scope.connection.execute(
            "UPDATE customer c SET pppoe_password_sealed = u.sealed FROM unnest($1::int[], $2::text[]) AS u(id, sealed)"
            " WHERE c.id = u.id",
            radius_ids,
            sealed,
        )
        for start in range(0, len(radius_ids), 5_000):
            await sync_customers(scope.connection, SECRET_KEY, radius_ids[start : start + 5_000])
    await bill_customers(db, tenant, NOV_1)
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(_PAYMENTS, NOV_5)
        await scope.connection.execute("CREATE TABLE customer_floor (LIKE customer INCLUDING ALL)")
        columns = await scope.connection.fetchval(  # all but the generated ones, which the copy computes itself
            "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'customer'"
            " AND is_generated = 'NEVER'"
        )
        await scope.connection.execute(f"INSERT INTO customer_floor ({columns}) SELECT {columns} FROM customer")
    await db.pool.execute("VACUUM ANALYZE")
    print(f"seeded {customers:,} customers in {time.perf_counter() - started:.1f} s")
    return tenant


async def floor(db: Database, tenant: TenantRef, *, keep: bool) -> tuple[float, int]:
    """The floor's time (its transaction's end included) and rows; rolled back unless ``keep``."""
    await db.pool.execute("CHECKPOINT")
    async with db.pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(f'SET LOCAL search_path TO "{tenant.schema}", platform')
        started = time.perf_counter()
        status = await connection.execute(FLOOR, NOV_12)
        await (transaction.commit() if keep else transaction.rollback())
        elapsed = time.perf_counter() - started
    return elapsed, int(status.split()[-1])


async def _one(db: Database, tenant: TenantRef, sql: str) -> int:
    async with db.tenant(tenant) as scope:
        return int(await scope.connection.fetchval(sql))


async def check(db: Database, tenant: TenantRef, customers: int, counts: dict[str, int]) -> None:
    """The work was done, exactly once per customer, and the same set as the floor's."""
    want = expected_suspended(customers)
    overdue = sum(1 for n in range(1, customers + 1) if n % 10 < 3)
    assert counts["suspended"] == want, (counts, want)
    assert counts["not_due"] == overdue - want, counts  # the advance credit covers their bill
    assert await _one(db, tenant, "SELECT count(*) FROM customer WHERE status = 'suspended'") == want
    differing = await _one(
        db,
        tenant,
        "SELECT count(*) FROM ((SELECT id FROM customer WHERE status = 'suspended' EXCEPT"
        " SELECT id FROM customer_floor WHERE status = 'suspended') UNION ALL (SELECT id FROM customer_floor"
        " WHERE status = 'suspended' EXCEPT SELECT id FROM customer WHERE status = 'suspended')) d",
    )
    assert differing == 0, f"{differing} customers differ from the floor's set"
    log = "SELECT count(DISTINCT customer_id) FROM suspension_log WHERE action = 'suspended' HAVING count(*) = {}"
    assert await _one(db, tenant, log.format(want)) == want
    events = "SELECT count(*) FROM domain_event WHERE name = 'customer.suspended'"
    assert await _one(db, tenant, events) == want
    with_router = sum(1 for n in range(1, customers + 1) if n % 10 < 3 and n % 100 != 2 and n % 4 != 3)
    commands = "SELECT count(*) FROM router_command WHERE action = 'suspend' AND status = 'pending'"
    assert await _one(db, tenant, commands) == with_router
    on_radius = sum(1 for n in range(1, customers + 1) if n % 10 < 3 and n % 100 != 2 and n % 4 == 2)
    grouped = "SELECT count(*) FROM radusergroup WHERE groupname = 'ispb-suspended'"
    assert await _one(db, tenant, grouped) == on_radius
    print(
        f"checked: {want:,} suspended (= the floor's set), {overdue - want:,} covered by credit, {want:,} log rows"
        f" and events, {with_router:,} router commands, {on_radius:,} RADIUS users in the suspended group"
    )


async def main(customers: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=2, max_size=4)
        try:
            await migrate_platform(db)
            tenant = await seed(db, customers)
            job = get_job("billing.auto_suspend")
            first_floor, floor_rows = await floor(db, tenant, keep=False)
            await db.pool.execute("CHECKPOINT")
            async with db.pool.acquire() as router_worker:  # a router worker busy with this tenant's commands
                assert await router_worker.fetchval(
                    "SELECT pg_try_advisory_lock(hashtext('netsync.router_commands'), hashtext($1))", tenant.schema
                )
                before = rss_mb()
                with peak_rss() as peak:
                    started = time.perf_counter()
                    record = await execute(
                        db, job, tenant=tenant, trigger=Trigger.MANUAL, key="bench", today=NOV_12, secret_key=SECRET_KEY
                    )
                    elapsed = time.perf_counter() - started
                again = time.perf_counter()
                rerun = await execute(
                    db, job, tenant=tenant, trigger=Trigger.MANUAL, key="bench-2", today=NOV_12, secret_key=SECRET_KEY
                )
                again = time.perf_counter() - again
                await router_worker.execute("SELECT pg_advisory_unlock_all()")
            second_floor, rows = await floor(db, tenant, keep=True)
            assert rows == floor_rows == expected_suspended(customers), (rows, floor_rows)
            floor_s = min(first_floor, second_floor)
            counts = dict(record.counts)
            print(f"job counts: {counts}")
            print(
                f"job {elapsed:6.2f} s ({counts['suspended'] / elapsed:,.0f} suspensions/s), floor {floor_s:5.2f} s"
                f" (runs {first_floor:.2f}, {second_floor:.2f}), ratio {elapsed / floor_s:.2f};"
                f" peak RSS {peak.mb:,.0f} MB (before the job {before:,.0f} MB); a second run {again:.2f} s"
            )
            assert counts.get("router_busy") == 1, counts
            await db.pool.execute("ANALYZE")  # the checks' plans need the new rows' statistics
            await check(db, tenant, customers, counts)
            assert rerun.counts["suspended"] == 0, rerun.counts
            report(
                Figure(
                    "billing.auto_suspend",
                    f"{customers:,} customers, 30% overdue",
                    elapsed,
                    "s",
                    goal_below=10,
                    floor=floor_s,
                    ratio_goal=3,
                    peak_rss_mb=peak.mb,
                )
            )
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().customers))
