"""``billing.auto_suspend`` (the entry point is in ``billing/jobs.py``): suspend customers whose bills are
overdue past their profile's rule.

The decision is ``ispb_billing.decide`` on exact money (open bills, advance credit, grace days or the fixed
suspension day): a customer whose credit covers what is due is never suspended. It is made under the customer's
row lock, the lock the suspension writes with, so a payment recorded meanwhile is seen (DESIGN 10). Each
suspension is logged once per (customer, bill) by a unique index, under a per-tenant advisory lock, so two
workers or a rerun suspend and log each customer once.

Why SQL here: the candidates are a set-based scan (customers with an open invoice due before today, by id
chunks) joined to their bills; Piccolo would load the bills to find the distinct customers.
"""

from datetime import date

from ispb_billing import SuspensionRule, decide
from ispb_platform.billing.suspension.actions import account_of, rule_for, suspend
from ispb_platform.payments.queries import lock_customer
from ispb_tenants import Database, TenantRef, TenantScope

ACTOR = "system (billing.auto_suspend)"
CHUNK = 200

_CANDIDATES = """
SELECT DISTINCT c.id FROM customer c
JOIN bill b ON b.customer_id = c.id AND b.kind = 'invoice' AND b.status = 'open' AND b.due_date < $1
WHERE c.status = 'active' AND c.id > $2
ORDER BY c.id
LIMIT $3
"""


def describe(rule: SuspensionRule) -> str:
    if rule.fixed_day is not None:
        return f"suspension day {rule.fixed_day} of the month"
    return f"{rule.grace_days} grace days after the due date"


async def suspend_overdue(db: Database, tenant: TenantRef, today: date, secret_key: str) -> dict[str, int]:
    """Every chunk of candidates, each in its own transaction; returns what happened to them."""
    counts = {"suspended": 0, "not_due": 0, "already_handled": 0, "rule_off": 0}
    after = 0
    while True:
        async with db.tenant(tenant) as scope:
            await scope.connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext('billing.auto_suspend'), hashtext($1))", tenant.schema
            )
            ids = [r["id"] for r in await scope.connection.fetch(_CANDIDATES, today, after, CHUNK)]
            for customer_id in ids:
                counts[await _suspend_if_overdue(scope, customer_id, today, secret_key)] += 1
        if len(ids) < CHUNK:
            return counts
        after = ids[-1]


async def _suspend_if_overdue(scope: TenantScope, customer_id: int, today: date, secret_key: str) -> str:
    """One candidate: lock, decide on what the lock protects, suspend. Returns the count it adds to."""
    connection = scope.connection
    await lock_customer(connection, customer_id)
    rule, _ = await rule_for(connection, customer_id)
    if not rule.auto_suspend:
        return "rule_off"
    account = await account_of(connection, customer_id, "active", scope.tenant.currency)
    decision = decide(account, rule, today)
    if not decision.suspend:
        return "not_due"
    change = await suspend(
        connection,
        customer_id,
        secret_key=secret_key,
        actor=ACTOR,
        reason=decision.reason,
        rule=describe(rule),
        bill_id=decision.overdue[0].bill_id,
        amount_due_minor=decision.overdue_amount.minor,
    )
    return "suspended" if change else "already_handled"
