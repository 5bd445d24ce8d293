"""``billing.auto_suspend``: suspend customers whose bills are overdue past their profile's rule.

The decision is ``ispb_billing.decide`` on exact money (open bills, advance credit, grace days or the fixed
suspension day): a customer whose credit covers what is due is never suspended. Each suspension is logged once
per (customer, bill) by a unique index, under a per-tenant advisory lock, so two workers or a rerun suspend and
log each customer once. The router commands then run at once in this job (the minute job is the backstop).
"""

from ispb_billing import SuspensionRule, decide
from ispb_platform.billing.suspension.actions import account_of, rule_for, suspend
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.network.routers.commands import run_due

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


async def auto_suspend(ctx: JobContext) -> Counts:
    tenant = ctx.require_tenant()
    counts = {"suspended": 0, "not_due": 0, "already_handled": 0, "rule_off": 0}
    after = 0
    while True:
        async with ctx.db.tenant(tenant) as scope:
            connection = scope.connection
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext('billing.auto_suspend'), hashtext($1))", tenant.schema
            )
            ids = [r["id"] for r in await connection.fetch(_CANDIDATES, ctx.today, after, CHUNK)]
            for customer_id in ids:
                rule, _ = await rule_for(connection, customer_id)
                if not rule.auto_suspend:
                    counts["rule_off"] += 1
                    continue
                account = await account_of(connection, customer_id, "active", tenant.currency)
                decision = decide(account, rule, ctx.today)
                if not decision.suspend:
                    counts["not_due"] += 1
                    continue
                change = await suspend(
                    connection,
                    customer_id,
                    secret_key=ctx.secret_key,
                    actor=ACTOR,
                    reason=decision.reason,
                    rule=describe(rule),
                    bill_id=decision.overdue[0].bill_id,
                    amount_due_minor=decision.overdue_amount.minor,
                )
                counts["suspended" if change else "already_handled"] += 1
        if len(ids) < CHUNK:
            break
        after = ids[-1]
    if counts["suspended"]:
        router = await run_due(ctx.db, tenant, ctx.secret_key)
        counts |= {f"router_{k}": v for k, v in router.items()}
    return counts
