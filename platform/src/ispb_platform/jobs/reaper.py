"""``system.close_dead_runs``: closes run records a dead worker left ``running``, and reruns what it lost.

A worker killed mid-job (SIGKILL, OOM, a lost machine) never writes its run's outcome. SAQ retries the job when
its heartbeat stops (``jobs/worker.py``) and the retry writes a run record of its own, so the first one would
say ``running`` forever, and the Automation page with it. Worse, a job killed more often than its attempts
allow ends ``aborted`` in the queue, and a job Redis lost (restarted empty) is simply gone: nothing would run
it before its next tick, an hour or a day later.

So every minute this job looks, in one query, at the run records still ``running`` after a grace period and
asks the queue about their jobs in one call. A record is dead when its job is no longer running the attempt
that wrote it: the job is missing, finished, waiting for a retry, or running a later attempt. Dead records are
closed as ``failed`` ("the worker stopped during this run"). When the queue will not run the job again (it is
missing or ended ``aborted``/``failed``), the tenant's job is queued again through ``run_soon``, at most
``MAX_RERUNS`` times an hour per job and tenant (counted from the reruns' run records): a job that kills its
worker every time must not loop forever.
Every job may run twice (DESIGN 10), so a rerun is always safe. Records of runs outside the queue (``ispb jobs
run``, platform cron ticks) are closed once they are older than their job's timeout.

Requests people made from a page ("Back up now", ``jobs/requests.py``) are closed the same way: a request
still ``queued`` or ``running`` whose queue job is gone or ended is failed with a message the page shows
("the worker stopped during this job"), never rerun (the person asks again, and sees why).

Two workers running this at once close each record once: the ``UPDATE ... WHERE status = 'running'`` decides,
and only the worker whose update closed a record reruns its job.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from saq import Queue
from saq.job import Job, Status

from ispb_platform.jobs.job import RUN_NOW, Counts, JobContext
from ispb_platform.jobs.queue import run_soon
from ispb_platform.jobs.requests import JobRequest, RequestedJob, get_request, request_key
from ispb_tenants import Database, TenantRef, get_tenant

log = logging.getLogger(__name__)

GRACE_S = 10
"""A run younger than this is left alone: its worker may still be writing it."""
CLOCK_SLACK_S = 5
"""How far a worker's clock (``job.started``) may be off the database's (``started_at``). A retry that starts
within it of the dead attempt leaves that attempt's record open until the retry ends (then it is closed)."""
MAX_RERUNS = 10
"""Reruns per job and tenant per hour. Each rerun has the job's own attempts (4 by default): a job that kills
its worker every time stops after about 40 crashes an hour instead of looping; its next tick tries again."""
RERUN = "rerun"
"""The reason in a rerun's job key (``jobs/queue.py`` ``run_soon``), by which reruns are counted."""
DEAD_RUN_ERROR = "the worker stopped during this run (closed by system.close_dead_runs)"
LOST_REQUEST = "the job was lost before a worker started it (the queue lost it): nothing was done, ask again"
DEAD_REQUEST = "the worker stopped during this job, so it did not finish: ask again"
LOOKBACK = timedelta(days=2)
"""Older records are not looked at: ``maintenance.clear_app_logs`` prunes them, and the job's index stays used."""

_RUNNING = """
SELECT r.id, r.job, r.job_key, r.trigger, r.started_at, t.slug AS tenant_slug
FROM job_run r LEFT JOIN tenant t ON t.id = r.tenant_id
WHERE r.job = ANY($1::text[]) AND r.status = 'running'
  AND r.started_at > $2::timestamptz - $3::interval AND r.started_at < $2::timestamptz - $4::interval
ORDER BY r.id
"""
_CLOSE = """
UPDATE job_run SET status = 'failed', error = $2, finished_at = clock_timestamp()
WHERE id = ANY($1::bigint[]) AND status = 'running'
RETURNING id
"""
_RECENT_RERUNS = """
SELECT count(DISTINCT r.job_key) FROM job_run r JOIN tenant t ON t.id = r.tenant_id
WHERE r.job = $1 AND t.slug = $2 AND r.job_key LIKE $3 AND r.started_at > $4::timestamptz - interval '1 hour'
"""


async def close_dead_runs(ctx: JobContext, timeouts: Mapping[str, int]) -> Counts:
    """Close the run records of dead workers' jobs and queue again the tenant jobs the queue lost.

    ``timeouts``: every scheduled job's name and timeout (``jobs/registry.py`` passes the schedule's)."""
    async with ctx.db.platform() as connection:
        rows = await connection.fetch(_RUNNING, list(timeouts), ctx.now, LOOKBACK, timedelta(seconds=GRACE_S))
    if not rows:
        return {"closed": 0, "rerun": 0}
    queued = [r for r in rows if _from_the_queue(r) and r["tenant_slug"] is not None] if ctx.queue else []
    in_queue: dict[int, Job | None] = {}
    if ctx.queue is not None and queued:
        found = await ctx.queue.jobs([r["job_key"] for r in queued])
        in_queue = dict(zip((r["id"] for r in queued), found, strict=True))
    dead: list[Any] = []
    lost: list[Any] = []
    for row in rows:
        if row["id"] in in_queue:
            job = in_queue[row["id"]]
            if job is None or job.status in (Status.ABORTED, Status.FAILED):
                dead.append(row)
                lost.append(row)
            elif not _runs_this_attempt(job, row["started_at"]):
                dead.append(row)
        elif ctx.now - row["started_at"] > timedelta(seconds=timeouts[row["job"]] + GRACE_S):
            dead.append(row)
    if not dead:
        return {"closed": 0, "rerun": 0}
    async with ctx.db.platform() as connection:
        closed = {r["id"] for r in await connection.fetch(_CLOSE, [r["id"] for r in dead], DEAD_RUN_ERROR)}
    rerun = 0
    if ctx.queue is not None:
        lost_jobs = {row["job_key"]: row for row in lost if row["id"] in closed}  # one rerun per lost job
        for row in lost_jobs.values():
            if await _may_rerun(ctx.db, row, ctx.now):
                tenant = await get_tenant(ctx.db, row["tenant_slug"])
                rerun += await _rerun(ctx.queue, row["job"], tenant)
    return {"closed": len(closed), "rerun": rerun}


