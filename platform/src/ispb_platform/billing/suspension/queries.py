"""Reads and writes of suspension: the Suspension Log page, the status change under the customer's lock, the
billing profile's suspension rule, and the public suspension portal's lookups.

The Suspension Log page and the portal's bills and contact go through Piccolo. Three stay SQL:
the log row of a suspension (``ON CONFLICT DO NOTHING`` against the partial unique index "once per customer and
bill", which Piccolo's ``on_conflict`` cannot target), the profile lookup (the customer's profile or the default
one, a ``COALESCE`` over a subquery) and the portal's address match (``inet`` comparison: the Piccolo class
describes those columns as text).
"""

from dataclasses import dataclass
from datetime import date, datetime

from ispb_platform.billing.bills.queries import bill_numbers
from ispb_tenants import Connection
from ispb_tenants.tables import Bill, SuspensionLog, Tenant

LOG_PAGE = 100


@dataclass(frozen=True)
class LogEntry:
    """One row of the Suspension Log."""

    id: int
    at: datetime
    customer_id: int
    code: str
    name: str
    action: str
    bill_id: int | None
    bill_number: str | None
    amount_due_minor: int | None
    rule: str
    reason: str
    actor: str


@dataclass(frozen=True)
class ProfileRule:
    """The suspension settings of a customer's billing profile."""

    grace_days: int
    suspend_day: int | None
    auto_suspend: bool
    auto_activate: bool


@dataclass(frozen=True)
class PortalCustomer:
    id: int
    code: str
    name: str
    balance_minor: int


@dataclass(frozen=True)
class PortalBill:
    number: str
    period_start: date
    period_end: date
    due_date: date
    due_minor: int


@dataclass(frozen=True)
class OperatorContact:
    phone: str
    payment_instructions: str


async def log_page(before: int | None = None, limit: int = LOG_PAGE) -> list[LogEntry]:
    """The newest ``limit`` entries, or those older than entry ``before`` (keyset pagination by id)."""
    query = (
        SuspensionLog.select(
            SuspensionLog.id,
            SuspensionLog.at,
            SuspensionLog.customer.as_alias("customer_id"),
            SuspensionLog.customer.code.as_alias("code"),
            SuspensionLog.customer.name.as_alias("name"),
            SuspensionLog.action,
            SuspensionLog.bill_id,
            SuspensionLog.amount_due_minor,
            SuspensionLog.rule,
            SuspensionLog.reason,
            SuspensionLog.actor,
        )
        .order_by(SuspensionLog.id, ascending=False)
        .limit(limit)
    )
    if before is not None:
        query = query.where(SuspensionLog.id < before)
    rows = await query
    numbers = await bill_numbers({row["bill_id"] for row in rows if row["bill_id"] is not None})
    return [LogEntry(**row, bill_number=numbers.get(row["bill_id"])) for row in rows]


async def log_suspension(
    connection: Connection,
    customer_id: int,
    *,
    bill_id: int | None,
    amount_due_minor: int | None,
    rule: str,
    reason: str,
    actor: str,
) -> bool:
    """Log a suspension; False when this bill already suspended this customer once (the unique index)."""
    logged = await connection.fetchval(
        "INSERT INTO suspension_log (customer_id, action, bill_id, amount_due_minor, rule, reason, actor)"
        " VALUES ($1, 'suspended', $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
        customer_id,
        bill_id,
        amount_due_minor,
        rule,
        reason,
        actor,
    )
    return logged is not None


async def log_activation(connection: Connection, customer_id: int, *, reason: str, actor: str) -> None:
    await connection.execute(
        "INSERT INTO suspension_log (customer_id, action, reason, actor) VALUES ($1, 'activated', $2, $3)",
        customer_id,
        reason,
        actor,
    )


async def set_status(connection: Connection, customer_id: int, status: str) -> None:
    """Change the customer's status (the caller holds the customer's row lock)."""
    await connection.execute("UPDATE customer SET status = $2, updated_at = now() WHERE id = $1", customer_id, status)


async def profile_rule(connection: Connection, customer_id: int) -> ProfileRule | None:
    """The customer's billing profile's suspension settings (its own profile, else the default one)."""
    row = await connection.fetchrow(
        "SELECT bp.grace_days, bp.suspend_day, bp.auto_suspend, bp.auto_activate FROM customer c"
        " JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id,"
        " (SELECT id FROM billing_profile WHERE is_default)) WHERE c.id = $1",
        customer_id,
    )
    return None if row is None else ProfileRule(**dict(row))


async def suspended_customer_at(connection: Connection, address: str | None) -> PortalCustomer | None:
    """The suspended customer whose static or last-seen address is ``address``, if any."""
    row = await connection.fetchrow(
        "SELECT c.id, c.code, c.name, coalesce(a.balance_minor, 0) AS balance_minor FROM customer c"
        " LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.status = 'suspended'"
        " AND (c.ip_address = $1::inet OR c.last_address = $1::inet) ORDER BY c.id LIMIT 1",
        address,
    )
    return None if row is None else PortalCustomer(**dict(row))


async def open_invoices(customer_id: int) -> list[PortalBill]:
    """The customer's open invoices with what is still due on each, oldest due first."""
    rows = await (
        Bill.select(Bill.number, Bill.period_start, Bill.period_end, Bill.due_date, Bill.total_minor, Bill.paid_minor)
        .where((Bill.customer == customer_id) & (Bill.kind == "invoice") & (Bill.status == "open"))
        .order_by(Bill.due_date)
    )
    return [
        PortalBill(
            row["number"],
            row["period_start"],
            row["period_end"],
            row["due_date"],
            int(row["total_minor"]) - int(row["paid_minor"]),
        )
        for row in rows
    ]


async def operator_contact(tenant_id: int) -> OperatorContact:
    row = (
        await Tenant.select(Tenant.phone, Tenant.payment_instructions)
        .where(Tenant._meta.primary_key == tenant_id)
        .first()
    )
    assert row is not None, "a tenant scope always has its tenant row"
    return OperatorContact(**row)
