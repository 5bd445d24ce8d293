"""Reports (docs/reports.md): the Overview's chart numbers equal SQL over the source tables for a scripted leap
year (bills, payments, credit notes, suspensions across 12 months, month-end and time-zone edges), the report jobs
are idempotent and safe at once, the CSV exports carry the table, and the Overview shows it all."""

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from factories import Line, make_bill, make_customer, make_package, make_payment
from ispb_platform.billing.bills.service import void_invoice
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.registry import get_job
from ispb_platform.reports import queries
from ispb_platform.reports.overview import month_window, overview_charts
from ispb_tenants import Database, TenantRef

YEAR = 2024  # a leap year: 29 February is a bill and a payment date
DEC_31 = date(YEAR, 12, 31)
MONTHS = [date(YEAR, m, 1) for m in range(1, 13)]


def _ctx(db: Database, tenant: TenantRef, today: date) -> JobContext:
    return JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


async def _scripted_year(db: Database, tenant: TenantRef) -> None:
    """Six customers joining through the year; monthly bills on the 1st (and one on 29 Feb), payments on month
    ends, a voided bill (its credit note dated in another month), suspensions logged around midnight in Dhaka;
    the month snapshot taken on each month's last day while statuses change."""
    bills_vs_payments = get_job("reports.bills_vs_payments")
    async with db.tenant(tenant) as scope:
        package = await make_package(scope, price_minor=50000)
        customers = [
            await make_customer(
                scope,
                code=f"Y{n}",
                package_id=package,
                connection_date=date(YEAR, 1 + 2 * n, 31 if n in (0, 3) else 15),
            )
            for n in range(6)
        ]
    for month in MONTHS:
        async with db.tenant(tenant) as scope:
            c = scope.connection
            for n, customer in enumerate(customers):
                joined = await c.fetchval("SELECT connection_date FROM customer WHERE id = $1", customer)
                if joined > _month_end(month):
                    continue
                bill = await make_bill(
                    scope,
                    customer_id=customer,
                    period_start=month,
                    lines=(Line(net_minor=50000 + 1000 * n, vat_minor=2500),),
                )
                if n % 3 != 2:  # customers 2 and 5 never pay
                    await make_payment(
                        scope, customer_id=customer, amount_minor=30000 + 17, received_on=_month_end(month)
                    )
                if month.month == 2 and n == 0:  # a leap-day extra invoice and payment
                    await make_bill(
                        scope,
                        customer_id=customer,
                        period_start=date(YEAR, 2, 29),
                        period_end=date(YEAR, 2, 29),
                        issue_date=date(YEAR, 2, 29),
                        lines=(Line(net_minor=999),),
                    )
                    await make_payment(scope, customer_id=customer, amount_minor=999, received_on=date(YEAR, 2, 29))
                if month.month == 5 and n == 1:  # voided on 3 June: the credit note counts in June
                    await void_invoice(c, bill.id, today=date(YEAR, 6, 3), reason="wrong package", by="test")
            if month.month in (3, 8):  # suspended at 00:30 on the 1st in Dhaka (18:30 UTC the day before)
                moment = datetime.combine(_month_end(month), datetime.min.time(), UTC) + timedelta(hours=18, minutes=30)
                await c.execute(
                    "INSERT INTO suspension_log (customer_id, action, actor, at) VALUES"
                    " ($1, 'suspended', 'test', $2), ($1, 'activated', 'test', $2 + interval '1 hour'),"
                    " ($3, 'suspended', 'test', $2 - interval '1 day')",
                    customers[2],
                    moment,
                    customers[5] if month.month == 8 else customers[2],
                )
                await c.execute("UPDATE customer SET status = 'suspended' WHERE id = $1", customers[2])
            if month.month == 10:
                await c.execute("UPDATE customer SET status = 'disabled' WHERE id = $1", customers[1])
        await bills_vs_payments.run(_ctx(db, tenant, _month_end(month)))


