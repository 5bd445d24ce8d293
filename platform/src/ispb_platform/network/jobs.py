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

# The due tests of the five- and fifteen-minute network jobs (``jobs/due.py``). Each is true whenever its job
# could find work (a superset: a wrong test loses work silently) and an index answers every part of it
# (tests/integration/test_due_work.py checks both, the plans with sequential scans off; on an operator's nearly
# empty tables the planner may rightly read the one page instead). Plans on an operator's schema:
#   unrolled radacct rows:  Bitmap Index Scan on each partition's radacct_unrolled_idx (partial: exactly those rows)
#   stale open sessions:    Index Scan on each partition's radacct_stale_idx (AcctUpdateTime, open sessions only)
#   API routers:            Index Only Scan using router_api_idx (partial: mode = 'api', tenant migration 0020)
#   traffic totals, OLTs:   Index Only Scan of customer_traffic_total_pkey, olt_name_key (any row will do)
_UNROLLED = (
    "EXISTS (SELECT FROM {schema}.radacct WHERE coalesce(acctinputoctets, 0) <> rolledinputoctets"
    " OR coalesce(acctoutputoctets, 0) <> rolledoutputoctets)"
)
_API_ROUTERS = "EXISTS (SELECT FROM {schema}.router WHERE mode = 'api')"

USAGE_ROLLUP_DUE = _UNROLLED
"""``netsync.usage_rollup`` has work: an accounting row whose counters moved since the rollup last counted it
(the rollup's own condition, ``radius/usage.py``, from ``radacct_unrolled_idx``)."""

_STALE = f"interval '{int(sessions.STALE_AFTER.total_seconds())} seconds'"
STALE_SESSIONS_DUE = (
    "EXISTS (SELECT FROM {schema}.radacct WHERE acctstoptime IS NULL"
    f" AND (acctupdatetime < now() - {_STALE} OR (acctupdatetime IS NULL AND acctstarttime < now() - {_STALE})))"
)
"""``netsync.stale_sessions`` has work: an open session silent for ``STALE_AFTER`` (the job's own condition,
``radius/queries.py``, from ``radacct_stale_idx``). An ISP with customers online has open sessions all day; a
stale one is rare, so the question is the stale one, not "any session open"."""

RRD_UPDATE_DUE = f"({_API_ROUTERS} OR EXISTS (SELECT FROM {{schema}}.customer_traffic_total) OR {_UNROLLED})"
"""``netsync.rrd_update`` has work: an API router to poll, or a customer with traffic totals (their graphs get a
point every 5 minutes, moving or not: a skipped update would draw a gap, not a zero), or accounting to roll up
first (which creates the first totals)."""

OLT_SYNC_DUE = "EXISTS (SELECT FROM {schema}.olt)"
"""``netsync.olt_sync`` has work: an OLT to walk (with none the job returns at once, ``olts/sync.py``)."""

ROUTER_STATUS_DUE = _API_ROUTERS
"""``netsync.router_status`` has work: an API-managed router to check (``routers/status.py`` checks only those)."""


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
