"""The SAQ worker: one cron entry per scheduled job, plus ``ispb.run_job`` for per-tenant fan-out.

A tenant-scoped job's cron tick does not do the work itself: it enqueues one ``ispb.run_job`` per active
tenant under the key ``<job>:<tenant>:<period>`` (DESIGN 3), so a second tick or a second worker for the same
minute adds nothing, one slow tenant does not delay the others, and each tenant is retried on its own.
"""

import asyncio
import faulthandler
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from saq import CronJob, Queue, Worker
from saq.types import Context

from ispb_notify import OutboundPolicy
from ispb_platform.jobs.job import JobScope, ScheduledJob
from ispb_platform.jobs.queue import RUN_SOON
from ispb_platform.jobs.registry import SCHEDULE, get_job
from ispb_platform.jobs.runs import Trigger, execute, job_key
from ispb_tenants import Database, get_tenant, list_tenants

RUN_JOB = "ispb.run_job"


class JobTaskContext(Context, total=False):
    """SAQ's task context plus what ISPB's startup hook puts in it."""

    ispb_db: Database
    ispb_secret_key: str
    ispb_outbound: OutboundPolicy
    ispb_data_dir: Path | None


def job_options(job: ScheduledJob) -> dict[str, Any]:
    """SAQ options for one job: its own timeout, several attempts, exponential backoff, a heartbeat."""
    return {
        "timeout": job.timeout_s,
        "retries": job.retries,
        "retry_delay": job.retry_delay_s,
        "retry_backoff": True,
        "heartbeat": 0,
        "ttl": 24 * 3600,
    }


def tick_period(ctx: JobTaskContext) -> str:
    """The minute a cron tick was scheduled for, in UTC: the ``<period>`` of the job key."""
    job = ctx["job"]
    scheduled = job.scheduled or job.queued / 1000 or datetime.now(UTC).timestamp()
    return datetime.fromtimestamp(scheduled, UTC).strftime("%Y-%m-%dT%H:%MZ")


async def fan_out(db: Database, queue: Queue, job: ScheduledJob, period: str) -> int:
    """Enqueue ``job`` for every active tenant; return how many were new (duplicates are dropped by key)."""
    enqueued = 0
    for info in await list_tenants(db, active_only=True):
        queued = await queue.enqueue(
            RUN_JOB,
            key=job_key(job, info.ref, period),
            job_name=job.name,
            tenant=info.ref.slug,
            **job_options(job),
        )
        enqueued += queued is not None
    return enqueued


async def run_job(ctx: JobTaskContext, *, job_name: str, tenant: str | None = None) -> dict[str, Any]:
    """``ispb.run_job``: run one job for one tenant (or the platform) and record the run."""
    db: Database = ctx["ispb_db"]
    job = get_job(job_name)
    tenant_ref = await get_tenant(db, tenant) if tenant else None
    record = await execute(
        db,
        job,
        tenant=tenant_ref,
        trigger=Trigger.SCHEDULE,
        key=ctx["job"].key,
        secret_key=ctx["ispb_secret_key"],
        outbound=ctx["ispb_outbound"],
        data_dir=ctx.get("ispb_data_dir"),
    )
    return {"run_id": record.id, "counts": record.counts}


async def forward_run_soon(ctx: JobTaskContext, *, job_name: str, tenant: str) -> dict[str, Any]:
    """``ispb.run_soon``: enqueue the named job for one tenant now, with the schedule's options (jobs/queue.py)."""
    job = get_job(job_name)
    key = ctx["job"].key.removeprefix("soon:")
    queued = await ctx["worker"].queue.enqueue(RUN_JOB, key=key, job_name=job.name, tenant=tenant, **job_options(job))
    return {"enqueued": queued is not None}


def _cron_task(job: ScheduledJob) -> Callable[[JobTaskContext], Awaitable[dict[str, Any]]]:
    async def task(ctx: JobTaskContext) -> dict[str, Any]:
        db: Database = ctx["ispb_db"]
        period = tick_period(ctx)
        if job.scope is JobScope.TENANT:
            return {"enqueued": await fan_out(db, ctx["worker"].queue, job, period)}
        record = await execute(
            db,
            job,
            tenant=None,
            trigger=Trigger.SCHEDULE,
            key=job_key(job, None, period),
            secret_key=ctx["ispb_secret_key"],
            outbound=ctx["ispb_outbound"],
            data_dir=ctx.get("ispb_data_dir"),
        )
        return {"run_id": record.id, "counts": record.counts}

    # SAQ names (and deduplicates) cron jobs by qualname: one distinct name per scheduled job.
    task.__qualname__ = task.__name__ = f"cron.{job.name}"
    return task


