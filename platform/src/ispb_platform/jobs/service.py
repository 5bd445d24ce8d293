"""Automation: the schedule with each job's last run for an operator, and "Run now".

This page sits at the top with the schedule it shows: it imports ``jobs.registry`` and ``jobs.worker`` (which
import the domains' jobs); no domain imports it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from saq import Queue

from ispb_platform.jobs.job import RUN_NOW, JobScope, ScheduledJob
from ispb_platform.jobs.outage import is_unreachable
from ispb_platform.jobs.registry import SCHEDULE
from ispb_platform.jobs.runs import RunRecord, job_key, last_runs, last_runs_for
from ispb_platform.jobs.worker import RUN_JOB, job_options
from ispb_tenants import Database, TenantRef


@dataclass(frozen=True)
class JobLine:
    job: ScheduledJob
    last: RunRecord | None
    per_tenant: bool


async def schedule_with_last_runs(db: Database, tenant: TenantRef) -> list[JobLine]:
    """The schedule with this operator's last run of each job (platform jobs: the platform's)."""
    last = await last_runs_for(db, tenant.id)
    return [JobLine(job, last.get(job.name), job.scope is JobScope.TENANT) for job in SCHEDULE]


class UnknownJob(LookupError):
    """No per-tenant job of that name: "Run now" only runs the operator's own jobs."""


class QueueUnavailable(Exception):
    """The job queue (Redis) cannot be reached, so "Run now" queued nothing; the job's schedule still runs it
    (the worker catches up the ticks it missed, docs/reliability.md). The message is for the person who asked."""

    def __init__(self, job: ScheduledJob) -> None:
        super().__init__(
            f"The job queue cannot be reached at the moment, so {job.name} was not queued. It runs at its next"
            " scheduled time; try Run now again in a minute."
        )
        self.job = job


async def _enqueue(queue: Queue, job: ScheduledJob, **fields: Any) -> None:
    try:
        await queue.enqueue(RUN_JOB, **fields)
    except Exception as error:
        if is_unreachable(error):
            raise QueueUnavailable(job) from error
        raise


async def run_now(queue: Queue, tenant: TenantRef, name: str, now: datetime | None = None) -> ScheduledJob:
    """Queue one of the operator's jobs now; the worker runs it exactly as on schedule, and records it."""
    job = next((j for j in SCHEDULE if j.name == name and j.scope is JobScope.TENANT), None)
    if job is None:
        raise UnknownJob(name)
    moment = now or datetime.now(UTC)
    options: dict[str, Any] = job_options(job)
    await _enqueue(
        queue,
        job,
        key=job_key(job, tenant, f"{RUN_NOW}{moment:%Y-%m-%dT%H:%M:%S}"),
        job_name=job.name,
        tenant=tenant.slug,
        **options,
    )
    return job


SUBSCRIPTION_JOBS = (
    "reports.customer_counts",
    "subscription.bill_operators",
    "subscription.bill_sms",
    "subscription.suspend_unpaid",
)
"""Platform jobs the admin console's Subscriptions page can run now (the demo's way to lock Padma Link)."""


async def platform_jobs_with_last_runs(db: Database) -> list[tuple[ScheduledJob, RunRecord | None]]:
    last = await last_runs(db)
    return [(j, last.get(j.name)) for j in SCHEDULE if j.name in SUBSCRIPTION_JOBS]


async def run_platform_now(queue: Queue, name: str, now: datetime | None = None) -> ScheduledJob:
    """Queue one of ``SUBSCRIPTION_JOBS`` now; the worker runs it as on schedule (one run for the platform)."""
    job = next((j for j in SCHEDULE if j.name == name and j.name in SUBSCRIPTION_JOBS), None)
    if job is None:
        raise UnknownJob(name)
    moment = now or datetime.now(UTC)
    await _enqueue(
        queue,
        job,
        key=job_key(job, None, f"{RUN_NOW}{moment:%Y-%m-%dT%H:%M:%S}"),
        job_name=job.name,
        **job_options(job),
    )
    return job