async def _sql_truth(db: Database, tenant: TenantRef) -> list[dict[str, Any]]:
    """The same figures straight from the source tables, month by month with date ranges (not date_trunc)."""
    truth = []
    async with db.tenant(tenant) as scope:
        c = scope.connection
        for month in MONTHS:
            after = _month_end(month) + timedelta(days=1)
            billed = await c.fetchval(
                "SELECT coalesce(sum(CASE kind WHEN 'invoice' THEN total_minor ELSE -total_minor END), 0) FROM bill"
                " WHERE issue_date >= $1 AND issue_date < $2",
                month,
                after,
            )
            paid = await c.fetchval(
                "SELECT coalesce(sum(amount_minor), 0) FROM payment WHERE received_on >= $1 AND received_on < $2",
                month,
                after,
            )
            new = await c.fetchval(
                "SELECT count(*) FROM customer WHERE connection_date BETWEEN $1 AND $2", month, _month_end(month)
            )
            suspended = await c.fetchval(
                "SELECT count(DISTINCT customer_id) FROM suspension_log WHERE action = 'suspended'"
                " AND at >= ($1::date)::timestamp AT TIME ZONE 'Asia/Dhaka'"
                " AND at < ($2::date)::timestamp AT TIME ZONE 'Asia/Dhaka'",
                month,
                after,
            )
            truth.append({"billed": billed, "paid": paid, "new": new, "suspended": suspended})
    return truth


async def test_scripted_year_charts_equal_sql_over_the_source_tables(db: Database, make_tenant) -> None:
    tenant = await make_tenant("rep")
    await _scripted_year(db, tenant)
    async with db.tenant(tenant) as scope:
        rows = await queries.months(scope.connection, *month_window(DEC_31))
    assert [r["month"] for r in rows] == MONTHS
    charts = overview_charts(rows, "BDT")
    truth = await _sql_truth(db, tenant)
    billed, paid = charts["bills-payments"].series
    assert list(billed.values) == [Decimal(t["billed"]) / 100 for t in truth]
    assert list(paid.values) == [Decimal(t["paid"]) / 100 for t in truth]
    new, suspended, churned = charts["customer-changes"].series
    assert list(new.values) == [t["new"] for t in truth]
    assert list(suspended.values) == [t["suspended"] for t in truth]
    # the edges: February has the leap-day bill and payment; the credit note lands in June, not May; the
    # suspensions at 00:30 Dhaka on 1 April and 1 September count there, the ones the day before in March/August
    assert truth[1]["billed"] == 52500 + 999 and truth[1]["paid"] == 30017 + 999
    assert truth[5]["billed"] == 52500 + 53500 + 54500 - 53500  # customers 0-2, less the credit note
    assert [t["suspended"] for t in truth] == [0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0]
    rate = charts["collection-rate"].series[0].values
    assert rate[0] == (Decimal(truth[0]["paid"]) * 100 / truth[0]["billed"]).quantize(Decimal("0.1"))
    active, suspended_now = charts["customers"].series
    assert active.values[-1] == 4 and suspended_now.values[-1] == 1  # 6 customers: 1 suspended, 1 disabled
    assert active.values[0] == 1 and suspended_now.values[3] == 0 and suspended_now.values[4] == 1
    assert churned.values[0] is None and churned.values[9] == 1 and churned.values[10] == 0
    arpu = charts["arpu"].series[0].values
    assert arpu[11] == (Decimal(truth[11]["billed"]) / 100 / 4).quantize(Decimal("0.01"))
    async with db.tenant(tenant) as scope:
        overdue = await queries.top_overdue(scope.connection)
        owed = await scope.connection.fetch(
            "SELECT customer_id, sum(total_minor - paid_minor) AS owed FROM bill WHERE kind = 'invoice'"
            " AND status = 'open' AND due_date < $1 GROUP BY customer_id ORDER BY owed DESC, customer_id",
            DEC_31,
        )
    assert [(r["customer_id"], r["overdue_minor"]) for r in overdue] == [(r["customer_id"], r["owed"]) for r in owed]
    yearly = get_job("reports.yearly_summary")
    assert (await yearly.run(_ctx(db, tenant, DEC_31)))["years"] == 1
    async with db.tenant(tenant) as scope:
        year = await scope.connection.fetchrow("SELECT * FROM report_year WHERE year = $1", YEAR)
    assert year["billed_minor"] - year["credited_minor"] == sum(t["billed"] for t in truth)
    assert year["paid_minor"] == sum(t["paid"] for t in truth) and year["new_customers"] == 6


async def _tables(db: Database, tenant: TenantRef) -> list[Any]:
    async with db.tenant(tenant) as scope:
        return [
            [tuple(r) for r in await scope.connection.fetch(sql)]
            for sql in (
                "SELECT month, invoices, billed_minor, credit_notes, credited_minor, payments, paid_minor,"
                " new_customers, suspensions FROM report_month ORDER BY month",
                "SELECT month, taken_on, active, suspended, disabled FROM report_customer_month ORDER BY month",
                "SELECT rank, customer_id, overdue_minor, overdue_bills, oldest_due FROM report_top_overdue"
                " ORDER BY rank",
                "SELECT year, invoices, billed_minor, credited_minor, payments, paid_minor FROM report_year"
                " ORDER BY year",
            )
        ]


