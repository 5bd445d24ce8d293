"""Run records: every execution of a job writes one ``platform.job_run`` row (DESIGN 3).

The row is committed as ``running`` before the job starts, so a crashed worker leaves visible evidence, and
updated with the outcome and counts when it ends. The worker and ``ispb jobs run`` both go through `execute`.

The log gets one line per run that did something (a non-zero count other than the job's ``observed_counts``)
and one warning per failed attempt. A scheduled run is added into the job's latest record (`_finish_scheduled`):
the same day's record of work (``runs``, ``idle_runs``, counts summed), or a streak of runs that found nothing, so
ticks neither log nor pile up records; a quiet minute logs nothing (SAQ's own
per-job lines show only at ``ISPB_LOG_LEVEL=debug``, see ``ispb_platform/logs.py``).
"""

import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from saq import Queue

from ispb_notify import OutboundPolicy
from ispb_platform.jobs.job import RUN_NOW, JobContext, JobScope, ScheduledJob
from ispb_tenants import Database, TenantRef

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"

log = logging.getLogger(__name__)


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


@dataclass(frozen=True)
class RunRecord:
    id: int
    job: str
    tenant_slug: str | None
    job_key: str
    today: date
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None
    worker: str


def local_today(now: datetime, tenant: TenantRef | None) -> date:
    """The date a job runs for: the tenant's local date, UTC for platform jobs."""
    zone = ZoneInfo(tenant.timezone) if tenant is not None else UTC
    return now.astimezone(zone).date()


def job_key(job: ScheduledJob, tenant: TenantRef | None, period: str) -> str:
    """``<job>:<tenant>:<period>``: the same tick for the same tenant always gets the same key."""
    return f"{job.name}:{tenant.slug if tenant else 'platform'}:{period}"


def trigger_of(key: str) -> Trigger:
    """A queued run's trigger from its key: "Run now" (a person's run, which keeps its own record) or the schedule.

    >>> trigger_of("billing.generate_bills:padma:now-2026-12-04T17:40:00")
    <Trigger.MANUAL: 'manual'>
    >>> trigger_of("notify.due_date:padma:2026-12-04T17:02Z")
    <Trigger.SCHEDULE: 'schedule'>
    """
    return Trigger.MANUAL if f":{RUN_NOW}" in key else Trigger.SCHEDULE


async def execute(
    db: Database,
    job: ScheduledJob,
    *,
    tenant: TenantRef | None,
    trigger: Trigger,
    key: str,
    today: date | None = None,
    now: datetime | None = None,
    secret_key: str = "",
    outbound: OutboundPolicy | None = None,
    public_ipv4: str | None = None,
    data_dir: Path | None = None,
    queue: Queue | None = None,
) -> RunRecord:
    """Run ``job`` once and record it. Re-raises the job's exception after recording it, so the queue retries."""
    if (job.scope is JobScope.TENANT) != (tenant is not None):
        raise ValueError(
            f"{job.name} is a {job.scope} job: {'a tenant is required' if tenant is None else 'no tenant applies'}"
        )
    now = now or datetime.now(UTC)
    ctx = JobContext(
        db=db,
        today=today or local_today(now, tenant),
        now=now,
        tenant=tenant,
        secret_key=secret_key,
        outbound=outbound or OutboundPolicy(),
        public_ipv4=public_ipv4,
        data_dir=data_dir,
        queue=queue,
    )
    run_id = await _start(db, job, ctx, trigger, key)
    try:
        counts = dict(await job.run(ctx))
    except Exception as error:
        await _finish(db, run_id, "failed", {}, f"{type(error).__name__}: {error}")
        log.warning("%s%s failed (run %d): %s: %s", job.name, _for(tenant), run_id, type(error).__name__, error)
        raise
    worked = any(v for name, v in counts.items() if name not in job.observed_counts)
    if trigger is Trigger.SCHEDULE:  # a person's run (Run now, the CLI) keeps its own record
        record = await _finish_scheduled(db, run_id, counts, worked, job.observed_counts)
    else:
        record = await _finish(db, run_id, "succeeded", counts, None)
    if worked:
        log.info("%s%s: %s", job.name, _for(tenant), ", ".join(f"{name} {value}" for name, value in counts.items()))
    return record


def _for(tenant: TenantRef | None) -> str:
    return f" for {tenant.slug}" if tenant is not None else ""


_BOOKKEEPING = "SET LOCAL synchronous_commit TO off"
"""Run records are bookkeeping: their commits do not wait for the disk. The job's own commits do, and flush the
write-ahead log up to them, so a ``running`` record is always durable before any work of its job is; a finish
lost in a crash leaves a ``running`` record the reaper closes (``jobs/reaper.py``). Saves two disk flushes per
run: a tenth of a tenant's bill run at 1,000 customers."""


