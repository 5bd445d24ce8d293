"""Bill generation and advance auto-debit on a real tenant schema: idempotent, concurrent-safe, reconciled."""

import asyncio
import contextvars
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from factories import make_bill, make_billing_profile, make_customer, make_discount, make_package, make_payment
from ispb_billing import Money
from ispb_platform.billing import advance
from ispb_platform.billing.advance import settle_all
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_tenants import Database, TenantRef
from processes import ispb_environment

DEC_1 = date(2026, 12, 1)
ISPB = str(Path(sys.executable).parent / "ispb")


async def _tenant_with_customers(db: Database, make_tenant, count: int = 40) -> TenantRef:
    tenant = await make_tenant("bill")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, count, seed=11)
    return tenant


def _ctx(db: Database, tenant: TenantRef, today: date) -> JobContext:
    from datetime import UTC, datetime

    return JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant)


async def assert_ledger_reconciles(db: Database, tenant: TenantRef) -> None:
    """balance cache == ledger debits − credits == open outstanding − unapplied payments, for every customer."""
    async with db.tenant(tenant) as scope:
        wrong = await scope.connection.fetch(
            """
            SELECT c.id, coalesce(a.balance_minor, 0) AS balance_minor,
                   coalesce((SELECT sum(CASE WHEN kind = 'debit' THEN amount_minor ELSE -amount_minor END)
                             FROM ledger_entry e WHERE e.customer_id = c.id), 0) AS ledger,
                   coalesce((SELECT sum(total_minor - paid_minor) FROM bill b
                             WHERE b.customer_id = c.id AND b.kind = 'invoice'), 0)
                   - coalesce((SELECT sum(unapplied_minor) FROM payment p WHERE p.customer_id = c.id), 0) AS derived,
                   coalesce((SELECT sum(amount_minor) FROM payment_allocation a JOIN bill b ON b.id = a.bill_id
                             WHERE b.customer_id = c.id AND a.released_at IS NULL), 0) AS allocated,
                   coalesce((SELECT sum(paid_minor) FROM bill b WHERE b.customer_id = c.id AND b.kind = 'invoice'), 0)
                       AS paid
            FROM customer c LEFT JOIN customer_account a ON a.customer_id = c.id
            """
        )
    problems = [
        dict(r) for r in wrong if not r["balance_minor"] == r["ledger"] == r["derived"] or r["allocated"] != r["paid"]
    ]
    assert problems == []


async def _bills(db: Database, tenant: TenantRef) -> list[dict]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT customer_id, number, period_start, period_end, total_minor, status FROM bill"
            " WHERE kind = 'invoice' ORDER BY number"
        )
    return [dict(r) for r in rows]


async def test_generation_bills_each_billable_customer_once_and_numbers_have_no_gaps(db: Database, make_tenant):
    tenant = await _tenant_with_customers(db, make_tenant)
    first = await execute(
        db, get_job("billing.generate_bills"), tenant=tenant, today=DEC_1, trigger=Trigger.MANUAL, key="test"
    )
    assert first.status == "succeeded", first.error
    bills = await _bills(db, tenant)
    async with db.tenant(tenant) as scope:
        billable = await scope.connection.fetchval(
            "SELECT count(*) FROM customer WHERE status = 'active' AND package_id IS NOT NULL"
        )
        suspended = await scope.connection.fetchval(
            "SELECT count(*) FROM customer WHERE status = 'suspended' AND package_id IS NOT NULL"
        )
    assert len(bills) == billable > 0
    assert first.counts["billed"] == billable and first.counts["skipped_suspended"] == suspended
    assert [b["number"] for b in bills] == [f"INV-2026-{n:06d}" for n in range(1, len(bills) + 1)]
    assert len({b["customer_id"] for b in bills}) == len(bills)
    assert all(b["period_start"] <= DEC_1 <= b["period_end"] for b in bills)

    second = await execute(
        db, get_job("billing.generate_bills"), tenant=tenant, today=DEC_1, trigger=Trigger.MANUAL, key="test"
    )
    assert second.status == "succeeded" and second.counts["billed"] == 0
    assert await _bills(db, tenant) == bills
    await assert_ledger_reconciles(db, tenant)


