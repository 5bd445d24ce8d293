"""Reads and writes of bills, in the caller's tenant scope: the filtered, paged Customer Bills list with its
totals, one bill with its lines and payments, and the writes of a void.

The list, its filters and pagination and the bill page go through Piccolo's query builder (optional filters
compose with ``&``; every value travels as a parameter). The writes of a void stay SQL, on purpose: they run
under the customer's row lock (taken first, DESIGN 10; see ``service.py``), the bill is locked ``FOR UPDATE``,
and the credit note's reversal lines are copied set-based by ``INSERT ... SELECT``.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from piccolo.columns.combination import And, Or, Where
from piccolo.query.functions.aggregate import Sum

from ispb_tenants import Connection
from ispb_tenants.tables import Bill, BillLine, Customer, Payment, PaymentAllocation

PAGE_SIZE = 50
STATUSES = ("open", "paid", "void")


@dataclass(frozen=True)
class BillFilters:
    month: date | None = None
    """First day of the month whose periods start in it."""
    status: str = ""
    area: str = ""
    q: str = ""
    customer_id: int | None = None


@dataclass(frozen=True)
class BillRow:
    """One line of the Customer Bills list."""

    id: int
    number: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    total_minor: int
    paid_minor: int
    status: str
    currency: str
    customer_id: int
    code: str
    name: str
    area: str


@dataclass(frozen=True)
class BillPage:
    rows: list[BillRow]
    total: int
    page: int
    pages: int
    billed_minor: int
    paid_minor: int
    outstanding_minor: int


@dataclass(frozen=True)
class BillDetail:
    """A bill (invoice or credit note) with its customer, and the documents that reverse or are reversed."""

    id: int
    kind: str
    number: str
    status: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    currency: str
    net_minor: int
    vat_minor: int
    total_minor: int
    paid_minor: int
    package_name: str
    prorata: str
    note: str
    created_by: str
    reverses_bill_id: int | None
    customer_id: int
    code: str
    customer_name: str
    phone: str
    address: str
    area: str
    reverses_number: str | None
    credit_note_id: int | None
    credit_note_number: str | None


@dataclass(frozen=True)
class Line:
    description: str
    kind: str
    net_minor: int
    vat_rate_bp: int
    vat_minor: int

    @property
    def total_minor(self) -> int:
        return self.net_minor + self.vat_minor


@dataclass(frozen=True)
class Allocation:
    """Money allocated to a bill: from a payment (its method, reference, date) or from a credit note."""

    amount_minor: int
    source: str
    created_at: datetime
    released_at: datetime | None
    payment_id: int | None
    received_on: date | None
    method: str | None
    reference: str | None
    credit_note_number: str | None


def parse_month(raw: str) -> date | None:
    """``2026-11`` → 2026-11-01; anything else → None (the filter is then off)."""
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _where(filters: BillFilters) -> Where | And | Or:
    """The list's filters: invoices only, then each filter that is set."""
    where: Where | And | Or = Bill.kind == "invoice"
    if filters.month is not None:
        where &= (Bill.period_start >= filters.month) & (Bill.period_start < _next_month(filters.month))
    if filters.status in STATUSES:
        where &= Bill.status == filters.status
    if filters.area:
        where &= Bill.customer.area == filters.area
    if filters.customer_id is not None:
        where &= Bill.customer == filters.customer_id
    if q := filters.q.strip():
        where &= Bill.number.ilike(f"{q}%") | Bill.customer.code.ilike(f"{q}%") | Bill.customer.name.ilike(f"%{q}%")
    return where


