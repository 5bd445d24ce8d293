"""Reads and writes of the billing domain outside the bill pages, in the caller's tenant scope: a customer's
ledger and advance credit (the customer page), and what a package change needs (``package_change.py``).

The ledger stays SQL: a window sum over the ``ledger_entry`` view, which has no table class. So do the package
change's billed period (the customer's profile or the default one: a ``COALESCE`` over a subquery) and its
adjustments (``bill_adjustment``'s Piccolo class declares its ``bigserial`` key as a plain ``BigInt``, so a
Piccolo insert would send a key of its own). The package's price and the customer check go through Piccolo.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypedDict, cast

from ispb_billing import MONTH_VALIDITY_DAYS, Adjustment
from ispb_platform.payments import queries as payments_queries
from ispb_tenants import Connection
from ispb_tenants.tables import BillingParked, Customer, Package


@dataclass(frozen=True)
class BilledPeriod:
    """The period of a customer's current invoice and its billing profile's cycle and pro-rata policy."""

    period_start: date
    period_end: date
    cycle: str
    billing_day: int
    prorata: str


@dataclass(frozen=True)
class PackagePrice:
    name: str
    price_minor: int
    vat_rate_bp: int
    vat_inclusive: bool


async def customer_exists(customer_id: int) -> bool:
    return bool(await Customer.exists().where(Customer._meta.primary_key == customer_id))


class CustomerLabel(TypedDict):
    """How a page names a customer: ``C00012 Rahima Akter`` and their status."""

    id: int
    code: str
    name: str
    status: str


async def customer_label(customer_id: int) -> CustomerLabel | None:
    """The customer's code, name and status; None when the open tenant has no such customer."""
    row = (
        await Customer.select(Customer._meta.primary_key, Customer.code, Customer.name, Customer.status)
        .where(Customer._meta.primary_key == customer_id)
        .first()
    )
    return cast(CustomerLabel | None, row)