async def test_every_customer_has_an_account_row_from_the_start(db: Database, make_tenant):
    """Migration 0007: one row, one statement or a bulk insert; the bill job and payments only update it."""
    tenant = await _tenant_with_customers(db, make_tenant, count=25)
    async with db.tenant(tenant) as scope:
        await make_customer(scope, code="ONE", name="Single", phone="+8801711000001")
        missing = await scope.connection.fetchval(
            "SELECT count(*) FROM customer c LEFT JOIN customer_account a ON a.customer_id = c.id"
            " WHERE a.customer_id IS NULL OR a.billed_through IS NOT NULL OR a.balance_minor <> 0"
        )
        accounts = await scope.connection.fetchval("SELECT count(*) FROM customer_account")
    assert (missing, accounts) == (0, 26)


async def test_small_chunks_and_shared_drafts_give_every_customer_its_own_bill(
    db: Database, make_tenant, monkeypatch: pytest.MonkeyPatch
):
    """The writer sends each distinct draft once and maps customers to it: chunked or not, with a discount
    making one customer's draft differ, the bills and lines are the same as one big chunk's."""
    import ispb_platform.billing.generate as generate

    made = []
    for chunk in (7, 2_000):
        tenant = await _tenant_with_customers(db, make_tenant)
        async with db.tenant(tenant) as scope:
            discounted = await scope.connection.fetchval(
                "SELECT min(id) FROM customer WHERE status = 'active' AND package_id IS NOT NULL"
            )
            await make_discount(scope, customer_id=discounted, label="Loyal", percent_bp=1000)
        monkeypatch.setattr(generate, "CHUNK", chunk)
        counts = await generate_bills(_ctx(db, tenant, DEC_1))
        async with db.tenant(tenant) as scope:
            rows = await scope.connection.fetch(
                "SELECT c.code, b.number, b.total_minor, b.package_name, a.billed_through, a.balance_minor,"
                " array_agg(l.kind || ':' || l.net_minor || ':' || l.description ORDER BY l.position) AS lines"
                " FROM bill b JOIN customer c ON c.id = b.customer_id JOIN bill_line l ON l.bill_id = b.id"
                " JOIN customer_account a ON a.customer_id = c.id GROUP BY c.code, b.id, a.customer_id ORDER BY c.code"
            )
            discount_lines = await scope.connection.fetchval(
                "SELECT count(*) FROM bill_line l JOIN bill b ON b.id = l.bill_id"
                " WHERE b.customer_id = $1 AND l.kind = 'discount'",
                discounted,
            )
        assert discount_lines == 1
        assert counts["billed"] == len(rows) > 20
        assert all(r["balance_minor"] == r["total_minor"] for r in rows)
        # monthly packages through the month's end; the 1-day hotspot (on the prepaid daily profile) for the day
        through = {r["billed_through"] for r in rows if r["package_name"] != "Daily Hotspot 1 Day"}
        assert through == {date(2026, 12, 31)}
        assert {r["billed_through"] for r in rows if r["package_name"] == "Daily Hotspot 1 Day"} <= {DEC_1}
        made.append([dict(r) for r in rows])
        await assert_ledger_reconciles(db, tenant)
    assert made[0] == made[1]


async def test_two_concurrent_runs_bill_once(db: Database, make_tenant):
    tenant = await _tenant_with_customers(db, make_tenant, 60)
    results = await asyncio.gather(*(generate_bills(_ctx(db, tenant, DEC_1)) for _ in range(3)))
    bills = await _bills(db, tenant)
    assert sum(r["billed"] for r in results) == len(bills) > 0
    assert len({b["customer_id"] for b in bills}) == len(bills)
    assert [b["number"] for b in bills] == [f"INV-2026-{n:06d}" for n in range(1, len(bills) + 1)]
    await assert_ledger_reconciles(db, tenant)