async def list_bills(filters: BillFilters, page: int) -> BillPage:
    """One page of the list (newest issue first) and the totals of everything the filters match."""
    where = _where(filters)
    total = int(await Bill.count().where(where))
    sums = await (
        Bill.select(Sum(Bill.total_minor, alias="billed"), Sum(Bill.paid_minor, alias="paid"))
        .where(where & (Bill.status != "void"))
        .first()
    )
    billed = int((sums or {}).get("billed") or 0)
    paid = int((sums or {}).get("paid") or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = await (
        Bill.select(
            Bill.id,
            Bill.number,
            Bill.period_start,
            Bill.period_end,
            Bill.issue_date,
            Bill.due_date,
            Bill.total_minor,
            Bill.paid_minor,
            Bill.status,
            Bill.currency,
            Bill.customer.as_alias("customer_id"),
            Bill.customer.code.as_alias("code"),
            Bill.customer.name.as_alias("name"),
            Bill.customer.area.as_alias("area"),
        )
        .where(where)
        .order_by(Bill.issue_date, Bill.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return BillPage([BillRow(**row) for row in rows], total, page, pages, billed, paid, billed - paid)


async def customer_areas() -> list[str]:
    """The areas customers are in, for the list's area filter."""
    rows = await Customer.select(Customer.area).where(Customer.area != "").distinct().order_by(Customer.area)
    return [row["area"] for row in rows]


async def bill_numbers(bill_ids: set[int]) -> dict[int, str]:
    """Bill id → number for the given bills (those that exist)."""
    if not bill_ids:
        return {}
    rows = await Bill.select(Bill.id, Bill.number).where(Bill.id.is_in(sorted(bill_ids)))
    return {row["id"]: row["number"] for row in rows}


async def get_bill(bill_id: int) -> BillDetail | None:
    bill = await (
        Bill.select(
            Bill.id,
            Bill.kind,
            Bill.number,
            Bill.status,
            Bill.period_start,
            Bill.period_end,
            Bill.issue_date,
            Bill.due_date,
            Bill.currency,
            Bill.net_minor,
            Bill.vat_minor,
            Bill.total_minor,
            Bill.paid_minor,
            Bill.package_name,
            Bill.prorata,
            Bill.note,
            Bill.created_by,
            Bill.reverses_bill_id,
            Bill.customer.as_alias("customer_id"),
            Bill.customer.code.as_alias("code"),
            Bill.customer.name.as_alias("customer_name"),
            Bill.customer.phone.as_alias("phone"),
            Bill.customer.address.as_alias("address"),
            Bill.customer.area.as_alias("area"),
        )
        .where(Bill.id == bill_id)
        .first()
    )
    if bill is None:
        return None
    reverses = await bill_numbers({bill["reverses_bill_id"]} if bill["reverses_bill_id"] is not None else set())
    credit_note = await (
        Bill.select(Bill.id, Bill.number).where(Bill.reverses_bill_id == bill_id).order_by(Bill.id).first()
    )
    return BillDetail(
        **bill,
        reverses_number=reverses.get(bill["reverses_bill_id"]),
        credit_note_id=credit_note["id"] if credit_note else None,
        credit_note_number=credit_note["number"] if credit_note else None,
    )


async def bill_lines(bill_id: int) -> list[Line]:
    rows = await (
        BillLine.select(
            BillLine.description, BillLine.kind, BillLine.net_minor, BillLine.vat_rate_bp, BillLine.vat_minor
        )
        .where(BillLine.bill_id == bill_id)
        .order_by(BillLine.position)
    )
    return [Line(**row) for row in rows]


async def bill_allocations(bill_id: int) -> list[Allocation]:
    """What paid the bill, oldest first, released ones included."""
    rows = await (
        PaymentAllocation.select(
            PaymentAllocation.amount_minor,
            PaymentAllocation.source,
            PaymentAllocation.created_at,
            PaymentAllocation.released_at,
            PaymentAllocation.payment_id,
            PaymentAllocation.credit_note_id,
        )
        .where(PaymentAllocation.bill_id == bill_id)
        .order_by(PaymentAllocation.id)
    )
    payment_ids = sorted({row["payment_id"] for row in rows if row["payment_id"] is not None})
    payments: dict[int, dict[str, Any]] = {}
    if payment_ids:
        found = await Payment.select(Payment.id, Payment.received_on, Payment.method, Payment.reference).where(
            Payment.id.is_in(payment_ids)
        )
        payments = {payment["id"]: payment for payment in found}
    notes = await bill_numbers({row["credit_note_id"] for row in rows if row["credit_note_id"] is not None})
    allocations = []
    for row in rows:
        payment = payments.get(row["payment_id"], {})
        allocations.append(
            Allocation(
                amount_minor=row["amount_minor"],
                source=row["source"],
                created_at=row["created_at"],
                released_at=row["released_at"],
                payment_id=row["payment_id"],
                received_on=payment.get("received_on"),
                method=payment.get("method"),
                reference=payment.get("reference"),
                credit_note_number=notes.get(row["credit_note_id"]),
            )
        )
    return allocations


# The writes of a void (service.py), under the customer's row lock.


async def lock_bill(connection: Connection, bill_id: int) -> dict[str, Any] | None:
    """The bill's row, locked (the caller holds its customer's lock already)."""
    row = await connection.fetchrow("SELECT * FROM bill WHERE id = $1 FOR UPDATE", bill_id)
    return None if row is None else dict(row)


async def bill_customer(connection: Connection, bill_id: int) -> int | None:
    """Whose bill it is: read before the customer's lock, only to know which customer to lock."""
    customer_id = await connection.fetchval("SELECT customer_id FROM bill WHERE id = $1", bill_id)
    return None if customer_id is None else int(customer_id)


async def release_allocations(connection: Connection, bill_id: int) -> int:
    """Release the payments allocated to the bill back to their advance credit; returns the minor units."""
    released = await connection.fetch(
        "UPDATE payment_allocation SET released_at = now() WHERE bill_id = $1 AND released_at IS NULL"
        " AND payment_id IS NOT NULL RETURNING payment_id, amount_minor",
        bill_id,
    )
    for row in released:
        await connection.execute(
            "UPDATE payment SET unapplied_minor = unapplied_minor + $2 WHERE id = $1",
            row["payment_id"],
            row["amount_minor"],
        )
    return sum(int(row["amount_minor"]) for row in released)


async def insert_credit_note(
    connection: Connection, invoice: dict[str, Any], *, number: str, today: date, reason: str, by: str
) -> int:
    """A credit note for the invoice's full amount, with its reversal lines copied from the invoice's."""
    credit_note_id = await connection.fetchval(
        "INSERT INTO bill (customer_id, kind, number, period_start, period_end, issue_date, due_date, currency,"
        " net_minor, vat_minor, total_minor, status, package_id, package_name, prorata, reverses_bill_id, note,"
        " created_by) VALUES ($1, 'credit_note', $2, $3, $4, $5, $5, $6, $7, $8, $9, 'issued', $10, $11, $12,"
        " $13, $14, $15) RETURNING id",
        invoice["customer_id"],
        number,
        invoice["period_start"],
        invoice["period_end"],
        today,
        invoice["currency"],
        invoice["net_minor"],
        invoice["vat_minor"],
        invoice["total_minor"],
        invoice["package_id"],
        invoice["package_name"],
        invoice["prorata"],
        invoice["id"],
        reason,
        by,
    )
    await connection.execute(
        "INSERT INTO bill_line (bill_id, position, kind, description, net_minor, vat_rate_bp, vat_minor)"
        " SELECT $1, position, 'reversal', 'Reverses ' || $2 || ': ' || description, net_minor, vat_rate_bp,"
        " vat_minor FROM bill_line WHERE bill_id = $3",
        credit_note_id,
        invoice["number"],
        invoice["id"],
    )
    return int(credit_note_id)


async def allocate_credit_note(connection: Connection, bill_id: int, credit_note_id: int, amount_minor: int) -> None:
    await connection.execute(
        "INSERT INTO payment_allocation (bill_id, credit_note_id, amount_minor, source)"
        " VALUES ($1, $2, $3, 'credit_note')",
        bill_id,
        credit_note_id,
        amount_minor,
    )


async def mark_void(connection: Connection, bill_id: int) -> None:
    await connection.execute(
        "UPDATE bill SET status = 'void', paid_minor = total_minor, updated_at = now() WHERE id = $1", bill_id
    )
