"""Running a job a person asked for (``jobs/requests.py``) on the worker: claim its row, run it, record the end.

Apart from ``requests.py`` because it needs the run machinery (``jobs/runs.py``: the worker's name, the
operator's local date), which imports the schedule; the domains that define requested jobs import only
``requests.py``, so no import circle runs through the schedule.
"""

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from saq import Queue

from ispb_notify import OutboundPolicy
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.requests import JobRequest, RequestedJob, RequestFailed, claim_request, finish_request
from ispb_platform.jobs.runs import WORKER_NAME, local_today
from ispb_tenants import Database, get_tenant

log = logging.getLogger(__name__)


async def execute_request(
    db: Database,
    request_id: int,
    jobs: Mapping[str, RequestedJob],
    *,
    secret_key: str = "",
    outbound: OutboundPolicy | None = None,
    data_dir: Path | None = None,
    queue: Queue | None = None,
) -> JobRequest | None:
    """Claim request ``request_id`` and run it; its row ends ``succeeded`` or ``failed`` with the message.
    None when there was nothing to claim (already run, or failed by the reaper)."""
    claimed = await claim_request(db, request_id, WORKER_NAME)
    if claimed is None:
        return None
    request, slug = claimed
    job = jobs.get(request.job)
    if job is None:
        return await finish_request(db, request.id, "failed", f"no job {request.job!r} on this worker")
    tenant = await get_tenant(db, slug)
    now = datetime.now(UTC)
    ctx = JobContext(
        db=db, today=local_today(now, tenant), now=now, tenant=tenant, secret_key=secret_key,
        outbound=outbound or OutboundPolicy(), data_dir=data_dir, queue=queue,
    )  # fmt: skip
    try:
        outcome = await job.run(ctx, request)
    except RequestFailed as error:
        return await finish_request(db, request.id, "failed", str(error))
    except asyncio.CancelledError:  # the queue's timeout, or the worker stopping: say so, then stop
        await finish_request(
            db,
            request.id,
            "failed",
            f"stopped before it ended (the worker shut down, or it ran past {job.timeout_s} s)",
        )
        raise
    except Exception as error:
        log.exception("request %d (%s) failed", request.id, job.name)
        return await finish_request(db, request.id, "failed", f"{type(error).__name__}: {error}")
    return await finish_request(db, request.id, "succeeded", outcome.message, outcome.result)