@pytest.mark.slow
async def test_two_worker_processes_at_once_bill_once(db: Database, database_url: str, make_tenant):
    tenant = await _tenant_with_customers(db, make_tenant, 300)
    environment = ispb_environment(database_url, ISPB_SECRET_KEY="w" * 40)
    command = [ISPB, "jobs", "run", "billing.generate_bills", "--tenant", tenant.slug, "--today", "2026-12-01"]

    def run_both() -> list[subprocess.CompletedProcess[str]]:
        processes = [
            subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        return [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in processes]

    for finished in await asyncio.to_thread(run_both):
        assert finished.returncode == 0, finished.stderr
    bills = await _bills(db, tenant)
    assert len({b["customer_id"] for b in bills}) == len(bills) > 0
    assert [b["number"] for b in bills] == [f"INV-2026-{n:06d}" for n in range(1, len(bills) + 1)]
    await assert_ledger_reconciles(db, tenant)


async def test_next_month_bills_again_and_a_new_customer_gets_a_prorated_first_bill(db: Database, make_tenant):
    tenant = await make_tenant("prorata")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(
            scope, name="Fiber 30", price_minor=90000, download_kbps=30000, upload_kbps=30000, vat_rate_bp=500
        )
        for code, name, phone, connected in (
            ("OLD", "Old Customer", "+8801711000001", date(2026, 1, 10)),
            ("NEW", "New Customer", "+8801711000002", date(2026, 12, 16)),
        ):
            await make_customer(
                scope, code=code, name=name, phone=phone, package_id=package_id, connection_date=connected
            )
    for day in (date(2026, 12, 1), date(2026, 12, 16), date(2027, 1, 1)):
        await generate_bills(_ctx(db, tenant, day))
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT c.code, b.number, b.period_start, b.period_end, b.net_minor, b.vat_minor, b.total_minor"
            " FROM bill b JOIN customer c ON c.id = b.customer_id ORDER BY b.id"
        )
    got = [(r["code"], r["period_start"], r["period_end"], r["net_minor"], r["vat_minor"]) for r in rows]
    assert got == [
        ("OLD", date(2026, 12, 1), date(2026, 12, 31), 90000, 4500),
        ("NEW", date(2026, 12, 16), date(2026, 12, 31), 46452, 2323),  # 16 of 31 days, 5 % VAT on the line
        ("OLD", date(2027, 1, 1), date(2027, 1, 31), 90000, 4500),
        ("NEW", date(2027, 1, 1), date(2027, 1, 31), 90000, 4500),
    ]
    assert rows[2]["number"] == "INV-2027-000001"  # numbering restarts each year, without gaps


async def test_advance_credit_settles_next_months_bill_on_the_first(db: Database, make_tenant):
    tenant = await make_tenant("advance")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Home", price_minor=50000)
        customer_id = await make_customer(
            scope,
            code="ADV",
            name="Advance Payer",
            phone="+8801711000003",
            package_id=package_id,
            connection_date=date(2026, 1, 1),
        )
    await generate_bills(_ctx(db, tenant, DEC_1))
    async with db.tenant(tenant) as scope:  # pays December and three more months in advance
        paid = await record_payment(
            scope.connection,
            customer_id=customer_id,
            amount=Money(200000, tenant.currency),
            method=PaymentMethod.CASH,
            reference="",
            received_on=date(2026, 12, 3),
            received_by="test",
        )
    assert paid.settlement.applied.minor == 50000 and paid.balance.minor == -150000
    await generate_bills(_ctx(db, tenant, date(2027, 1, 1)))
    counts = await settle_all(db, tenant)
    assert counts["customers_settled"] == 1 and counts["minor_units_applied"] == 50000
    again = await settle_all(db, tenant)
    assert again["customers_settled"] == 0
    async with db.tenant(tenant) as scope:
        statuses = await scope.connection.fetch("SELECT status FROM bill ORDER BY id")
        unapplied = await scope.connection.fetchval("SELECT unapplied_minor FROM payment")
    assert [r["status"] for r in statuses] == ["paid", "paid"] and unapplied == 100000
    await assert_ledger_reconciles(db, tenant)
    job = await execute(
        db, get_job("billing.advance_debit"), tenant=tenant, today=date(2027, 1, 2), trigger=Trigger.MANUAL, key="test"
    )
    assert job.counts["not_the_first"] == 1  # the schedule ticks hourly on the 1st; other days do nothing


