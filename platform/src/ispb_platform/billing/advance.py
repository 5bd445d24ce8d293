"""``billing.advance_debit``: on the 1st of the month, settle open bills from customers' advance credit.

Advance credit is the unallocated part of earlier payments (``payment.unapplied_minor``). For every customer
with both credit and open bills, the credit is allocated to the bills oldest first (``ispb_billing.allocate``),
oldest payment first, under the customer's row lock. The ledger does not change (the payments were credited
when received); bills' paid amounts, statuses and the allocations do. A second run finds nothing to settle.

The job's entry point is ``billing/jobs.py``. Why SQL for the candidates: a set-based scan over payments with
credit left and an open invoice, by customer id chunks; the money writes are the payments' queries, under the
customer's row lock.
"""

from dataclasses import replace

from ispb_billing import Money, allocate
from ispb_platform.jobs.job import Counts
from ispb_platform.payments.queries import apply_allocations, lock_customer, open_bills, payments_with_credit
from ispb_tenants import Database, TenantRef, TenantScope

_CANDIDATES = """
SELECT DISTINCT p.customer_id FROM payment p
WHERE p.unapplied_minor > 0 AND p.customer_id > $1
  AND EXISTS (SELECT 1 FROM bill b WHERE b.customer_id = p.customer_id AND b.status = 'open' AND b.kind = 'invoice')
ORDER BY p.customer_id
LIMIT $2
"""
BATCH = 500


async def settle_from_credit(scope: TenantScope, tenant: TenantRef, customer_id: int) -> int:
    """Apply one customer's advance credit to its open bills; returns the minor units applied."""
    connection = scope.connection
    await lock_customer(connection, customer_id)
    bills = await open_bills(connection, customer_id, tenant.currency)
    applied = 0
    for payment in await payments_with_credit(connection, customer_id):
        if not bills:
            break
        settlement = allocate(Money(payment.unapplied_minor, tenant.currency), bills)
        await apply_allocations(connection, payment.id, settlement, "advance_debit")
        applied += settlement.applied.minor
        paid = {a.bill_id: a.amount for a in settlement.allocations}
        zero = Money.zero(tenant.currency)
        bills = [replace(b, outstanding=b.outstanding - paid.get(b.bill_id, zero)) for b in bills]
        bills = [b for b in bills if b.outstanding.is_positive]
    return applied


async def settle_all(db: Database, tenant: TenantRef) -> Counts:
    """Every customer with advance credit and open bills, a chunk per transaction."""
    settled = applied = 0
    after = 0
    while True:
        async with db.tenant(tenant) as scope:
            ids = [r["customer_id"] for r in await scope.connection.fetch(_CANDIDATES, after, BATCH)]
            for customer_id in ids:
                amount = await settle_from_credit(scope, tenant, customer_id)
                settled += amount > 0
                applied += amount
        if len(ids) < BATCH:
            return {"customers_settled": settled, "minor_units_applied": applied, "not_the_first": 0}
        after = ids[-1]
