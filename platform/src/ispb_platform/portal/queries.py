"""What the customer portal reads, as typed rows: the customer with their package and balance, their bills,
the operator's payment instructions. Piccolo's query builder, in the caller's open tenant scope.

Also the one-time codes' storage (``portal/otp.py`` holds their rules). Finding a customer by login stays
SQL (through Piccolo's ``raw``, in the same scope): it compares ``lower(code)``, which Piccolo's ``where``
cannot express without turning the login into a ``LIKE`` pattern.
"""

from dataclasses import dataclass
from datetime import date, datetime

from ispb_tenants.tables import Bill, Customer, CustomerAccount, OtpCode, Tenant

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


_CUSTOMER_BY_LOGIN = (
    "SELECT id FROM customer WHERE status <> 'disabled' AND (lower(code) = lower({}) OR phone = {}"
    " OR phone = '+88' || {}) ORDER BY id LIMIT 1"
)


async def customer_by_login(login: str) -> int | None:
    """The customer whose code (any case) or mobile number is ``login``; disabled customers are not found."""
    rows = await Customer.raw(_CUSTOMER_BY_LOGIN, login, login, login)
    return int(rows[0]["id"]) if rows else None


async def codes_since(customer_id: int, since: datetime) -> int:
    """How many codes the customer was sent after ``since``."""
    return int(await OtpCode.count().where((OtpCode.customer == customer_id) & (OtpCode.created_at > since)))


# SQL: ``OtpCode.id`` is a plain ``BigInt`` in the Piccolo class (the column is a bigserial), so a Piccolo
# insert would send id 0 instead of letting the sequence number the row.
_ADD_CODE = "INSERT INTO otp_code (customer_id, code_hash, expires_at, ip) VALUES ({}, {}, {}, {}) RETURNING id"


async def add_code(customer_id: int, code_hash: str, expires_at: datetime, ip: str) -> int:
    rows = await OtpCode.raw(_ADD_CODE, customer_id, code_hash, expires_at, ip)
    return int(rows[0]["id"])


@dataclass(frozen=True)
class StoredCode:
    id: int
    code_hash: str
    expires_at: datetime
    attempts: int
    used_at: datetime | None


async def latest_code_locked(customer_id: int) -> StoredCode | None:
    """The customer's newest code, locked until the transaction ends (two tries of one code are checked in turn)."""
    row = (
        await OtpCode.select(OtpCode.id, OtpCode.code_hash, OtpCode.expires_at, OtpCode.attempts, OtpCode.used_at)
        .where(OtpCode.customer == customer_id)
        .order_by(OtpCode.id, ascending=False)
        .lock_rows()
        .first()
    )
    return StoredCode(**row) if row else None


async def count_wrong_try(code_id: int) -> None:
    await OtpCode.update({OtpCode.attempts: OtpCode.attempts + 1}).where(OtpCode.id == code_id)


async def use_code(code_id: int, now: datetime) -> None:
    await OtpCode.update({OtpCode.used_at: now}).where(OtpCode.id == code_id)