def _from_the_queue(row: Any) -> bool:
    """A run the queue holds: the schedule's, or a person's "Run now" (recorded as manual, ``runs.trigger_of``);
    not ``ispb jobs run``, which runs in its own process."""
    return row["trigger"] == "schedule" or f":{RUN_NOW}" in row["job_key"]


def _runs_this_attempt(job: Job, started_at: datetime) -> bool:
    """Whether the queue is still running the attempt that wrote the record started at ``started_at``.

    SAQ stamps ``job.started`` just before the worker writes the record, so a later attempt (a retry after the
    sweep, a heartbeat or more later) has a later ``started`` than the record; a job waiting for its retry is not
    running any.
    """
    if job.status not in (Status.ACTIVE, Status.ABORTING):
        return False
    return job.started / 1000 <= started_at.timestamp() + CLOCK_SLACK_S


async def _may_rerun(db: Database, row: Any, now: datetime) -> bool:
    async with db.platform() as connection:
        recent = await connection.fetchval(_RECENT_RERUNS, row["job"], row["tenant_slug"], f"%:{RERUN}:%", now)
    return int(recent) < MAX_RERUNS


async def _rerun(queue: Queue, job_name: str, tenant: TenantRef) -> int:
    await run_soon(queue, job_name, tenant, RERUN)  # its key: <job>:<tenant>:rerun:<time>
    return 1


_OPEN_REQUESTS = """
SELECT id, job, status, coalesce(started_at, requested_at) AS since FROM job_request
WHERE status IN ('queued', 'running') AND coalesce(started_at, requested_at) < $1::timestamptz - $2::interval
ORDER BY id
"""
_FAIL_REQUESTS = """
UPDATE job_request SET status = 'failed', finished_at = clock_timestamp(),
    message = CASE status WHEN 'queued' THEN $2 ELSE $3 END
WHERE id = ANY($1::bigint[]) AND status IN ('queued', 'running')
RETURNING id, job
"""
_ENDED = (Status.COMPLETE, Status.FAILED, Status.ABORTED)


async def close_dead_requests(ctx: JobContext, jobs: Mapping[str, RequestedJob]) -> int:
    """Fail the open requests (``jobs/requests.py``) whose queue job is gone or ended; how many.

    With the queue (the worker's reaper): one call asks for every open request's job; a queued or running one
    is left alone (a dead worker's running job is swept by SAQ within two heartbeats, then ends ``aborted``).
    Without it (``ispb jobs run``): a request open longer than its job's timeout is dead. ``jobs``: every
    requested job by name (``jobs/registry.py``); an unknown job's request is dead after the grace. Each failed
    request's ``when_dead`` then closes what its worker left (a backup row still ``running``)."""
    async with ctx.db.platform() as connection:
        rows = await connection.fetch(_OPEN_REQUESTS, ctx.now, timedelta(seconds=GRACE_S))
    if not rows:
        return 0
    if ctx.queue is not None:
        found = await ctx.queue.jobs([request_key(row["id"]) for row in rows])
        dead = [row["id"] for row, job in zip(rows, found, strict=True) if job is None or job.status in _ENDED]
    else:
        dead = [
            row["id"]
            for row in rows
            if ctx.now - row["since"] > timedelta(seconds=_timeout(jobs, row["job"]) + GRACE_S)
        ]
    if not dead:
        return 0
    async with ctx.db.platform() as connection:
        failed = await connection.fetch(_FAIL_REQUESTS, dead, LOST_REQUEST, DEAD_REQUEST)
    for row in failed:  # only the reaper that failed a request closes what it left
        job = jobs.get(row["job"])
        request = await get_request(ctx.db, row["id"])
        if job is not None and job.when_dead is not None and request is not None:
            await _when_dead(ctx, job, request)
    return len(failed)


def _timeout(jobs: Mapping[str, RequestedJob], name: str) -> int:
    job = jobs.get(name)
    return job.timeout_s if job is not None else 0


async def _when_dead(ctx: JobContext, job: RequestedJob, request: JobRequest) -> None:
    assert job.when_dead is not None
    try:
        await job.when_dead(ctx.db, request)
    except Exception:  # one request's leftovers must not keep the others' from being closed
        log.exception("closing what request %d (%s) left failed", request.id, job.name)
