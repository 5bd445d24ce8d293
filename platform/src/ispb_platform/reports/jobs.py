"""The report jobs of the schedule (DESIGN 3): each rebuilds its tenant's report tables in one transaction."""

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.reports.refresh import lock_reports, refresh_months, refresh_years


async def bills_vs_payments(ctx: JobContext) -> Counts:
    """``reports.bills_vs_payments`` (hourly): month figures (bills, credit notes, payments, new customers,
    suspensions), this month's customer snapshot and the customers owing most. A few statements whatever the
    number of customers; safe twice or at once (``refresh.py``)."""
    tenant = ctx.require_tenant()
    async with ctx.db.tenant(tenant) as scope:
        await lock_reports(scope.connection, tenant.schema)
        done = await refresh_months(scope.connection, timezone=tenant.timezone, today=ctx.today)
    return {"months": done.months, "overdue_customers": done.overdue_customers}


async def yearly_summary(ctx: JobContext) -> Counts:
    """``reports.yearly_summary`` (daily): the month figures again (so a day without the hourly job still ends
    right) and the yearly totals from them."""
    tenant = ctx.require_tenant()
    async with ctx.db.tenant(tenant) as scope:
        await lock_reports(scope.connection, tenant.schema)
        done = await refresh_months(scope.connection, timezone=tenant.timezone, today=ctx.today)
        years = await refresh_years(scope.connection)
    return {"months": done.months, "years": years}
