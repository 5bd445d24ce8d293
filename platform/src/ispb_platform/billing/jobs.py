"""The billing domain's scheduled jobs (``jobs/registry.py`` names them): bills, advance debit, suspension.

Each entry point takes the job's context and returns its counts; the set-based work stays beside its rules
(``generate.py``, ``advance.py``, ``suspension/auto.py``).
"""

from ispb_billing import decide
from ispb_platform.billing.advance import settle_all
from ispb_platform.billing.generate import CHUNK, GenerationCounts, generate_chunk
from ispb_platform.billing.suspension.actions import account_of, rule_for, suspend
from ispb_platform.billing.suspension.auto import _CANDIDATES, ACTOR, describe
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.network.routers.commands import run_due_commands


async def generate_bills(ctx: JobContext) -> Counts:
    """The scheduled job: every chunk of the tenant's candidates, each in its own transaction."""
    tenant = ctx.require_tenant()
    counts = GenerationCounts()
    after = 0
    while True:
        async with ctx.db.tenant(tenant) as scope:
            last = await generate_chunk(scope, tenant, ctx.today, after, counts)
        if last is None:
            return counts.as_counts()
        after = last


async def advance_debit(ctx: JobContext) -> Counts:
    """The scheduled job. Runs on the 1st of the tenant's month; on other days it records that it did nothing."""
    tenant = ctx.require_tenant()
    if ctx.today.day != 1:
        return {"customers_settled": 0, "minor_units_applied": 0, "not_the_first": 1}
    return await settle_all(ctx, tenant)


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
        router = await run_due_commands(ctx)
        counts |= {f"router_{k}": v for k, v in router.items()}
    return counts
