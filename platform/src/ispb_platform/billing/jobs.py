"""The billing domain's scheduled jobs (``jobs/registry.py`` names them): bills, advance debit, suspension.

Each entry point takes the job's context and returns its counts; the set-based work stays beside its rules
(``generate.py``, ``advance.py``, ``suspension/auto.py``).
"""

from ispb_platform.billing.advance import settle_all
from ispb_platform.billing.fair_usage import enforce
from ispb_platform.billing.generate import bill_customers
from ispb_platform.billing.suspension.auto import suspend_overdue
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.network.routers.commands import run_due

# The due tests of the billing jobs (``jobs/due.py``): each true whenever the job could find work, each answered
# by an index probe (tests/integration/test_due_work.py). Plans on an operator's schema:
#   fair usage:   Index Only Scan using package_fup_idx (partial, tenant migration 0020) / customer_fup_idx
#   bills:        Index Scan using customer_package_idx (package_id IS NOT NULL), filter status <> 'disabled'
#   suspension:   Index Only Scan using bill_open_idx (partial: status = 'open')
FUP_ENFORCE_DUE = (
    "(EXISTS (SELECT FROM {schema}.package WHERE data_allowance_mb IS NOT NULL AND fup_download_kbps IS NOT NULL)"
    " OR EXISTS (SELECT FROM {schema}.customer WHERE fup_until IS NOT NULL))"
)
"""``billing.fup_enforce`` has work: a package with a data allowance and an FUP speed (its customers may go over),
or a customer reduced now (to be restored): exactly the job's candidates (``fair_usage.py``)."""

GENERATE_BILLS_DUE = "EXISTS (SELECT FROM {schema}.customer WHERE package_id IS NOT NULL AND status <> 'disabled')"
"""``billing.generate_bills`` has work: a customer with a package who is not disabled (the candidates of
``generate.py`` before the date tests, which depend on the operator's day)."""

AUTO_SUSPEND_DUE = "EXISTS (SELECT FROM {schema}.bill WHERE status = 'open')"
"""``billing.auto_suspend`` has work: an open bill (the job suspends only customers with an overdue open
invoice, ``suspension/auto.py``; the grace and the operator's day are the job's to judge)."""

ADVANCE_DEBIT_DUE = AUTO_SUSPEND_DUE
"""``billing.advance_debit`` has work: an open bill (it settles open invoices from advance credit,
``advance.py``; whether it is the 1st in the operator's zone is the job's to judge)."""


async def generate_bills(ctx: JobContext) -> Counts:
    """``billing.generate_bills``: bill every customer whose period containing today is not billed yet."""
    return await bill_customers(ctx.db, ctx.require_tenant(), ctx.today)


async def advance_debit(ctx: JobContext) -> Counts:
    """``billing.advance_debit``: runs on the 1st of the tenant's month; on other days it records that it did
    nothing."""
    tenant = ctx.require_tenant()
    if ctx.today.day != 1:
        return {"customers_settled": 0, "minor_units_applied": 0, "not_the_first": 1}
    return await settle_all(ctx.db, tenant)


async def auto_suspend(ctx: JobContext) -> Counts:
    """``billing.auto_suspend``: suspend overdue customers, then send the router commands at once (the minute
    job ``netsync.router_commands`` is the backstop)."""
    tenant = ctx.require_tenant()
    counts = await suspend_overdue(ctx.db, tenant, ctx.today, ctx.secret_key)
    if counts["suspended"]:
        router = await run_due(ctx.db, tenant, ctx.secret_key)
        counts |= {f"router_{k}": v for k, v in router.items()}
    return counts


async def fup_enforce(ctx: JobContext) -> Counts:
    """``billing.fup_enforce``: customers over their data allowance at the FUP speed until their cycle ends,
    full speed back after it (``fair_usage.py``)."""
    return await enforce(ctx.db, ctx.require_tenant(), ctx.today, ctx.secret_key)