async def test_mid_cycle_package_change_is_prorated_on_the_next_bill(db: Database, make_tenant):
    from ispb_platform.billing.package_change import record_package_change

    tenant = await make_tenant("change")
    async with db.tenant(tenant) as scope:
        small, big = [
            await make_package(scope, name=name, price_minor=price)
            for name, price in (("Fiber 20", 80000), ("Fiber 40", 110000))
        ]
        customer_id = await make_customer(
            scope,
            code="UP",
            name="Upgrader",
            phone="+8801711000009",
            package_id=small,
            connection_date=date(2026, 1, 1),
        )
    await generate_bills(_ctx(db, tenant, date(2026, 11, 1)))
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE customer SET package_id = $2 WHERE id = $1", customer_id, big)
        written = await record_package_change(
            scope.connection,
            customer_id=customer_id,
            old_package_id=small,
            new_package_id=big,
            today=date(2026, 11, 21),
            currency=tenant.currency,
            by="test",
        )
    assert written == 2
    await generate_bills(_ctx(db, tenant, DEC_1))
    async with db.tenant(tenant) as scope:
        lines = await scope.connection.fetch(
            "SELECT l.kind, l.net_minor FROM bill_line l JOIN bill b ON b.id = l.bill_id"
            " WHERE b.period_start = $1 ORDER BY l.position",
            DEC_1,
        )
        pending = await scope.connection.fetchval("SELECT count(*) FROM bill_adjustment WHERE billed_bill_id IS NULL")
    # December at the new price, plus 10 days of November: -266.67 for Fiber 20, +366.67 for Fiber 40
    assert [(r["kind"], r["net_minor"]) for r in lines] == [
        ("package", 110000),
        ("prorata_credit", -26667),
        ("adjustment", 36667),
    ]
    assert pending == 0
    await assert_ledger_reconciles(db, tenant)


async def test_the_bill_day_follows_the_operators_time_zone(db: Database, make_tenant):
    """18:30 UTC on 30 November is already 1 December in Dhaka but still 30 November in New York."""
    from datetime import UTC, datetime

    instant = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    periods = {}
    for zone in ("Asia/Dhaka", "America/New_York"):
        tenant = await make_tenant("zone", timezone=zone)
        async with db.tenant(tenant) as scope:
            package_id = await make_package(scope, name="P", price_minor=100)
            await make_customer(
                scope,
                code="Z",
                name="Zoned",
                phone="+8801711000010",
                package_id=package_id,
                connection_date=date(2026, 1, 1),
            )
        run = await execute(
            db, get_job("billing.generate_bills"), tenant=tenant, trigger=Trigger.MANUAL, key="tz", now=instant
        )
        async with db.tenant(tenant) as scope:
            periods[zone] = (run.today, await scope.connection.fetchval("SELECT period_start FROM bill"))
    assert periods["Asia/Dhaka"] == (date(2026, 12, 1), date(2026, 12, 1))
    assert periods["America/New_York"] == (date(2026, 11, 30), date(2026, 11, 1))


async def test_a_validity_package_on_a_monthly_profile_is_parked_with_a_reason_not_billed_a_month(
    db: Database, make_tenant
):
    """Seen in the demo: "Daily Hotspot 1 Day" (30.00, valid 1 day) on the monthly default profile was billed
    2026-12-01 – 2026-12-31 at 30.00. A validity package is prepaid per validity on a daily profile: there each
    bill covers its validity at its price; on a monthly profile the customer is parked with the reason instead."""
    tenant = await make_tenant("validity")
    async with db.tenant(tenant) as scope:
        hotspot = await make_package(scope, name="Daily Hotspot 1 Day", price_minor=3000, validity_days=1)
        weekly = await make_package(scope, name="Weekly 7 Days", price_minor=15000, validity_days=7)
        daily = await make_billing_profile(scope, name="Prepaid daily", cycle="daily", due_days=0, grace_days=0)
        wrong = await make_customer(scope, code="W1", package_id=hotspot, connection_date=date(2026, 11, 20))
        right = await make_customer(
            scope, code="R1", package_id=hotspot, billing_profile_id=daily, connection_date=date(2026, 11, 20)
        )
        week = await make_customer(
            scope, code="R7", package_id=weekly, billing_profile_id=daily, connection_date=date(2026, 11, 20)
        )
    counts = await generate_bills(_ctx(db, tenant, DEC_1))
    assert counts["billed"] == 2 and counts["parked"] == 1
    again = await generate_bills(_ctx(db, tenant, date(2026, 12, 2)))
    assert again["billed"] == 1 and again["parked"] == 0  # the 1-day package's next day; the week runs on
    async with db.tenant(tenant) as scope:
        bills = await scope.connection.fetch(
            "SELECT customer_id, period_start, period_end, total_minor FROM bill ORDER BY customer_id, period_start"
        )
        parked = await scope.connection.fetch(
            "SELECT customer_id, reason FROM billing_parked WHERE resolved_at IS NULL"
        )
    assert [tuple(b) for b in bills] == [
        (right, DEC_1, DEC_1, 3000),
        (right, date(2026, 12, 2), date(2026, 12, 2), 3000),
        (week, DEC_1, date(2026, 12, 7), 15000),
    ]
    assert [p["customer_id"] for p in parked] == [wrong]
    reason = parked[0]["reason"]
    assert "Daily Hotspot 1 Day" in reason and "Standard monthly" in reason and "daily" in reason, reason