STOP_CANCEL_EVERY_S = 0.1


async def cancel_until_done(tasks: set["asyncio.Task[Any]"], *, within_s: float) -> set["asyncio.Task[Any]"]:
    """Cancel ``tasks`` again and again until each has finished (or ``within_s`` has passed); return the rest.

    SAQ's PostgreSQL queue can swallow a cancellation inside ``dequeue`` and go on waiting for a job; SAQ's
    ``Worker.stop`` then waits for that task without a bound (``asyncio.wait_for`` with timeout 0 waits for the
    cancelled task on Python 3.11), and the worker never exits. Seen about once in four stops under load
    (``tests/integration/test_web.py``). A second cancellation ends such a task; a task that really runs a job is
    cancelled as SAQ's own stop would cancel it (the job is retried or swept back).
    """
    pending = {task for task in tasks if not task.done()}
    deadline = asyncio.get_running_loop().time() + within_s
    while pending and asyncio.get_running_loop().time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=STOP_CANCEL_EVERY_S)
    return pending


class IspbWorker(Worker[JobTaskContext]):
    """SAQ's worker with a stop that cannot hang on a task that swallowed its cancellation."""

    stop_cancel_within_s: float = 10.0

    async def stop(self) -> None:
        self.event.set()  # as SAQ's stop does first: no new process task starts
        await cancel_until_done(set(self.tasks), within_s=self.stop_cancel_within_s)
        await super().stop()


class EmbeddedWorker(IspbWorker):
    """A worker sharing its process and event loop with the web server (``ispb demo``).

    SAQ's worker installs SIGINT/SIGTERM handlers; here the web server owns signals and stops the worker from
    its lifespan, so Ctrl-C stops both.
    """

    SIGNALS: list[signal.Signals] = []  # noqa: RUF012 (overrides SAQ's class attribute)


class ProcessWorker(IspbWorker):
    """The worker of an ``ispb worker`` process: its shutdown has a deadline.

    On SIGINT/SIGTERM SAQ cancels running jobs (they are retried or swept back) and waits for every task to
    finish cancelling, without a bound; a task stuck in cancellation would keep the process alive until a
    supervisor kills it, with no trace of why. So stopping arms a deadline: if the process is still alive
    ``stop_deadline_s`` later, the pending asyncio tasks' stacks (a second before) and every thread's stack go to
    stderr, and the process exits with status 1.
    """

    stop_deadline_s: float = 20.0

    async def stop(self) -> None:
        asyncio.get_running_loop().call_later(max(self.stop_deadline_s - 1, 0), _print_pending_tasks)
        faulthandler.dump_traceback_later(self.stop_deadline_s, exit=True)  # never disarmed: the process is ending
        await super().stop()


def _print_pending_tasks() -> None:
    print("ispb worker: shutdown is overdue; pending tasks:", file=sys.stderr)
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)


def build_worker(
    db: Database,
    queue: Queue,
    *,
    secret_key: str = "",
    outbound: OutboundPolicy | None = None,
    data_dir: Path | None = None,
    concurrency: int = 10,
    embedded: bool = False,
    own_process: bool = False,
) -> Worker[JobTaskContext]:
    """The worker with every scheduled job: ``embedded`` inside the web server's process (it owns signals),
    ``own_process`` for ``ispb worker`` (shutdown with a deadline), else plain (tests run it in-process)."""
    cron_jobs = []
    functions: set[Any] = {(RUN_JOB, run_job), (RUN_SOON, forward_run_soon)}
    for job in SCHEDULE:
        task = _cron_task(job)
        functions.add((task.__qualname__, task))
        options = job_options(job)
        cron_jobs.append(CronJob(task, cron=job.cron, timeout=options["timeout"], retries=options["retries"]))

    async def startup(ctx: JobTaskContext) -> None:
        ctx["ispb_db"] = db
        ctx["ispb_secret_key"] = secret_key
        ctx["ispb_outbound"] = outbound or OutboundPolicy()
        ctx["ispb_data_dir"] = data_dir

    worker_class: type[IspbWorker] = IspbWorker
    if embedded:
        worker_class = EmbeddedWorker
    elif own_process:
        worker_class = ProcessWorker
    return worker_class(queue, functions, cron_jobs=cron_jobs, concurrency=concurrency, startup=startup)
