"""Reads and writes of suspension: the Suspension Log page, what dunning decides on, the status changes under
the customers' locks, and the public suspension portal's lookups.

The Suspension Log page and the portal's bills and contact go through Piccolo. Three stay SQL: what dunning
decides on (the customers' profiles or the default one, credit and open bills for a whole chunk in one query),
the status changes (a chunk's log rows, statuses and events in one data-modifying statement, with
``ON CONFLICT DO NOTHING`` against the partial unique index "once per customer and bill", which Piccolo's
``on_conflict`` cannot target) and the portal's address match (``inet`` comparison: the Piccolo class describes
those columns as text).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ispb_billing import Money, OpenBill
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
class DunningRow:
    """A customer as dunning sees it: status, billing profile (None: the tenant has no default profile), advance
    credit and open invoices oldest first."""

    customer_id: int
    status: str
    profile: ProfileRule | None
    credit: Money
    open_bills: list[OpenBill]


@dataclass(frozen=True)
class Suspension:
    """One customer to suspend, with what its Suspension Log row and ``customer.suspended`` event say."""

    customer_id: int
    reason: str
    rule: str = ""
    bill_id: int | None = None
    amount_due_minor: int | None = None


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


# What dunning decides on, for a set of customers whose row locks the caller holds: status, billing profile (its
# own, else the default one; none at all gives NULL columns), advance credit (the unallocated part of payments)
# and open invoices oldest first: a row per open invoice, or one row with NULL bill columns when there is none.
_DUNNING = """
SELECT c.id, c.status, bp.grace_days, bp.suspend_day, bp.auto_suspend, bp.auto_activate,
       coalesce(cr.credit, 0) AS credit_minor,
       b.id AS bill_id, b.due_date, b.issue_date, b.total_minor - b.paid_minor AS outstanding_minor
FROM customer c
LEFT JOIN billing_profile bp
    ON bp.id = COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
LEFT JOIN (
    SELECT customer_id, sum(unapplied_minor) AS credit FROM payment
    WHERE customer_id = ANY($1::int[]) AND unapplied_minor > 0
    GROUP BY customer_id
) cr ON cr.customer_id = c.id
LEFT JOIN bill b ON b.customer_id = c.id AND b.kind = 'invoice' AND b.status = 'open'
WHERE c.id = ANY($1::int[])
ORDER BY c.id, b.due_date, b.issue_date, b.id
"""


async def dunning_rows(connection: Connection, customer_ids: Sequence[int], currency: str) -> list[DunningRow]:
    """What ``ispb_billing.decide`` needs for each customer, in one query, in id order. Read it AFTER taking the
    customers' locks, in a statement of its own (see ``payments.queries.lock_customers``)."""
    found: list[DunningRow] = []
    if not customer_ids:
        return found
    bills: list[OpenBill] = []
    for r in await connection.fetch(_DUNNING, list(customer_ids)):
        if not found or found[-1].customer_id != r["id"]:
            bills = []
            profile = None
            if r["grace_days"] is not None:
                profile = ProfileRule(r["grace_days"], r["suspend_day"], r["auto_suspend"], r["auto_activate"])
            found.append(DunningRow(r["id"], r["status"], profile, Money(int(r["credit_minor"]), currency), bills))
        if r["bill_id"] is not None:
            outstanding = Money(int(r["outstanding_minor"]), currency)
            bills.append(OpenBill(r["bill_id"], r["due_date"], r["issue_date"], outstanding))
    return found


# A chunk of suspensions in one statement: the log rows (a bill suspends a customer once: the partial unique
# index, which Piccolo's on_conflict cannot target), then, for what was logged, the status and the
# customer.suspended event. The customers are active and locked by the caller, who read their status under the
# lock: checking it again here would cost a scan of every customer (the planner's choice for a large array).
_SUSPEND = """
WITH logged AS (
    INSERT INTO suspension_log (customer_id, action, bill_id, amount_due_minor, rule, reason, actor)
    SELECT p.customer_id, 'suspended', p.bill_id, p.amount_due_minor, p.rule, p.reason, $6
    FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[])
        AS p(customer_id, bill_id, amount_due_minor, rule, reason)
    ORDER BY p.customer_id
    ON CONFLICT DO NOTHING
    RETURNING customer_id, bill_id, amount_due_minor, reason
), changed AS (
    -- by the primary key (an array, not a join the planner may turn into a scan of every customer)
    UPDATE customer SET status = 'suspended', updated_at = now()
    WHERE id = ANY(ARRAY(SELECT customer_id FROM logged))
    RETURNING id
), events AS (
    INSERT INTO domain_event (name, customer_id, payload)
    SELECT 'customer.suspended', l.customer_id, jsonb_build_object('bill_id', l.bill_id,
           'amount_due_minor', l.amount_due_minor, 'reason', l.reason, 'actor', $6::text)
    FROM logged l ORDER BY l.customer_id
)
SELECT id FROM changed ORDER BY id
"""


async def write_suspensions(connection: Connection, suspensions: Sequence[Suspension], actor: str) -> list[int]:
    """Log, suspend and announce (``customer.suspended``) the customers in one statement; returns the ids
    suspended: all but those this bill already suspended once. The customers must be active, under the
    caller's row locks, their status read after the locks were taken."""
    if not suspensions:
        return []
    rows = await connection.fetch(
        _SUSPEND,
        [s.customer_id for s in suspensions],
        [s.bill_id for s in suspensions],
        [s.amount_due_minor for s in suspensions],
        [s.rule for s in suspensions],
        [s.reason for s in suspensions],
        actor,
    )
    return [int(r["id"]) for r in rows]


_REACTIVATE = """
WITH changed AS (
    UPDATE customer SET status = 'active', updated_at = now()
    WHERE id = ANY($1::int[]) AND status = 'suspended'
    RETURNING id
), logged AS (
    INSERT INTO suspension_log (customer_id, action, reason, actor)
    SELECT id, 'activated', $2, $3 FROM changed ORDER BY id
), events AS (
    INSERT INTO domain_event (name, customer_id, payload)
    SELECT 'customer.activated', id, jsonb_build_object('reason', $2::text, 'actor', $3::text)
    FROM changed ORDER BY id
)
SELECT id FROM changed ORDER BY id
"""


async def write_reactivations(
    connection: Connection, customer_ids: Sequence[int], reason: str, actor: str
) -> list[int]:
    """Reactivate, log and announce (``customer.activated``) those of the customers that are suspended, in one
    statement; returns their ids."""
    if not customer_ids:
        return []
    rows = await connection.fetch(_REACTIVATE, list(customer_ids), reason, actor)
    return [int(r["id"]) for r in rows]


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
