"""The demo's subscriptions: the platform bills its two demo operators.

A plan ("Starter": up to 200 active customers, up to 500, more; SMS at 0.35 a segment), both operators on it
for a year (Dhaka Fiber Net's SMS prepaid, Padma Link's postpaid), a year of nightly-count history (the demo
cannot have counted before it existed: the months before are its current count, a little smaller each month
back, as a growing ISP's would be), and the real jobs' runs: today's count, the bills of the last two months
(``subscription.bill_operators`` as on the 2nd of each) and the SMS sent so far (``subscription.bill_sms``).
Dhaka Fiber Net paid the older bill; Padma Link did not, so its bill is past its lock date: Scheduled jobs →
``subscription.suspend_unpaid`` → "Run now" (admin console) locks its panel, and paying reopens it.
Idempotent: the jobs bill each month once, the payment is recorded once.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_platform.subscriptions.payments import record_payment
from ispb_platform.subscriptions.pricing import month_bounds, previous_month
from ispb_tenants import Database, TenantRef

PLAN = "Starter"
TIERS = ((200, Decimal("1500")), (500, Decimal("3000")), (None, Decimal("6000")))
SMS_BILLING = {"dhaka-fiber": "prepaid", "padma-link": "postpaid"}
PAID = "dhaka-fiber"
ISSUER = (
    "ISPB Demo Platform",
    "Level 4, 22 Kemal Ataturk Avenue, Banani, Dhaka 1213",
    "09610-000111",
    "billing@ispb.test",
)


async def prepare_subscriptions(db: Database, tenants: list[TenantRef], today: date | None = None) -> None:
    today = today or datetime.now(UTC).date()
    await _plan(db, tenants, today)
    await execute(db, get_job("reports.customer_counts"), tenant=None, trigger=Trigger.MANUAL, key="demo", today=today)
    await _history(db, tenants, today)
    bills = get_job("subscription.bill_operators")
    older = previous_month(today)[0].replace(day=min(2, today.day))  # the 2nd of last month bills the month before
    this = today.replace(day=min(2, today.day))
    for issued in (older, this):
        await execute(db, bills, tenant=None, trigger=Trigger.MANUAL, key=f"demo-{issued:%Y-%m}", today=issued)
    await execute(db, get_job("subscription.bill_sms"), tenant=None, trigger=Trigger.MANUAL, key="demo", today=today)
    await _paid(db, next(t for t in tenants if t.slug == PAID), older)


async def _plan(db: Database, tenants: list[TenantRef], today: date) -> None:
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE subscription_settings SET issuer_name = $1, issuer_address = $2, issuer_phone = $3,"
            " issuer_email = $4 WHERE issuer_address = ''",
            *ISSUER,
        )
        plan_id = await connection.fetchval("SELECT id FROM subscription_plan WHERE name = $1", PLAN)
        if plan_id is None:
            plan_id = await connection.fetchval(
                "INSERT INTO subscription_plan (name, pricing, sms_price) VALUES ($1, 'tier', 0.35) RETURNING id", PLAN
            )
            await connection.executemany(
                "INSERT INTO subscription_tier (plan_id, up_to, price) VALUES ($1, $2, $3)",
                [(plan_id, up_to, price) for up_to, price in TIERS],
            )
        started = month_bounds(today.replace(day=1) - timedelta(days=330))[0]
        await connection.executemany(
            "INSERT INTO tenant_subscription (tenant_id, plan_id, started_on, sms_billing) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant_id) DO NOTHING",
            [(t.id, plan_id, started, SMS_BILLING.get(t.slug, "prepaid")) for t in tenants],
        )


async def _history(db: Database, tenants: list[TenantRef], today: date) -> None:
    """Mid-month counts of the 11 months before this one, from today's real count (never over a real count)."""
    rows = []
    for tenant in tenants:
        now = await db.pool.fetchrow(
            "SELECT active, suspended, disabled FROM platform.customer_count WHERE tenant_id = $1 AND counted_on = $2",
            tenant.id,
            today,
        )
        if now is None:
            continue
        first = today.replace(day=1)
        for back in range(1, 12):
            first = (first - timedelta(days=1)).replace(day=1)
            share = Decimal(100 - 4 * back) / 100
            rows.append(
                (tenant.id, first.replace(day=15), int(now["active"] * share), now["suspended"], now["disabled"])
            )
    await db.pool.executemany(
        "INSERT INTO platform.customer_count (tenant_id, counted_on, active, suspended, disabled)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, counted_on) DO NOTHING",
        rows,
    )


async def _paid(db: Database, tenant: TenantRef, issued: date) -> None:
    """The paying operator settled the older bill by bank transfer a week after it was issued."""
    async with db.platform() as connection:
        bill = await connection.fetchrow(
            "SELECT id, total_minor FROM subscription_bill WHERE tenant_id = $1 AND kind = 'subscription'"
            " AND issue_date = $2 AND status = 'open' AND paid_minor = 0",
            tenant.id,
            issued,
        )
        if bill is not None:
            await record_payment(
                connection,
                bill["id"],
                bill["total_minor"],
                method="bank",
                reference=f"DEMO-SUB-{issued:%y%m}",
                recorded_by="demo",
                paid_on=min(issued + timedelta(days=7), datetime.now(UTC).date()),
            )
