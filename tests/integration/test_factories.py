"""The test factories build rows the app itself would accept and keeps consistent (tests/factories.py)."""

from datetime import UTC, date, datetime

from factories import Line, make_bill, make_customer, make_package, make_payment
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_tenants import Database


async def test_a_made_bill_and_payment_keep_ledger_balance_and_billing_cursor_in_step(db: Database, make_tenant):
    tenant = await make_tenant("fac")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Home", price_minor=50000, vat_rate_bp=500)
        customer_id = await make_customer(scope, package_id=package_id, connection_date=date(2026, 1, 1))
        bill = await make_bill(
            scope,
            customer_id=customer_id,
            period_start=date(2026, 11, 1),
            lines=(Line("Home", 50000, vat_rate_bp=500, vat_minor=2500),),
            package_id=package_id,
            package_name="Home",
        )
        await make_payment(scope, customer_id=customer_id, amount_minor=60000, received_on=date(2026, 11, 5))
    counts = await generate_bills(JobContext(db=db, today=date(2026, 11, 1), now=datetime.now(UTC), tenant=tenant))
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(
            "SELECT b.status, b.period_end, b.due_date, a.billed_through, a.balance_minor,"
            " (SELECT sum(CASE WHEN kind = 'debit' THEN amount_minor ELSE -amount_minor END) FROM ledger_entry"
            "  WHERE customer_id = b.customer_id) AS ledger,"
            " (SELECT unapplied_minor FROM payment WHERE customer_id = b.customer_id) AS unapplied"
            " FROM bill b JOIN customer_account a USING (customer_id) WHERE b.id = $1",
            bill.id,
        )
    assert (bill.number, bill.total_minor) == ("INV-2026-000001", 52500)
    assert (row["status"], row["period_end"], row["due_date"]) == ("paid", date(2026, 11, 30), date(2026, 11, 8))
    assert row["billed_through"] == date(2026, 11, 30)
    assert row["balance_minor"] == row["ledger"] == -7500 and row["unapplied"] == 7500
    assert counts["billed"] == 0  # the bill job sees November as billed already
