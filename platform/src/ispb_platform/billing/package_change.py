"""A customer's package changed in the middle of a billed period: charge or credit the difference.

With the billing profile's daily pro-rata, the unused days of the old package are credited and the same days
of the new one charged (``ispb_billing.package_change_adjustments``); the amounts wait in ``bill_adjustment``
for the customer's next bill, where they appear as lines. With pro-rata ``none`` nothing is written: the new
price applies from the next period. A customer not billed for today's period gets nothing either: the next
bill simply uses the new package. Reads and writes are in ``billing/queries.py``.
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
from ispb_platform.billing import queries
from ispb_tenants import Connection


async def _terms(package_id: int, currency: str) -> PackageTerms | None:
    package = await queries.package_price(package_id)
    if package is None:
        return None
    return PackageTerms(package.name, Money(package.price_minor, currency), package.vat_rate_bp, package.vat_inclusive)


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
    billed = await queries.billed_period_on(connection, customer_id, today)
    if billed is None or billed.prorata != ProrataPolicy.DAILY.value:
        return 0
    old = await _terms(old_package_id, currency)
    new = await _terms(new_package_id, currency)
    if old is None or new is None:
        return 0
    period = Period(billed.period_start, billed.period_end)
    full_period = period
    if billed.cycle == Cycle.MONTHLY.value:
        full_period = monthly_period_containing(period.end, billed.billing_day)
    adjustments = package_change_adjustments(
        old=old, new=new, period=period, change_date=today, policy=ProrataPolicy.DAILY, full_period=full_period
    )
    for adjustment in adjustments:
        if adjustment.amount.is_zero:
            continue
        await queries.add_adjustment(connection, customer_id, adjustment, by)
    return len([a for a in adjustments if not a.amount.is_zero])
