"""``billing.advance_debit``: on the 1st of the month, settle open bills from customers' advance credit.

Advance credit is the unallocated part of earlier payments (``payment.unapplied_minor``). For every customer
with both credit and open bills, the credit is allocated to the bills oldest first, oldest payment first
(``ispb_billing.allocate_credits``), under the customer's row lock. The ledger does not change (the payments were
credited when received); bills' paid amounts, statuses and the allocations do. A second run finds nothing to settle.

Set-based, a chunk of customers per transaction in four statements whatever its size: the candidates with
their row locks (id order, the lock ``payments.queries.lock_customer`` takes), their open bills and payments
with credit read AFTER the locks (a payment or void that held a lock is seen), ``allocate_credits`` in Python,
then the allocations, the bills' paid amounts and statuses and the payments' credit in one
data-modifying statement. Two chunks run at once (``jobs.chunks``); the run's per-tenant advisory lock makes a
second worker wait and then find nothing.

The job's entry point is ``billing/jobs.py``. Why SQL here: the candidates are a set-based scan over payments
with credit left and an open invoice, by customer id chunks; the reads and writes of a chunk are one
statement each (``unnest`` over arrays) instead of four per customer.
"""

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial

from ispb_billing import Credit, Money, OpenBill, allocate_credits
from ispb_platform.jobs.chunks import run_in_chunks
from ispb_platform.jobs.job import Counts
from ispb_tenants import Connection, Database, TenantRef, TenantScope

CHUNK = 2_000
"""Customers per transaction: big enough for set-based speed, small enough to keep their locks briefly."""

# By customer id from where the last chunk ended, two index probes per customer (payments with credit, open
# bills), stopping at the chunk's size: each chunk reads only its own part of the tenant.
_CANDIDATES = """
SELECT c.id FROM customer c
WHERE c.id > $1
  AND EXISTS (SELECT 1 FROM payment p WHERE p.customer_id = c.id AND p.unapplied_minor > 0)
  AND EXISTS (SELECT 1 FROM bill b WHERE b.customer_id = c.id AND b.status = 'open' AND b.kind = 'invoice')
ORDER BY c.id
LIMIT $2
FOR UPDATE OF c
"""

_OPEN_BILLS = """
SELECT customer_id, id, due_date, issue_date, total_minor - paid_minor AS outstanding FROM bill
WHERE customer_id = ANY($1::int[]) AND kind = 'invoice' AND status = 'open'
ORDER BY customer_id, due_date, issue_date, id
"""

_CREDIT = """
SELECT customer_id, id, unapplied_minor FROM payment
WHERE customer_id = ANY($1::int[]) AND unapplied_minor > 0
ORDER BY customer_id, received_on, id
"""

# The chunk's allocations, and per bill and per payment their sums (a row is updated once per statement), in one
# statement; the bill's status is decided where its paid amount is. ``id = ANY(...)`` beside the join to the
# arrays makes the planner fetch the rows by primary key: joined to an unnest alone it hashed every bill and
# every payment of the tenant for each chunk (100k customers: 50 chunks x 200,000 rows read).
_APPLY = """
WITH allocations AS (
    INSERT INTO payment_allocation (bill_id, payment_id, amount_minor, source)
    SELECT bill_id, payment_id, amount, 'advance_debit'
    FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS a(bill_id, payment_id, amount)
), bills AS (
    UPDATE bill b SET paid_minor = b.paid_minor + u.amount,
        status = CASE WHEN b.paid_minor + u.amount = b.total_minor THEN 'paid' ELSE b.status END, updated_at = now()
    FROM unnest($4::bigint[], $5::bigint[]) AS u(id, amount) WHERE b.id = u.id AND b.id = ANY($4::bigint[])
)
UPDATE payment p SET unapplied_minor = p.unapplied_minor - u.amount
FROM unnest($6::bigint[], $7::bigint[]) AS u(id, amount) WHERE p.id = u.id AND p.id = ANY($6::bigint[])
"""


@dataclass
class _Chunk:
    """What one chunk allocates: (bill, payment, amount) rows and the sums per bill and per payment."""

    rows: list[tuple[int, int, int]] = field(default_factory=list)
    per_bill: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    per_payment: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, bill_id: int, payment_id: int, amount: int) -> None:
        self.rows.append((bill_id, payment_id, amount))
        self.per_bill[bill_id] += amount
        self.per_payment[payment_id] += amount


def settle(bills: list[OpenBill], payments: list[tuple[int, int]], currency: str, chunk: _Chunk) -> int:
    """Spend one customer's payments with credit (id, unapplied minor units; oldest first) on its open bills
    (oldest first) through ``ispb_billing.allocate_credits``; returns the minor units applied."""
    if not bills or not payments:
        return 0
    credits = [Credit(payment_id, Money(unapplied, currency)) for payment_id, unapplied in payments]
    applied = 0
    for allocation in allocate_credits(credits, bills):
        chunk.add(allocation.bill_id, allocation.payment_id, allocation.amount.minor)
        applied += allocation.amount.minor
    return applied


async def _read(
    connection: Connection, ids: list[int], currency: str
) -> tuple[dict[int, list[OpenBill]], dict[int, list[tuple[int, int]]]]:
    bills: dict[int, list[OpenBill]] = defaultdict(list)
    for r in await connection.fetch(_OPEN_BILLS, ids):
        outstanding = Money(int(r["outstanding"]), currency)
        bills[r["customer_id"]].append(OpenBill(r["id"], r["due_date"], r["issue_date"], outstanding))
    payments: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for r in await connection.fetch(_CREDIT, ids):
        payments[r["customer_id"]].append((int(r["id"]), int(r["unapplied_minor"])))
    return bills, payments


async def settle_chunk(
    scope: TenantScope, after: int, locked: "asyncio.Future[int | None]", *, counts: dict[str, int]
) -> None:
    """Settle one chunk of candidates after customer id ``after`` (``locked``: see ``jobs.chunks``)."""
    connection = scope.connection
    ids = [r["id"] for r in await connection.fetch(_CANDIDATES, after, CHUNK)]
    locked.set_result(ids[-1] if len(ids) == CHUNK else None)
    if not ids:
        return
    bills, payments = await _read(connection, ids, scope.tenant.currency)  # after the locks (module doc)
    chunk = _Chunk()
    for customer_id in ids:
        amount = settle(bills.get(customer_id, []), payments.get(customer_id, []), scope.tenant.currency, chunk)
        counts["customers_settled"] += amount > 0
        counts["minor_units_applied"] += amount
    if chunk.rows:
        await connection.execute(
            _APPLY,
            [bill for bill, _, _ in chunk.rows],
            [payment for _, payment, _ in chunk.rows],
            [amount for _, _, amount in chunk.rows],
            list(chunk.per_bill),
            list(chunk.per_bill.values()),
            list(chunk.per_payment),
            list(chunk.per_payment.values()),
        )


async def settle_all(db: Database, tenant: TenantRef) -> Counts:
    """Every customer with advance credit and open bills, a chunk per transaction, two at a time."""
    counts = {"customers_settled": 0, "minor_units_applied": 0, "not_the_first": 0}
    await run_in_chunks(db, tenant, "billing.advance_debit", partial(settle_chunk, counts=counts))
    return counts
