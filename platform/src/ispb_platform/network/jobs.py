"""The network domain's scheduled jobs: the entry points ``jobs/registry.py`` names (DESIGN 3).

Each takes the job context, picks out what the work needs and calls it with explicit arguments: the work
itself lives beside its domain code (``routers/commands.py``, ``routers/status.py``, ``radius/sessions.py``),
where the web pages and other jobs call it too.
"""

from datetime import UTC, timedelta

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.network.olts.sync import sync_olts
from ispb_platform.network.radius import partitions, sessions, usage
from ispb_platform.network.routers.commands import run_due
from ispb_platform.network.routers.status import check_api_routers
from ispb_platform.network.traffic.poll import poll_customers, poll_routers
from ispb_tenants.tables import Tenant

ROUTER_COMMANDS_DUE = (
    "EXISTS (SELECT FROM {schema}.router_command WHERE status = 'pending' AND next_attempt_at <= now())"
)
"""``netsync.router_commands`` has work (``jobs/due.py``): a pending command due, from ``router_command_due_idx``."""


async def run_due_commands(ctx: JobContext) -> Counts:
    """``netsync.router_commands``: every due router command of the tenant, oldest first, one at a time."""
    return await run_due(ctx.db, ctx.require_tenant(), ctx.secret_key)


async def check_routers(ctx: JobContext) -> Counts:
    """``netsync.router_status``: ask every API-managed router who it is and record whether it answered."""
    return await check_api_routers(ctx.db, ctx.require_tenant(), ctx.secret_key)


async def close_stale_sessions(
    ctx: JobContext,
    *,
    stale_after: timedelta = sessions.STALE_AFTER,
    batch: int = sessions.BATCH,
    disconnect_timeout: float = sessions.DISCONNECT_TIMEOUT,
    disconnect_retries: int = sessions.DISCONNECT_RETRIES,
) -> Counts:
    """``netsync.stale_sessions``: close RADIUS sessions silent for ``stale_after`` and ask their routers to
    drop them (see ``radius/sessions.py``). The keyword options let tests use short timeouts and batches."""
    return await sessions.close_stale(
        ctx.db,
        ctx.require_tenant(),
        ctx.now,
        ctx.secret_key,
        stale_after=stale_after,
        batch=batch,
        disconnect_timeout=disconnect_timeout,
        disconnect_retries=disconnect_retries,
    )


async def update_traffic_graphs(ctx: JobContext) -> Counts:
    """``netsync.rrd_update``: customers' traffic totals and every API router's interface counters into their RRD
    files (``traffic/poll.py``). Without a data directory (a job run with nowhere to keep files) it records that
    it did nothing."""
    if ctx.data_dir is None:
        return {"no_data_dir": 1}
    tenant = ctx.require_tenant()
    customers = await poll_customers(ctx.db, tenant, ctx.data_dir)
    return {**customers, **await poll_routers(ctx.db, tenant, ctx.secret_key, ctx.data_dir)}


async def radacct_partitions(ctx: JobContext) -> Counts:
    """``netsync.radacct_partitions``: radacct's next monthly partitions ready, months past the tenant's
    accounting retention dropped (see ``radius/partitions.py``). Months are UTC, like the partitions."""
    tenant = ctx.require_tenant()
    async with ctx.db.platform():
        row = (
            await Tenant.select(Tenant.accounting_retention_months).where(Tenant._meta.primary_key == tenant.id).first()
        )
    if row is None:
        raise LookupError(tenant.slug)
    retention = int(row["accounting_retention_months"])
    counts = await partitions.maintain(ctx.db, tenant, today=ctx.now.astimezone(UTC).date(), retention_months=retention)
    return {**counts, "retention_months": retention}


async def usage_rollup(ctx: JobContext) -> Counts:
    """``netsync.usage_rollup``: add the accounting counters' movement since the last run to each customer's
    daily usage (see ``radius/usage.py``)."""
    return await usage.rollup(ctx.db, ctx.require_tenant())


async def olt_sync(ctx: JobContext) -> Counts:
    """``netsync.olt_sync``: walk every OLT of the tenant over SNMP and record its ONUs (``olts/sync.py``)."""
    return await sync_olts(ctx.db, ctx.require_tenant(), ctx.secret_key)
