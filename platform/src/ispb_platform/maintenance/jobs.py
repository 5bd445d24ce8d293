"""Maintenance jobs of the schedule (DESIGN 3)."""

import asyncio
from datetime import timedelta

from ispb_netsync.netflow import purge_before
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.logs import old_log_files
from ispb_platform.network.netflow.search import router_dirs
from ispb_tenants.tables import Tenant

PURGE_BATCH = 5_000
RUN_RECORD_RETENTION_DAYS = 90
HEARTBEAT_RETENTION_DAYS = 7
LOG_FILE_RETENTION_DAYS = 7


async def purge_activity_logs(ctx: JobContext) -> Counts:
    """``maintenance.purge_activity_logs``: delete activity log rows older than the tenant's retention.

    Deletes in batches, one short transaction each, so a large backlog never holds locks for long. Running it
    twice, or twice at once, deletes nothing more: the cut-off depends only on ``today``.
    """
    tenant = ctx.require_tenant()
    async with ctx.db.platform():
        row = (
            await Tenant.select(Tenant.activity_log_retention_days).where(Tenant._meta.primary_key == tenant.id).first()
        )
    if row is None:
        raise LookupError(tenant.slug)
    retention_days = int(row["activity_log_retention_days"])
    cutoff = ctx.today - timedelta(days=retention_days)
    purged = 0
    while True:
        async with ctx.db.tenant(tenant) as scope:
            # SQL: a batched set delete (LIMIT and SKIP LOCKED in a subquery), which the query builder cannot say
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
            return {"purged": purged, "retention_days": retention_days}


async def purge_netflow(ctx: JobContext) -> Counts:
    """``maintenance.purge_netflow``: remove the tenant's NetFlow capture files older than its retention.

    A file goes once its whole 5-minute interval is older than ``netflow_retention_days`` days before ``now``;
    nfcapd's current file is never touched. Safe twice or at once: a file already removed by another run is
    skipped. Without a data directory (a run with nowhere files live) it records that it did nothing.
    """
    tenant = ctx.require_tenant()
    async with ctx.db.platform():
        row = await Tenant.select(Tenant.netflow_retention_days).where(Tenant._meta.primary_key == tenant.id).first()
    if row is None:
        raise LookupError(tenant.slug)
    retention_days = int(row["netflow_retention_days"])
    if ctx.data_dir is None:
        return {"no_data_dir": 1, "retention_days": retention_days}
    cutoff = ctx.now - timedelta(days=retention_days)
    removed = kept = 0
    for directory in await asyncio.to_thread(router_dirs, ctx.data_dir, tenant.slug):
        report = await asyncio.to_thread(purge_before, directory, cutoff)
        removed, kept = removed + report.removed, kept + report.kept
    return {"files_removed": removed, "files_kept": kept, "retention_days": retention_days}


async def clear_app_logs(ctx: JobContext) -> Counts:
    """``maintenance.clear_app_logs``: clear the application's log files and prune its run records (weekly).

    Log files (``ISPB_LOG_TO_FILES``: a file per command and day under ``ISPB_DATA_DIR/logs``) older than
    `LOG_FILE_RETENTION_DAYS` are removed; today's and the last week's stay. Heartbeats (one a minute) are kept
    for a week, other runs for 90 days, counted back from ``today``; the latest run of every job for every
    tenant is always kept, so the Automation page and ``ispb jobs list`` never lose a job's last outcome. A
    second run deletes nothing more.
    """
    async with ctx.db.platform() as connection:
        status = await connection.execute(
            _PRUNE_RUN_RECORDS, ctx.today, HEARTBEAT_RETENTION_DAYS, RUN_RECORD_RETENTION_DAYS
        )
    removed = 0
    if ctx.data_dir is not None:
        cutoff = ctx.today - timedelta(days=LOG_FILE_RETENTION_DAYS)
        for path in await asyncio.to_thread(old_log_files, ctx.data_dir / "logs", cutoff):
            await asyncio.to_thread(path.unlink, missing_ok=True)
            removed += 1
    return {"run_records_deleted": int(status.split()[-1]), "log_files_deleted": removed}


# SQL: one set delete that keeps each (job, tenant)'s latest run by a correlated subquery: one probe of
# job_run_tenant_job_started_idx per candidate, the tenant's arm or the platform's (`IS NOT DISTINCT FROM`, which
# no index answers, walked every operator's runs of the job for each candidate).
_PRUNE_RUN_RECORDS = """
DELETE FROM job_run r
WHERE r.status <> 'running'
  AND r.started_at < $1::date - make_interval(days => CASE r.job WHEN 'system.heartbeat' THEN $2::int ELSE $3::int END)
  AND r.id <> coalesce(
      (SELECT l.id FROM job_run l WHERE l.tenant_id = r.tenant_id AND l.job = r.job
       ORDER BY l.started_at DESC, l.id DESC LIMIT 1),
      (SELECT l.id FROM job_run l WHERE r.tenant_id IS NULL AND l.tenant_id IS NULL AND l.job = r.job
       ORDER BY l.started_at DESC, l.id DESC LIMIT 1))
"""
