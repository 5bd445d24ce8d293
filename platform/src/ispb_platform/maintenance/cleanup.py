"""``maintenance.cleanup_old_data`` (monthly, per operator): obsolete records go, each kind by its own setting
of the operator (``platform.tenant``), each counted in the run record.

- sessions, portal sign-in codes and staff invitations ``expired_login_retention_days`` after they expired;
- sent messages of the outbox after ``outbox_retention_days`` (queued and failed ones stay: they are work or
  evidence);
- the operator's run records after ``job_run_retention_days``, except each job's latest; likewise its ended
  requests ("Back up now", "Restore...": ``jobs/requests.py``), except the latest of each lane (the page shows it);
- RADIUS accounting months past ``accounting_retention_months`` (the same step as ``netsync.radacct_partitions``);
- traffic graph files (RRD) of customers that no longer exist.

Shared invoice links are signed tokens with their own expiry: nothing is stored, so nothing is left to remove.
Deletes are set-based, in batches of `BATCH` rows, one short transaction each (``FOR UPDATE SKIP LOCKED``), so
a backlog never holds locks for long; a second run, or two at once, delete nothing more.
"""

import asyncio
import re
from datetime import UTC
from pathlib import Path

from ispb_netsync.rrd import tenant_dir
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.network.radius import partitions
from ispb_tenants import Database, TenantRef

BATCH = 5_000
_CUSTOMER_FILE = re.compile(r"customer-(\d+)\.rrd")

_SETTINGS = (
    "SELECT outbox_retention_days, job_run_retention_days, expired_login_retention_days,"
    " accounting_retention_months FROM tenant WHERE id = $1"
)
# SQL: batched set deletes (LIMIT and SKIP LOCKED in a subquery), which the query builder cannot say
_PLATFORM_DELETES = {
    "sessions_deleted": "DELETE FROM web_session WHERE id IN (SELECT id FROM web_session WHERE tenant_id = $1"
    " AND expires_at < now() - make_interval(days => $2) LIMIT $3 FOR UPDATE SKIP LOCKED)",
    "invitations_deleted": "DELETE FROM staff_invitation WHERE id IN (SELECT id FROM staff_invitation"
    " WHERE tenant_id = $1 AND expires_at < now() - make_interval(days => $2) LIMIT $3 FOR UPDATE SKIP LOCKED)",
    "job_runs_deleted": "DELETE FROM job_run r WHERE r.id IN (SELECT id FROM job_run WHERE tenant_id = $1"
    " AND status <> 'running' AND started_at < now() - make_interval(days => $2) LIMIT $3 FOR UPDATE SKIP LOCKED)"
    " AND r.id <> (SELECT l.id FROM job_run l WHERE l.job = r.job AND l.tenant_id = r.tenant_id"
    " ORDER BY l.started_at DESC, l.id DESC LIMIT 1)",
    "requests_deleted": "DELETE FROM job_request r WHERE r.id IN (SELECT id FROM job_request WHERE tenant_id = $1"
    " AND status IN ('succeeded', 'failed') AND requested_at < now() - make_interval(days => $2) LIMIT $3"
    " FOR UPDATE SKIP LOCKED)"
    " AND r.id <> (SELECT l.id FROM job_request l WHERE l.tenant_id = r.tenant_id AND l.lane = r.lane"
    " ORDER BY l.id DESC LIMIT 1)",
}
_TENANT_DELETES = {
    "codes_deleted": "DELETE FROM otp_code WHERE id IN (SELECT id FROM otp_code"
    " WHERE expires_at < now() - make_interval(days => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)",
    "messages_deleted": "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'sent'"
    " AND sent_at < now() - make_interval(days => $1) LIMIT $2 FOR UPDATE SKIP LOCKED)",
}


async def cleanup_old_data(ctx: JobContext) -> Counts:
    tenant = ctx.require_tenant()
    async with ctx.db.platform() as connection:
        settings = await connection.fetchrow(_SETTINGS, tenant.id)
    if settings is None:
        raise LookupError(tenant.slug)
    logins, outbox, runs = (
        settings["expired_login_retention_days"],
        settings["outbox_retention_days"],
        settings["job_run_retention_days"],
    )
    counts: dict[str, int] = {
        "sessions_deleted": await _platform_batches(ctx.db, _PLATFORM_DELETES["sessions_deleted"], tenant.id, logins),
        "invitations_deleted": await _platform_batches(
            ctx.db, _PLATFORM_DELETES["invitations_deleted"], tenant.id, logins
        ),
        "job_runs_deleted": await _platform_batches(ctx.db, _PLATFORM_DELETES["job_runs_deleted"], tenant.id, runs),
        "requests_deleted": await _platform_batches(ctx.db, _PLATFORM_DELETES["requests_deleted"], tenant.id, runs),
        "codes_deleted": await _tenant_batches(ctx.db, tenant, _TENANT_DELETES["codes_deleted"], logins),
        "messages_deleted": await _tenant_batches(ctx.db, tenant, _TENANT_DELETES["messages_deleted"], outbox),
    }
    months = int(settings["accounting_retention_months"])
    radacct = await partitions.maintain(ctx.db, tenant, today=ctx.now.astimezone(UTC).date(), retention_months=months)
    counts["accounting_months_dropped"] = int(radacct["dropped"])
    counts["graph_files_deleted"] = await _orphan_graphs(ctx.db, tenant, ctx.data_dir)
    return {
        **counts,
        "expired_login_retention_days": logins,
        "outbox_retention_days": outbox,
        "job_run_retention_days": runs,
        "accounting_retention_months": months,
    }


async def _platform_batches(db: Database, sql: str, tenant_id: int, days: int) -> int:
    deleted = 0
    while True:
        async with db.platform() as connection:
            status = await connection.execute(sql, tenant_id, days, BATCH)
        count = int(status.split()[-1])
        deleted += count
        if count < BATCH:
            return deleted


async def _tenant_batches(db: Database, tenant: TenantRef, sql: str, days: int) -> int:
    deleted = 0
    while True:
        async with db.tenant(tenant) as scope:
            status = await scope.connection.execute(sql, days, BATCH)
        count = int(status.split()[-1])
        deleted += count
        if count < BATCH:
            return deleted


async def _orphan_graphs(db: Database, tenant: TenantRef, data_dir: Path | None) -> int:
    """Remove the traffic files of customers whose row is gone (one query for all the files' ids)."""
    if data_dir is None:
        return 0
    directory = tenant_dir(data_dir, tenant.slug)
    files = await asyncio.to_thread(lambda: list(directory.glob("customer-*.rrd")) if directory.is_dir() else [])
    by_id = {int(m.group(1)): path for path in files if (m := _CUSTOMER_FILE.fullmatch(path.name))}
    if not by_id:
        return 0
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT id FROM unnest($1::bigint[]) AS f(id)"
            " WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = f.id)",
            list(by_id),
        )
    for row in rows:
        await asyncio.to_thread(by_id[row["id"]].unlink, missing_ok=True)
    return len(rows)
