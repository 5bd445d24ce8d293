"""Operator subscriptions against the real PostgreSQL: counts, tier pricing at 200/201, proration, SMS billed
exactly once across concurrent runs, gap-free numbering under concurrency, immutable bills, locking on the lock
day and reopening on payment.

The platform tables are shared by the whole test session, so each test works in a year of its own (numbers are
per year) and looks only at its own operators."""

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
import pytest

from factories import make_customer
from ispb_platform.subscriptions.counts import count_customers
from ispb_platform.subscriptions.issue import bill_operators
from ispb_platform.subscriptions.locking import suspend_unpaid
from ispb_platform.subscriptions.payments import PaymentRefused, credit_bill, record_payment
from ispb_platform.subscriptions.sms import bill_sms
from ispb_tenants import Database, TenantRef


@pytest.fixture(autouse=True)
async def _default_due_and_lock_days(db: Database) -> None:
    """The dates these tests expect (due on the 10th, locked on the 20th), whatever another test saved."""
    await db.pool.execute("UPDATE platform.subscription_settings SET due_day = 10, lock_day = 20")


async def _plan(db: Database, *, pricing: str = "tier", sms_price: str = "0.35", trial_days: int = 0) -> int:
    async with db.platform() as connection:
        plan_id = await connection.fetchval(
            "INSERT INTO subscription_plan (name, pricing, sms_price, trial_days) VALUES ($1, $2, $3, $4) RETURNING id",
            f"Plan {datetime.now(UTC).timestamp()} {pricing}",
            pricing,
            Decimal(sms_price),
            trial_days,
        )
        await connection.executemany(
            "INSERT INTO subscription_tier (plan_id, up_to, price) VALUES ($1, $2, $3)",
            [(plan_id, 200, Decimal("1000")), (plan_id, 500, Decimal("2500")), (plan_id, None, Decimal("6000"))]
            if pricing == "tier"
            else [(plan_id, 200, Decimal("5.50")), (plan_id, None, Decimal("4.25"))],
        )
    return int(plan_id)


async def _subscribe(
    db: Database, tenant: TenantRef, plan_id: int, started_on: date, *, sms: str = "prepaid", trial: date | None = None
) -> None:
    await db.pool.execute(
        "INSERT INTO platform.tenant_subscription (tenant_id, plan_id, started_on, trial_ends_on, sms_billing)"
        " VALUES ($1, $2, $3, $4, $5)",
        tenant.id,
        plan_id,
        started_on,
        trial,
        sms,
    )


async def _count(db: Database, tenant: TenantRef, day: date, active: int) -> None:
    await db.pool.execute(
        "INSERT INTO platform.customer_count (tenant_id, counted_on, active, suspended, disabled)"
        " VALUES ($1, $2, $3, 0, 0) ON CONFLICT (tenant_id, counted_on) DO UPDATE SET active = EXCLUDED.active",
        tenant.id,
        day,
        active,
    )


async def _bills(db: Database, tenant: TenantRef, kind: str = "subscription") -> list[asyncpg.Record]:
    return list(
        await db.pool.fetch(
            "SELECT * FROM platform.subscription_bill WHERE tenant_id = $1 AND kind = $2 ORDER BY period_start",
            tenant.id,
            kind,
        )
    )


async def test_customer_counts_record_each_status_and_a_rerun_replaces_the_day(db: Database, make_tenant):
    tenant = await make_tenant("cnt")
    async with db.tenant(tenant) as scope:
        for status in ("active", "active", "suspended", "disabled"):
            await make_customer(scope, status=status)
    day = date(2031, 1, 5)
    await count_customers(db, day)
    async with db.tenant(tenant) as scope:
        await make_customer(scope)
    await count_customers(db, day)
    rows = await db.pool.fetch(
        "SELECT active, suspended, disabled FROM platform.customer_count WHERE tenant_id = $1", tenant.id
    )
    assert [tuple(r) for r in rows] == [(3, 1, 1)]


@pytest.mark.parametrize(("peak", "total"), [(200, 100000), (201, 250000), (500, 250000), (501, 600000)])
async def test_tier_price_follows_the_months_peak_at_the_tier_bounds(db: Database, make_tenant, peak, total):
    tenant = await make_tenant("tier")
    await _subscribe(db, tenant, await _plan(db), date(2030, 1, 1))
    await _count(db, tenant, date(2032, 4, 3), peak - 7)
    await _count(db, tenant, date(2032, 4, 17), peak)  # the month's peak counts, not the last day
    await _count(db, tenant, date(2032, 4, 30), peak - 3)
    await bill_operators(db, date(2032, 5, 2))
    [bill] = await _bills(db, tenant)
    assert (bill["period_start"], bill["period_end"], bill["total_minor"]) == (
        date(2032, 4, 1),
        date(2032, 4, 30),
        total,
    )
    assert (bill["status"], bill["due_date"], bill["lock_on"]) == ("open", date(2032, 5, 10), date(2032, 5, 20))


