"""Maintenance jobs of the schedule (DESIGN 3)."""

from datetime import timedelta

from ispb_platform.jobs.job import Counts, JobContext

PURGE_BATCH = 5_000


async def purge_activity_logs(ctx: JobContext) -> Counts:
    """``maintenance.purge_activity_logs``: delete activity log rows older than the tenant's retention.

    Deletes in batches, one short transaction each, so a large backlog never holds locks for long. Running it
    twice, or twice at once, deletes nothing more: the cut-off depends only on ``today``.
    """
    tenant = ctx.require_tenant()
    async with ctx.db.platform() as connection:
        retention_days = await connection.fetchval(
            "SELECT activity_log_retention_days FROM tenant WHERE id = $1", tenant.id
        )
    cutoff = ctx.today - timedelta(days=int(retention_days))
    purged = 0
    while True:
        async with ctx.db.tenant(tenant) as scope:
            status = await scope.connection.execute(
                "DELETE FROM activity_log WHERE id IN (SELECT id FROM activity_log"
                " WHERE at < $1::date::timestamp AT TIME ZONE $2 LIMIT $3 FOR UPDATE SKIP LOCKED)",
                cutoff,
                tenant.timezone,
                PURGE_BATCH,
            )
        deleted = int(status.split()[-1])
        purged += deleted
        if deleted < PURGE_BATCH:
            return {"purged": purged, "retention_days": int(retention_days)}