async def test_report_jobs_twice_and_at_once_leave_the_same_tables(db: Database, make_tenant) -> None:
    tenant = await make_tenant("rep")
    async with db.tenant(tenant) as scope:
        package = await make_package(scope)
        for n in range(30):
            customer = await make_customer(
                scope, code=f"C{n}", package_id=package, connection_date=date(2026, 1 + n % 11, 1)
            )
            bill = await make_bill(scope, customer_id=customer, period_start=date(2026, 1 + n % 11, 1))
            if n % 4:
                await make_payment(
                    scope,
                    customer_id=customer,
                    amount_minor=bill.total_minor - n,
                    received_on=date(2026, 1 + n % 11, 20),
                )
    hourly, daily = get_job("reports.bills_vs_payments"), get_job("reports.yearly_summary")
    today = date(2026, 12, 3)
    first = await hourly.run(_ctx(db, tenant, today))
    assert first["months"] == 11 and first["overdue_customers"] == 10  # all 30 owe something: the top 10
    await daily.run(_ctx(db, tenant, today))
    once = await _tables(db, tenant)
    await asyncio.gather(*(job.run(_ctx(db, tenant, today)) for job in (hourly, daily, hourly, daily)))
    assert await _tables(db, tenant) == once
    await hourly.run(_ctx(db, tenant, today - timedelta(days=1)))  # a late run for yesterday keeps today's snapshot
    assert await _tables(db, tenant) == once


async def test_overview_shows_the_charts_and_the_csv_exports_carry_their_tables(
    db: Database, make_tenant, make_client, make_staff, sign_in
) -> None:
    tenant = await make_tenant("rep")
    today = datetime.now(UTC).date()
    month = today.replace(day=1)
    async with db.tenant(tenant) as scope:
        customer = await make_customer(
            scope, code="=CMD", name='=HYPERLINK("x")', connection_date=month - timedelta(days=40)
        )
        await make_bill(
            scope,
            customer_id=customer,
            period_start=(month - timedelta(days=1)).replace(day=1),
            lines=(Line(net_minor=123456),),
        )
        await make_payment(scope, customer_id=customer, amount_minor=100000, received_on=month)
    await get_job("reports.bills_vs_payments").run(_ctx(db, tenant, today))
    client = make_client()
    await sign_in(client, await make_staff("operator_admin", tenant))
    page = await client.get("/panel/")
    assert page.status_code == 200
    html = page.text
    for slug in ("bills-payments", "collection-rate", "customers", "customer-changes", "arpu"):
        assert f'id="chart-{slug}"' in html and f'href="/panel/reports/{slug}.csv"' in html
    assert "1,234.56" in html and 'role="img"' in html and "style=" not in html.split("<main", 1)[1]
    assert "Owing most" in html and "/panel/reports/top-overdue.csv" in html
    answer = await client.get("/panel/reports/bills-payments.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["Month", "Billed (BDT)", "Paid (BDT)"] and len(rows) == 13
    assert rows[-2][1:] == ["1234.56", "0.00"] and rows[-1][1:] == ["0.00", "1000.00"]
    overdue = await client.get("/panel/reports/top-overdue.csv")
    body = list(csv.reader(io.StringIO(overdue.content.decode("utf-8-sig"))))
    if (month - timedelta(days=1)).replace(day=1) + timedelta(days=7) < today:
        assert body[1][:3] == ["1", "'=CMD", '\'=HYPERLINK("x")'] and body[1][4] == "234.56"
    assert (await client.get("/panel/reports/nothing.csv")).status_code == 404
    assert (await client.get("/panel/reports/bills-payments.txt")).status_code == 404


async def test_a_month_whose_source_rows_are_gone_loses_its_row(db: Database, make_tenant) -> None:
    tenant = await make_tenant("rep")
    async with db.tenant(tenant) as scope:
        lone = await make_customer(scope, code="LONE", connection_date=date(2025, 3, 14))
        await make_customer(scope, code="STAYS", connection_date=date(2026, 5, 2))
    hourly = get_job("reports.bills_vs_payments")
    assert (await hourly.run(_ctx(db, tenant, date(2026, 12, 3))))["months"] == 2
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("DELETE FROM customer WHERE id = $1", lone)
    assert (await hourly.run(_ctx(db, tenant, date(2026, 12, 3))))["months"] == 1
    async with db.tenant(tenant) as scope:
        left = await scope.connection.fetch("SELECT month, new_customers FROM report_month")
    assert [tuple(r) for r in left] == [(date(2026, 5, 1), 1)]