async def test_per_customer_price_at_the_200_201_bound(db: Database, make_tenant):
    plan_id = await _plan(db, pricing="per_customer")
    small, large = await make_tenant("pc"), await make_tenant("pc")
    for tenant, peak in ((small, 200), (large, 201)):
        await _subscribe(db, tenant, plan_id, date(2030, 1, 1))
        await _count(db, tenant, date(2033, 6, 10), peak)
    await bill_operators(db, date(2033, 7, 2))
    assert (await _bills(db, small))[0]["total_minor"] == 200 * 550  # 200 x 5.50
    assert (await _bills(db, large))[0]["total_minor"] == 201 * 425  # 201 x 4.25: the whole count at the tier's rate


async def test_an_operator_who_joined_mid_month_pays_its_days_and_a_trial_is_free(db: Database, make_tenant):
    plan_id = await _plan(db)
    joined, trial = await make_tenant("mid"), await make_tenant("trial")
    await _subscribe(db, joined, plan_id, date(2034, 11, 16))  # 15 of November's 30 days
    await _subscribe(db, trial, plan_id, date(2034, 11, 1), trial=date(2034, 11, 30))
    for tenant in (joined, trial):
        await _count(db, tenant, date(2034, 11, 20), 150)
    await bill_operators(db, date(2034, 12, 2))
    [bill] = await _bills(db, joined)
    assert bill["total_minor"] == 50000  # 1,000.00 x 15/30
    lines = await db.pool.fetch(
        "SELECT description, amount_minor FROM platform.subscription_bill_line WHERE bill_id = $1 ORDER BY id",
        bill["id"],
    )
    assert [r["amount_minor"] for r in lines] == [100000, -50000]
    assert "15 of 30 days" in lines[1]["description"]
    assert await _bills(db, trial) == []


async def test_bill_runs_concurrently_make_one_bill_each_with_gap_free_numbers(db: Database, make_tenant):
    plan_id = await _plan(db)
    tenants = [await make_tenant("num") for _ in range(6)]
    for tenant in tenants:
        await _subscribe(db, tenant, plan_id, date(2030, 1, 1))
        await _count(db, tenant, date(2035, 2, 14), 10)
    await asyncio.gather(*(bill_operators(db, date(2035, 3, 2)) for _ in range(4)))
    await bill_operators(db, date(2035, 3, 2))  # and once more, later
    for tenant in tenants:
        assert len(await _bills(db, tenant)) == 1
    numbers = await db.pool.fetch("SELECT number FROM platform.subscription_bill WHERE number LIKE 'SUB-2035-%'")
    taken = sorted(int(r["number"].rsplit("-", 1)[1]) for r in numbers)
    assert taken == list(range(1, len(taken) + 1)) and len(taken) >= len(tenants)


async def test_an_issued_bill_cannot_be_edited_or_deleted_and_a_credit_note_corrects_it(db: Database, make_tenant):
    tenant = await make_tenant("imm")
    await _subscribe(db, tenant, await _plan(db), date(2030, 1, 1))
    await _count(db, tenant, date(2036, 8, 1), 50)
    await bill_operators(db, date(2036, 9, 2))
    [bill] = await _bills(db, tenant)
    for statement in (
        "UPDATE platform.subscription_bill SET total_minor = 1 WHERE id = $1",
        "DELETE FROM platform.subscription_bill WHERE id = $1",
        "UPDATE platform.subscription_bill_line SET amount_minor = 1 WHERE bill_id = $1",
        "INSERT INTO platform.subscription_bill_line (bill_id, description, quantity, unit_price, amount_minor)"
        " VALUES ($1, 'extra', 1, 1, 100)",
    ):
        with pytest.raises(asyncpg.RaiseError, match="cannot be"):
            await db.pool.execute(statement, bill["id"])
    async with db.platform() as connection:
        number = await credit_bill(connection, bill["id"], reason="wrong plan", today=date(2036, 9, 5))
    assert number.startswith("SCN-2036-")
    assert [b["status"] for b in await _bills(db, tenant)] == ["void"]
    [note] = await _bills(db, tenant, "credit_note")
    assert (note["total_minor"], note["reverses_bill_id"], note["note"]) == (
        bill["total_minor"],
        bill["id"],
        "wrong plan",
    )
    await bill_operators(db, date(2036, 9, 2))  # the voided month may be billed again
    assert sorted(b["status"] for b in await _bills(db, tenant)) == ["open", "void"]


async def _sent(db: Database, tenant: TenantRef, count: int, segments: int, *, status: str = "sent") -> None:
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO outbox (key, channel, to_address, body, segments, cause, status, sent_at)"
            " SELECT 'test:' || g || ':' || clock_timestamp(), 'sms', '+8801711000001', 'hello', $2, 'test', $3,"
            " CASE WHEN $3 = 'sent' THEN now() END FROM generate_series(1, $1) g",
            count,
            segments,
            status,
        )