async def _start(db: Database, job: ScheduledJob, ctx: JobContext, trigger: Trigger, key: str) -> int:
    async with db.platform() as connection:
        await connection.execute(_BOOKKEEPING)
        run_id = await connection.fetchval(
            "INSERT INTO job_run (job, tenant_id, job_key, today, trigger, worker)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            job.name,
            ctx.tenant.id if ctx.tenant else None,
            key,
            ctx.today,
            trigger.value,
            WORKER_NAME,
        )
    return int(run_id)


async def _finish(db: Database, run_id: int, status: str, counts: dict[str, int], error: str | None) -> RunRecord:
    """Record the outcome and return the finished record, in one statement."""
    async with db.platform() as connection:
        await connection.execute(_BOOKKEEPING)
        row = await connection.fetchrow(
            _FINISH,
            run_id,
            status,
            json.dumps(counts),
            error,
        )
    return _record(row)


async def _finish_scheduled(
    db: Database, run_id: int, counts: dict[str, int], worked: bool, observed: frozenset[str]
) -> RunRecord:
    """Record a scheduled run by adding it into the job's latest record for the tenant, so that records grow with
    days and failures, not with ticks:

    - a run joins the latest record when that is a successful scheduled record of the same day (the tenant's
      day) that did work: ``runs`` counts the runs that did work, ``idle_runs`` those that found nothing;
    - a run that found nothing also joins a streak of runs that found nothing, whatever the day;
    - each count is then the sum over the record's runs; ``observed_counts`` (which describe rather than count)
      keep the latest value.

    The record moves to this run's key and time, and this run's own record goes. A failure, a person's run or a
    new day with work starts a new record. A five-minute job is at most one record a day (it was 288: at 1,000
    operators 764k records a day, 8.4 GB a month; docs/scale-out.md)."""
    async with db.platform() as connection, connection.transaction():
        await connection.execute(_BOOKKEEPING)
        previous = await connection.fetchrow(_LATEST_OTHER, run_id)
        tally = "runs" if worked else "idle_runs"
        if previous is not None and (previous["day_of_work"] or (previous["quiet"] and not worked)):
            row = await connection.fetchrow(
                _ADD_UP, previous["id"], run_id, json.dumps(counts), sorted(observed), tally
            )
            return _record(row)
        row = await connection.fetchrow(_FINISH, run_id, "succeeded", json.dumps({**counts, tally: 1}), None)
    return _record(row)


_RUN_FIELDS = (
    "r.id, r.job, t.slug AS tenant_slug, r.job_key, r.today, r.trigger, r.status, r.started_at,"
    " r.finished_at, r.counts, r.error, r.worker"
)
_RUN_COLUMNS = f"{_RUN_FIELDS} FROM job_run r LEFT JOIN tenant t ON t.id = r.tenant_id"
_FINISH = (
    "WITH finished AS (UPDATE job_run SET status = $2, counts = $3::jsonb, error = $4,"  # noqa: S608 (constants only)
    " finished_at = clock_timestamp() WHERE id = $1 RETURNING *)"
    f" SELECT {_RUN_FIELDS} FROM finished r LEFT JOIN tenant t ON t.id = r.tenant_id"
)


# The job's previous record for the same tenant (or the platform): one probe of job_run_tenant_job_started_idx.
# `tenant_id = r.tenant_id` and `IS NULL` are two arms, not `IS NOT DISTINCT FROM`, which no index answers (it
# walked every operator's runs of the job, newest first, on each quiet run).
_LATEST_OTHER = """
SELECT p.id, ok AND p.counts ? 'idle_runs' AND NOT p.counts ? 'runs' AS quiet,
       ok AND p.counts ? 'runs' AND p.today = r.today AS day_of_work
FROM job_run r
JOIN LATERAL (
    SELECT * FROM (
        (SELECT id, status, trigger, today, counts, started_at FROM job_run p
         WHERE p.tenant_id = r.tenant_id AND p.job = r.job AND p.id <> r.id ORDER BY p.started_at DESC LIMIT 1)
        UNION ALL
        (SELECT id, status, trigger, today, counts, started_at FROM job_run p
         WHERE r.tenant_id IS NULL AND p.tenant_id IS NULL AND p.job = r.job AND p.id <> r.id
         ORDER BY p.started_at DESC LIMIT 1)
    ) latest ORDER BY started_at DESC LIMIT 1
) p ON true
CROSS JOIN LATERAL (SELECT p.status = 'succeeded' AND p.trigger = 'schedule' AS ok) s
WHERE r.id = $1
"""
# The sums are taken from the record as the UPDATE finds it (not as read before), so two runs adding up at once
# both count.
_ADD_UP = f"""
WITH this AS (DELETE FROM job_run WHERE id = $2 RETURNING *),
rolled AS (
    UPDATE job_run p SET job_key = this.job_key, today = this.today, trigger = this.trigger,
        started_at = this.started_at, finished_at = clock_timestamp(), worker = this.worker,
        counts = p.counts || (
            SELECT coalesce(jsonb_object_agg(n.key, CASE WHEN n.key = ANY($4::text[]) THEN n.value
                ELSE to_jsonb(coalesce((p.counts ->> n.key)::bigint, 0) + (n.value #>> '{{}}')::bigint) END), '{{}}')
            FROM jsonb_each($3::jsonb) n
        ) || jsonb_build_object($5::text, coalesce((p.counts ->> $5::text)::int, 0) + 1)
    FROM this WHERE p.id = $1
    RETURNING p.*
)
SELECT {_RUN_FIELDS} FROM rolled r LEFT JOIN tenant t ON t.id = r.tenant_id
"""  # noqa: S608 (constants only)