async def ledger(connection: Connection, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The customer's latest ledger entries, newest first, each with the balance after it."""
    rows = await connection.fetch(
        "SELECT e.*, sum(CASE WHEN e.kind = 'debit' THEN e.amount_minor ELSE -e.amount_minor END)"
        " OVER (ORDER BY e.on_date, e.created_at, e.bill_id, e.payment_id) AS balance_after"
        " FROM ledger_entry e WHERE e.customer_id = $1 ORDER BY e.on_date, e.created_at, e.bill_id, e.payment_id",
        customer_id,
    )
    return [dict(r) for r in reversed(rows[-limit:])]


async def advance_credit(connection: Connection, customer_id: int) -> int:
    """The customer's advance credit in minor units (the payments' unallocated parts)."""
    return await payments_queries.advance_credit(connection, customer_id)


# A package change (package_change.py): the billed period it falls in, the prices, the pending adjustments.


async def billed_period_on(connection: Connection, customer_id: int, day: date) -> BilledPeriod | None:
    """The customer's latest invoice (not void) whose period contains ``day``, with its profile's policy."""
    row = await connection.fetchrow(
        "SELECT b.period_start, b.period_end, bp.cycle, bp.billing_day, bp.prorata FROM bill b"
        " JOIN customer c ON c.id = b.customer_id"
        " JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id,"
        " (SELECT id FROM billing_profile WHERE is_default))"
        " WHERE b.customer_id = $1 AND b.kind = 'invoice' AND b.status <> 'void'"
        " AND b.period_start <= $2 AND b.period_end >= $2 ORDER BY b.id DESC LIMIT 1",
        customer_id,
        day,
    )
    return None if row is None else BilledPeriod(**dict(row))


async def package_price(package_id: int) -> PackagePrice | None:
    row = await (
        Package.select(Package.name, Package.price_minor, Package.vat_rate_bp, Package.vat_inclusive)
        .where(Package._meta.primary_key == package_id)
        .first()
    )
    return None if row is None else PackagePrice(**row)


async def add_adjustment(connection: Connection, customer_id: int, adjustment: Adjustment, by: str) -> None:
    """A pending line for the customer's next bill."""
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


# Parked customers (DESIGN 10): the bill job refused to bill them; the reason shows on the customer page.


class ParkedBilling(TypedDict):
    period_start: date
    reason: str
    parked_at: datetime


async def parked(customer_id: int) -> list[ParkedBilling]:
    """The customer's unresolved parks, oldest first: why the bill job does not bill them."""
    rows = (
        await BillingParked.select(BillingParked.period_start, BillingParked.reason, BillingParked.parked_at)
        .where((BillingParked.customer == customer_id) & BillingParked.resolved_at.is_null())
        .order_by(BillingParked.parked_at)
    )
    return cast(list[ParkedBilling], rows)


async def resolve_parked(customer_ids: list[int]) -> None:
    """The operator changed these customers (or their profile): the next bill run checks them again."""
    if customer_ids:
        await BillingParked.update({BillingParked.resolved_at: datetime.now(UTC)}).where(
            BillingParked.customer.is_in(customer_ids) & BillingParked.resolved_at.is_null()
        )


async def resolve_parked_on_profile(connection: Connection, profile_id: int, *, with_unassigned: bool) -> None:
    """A profile changed: its customers' parks are resolved (and, ``with_unassigned``, those of customers without
    a profile, who follow the default). SQL: one set-based update over a join, however many customers."""
    await connection.execute(
        "UPDATE billing_parked k SET resolved_at = now() FROM customer c WHERE c.id = k.customer_id"
        " AND k.resolved_at IS NULL AND (c.billing_profile_id = $1 OR (c.billing_profile_id IS NULL AND $2))",
        profile_id,
        with_unassigned,
    )


# Validity packages on monthly profiles (billing/validity.py). SQL: a customer's profile is its own or the
# default one (the bill job's ``COALESCE`` over a subquery), which Piccolo's joins cannot say.


@dataclass(frozen=True)
class ValidityCustomers:
    """Customers with a validity package whose billing would follow a profile: how many, and one package."""

    count: int
    package: str
    validity_days: int


_VALIDITY_CUSTOMERS = """
SELECT count(*) AS count, min(p.name) AS package, min(p.validity_days) AS validity_days
FROM customer c JOIN package p ON p.id = c.package_id
WHERE c.status <> 'disabled' AND NOT (p.validity_days BETWEEN $1 AND $2)
  AND (c.billing_profile_id = $3 OR (c.billing_profile_id IS NULL AND $4))
"""


async def validity_customers(
    connection: Connection, profile_id: int | None, *, with_unassigned: bool
) -> ValidityCustomers | None:
    """Customers with a validity package on profile ``profile_id`` (and, ``with_unassigned``, those without a
    profile, who follow the default); None when there are none."""
    row = await connection.fetchrow(
        _VALIDITY_CUSTOMERS, MONTH_VALIDITY_DAYS[0], MONTH_VALIDITY_DAYS[-1], profile_id, with_unassigned
    )
    if row is None or not row["count"]:
        return None
    return ValidityCustomers(int(row["count"]), row["package"], int(row["validity_days"]))


_MONTHLY_CUSTOMERS_OF_PACKAGE = """
SELECT count(*) AS count, min(bp.name) AS profile
FROM customer c
JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
WHERE c.package_id = $1 AND c.status <> 'disabled' AND bp.cycle = 'monthly'
"""


async def monthly_customers_of_package(connection: Connection, package_id: int) -> tuple[int, str]:
    """How many customers of the package a monthly profile bills, and one such profile's name."""
    row = await connection.fetchrow(_MONTHLY_CUSTOMERS_OF_PACKAGE, package_id)
    return (int(row["count"]), row["profile"] or "") if row is not None else (0, "")
