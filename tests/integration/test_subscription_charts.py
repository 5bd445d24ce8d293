"""The admin console's subscription charts equal SQL over the source tables: the counts, the bills' lines, the
per-message SMS records and, for arrears, the bills and payments replayed in Python. Scripted: two operators over
the last months, bills from the real job, payments on some, SMS sent and recorded by the real job."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ispb_platform.subscriptions.charts import admin_charts, months_until
from ispb_platform.subscriptions.issue import bill_operators
from ispb_platform.subscriptions.payments import record_payment
from ispb_platform.subscriptions.pricing import month_bounds
from ispb_platform.subscriptions.sms import bill_sms
from ispb_tenants import Database


async def test_admin_charts_equal_sql_over_the_source_tables(db: Database, make_tenant):
    today = datetime.now(UTC).date()
    months = months_until(today)
    a, b = await make_tenant("cha"), await make_tenant("chb")
    plan_id = await db.fetchval(
        "INSERT INTO platform.subscription_plan (name, sms_price) VALUES ($1, 0.25) RETURNING id", f"Charts {a.slug}"
    )
    await db.pool.execute(
        "INSERT INTO platform.subscription_tier (plan_id, up_to, price) VALUES ($1, 100, 800), ($1, NULL, 2000)",
        plan_id,
    )
    for tenant, sms in ((a, "prepaid"), (b, "postpaid")):
        await db.pool.execute(
            "INSERT INTO platform.tenant_subscription (tenant_id, plan_id, started_on, sms_billing)"
            " VALUES ($1, $2, $3, $4)",
            tenant.id, plan_id, months[0], sms,
        )  # fmt: skip
        for n, month in enumerate(months):
            await db.pool.execute(
                "INSERT INTO platform.customer_count (tenant_id, counted_on, active, suspended, disabled)"
                " VALUES ($1, $2, $3, 0, 0), ($1, $4, $5, 0, 0)",
                tenant.id, month, 60 + 7 * n + (tenant is b) * 30, month.replace(day=10), 58 + 7 * n,
            )  # fmt: skip
    for month in months[1:]:
        await bill_operators(db, month.replace(day=2))
    bills = await db.pool.fetch(
        "SELECT id, tenant_id, total_minor, issue_date FROM platform.subscription_bill WHERE tenant_id = ANY($1)"
        " ORDER BY period_start, tenant_id",
        [a.id, b.id],
    )
    for n, bill in enumerate(bills):  # a pays everything a week late; b pays every other bill in part
        paid_on = min(bill["issue_date"] + timedelta(days=20), today)
        amount = bill["total_minor"] if bill["tenant_id"] == a.id else (bill["total_minor"] // 2 if n % 4 == 1 else 0)
        if amount:
            async with db.platform() as connection:
                await record_payment(connection, bill["id"], amount, method="bank", reference="", recorded_by="t",
                                     paid_on=paid_on)  # fmt: skip
    for tenant, count in ((a, 12), (b, 30)):
        async with db.tenant(tenant) as scope:
            await scope.connection.execute(
                "INSERT INTO outbox (key, channel, to_address, body, segments, cause, status, sent_at)"
                " SELECT 'c:' || g, 'sms', '+8801711000001', 'x', 1 + g % 2, 'test', 'sent', now()"
                " FROM generate_series(1, $1) g",
                count,
            )
    await bill_sms(db, today, "now")

    async with db.platform() as connection:
        charts = {c.slug: c for c in await admin_charts(connection, today)}
        # customers: the month's highest daily count, per operator (a's and b's series by name)
        for tenant in (a, b):
            rows = await connection.fetch(
                "SELECT date_trunc('month', counted_on)::date AS m, max(active) AS v FROM customer_count"
                " WHERE tenant_id = $1 GROUP BY 1",
                tenant.id,
            )
            expected = {r["m"]: r["v"] for r in rows}
            series = next(s for s in charts["customers-per-operator"].series if s.name == tenant.name)
            assert list(series.values) == [expected.get(m) for m in months]
        # recurring revenue: every bill not voided, by the month billed (all operators; other tests' bills too,
        # some made without lines, so the totals and not the lines)
        rows = await connection.fetch(
            "SELECT b.period_start AS m, b.kind, sum(b.total_minor) AS v FROM subscription_bill b"
            " WHERE b.status NOT IN ('void', 'draft') AND b.kind IN ('subscription', 'sms') GROUP BY 1, 2"
        )
        lines = await connection.fetchval(  # the bills of this test: their lines add up to their totals
            "SELECT count(*) FROM subscription_bill b WHERE b.tenant_id = ANY($1) AND b.total_minor <>"
            " (SELECT coalesce(sum(l.amount_minor), 0) FROM subscription_bill_line l WHERE l.bill_id = b.id)",
            [a.id, b.id],
        )
        assert lines == 0
        expected_mrr = {(r["m"], r["kind"]): Decimal(r["v"]) / 100 for r in rows}
        revenue = charts["recurring-revenue"]
        assert list(revenue.series[0].values) == [expected_mrr.get((m, "subscription")) for m in months]
        # SMS: the per-message records, by month and billing
        rows = await connection.fetch(
            "SELECT date_trunc('month', sent_at AT TIME ZONE 'UTC')::date AS m, billed_as, sum(segments) AS v"
            " FROM sms_usage GROUP BY 1, 2"
        )
        expected_sms = {(r["m"], r["billed_as"]): r["v"] for r in rows}
        sms = charts["sms-usage"]
        assert [list(s.values) for s in sms.series] == [
            [expected_sms.get((m, kind)) for m in months] for kind in ("prepaid", "postpaid")
        ]
        assert expected_sms[(months[-1], "postpaid")] >= 45  # b's 30 messages, 45 segments, among them
        # arrears: every bill and payment replayed in Python at each month's end
        all_bills = await connection.fetch(
            "SELECT id, tenant_id, total_minor, issue_date, due_date FROM subscription_bill"
            " WHERE kind IN ('subscription', 'sms') AND status <> 'draft'"
        )
        payments = await connection.fetch("SELECT bill_id, amount_minor, paid_on FROM subscription_payment")
        notes = {r["reverses_bill_id"]: r["issue_date"] for r in await connection.fetch(
            "SELECT reverses_bill_id, issue_date FROM subscription_bill WHERE kind = 'credit_note'")}  # fmt: skip

    def in_arrears(at: date) -> int:
        late = set()
        for bill in all_bills:
            paid = sum(p["amount_minor"] for p in payments if p["bill_id"] == bill["id"] and p["paid_on"] <= at)
            voided = bill["id"] in notes and notes[bill["id"]] <= at
            if bill["issue_date"] <= at and bill["due_date"] < at and paid < bill["total_minor"] and not voided:
                late.add(bill["tenant_id"])
        return len(late)

    expected_arrears = [in_arrears(min(month_bounds(m)[1], today)) for m in months]
    assert list(charts["operators-in-arrears"].series[0].values) == expected_arrears
    assert max(expected_arrears) >= 1  # b is in arrears in the scripted months