def _record(row: Any) -> RunRecord:
    values = dict(row)
    values["counts"] = json.loads(values["counts"]) if isinstance(values["counts"], str) else values["counts"]
    return RunRecord(**values)


async def get_run(db: Database, run_id: int) -> RunRecord:
    async with db.platform() as connection:
        row = await connection.fetchrow(f"SELECT {_RUN_COLUMNS} WHERE r.id = $1", run_id)
    return _record(row)


async def recent_runs(db: Database, *, job: str | None = None, limit: int = 50) -> list[RunRecord]:
    async with db.platform() as connection:
        rows = await connection.fetch(
            f"SELECT {_RUN_COLUMNS} WHERE ($1::text IS NULL OR r.job = $1) ORDER BY r.started_at DESC LIMIT $2",
            job,
            limit,
        )
    return [_record(row) for row in rows]


async def last_runs_for(db: Database, tenant_id: int) -> dict[str, RunRecord]:
    """The latest run of every job for one tenant (and of platform jobs): one row per job, however many
    runs frequent jobs have piled up.

    Per job name (``LATERAL ... LIMIT 1``): a tenant job is one probe of ``job_run_tenant_job_started_idx``, a
    platform job the newest of ``job_run_job_started_idx``; not a ``DISTINCT ON`` over every run of the tenant
    and of the platform, which sorted a day of history per page view (Automation p50 5 -> 94 ms at 1,000
    operators), nor a walk of the tenant's runs newest first (docs/scale-out.md)."""
    from ispb_platform.jobs.registry import SCHEDULE  # the schedule imports the jobs, which import this module

    tenant_jobs = [job.name for job in SCHEDULE if job.scope is JobScope.TENANT]
    platform_jobs = [job.name for job in SCHEDULE if job.scope is JobScope.PLATFORM]
    async with db.platform() as connection:
        rows = await connection.fetch(_LAST_FOR_TENANT, tenant_jobs, tenant_id, platform_jobs)
    return {row["job"]: _record(row) for row in rows}


async def last_runs(db: Database) -> dict[str, RunRecord]:
    """The most recent run of every job that has run: one probe of ``job_run_job_started_idx`` per job name
    (``ispb jobs list`` took 3.6-3.9 s with a ``DISTINCT ON`` over a day of 1,000 operators' runs)."""
    async with db.platform() as connection:
        rows = await connection.fetch(_LAST_OF_EACH, _job_names())
    return {row["job"]: _record(row) for row in rows}


def _job_names() -> list[str]:
    from ispb_platform.jobs.registry import SCHEDULE  # the schedule imports the jobs, which import this module

    return [job.name for job in SCHEDULE]


_LAST_OF_EACH = f"""
SELECT {_RUN_FIELDS}
FROM unnest($1::text[]) AS name
CROSS JOIN LATERAL (SELECT * FROM job_run WHERE job = name ORDER BY started_at DESC LIMIT 1) r
LEFT JOIN tenant t ON t.id = r.tenant_id
"""  # noqa: S608 (constants only)
_LAST_FOR_TENANT = f"""
SELECT {_RUN_FIELDS}
FROM unnest($1::text[]) AS name
CROSS JOIN LATERAL (
    SELECT * FROM job_run WHERE tenant_id = $2 AND job = name ORDER BY started_at DESC LIMIT 1
) r
LEFT JOIN tenant t ON t.id = r.tenant_id
UNION ALL
SELECT {_RUN_FIELDS}
FROM unnest($3::text[]) AS name
CROSS JOIN LATERAL (SELECT * FROM job_run WHERE job = name ORDER BY started_at DESC LIMIT 1) r
LEFT JOIN tenant t ON t.id = r.tenant_id
"""  # noqa: S608 (constants only)
