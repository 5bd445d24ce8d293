"""A customer's package changed in the middle of a billed period: charge or credit the difference.

With the billing profile's daily pro-rata, the unused days of the old package are credited and the same days
of the new one charged (``ispb_billing.package_change_adjustments``); the amounts wait in ``bill_adjustment``
for the customer's next bill, where they appear as lines. With pro-rata ``none`` nothing is written: the new
price applies from the next period. A customer not billed for today's period gets nothing either: the next
bill simply uses the new package.
"""

from datetime import date

from ispb_billing import (
    Cycle,
    Money,
    PackageTerms,
    Period,
    ProrataPolicy,
    monthly_period_containing,
    package_change_adjustments,
)
from ispb_tenants import Connection


async def _terms(connection: Connection, package_id: int, currency: str) -> PackageTerms | None:
    row = await connection.fetchrow(
        "SELECT name, price_minor, vat_rate_bp, vat_inclusive FROM package WHERE id = $1", package_id
    )
    if row is None:
        return None
    return PackageTerms(row["name"], Money(int(row["price_minor"]), currency), row["vat_rate_bp"], row["vat_inclusive"])


async def record_package_change(
    connection: Connection,
    *,
    customer_id: int,
    old_package_id: int | None,
    new_package_id: int | None,
    today: date,
    currency: str,
    by: str,
) -> int:
    """Write the adjustments of a package change in the caller's transaction; returns how many."""
    if old_package_id is None or new_package_id is None or old_package_id == new_package_id:
        return 0
    billed = await connection.fetchrow(
        "SELECT b.period_start, b.period_end, bp.cycle, bp.billing_day, bp.prorata FROM bill b"
        " JOIN customer c ON c.id = b.customer_id"
        " JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id,"
        " (SELECT id FROM billing_profile WHERE is_default))"
        " WHERE b.customer_id = $1 AND b.kind = 'invoice' AND b.status <> 'void'"
        " AND b.period_start <= $2 AND b.period_end >= $2 ORDER BY b.id DESC LIMIT 1",
        customer_id,
        today,
    )
    if billed is None or billed["prorata"] != ProrataPolicy.DAILY.value:
        return 0
    old = await _terms(connection, old_package_id, currency)
    new = await _terms(connection, new_package_id, currency)
    if old is None or new is None:
        return 0
    period = Period(billed["period_start"], billed["period_end"])
    full_period = period
    if billed["cycle"] == Cycle.MONTHLY.value:
        full_period = monthly_period_containing(period.end, billed["billing_day"])
    adjustments = package_change_adjustments(
        old=old, new=new, period=period, change_date=today, policy=ProrataPolicy.DAILY, full_period=full_period
    )
    for adjustment in adjustments:
        if adjustment.amount.is_zero:
            continue
        await connection.execute(
            "INSERT INTO bill_adjustment (customer_id, description, amount_minor, vat_rate_bp, kind, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            customer_id,
            adjustment.description,
            adjustment.amount.minor,
            adjustment.vat_rate_bp,
            adjustment.kind.value,
            by,
        )
    return len([a for a in adjustments if not a.amount.is_zero])
