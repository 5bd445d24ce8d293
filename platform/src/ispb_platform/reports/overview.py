"""The Overview's charts, built from the precomputed month rows (``queries.months``): pure functions of the rows
and the currency, so the numbers a chart shows are tested against SQL over the source tables.

Definitions (docs/reports.md): billed is invoices less credit notes issued in the month; the collection rate is
payments received in the month over that; ARPU is billed over the active customers at the month's snapshot;
churned is the growth of disabled customers since the previous month's snapshot.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ispb_billing import Money
from ispb_platform.web.charts import Chart, ChartKind, Series

MONTHS_SHOWN = 12
CHART_SLUGS = ("bills-payments", "collection-rate", "customers", "customer-changes", "arpu")


def month_window(today: date, count: int = MONTHS_SHOWN) -> tuple[date, date]:
    """The first days of the oldest and the current month of the ``count`` months ending with today's.

    >>> month_window(date(2026, 2, 28), 12)
    (datetime.date(2025, 3, 1), datetime.date(2026, 2, 1))
    """
    index = today.year * 12 + today.month - 1 - (count - 1)
    return date(index // 12, index % 12 + 1, 1), today.replace(day=1)


def month_label(month: date) -> str:
    """``Jan 26``: short enough for a phone's axis, with the year (twelve months span two years)."""
    return month.strftime("%b %y")


def overview_charts(rows: list[dict[str, Any]], currency: str) -> dict[str, Chart]:
    """The Overview's charts by slug (``CHART_SLUGS``), for the months of ``rows`` (oldest first)."""
    labels = tuple(month_label(r["month"]) for r in rows)

    def money(minor: int | None) -> Decimal | None:
        return None if minor is None else Money.from_minor(int(minor), currency).to_decimal()

    billed = [_net_billed(r) for r in rows]
    charts = (
        Chart(
            "bills-payments",
            "Bills and payments by month",
            "Bills issued (less credit notes) and payments received in each month.",
            ChartKind.BAR,
            labels,
            (
                Series("Billed", tuple(money(b) for b in billed)),
                Series("Paid", tuple(money(r["paid_minor"]) for r in rows)),
            ),
            currency=currency,
        ),
        Chart(
            "collection-rate",
            "Collection rate",
            "Payments received in a month as a share of what was billed that month.",
            ChartKind.LINE,
            labels,
            (Series("Collected", tuple(_rate(r["paid_minor"], b) for r, b in zip(rows, billed, strict=True))),),
            places=1,
            unit="%",
            axis_top=Decimal(100),
        ),
        Chart(
            "customers",
            "Customers",
            "Active and suspended customers at the end of each month (today for this month).",
            ChartKind.LINE,
            labels,
            (
                Series("Active", tuple(r["active"] for r in rows)),
                Series("Suspended", tuple(r["suspended"] for r in rows)),
            ),
        ),
        Chart(
            "customer-changes",
            "New, suspended and churned customers",
            "Customers connected, suspended at least once, and disabled (net) in each month.",
            ChartKind.BAR,
            labels,
            (
                Series("New", tuple(r["new_customers"] for r in rows)),
                Series("Suspended", tuple(r["suspensions"] for r in rows)),
                Series("Churned", tuple(_churned(r) for r in rows)),
            ),
        ),
        Chart(
            "arpu",
            "Average revenue per active customer",
            "What was billed in a month divided by the active customers at its end.",
            ChartKind.LINE,
            labels,
            (Series("ARPU", tuple(_arpu(money(b), r["active"], currency) for r, b in zip(rows, billed, strict=True))),),
            currency=currency,
        ),
    )
    return {chart.slug: chart for chart in charts}


def _net_billed(row: dict[str, Any]) -> int | None:
    if row["billed_minor"] is None:
        return None
    return int(row["billed_minor"]) - int(row["credited_minor"])


def _rate(paid_minor: int | None, billed_minor: int | None) -> Decimal | None:
    """Percent with one place; none for a month with nothing (net) billed (a rate of nothing means nothing)."""
    if billed_minor is None or billed_minor <= 0:
        return None
    return (Decimal(paid_minor or 0) * 100 / Decimal(billed_minor)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _churned(row: dict[str, Any]) -> int | None:
    if row["disabled"] is None or row["disabled_before"] is None:
        return None
    return int(row["disabled"]) - int(row["disabled_before"])


def _arpu(billed: Decimal | None, active: int | None, currency: str) -> Decimal | None:
    if billed is None or not active:
        return None
    places = Money.from_minor(1, currency).to_decimal()
    return (billed / active).quantize(places, ROUND_HALF_UP)
