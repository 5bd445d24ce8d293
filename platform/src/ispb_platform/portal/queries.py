"""What the customer portal reads, as typed rows: the customer with their package and balance, their bills,
the operator's payment instructions. Piccolo's query builder, in the caller's open tenant scope.

The one-time codes' storage stays in ``portal/otp.py`` (SQL): finding a customer by code compares
``lower(code)``, which Piccolo's ``where`` cannot express without turning the login into a ``LIKE`` pattern.
"""

from dataclasses import dataclass
from datetime import date

from ispb_tenants.tables import Bill, Customer, CustomerAccount, Tenant

BILLS_SHOWN = 24
"""The dashboard lists the customer's newest bills, up to this many (two years of monthly bills)."""


@dataclass(frozen=True)
class PortalCustomer:
    """The signed-in customer as the dashboard and the profile show them."""

    code: str
    name: str
    phone: str
    email: str | None
    address: str
    area: str
    status: str
    connection_date: date
    package: str | None
    download_kbps: int | None
    upload_kbps: int | None
    price_minor: int | None
    balance_minor: int
    """Debits − credits: positive means the customer owes, negative is advance credit."""


@dataclass(frozen=True)
class PortalBill:
    id: int
    kind: str
    number: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    total_minor: int
    paid_minor: int
    status: str
    currency: str


async def customer(customer_id: int) -> PortalCustomer | None:
    row = (
        await Customer.select(
            Customer.code,
            Customer.name,
            Customer.phone,
            Customer.email,
            Customer.address,
            Customer.area,
            Customer.status,
            Customer.connection_date,
            Customer.package._.name.as_alias("package"),
            Customer.package._.download_kbps.as_alias("download_kbps"),
            Customer.package._.upload_kbps.as_alias("upload_kbps"),
            Customer.package._.price_minor.as_alias("price_minor"),
        )
        .where(Customer._meta.primary_key == customer_id)
        .first()
    )
    if row is None:
        return None
    account = (
        await CustomerAccount.select(CustomerAccount.balance_minor)
        .where(CustomerAccount.customer == customer_id)
        .first()
    )
    return PortalCustomer(**row, balance_minor=account["balance_minor"] if account else 0)


async def recent_bills(customer_id: int, *, limit: int = BILLS_SHOWN) -> list[PortalBill]:
    """The customer's invoices and credit notes, newest first."""
    rows = (
        await Bill.select(
            Bill.id,
            Bill.kind,
            Bill.number,
            Bill.period_start,
            Bill.period_end,
            Bill.issue_date,
            Bill.due_date,
            Bill.total_minor,
            Bill.paid_minor,
            Bill.status,
            Bill.currency,
        )
        .where(Bill.customer == customer_id)
        .order_by(Bill.issue_date, Bill.id, ascending=False)
        .limit(limit)
    )
    return [PortalBill(**row) for row in rows]


async def bill_owner(bill_id: int) -> int | None:
    """The customer a bill belongs to; None when there is no such bill."""
    row = await Bill.select(Bill.customer.as_alias("customer")).where(Bill.id == bill_id).first()
    return row["customer"] if row else None


async def payment_instructions(tenant_id: int) -> str | None:
    row = await Tenant.select(Tenant.payment_instructions).where(Tenant._meta.primary_key == tenant_id).first()
    return row["payment_instructions"] if row else None