async def test_sms_is_billed_exactly_once_across_concurrent_runs(db: Database, make_tenant):
    postpaid, prepaid = await make_tenant("smsa"), await make_tenant("smsb")
    plan_id = await _plan(db, sms_price="0.35")
    await _subscribe(db, postpaid, plan_id, date(2020, 1, 1), sms="postpaid")
    await _subscribe(db, prepaid, plan_id, date(2020, 1, 1), sms="prepaid")
    today = datetime.now(UTC).date()
    await _sent(db, postpaid, 300, 2)
    await _sent(db, postpaid, 5, 1, status="queued")  # not sent yet: billed by a later run
    await _sent(db, prepaid, 40, 1)
    runs = await asyncio.gather(*(bill_sms(db, today, "now") for _ in range(3)))
    assert sum(r["messages"] for r in runs) >= 340  # every message recorded once, by one of the runs
    assert await db.pool.fetchval("SELECT count(*) FROM platform.sms_usage WHERE tenant_id = $1", postpaid.id) == 300
    [draft] = await _bills(db, postpaid, "sms")
    assert (draft["status"], draft["total_minor"]) == ("draft", 21000)  # 600 segments x 0.35
    assert await _bills(db, prepaid, "sms") == []  # drawn from prepaid credit as they were sent
    async with db.tenant(postpaid) as scope:
        await scope.connection.execute("UPDATE outbox SET status = 'sent', sent_at = now() WHERE status = 'queued'")
    await asyncio.gather(bill_sms(db, today, "later"), bill_sms(db, today, "later"))
    [draft] = await _bills(db, postpaid, "sms")
    assert draft["total_minor"] == 21000 + 175  # 5 more segments, once
    cursor = await db.pool.fetchval(
        "SELECT scan_from_id FROM platform.sms_usage_cursor WHERE tenant_id = $1", postpaid.id
    )
    async with db.tenant(postpaid) as scope:
        assert cursor == await scope.connection.fetchval("SELECT max(id) + 1 FROM outbox")


async def test_an_ended_months_sms_bill_is_issued_with_a_number(db: Database, make_tenant):
    tenant = await make_tenant("smsi")
    await _subscribe(db, tenant, await _plan(db, sms_price="0.50"), date(2020, 1, 1), sms="postpaid")
    await _sent(db, tenant, 10, 1)
    today = datetime.now(UTC).date()
    await bill_sms(db, today, "now")
    next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    await bill_sms(db, next_month, "next month")
    [bill] = await _bills(db, tenant, "sms")
    assert bill["status"] == "open" and bill["number"].startswith(f"SUB-{next_month.year}-")
    assert (bill["total_minor"], bill["issue_date"]) == (500, next_month)


async def test_unpaid_on_the_20th_locks_the_panel_and_paying_reopens_it(db: Database, make_tenant):
    tenant = await make_tenant("lock")
    async with db.pool.acquire() as connection:
        await connection.execute("UPDATE platform.tenant SET phone = '+8801711000099' WHERE id = $1", tenant.id)
    await _subscribe(db, tenant, await _plan(db), date(2030, 1, 1))
    await _count(db, tenant, date(2037, 4, 9), 120)
    await bill_operators(db, date(2037, 5, 2))
    [bill] = await _bills(db, tenant)

    async def locked() -> bool:
        value = await db.pool.fetchval(
            "SELECT locked_at IS NOT NULL FROM platform.tenant_subscription WHERE tenant_id = $1", tenant.id
        )
        return bool(value)

    await suspend_unpaid(db, date(2037, 5, 15))  # 5 days before: a warning
    await suspend_unpaid(db, date(2037, 5, 19))  # 1 day before: another
    await suspend_unpaid(db, date(2037, 5, 19))  # a rerun adds nothing
    assert not await locked()
    await asyncio.gather(suspend_unpaid(db, date(2037, 5, 20)), suspend_unpaid(db, date(2037, 5, 20)))
    assert await locked()
    async with db.tenant(tenant) as scope:
        keys = [r["key"] for r in await scope.connection.fetch("SELECT key FROM outbox ORDER BY id")]
    assert keys == [
        f"subscription:warn:{bill['number']}:5",
        f"subscription:warn:{bill['number']}:1",
        "subscription:locked:2037-05-20",
    ]
    async with db.platform() as connection:
        with pytest.raises(PaymentRefused, match="at most"):
            await record_payment(
                connection,
                bill["id"],
                bill["total_minor"] + 1,
                method="cash",
                reference="",
                recorded_by="admin",
                paid_on=date(2037, 5, 21),
            )
    async with db.platform() as connection:
        part = await record_payment(
            connection, bill["id"], 100, method="cash", reference="r1", recorded_by="admin", paid_on=date(2037, 5, 21)
        )
    assert (part.bill_status, part.reopened) == ("open", False) and await locked()
    async with db.platform() as connection:
        rest = await record_payment(
            connection,
            bill["id"],
            bill["total_minor"] - 100,
            method="bank",
            reference="r2",
            recorded_by="admin",
            paid_on=date(2037, 5, 21),
        )
    assert (rest.bill_status, rest.reopened) == ("paid", True) and not await locked()
    await suspend_unpaid(db, date(2037, 5, 22))
    assert not await locked()
