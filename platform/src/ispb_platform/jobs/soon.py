"""Run a tenant's scheduled job soon, through the queue, instead of waiting for its next tick.

Used after a commit whose effects should not wait a minute (a router command, a payment's message). The job
is the same one the schedule runs, so it is recorded like any run; a failure to enqueue is logged and the
next scheduled tick does the work.
"""

import logging
from datetime import UTC, datetime

from saq import Queue

from ispb_tenants import TenantRef

log = logging.getLogger(__name__)


async def run_soon(queue: Queue, job_name: str, tenant: TenantRef, reason: str) -> None:
    from ispb_platform.jobs.registry import get_job
    from ispb_platform.jobs.worker import RUN_JOB, job_options

    job = get_job(job_name)
    try:
        await queue.enqueue(
            RUN_JOB,
            key=f"{job.name}:{tenant.slug}:{reason}:{datetime.now(UTC):%Y%m%dT%H%M%S%f}",
            job_name=job.name,
            tenant=tenant.slug,
            **job_options(job),
        )
    except Exception:  # the queue being down must not fail what already committed
        log.exception("could not enqueue %s for %s; its next scheduled tick will do it", job.name, tenant.slug)