async def _credit_customers(db: Database, make_tenant, count: int) -> tuple[TenantRef, list[int]]:
    """``count`` customers who paid 300.00 and then 600.00 before their November and December bills (500.00
    each) were issued: 900.00 of credit for 1,000.00 of open bills."""
    tenant = await make_tenant("credit")
    ids = []
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, price_minor=50000)
        for n in range(count):
            customer_id = await make_customer(
                scope, code=f"A{n}", phone=f"+88017120{n:05d}", package_id=package_id, connection_date=date(2026, 1, 1)
            )
            await make_payment(scope, customer_id=customer_id, amount_minor=30000, received_on=date(2026, 10, 1))
            await make_payment(scope, customer_id=customer_id, amount_minor=60000, received_on=date(2026, 10, 2))
            for month in (11, 12):
                await make_bill(scope, customer_id=customer_id, period_start=date(2026, month, 1))
            ids.append(customer_id)
    return tenant, ids


async def test_advance_debit_spends_the_oldest_payment_on_the_oldest_bill_first_chunk_after_chunk(
    db: Database, make_tenant, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(advance, "CHUNK", 2)
    tenant, ids = await _credit_customers(db, make_tenant, 5)
    counts = await settle_all(db, tenant)
    assert counts == {"customers_settled": 5, "minor_units_applied": 5 * 90000, "not_the_first": 0}
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT b.customer_id, b.period_start, p.amount_minor AS payment, a.amount_minor, a.source"
            " FROM payment_allocation a JOIN bill b ON b.id = a.bill_id JOIN payment p ON p.id = a.payment_id"
            " ORDER BY b.customer_id, a.id"
        )
        bills = await scope.connection.fetch("SELECT customer_id, paid_minor, status FROM bill ORDER BY id")
        credit = await scope.connection.fetchval("SELECT sum(unapplied_minor) FROM payment")
    nov, dec = date(2026, 11, 1), date(2026, 12, 1)
    assert [tuple(r.values()) for r in rows] == [
        row
        for customer_id in ids
        for row in (
            (customer_id, nov, 30000, 30000, "advance_debit"),
            (customer_id, nov, 60000, 20000, "advance_debit"),
            (customer_id, dec, 60000, 40000, "advance_debit"),
        )
    ]
    assert [(r["paid_minor"], r["status"]) for r in bills] == [(50000, "paid"), (40000, "open")] * 5
    assert credit == 0
    await assert_ledger_reconciles(db, tenant)
    assert (await settle_all(db, tenant))["customers_settled"] == 0


async def test_two_concurrent_advance_debits_settle_each_customer_once(
    db: Database, make_tenant, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(advance, "CHUNK", 3)
    tenant, ids = await _credit_customers(db, make_tenant, 7)
    runs = [asyncio.create_task(settle_all(db, tenant), context=contextvars.Context()) for _ in range(2)]
    results = await asyncio.gather(*runs)
    assert sum(r["customers_settled"] for r in results) == len(ids)
    assert sum(r["minor_units_applied"] for r in results) == len(ids) * 90000
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM payment_allocation") == 3 * len(ids)
    await assert_ledger_reconciles(db, tenant)
