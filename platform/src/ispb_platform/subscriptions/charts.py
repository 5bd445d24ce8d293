"""The admin console's charts (web/charts.py): customers per operator, monthly recurring revenue, SMS usage and
operators in arrears, over the last 12 months. Each reads only small precomputed tables: the nightly customer
counts, the bills themselves (a few per operator and month) with their payments, and the monthly SMS totals
``subscription.bill_sms`` keeps; never an operator's customers or messages."""

from datetime import date
from decimal import Decimal

import asyncpg

from ispb_billing import Money
from ispb_platform.subscriptions.pricing import month_bounds
from ispb_platform.web.charts import TONES, Chart, ChartKind, Series

MONTHS = 12


def months_until(today: date, count: int = MONTHS) -> list[date]:
    """First days of the ``count`` months ending with ``today``'s, oldest first."""
    firsts = []
    year, month = today.year, today.month
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _label(month: date) -> str:
    return f"{month:%b %y}"


async def customers_per_operator(connection: asyncpg.Connection, months: list[date]) -> Chart:
    """Each month's highest nightly count of active customers (what bills are based on), per operator: the
    largest operators by their latest count, the rest summed."""
    rows = await connection.fetch(
        "SELECT t.name, date_trunc('month', c.counted_on)::date AS month, max(c.active) AS active"
        " FROM platform.customer_count c JOIN platform.tenant t ON t.id = c.tenant_id"
        " WHERE c.counted_on >= $1 GROUP BY t.name, 2",
        months[0],
    )
    by_operator: dict[str, dict[date, int]] = {}
    for r in rows:
        by_operator.setdefault(r["name"], {})[r["month"]] = r["active"]
    ranked = sorted(by_operator, key=lambda name: (-max(by_operator[name].values()), name))
    shown = ranked[: TONES - 1] if len(ranked) > TONES else ranked
    series = [Series(name, tuple(by_operator[name].get(m) for m in months)) for name in shown]
    rest = ranked[len(shown) :]
    if rest:
        series.append(
            Series("Other operators", tuple(sum(by_operator[n].get(m, 0) for n in rest) or None for m in months))
        )
    return Chart(
        "customers-per-operator",
        "Active customers per operator",
        "The highest nightly count of each operator's active customers per month.",
        ChartKind.LINE,
        tuple(_label(m) for m in months),
        tuple(series),
        heading="Month",
    )


async def recurring_revenue(connection: asyncpg.Connection, months: list[date], currency: str) -> Chart:
    """Subscription bills (not voided) by the month they bill, and the SMS bills beside them."""
    rows = await connection.fetch(
        "SELECT period_start AS month, kind, sum(total_minor)::bigint AS total FROM platform.subscription_bill"
        " WHERE kind IN ('subscription', 'sms') AND status NOT IN ('void', 'draft') AND period_start >= $1"
        " GROUP BY 1, 2",
        months[0],
    )
    totals = {(r["month"], r["kind"]): int(r["total"]) for r in rows}

    def major(minor: int | None) -> Decimal | None:
        return None if minor is None else Money(minor, currency).to_decimal()

    return Chart(
        "recurring-revenue",
        "Monthly recurring revenue",
        "Subscription and SMS bills issued to operators, by the month they bill.",
        ChartKind.STACKED,
        tuple(_label(m) for m in months),
        (
            Series("Subscriptions", tuple(major(totals.get((m, "subscription"))) for m in months)),
            Series("SMS", tuple(major(totals.get((m, "sms"))) for m in months)),
        ),
        currency=currency,
    )


async def sms_usage(connection: asyncpg.Connection, months: list[date]) -> Chart:
    rows = await connection.fetch(
        "SELECT month, billed_as, sum(segments)::int AS segments FROM platform.sms_usage_month"
        " WHERE month >= $1 GROUP BY 1, 2",
        months[0],
    )
    segments = {(r["month"], r["billed_as"]): r["segments"] for r in rows}
    return Chart(
        "sms-usage",
        "SMS sent by operators",
        "SMS segments operators sent per month, from prepaid credit and billed afterwards.",
        ChartKind.STACKED,
        tuple(_label(m) for m in months),
        tuple(
            Series(name, tuple(segments.get((m, kind)) for m in months))
            for kind, name in (("prepaid", "Prepaid"), ("postpaid", "Postpaid"))
        ),
    )


# At each month's end (or today, for this month): operators with a bill past its due date and not fully paid by
# then (payments by their paid_on date; a voided bill counts until its credit note's date).
_ARREARS = """
SELECT d.month, count(DISTINCT b.tenant_id)::int AS operators
FROM unnest($1::date[], $2::date[]) AS d(month, at_end)
JOIN platform.subscription_bill b ON b.kind IN ('subscription', 'sms') AND b.status <> 'draft'
     AND b.due_date < d.at_end AND b.issue_date <= d.at_end
WHERE b.total_minor > coalesce((SELECT sum(p.amount_minor) FROM platform.subscription_payment p
                                WHERE p.bill_id = b.id AND p.paid_on <= d.at_end), 0)
  AND NOT EXISTS (SELECT 1 FROM platform.subscription_bill n WHERE n.reverses_bill_id = b.id
                  AND n.issue_date <= d.at_end)
GROUP BY d.month
"""


async def operators_in_arrears(connection: asyncpg.Connection, months: list[date], today: date) -> Chart:
    ends = [min(month_bounds(m)[1], today) for m in months]
    rows = await connection.fetch(_ARREARS, months, ends)
    found = {r["month"]: r["operators"] for r in rows}
    return Chart(
        "operators-in-arrears",
        "Operators in arrears",
        "Operators with a subscription or SMS bill unpaid past its due date at each month's end.",
        ChartKind.BAR,
        tuple(_label(m) for m in months),
        (Series("Operators", tuple(found.get(m, 0) for m in months)),),
    )


async def admin_charts(connection: asyncpg.Connection, today: date) -> list[Chart]:
    months = months_until(today)
    currency = str(await connection.fetchval("SELECT currency FROM platform.subscription_settings"))
    return [
        await customers_per_operator(connection, months),
        await recurring_revenue(connection, months, currency),
        await sms_usage(connection, months),
        await operators_in_arrears(connection, months, today),
    ]
