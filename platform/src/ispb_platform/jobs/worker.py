"""The SAQ worker: one cron entry per scheduled job, plus ``ispb.run_job`` for per-tenant fan-out.

A tenant-scoped job's cron tick does not do the work itself: it enqueues one ``ispb.run_job`` per active
tenant under the key ``<job>:<tenant>:<period>`` (DESIGN 3), so a second tick or a second worker for the same
minute adds nothing, one slow tenant does not delay the others, and each tenant is retried on its own.

A killed worker (SIGKILL, OOM, a lost machine) cannot say its jobs ended. SAQ notices only through the job's
heartbeat: every task here touches its job every third of ``heartbeat_s`` while it runs (SAQ does not do it by
itself: a job must call ``job.update()``), so the sweep, run every ``heartbeat_s`` on every worker, finds a
dead worker's job silent and retries it within about two heartbeats, instead of after the job's whole timeout.
``system.close_dead_runs`` (``jobs/reaper.py``) then closes the run records such jobs left ``running``.
"""

import asyncio
import contextlib
import faulthandler
import functools
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from saq import CronJob, Queue, Worker
from saq.job import Job
from saq.types import Context, PartialTimersDict

from ispb_notify import OutboundPolicy
from ispb_platform.jobs.due import tenants_with_due_work
from ispb_platform.jobs.job import JobScope, ScheduledJob
from ispb_platform.jobs.outage import QueueOutage, is_unreachable, missed_tick
from ispb_platform.jobs.queue import RUN_SOON, ping_queue
from ispb_platform.jobs.registry import REQUESTED_BY_NAME, SCHEDULE, get_job
from ispb_platform.jobs.request_runner import execute_request
from ispb_platform.jobs.requests import RUN_REQUEST
from ispb_platform.jobs.runs import Trigger, execute, job_key, trigger_of
from ispb_tenants import Database, active_tenant_refs, get_tenant

RUN_JOB = "ispb.run_job"
HEARTBEAT_S = 60
"""The default ``ISPB_JOB_HEARTBEAT_S``: a dead worker's job is retried one to two minutes after it died."""
FINISHED_TTL_S = 600
"""How long Redis keeps a finished job: long enough that a second worker's tick of the same minute finds the key
and adds nothing, short enough that a thousand operators' minute jobs do not fill Redis (24 h of them was ~3 GB).
The run records in ``platform.job_run`` are the history, not the queue."""

log = logging.getLogger(__name__)


class JobTaskContext(Context, total=False):
    """SAQ's task context plus what ISPB's startup hook puts in it."""

    ispb_db: Database
    ispb_secret_key: str
    ispb_outbound: OutboundPolicy
    ispb_public_ipv4: str | None
    ispb_data_dir: Path | None
    ispb_heartbeat_s: int


def job_options(job: ScheduledJob, *, heartbeat_s: int = HEARTBEAT_S) -> dict[str, Any]:
    """SAQ options for one job: its own timeout, several attempts, exponential backoff capped at two minutes
    (a job killed a few times must not wait hours), a heartbeat the running task keeps (`keep_alive`)."""
    return {
        "timeout": job.timeout_s,
        "retries": job.retries,
        "retry_delay": job.retry_delay_s,
        "retry_backoff": 120,
        "heartbeat": heartbeat_s,
        "ttl": FINISHED_TTL_S,
    }


@contextlib.asynccontextmanager
async def keep_alive(job: Job) -> AsyncIterator[None]:
    """Touch ``job`` every third of its heartbeat while the block runs, so the sweep knows its worker lives.

    The toucher is stopped before the block's result goes back to SAQ, so no touch can land after SAQ wrote the
    job's end (a late touch would write ``active`` back over ``complete``). A failed touch (the queue away for a
    moment) is logged and tried again next time: the job goes on; at worst it is swept and run again, which every
    job allows (DESIGN 10).
    """
    if not job.heartbeat:
        yield
        return

    async def touch() -> None:
        while True:
            await asyncio.sleep(job.heartbeat / 3)
            try:
                await job.update()
            except Exception as error:  # the queue being away must not end the job
                log.warning("could not touch job %s (%s: %s); trying again", job.key, type(error).__name__, error)

    toucher = asyncio.create_task(touch(), name=f"heartbeat {job.key}")
    try:
        yield
    finally:
        toucher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await toucher


def _kept_alive(task: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``task`` run under `keep_alive` of its job, with SAQ's name for it unchanged."""

    @functools.wraps(task)
    async def run(ctx: JobTaskContext, **kwargs: Any) -> Any:
        async with keep_alive(ctx["job"]):
            return await task(ctx, **kwargs)

    return run


def tick_period(ctx: JobTaskContext) -> str:
    """The minute a cron tick was scheduled for, in UTC: the ``<period>`` of the job key."""
    job = ctx["job"]
    scheduled = job.scheduled or job.queued / 1000 or datetime.now(UTC).timestamp()
    return datetime.fromtimestamp(scheduled, UTC).strftime("%Y-%m-%dT%H:%MZ")


async def fan_out(db: Database, queue: Queue, job: ScheduledJob, period: str, *, heartbeat_s: int = HEARTBEAT_S) -> int:
    """Enqueue ``job`` for every active tenant (only those with due work when the job says how to tell, see
    ``jobs/due.py``); return how many were new (duplicates are dropped by key)."""
    tenants = await active_tenant_refs(db)
    if job.due_work is not None:
        tenants = await tenants_with_due_work(db, job.due_work, tenants)
    enqueued = 0
    for tenant in tenants:
        queued = await queue.enqueue(
            RUN_JOB,
            key=job_key(job, tenant, period),
            job_name=job.name,
            tenant=tenant.slug,
            **job_options(job, heartbeat_s=heartbeat_s),
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
        trigger=trigger_of(ctx["job"].key),  # "Run now" is a person's run: its own record
        key=ctx["job"].key,
        queue=ctx["worker"].queue,
        secret_key=ctx["ispb_secret_key"],
        outbound=ctx["ispb_outbound"],
        public_ipv4=ctx.get("ispb_public_ipv4"),
        data_dir=ctx.get("ispb_data_dir"),
    )
    return {"run_id": record.id, "counts": record.counts}


async def forward_run_soon(ctx: JobTaskContext, *, job_name: str, tenant: str) -> dict[str, Any]:
    """``ispb.run_soon``: enqueue the named job for one tenant now, with the schedule's options (jobs/queue.py)."""
    job = get_job(job_name)
    key = ctx["job"].key.removeprefix("soon:")
    options = job_options(job, heartbeat_s=ctx["ispb_heartbeat_s"])
    queued = await ctx["worker"].queue.enqueue(RUN_JOB, key=key, job_name=job.name, tenant=tenant, **options)
    return {"enqueued": queued is not None}


async def run_request(ctx: JobTaskContext, *, request_id: int) -> dict[str, Any]:
    """``ispb.run_request``: run one job a person asked for from a page (``jobs/requests.py``)."""
    request = await execute_request(
        ctx["ispb_db"], request_id, REQUESTED_BY_NAME, secret_key=ctx["ispb_secret_key"],
        outbound=ctx["ispb_outbound"], data_dir=ctx.get("ispb_data_dir"), queue=ctx["worker"].queue,
    )  # fmt: skip
    return {"status": request.status if request else "not claimed"}


def _cron_task(job: ScheduledJob) -> Callable[[JobTaskContext], Awaitable[dict[str, Any]]]:
    async def task(ctx: JobTaskContext) -> dict[str, Any]:
        db: Database = ctx["ispb_db"]
        period = tick_period(ctx)
        if job.scope is JobScope.TENANT:
            queue = ctx["worker"].queue
            return {"enqueued": await fan_out(db, queue, job, period, heartbeat_s=ctx["ispb_heartbeat_s"])}
        record = await execute(
            db,
            job,
            tenant=None,
            trigger=Trigger.SCHEDULE,
            key=job_key(job, None, period),
            queue=ctx["worker"].queue,
            secret_key=ctx["ispb_secret_key"],
            outbound=ctx["ispb_outbound"],
            public_ipv4=ctx.get("ispb_public_ipv4"),
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
    """SAQ's worker with a stop that cannot hang on a task that swallowed its cancellation, and that rides out a
    queue outage: its upkeep backs off and logs once, and missed cron ticks run once after (``jobs/outage.py``)."""

    stop_cancel_within_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outage: QueueOutage = getattr(self.queue, "outage", None) or QueueOutage()
        self.outage.on_recovered = self.catch_up

    async def upkeep(self) -> list[asyncio.Task[None]]:
        """SAQ's upkeep tasks (abort, schedule, sweep, worker info) with back-off while the queue is away.

        SAQ's own loop logs a traceback and tries again after its timer (1 s for abort and schedule), for as
        long as the queue is away; here a queue that cannot be reached counts as the outage (one warning, longer
        waits), and any other error is still logged with its traceback."""

        async def poll(func: Callable[[int], Awaitable[Any]], every: int, arg: int | None = None) -> None:
            while not self.event.is_set():
                wait: float = every
                try:
                    await func(arg or every)
                    if self.outage.since is not None:  # some calls need no queue (abort with nothing to abort)
                        await ping_queue(self.queue)
                        await self.outage.recovered()
                except (Exception, asyncio.CancelledError) as error:
                    if self.event.is_set():
                        return
                    if isinstance(error, Exception) and is_unreachable(error):
                        wait = max(every, self.outage.failed(error))
                    else:
                        log.exception("upkeep task %s failed", getattr(func, "__name__", func))
                await asyncio.sleep(wait)

        info_every = self.timers["worker_info"]
        return [
            asyncio.create_task(poll(self.abort, self.timers["abort"])),
            asyncio.create_task(poll(self.schedule, self.timers["schedule"])),
            asyncio.create_task(poll(self.queue.sweep, self.timers["sweep"])),
            asyncio.create_task(poll(self.worker_info, info_every, info_every + 1)),
        ]

    async def catch_up(self, since: float) -> None:
        """Run once each cron job whose tick fell in the outage that began at ``since`` (``jobs/outage.py``)."""
        current = datetime.now(UTC).timestamp()
        for cron_job in self.cron_jobs:
            tick = missed_tick(cron_job.cron, since, current)
            if tick is None:
                continue
            function = cron_job.function.__qualname__
            own = await self.queue.job(f"cron:{function}")
            if own is not None and own.scheduled and own.scheduled <= tick.timestamp():
                continue  # the queue kept that tick: SAQ runs it now
            await self.queue.enqueue(
                function,
                key=f"catchup:{function}:{tick:%Y-%m-%dT%H:%MZ}",
                scheduled=int(tick.timestamp()),
                timeout=cron_job.timeout,
                retries=cron_job.retries,
                heartbeat=cron_job.heartbeat,
                ttl=cron_job.ttl,
            )
            log.info("catching up %s for its missed tick of %s", function, f"{tick:%Y-%m-%d %H:%M} UTC")

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
    public_ipv4: str | None = None,
    data_dir: Path | None = None,
    concurrency: int = 10,
    heartbeat_s: int = HEARTBEAT_S,
    embedded: bool = False,
    own_process: bool = False,
) -> Worker[JobTaskContext]:
    """The worker with every scheduled job: ``embedded`` inside the web server's process (it owns signals),
    ``own_process`` for ``ispb worker`` (shutdown with a deadline), else plain (tests run it in-process).
    Every task keeps its job's heartbeat, and the sweep for dead workers' jobs runs every ``heartbeat_s``."""
    cron_jobs = []
    functions: set[Any] = {
        (RUN_JOB, _kept_alive(run_job)),
        (RUN_SOON, _kept_alive(forward_run_soon)),
        (RUN_REQUEST, _kept_alive(run_request)),
    }
    for job in SCHEDULE:
        task = _kept_alive(_cron_task(job))
        functions.add((task.__qualname__, task))
        options = job_options(job, heartbeat_s=heartbeat_s)
        cron_jobs.append(
            CronJob(
                task,
                cron=job.cron,
                timeout=options["timeout"],
                retries=options["retries"],
                heartbeat=options["heartbeat"],
                ttl=options["ttl"],
            )
        )

    async def startup(ctx: JobTaskContext) -> None:
        ctx["ispb_db"] = db
        ctx["ispb_secret_key"] = secret_key
        ctx["ispb_outbound"] = outbound or OutboundPolicy()
        ctx["ispb_public_ipv4"] = public_ipv4
        ctx["ispb_data_dir"] = data_dir
        ctx["ispb_heartbeat_s"] = heartbeat_s

    worker_class: type[IspbWorker] = IspbWorker
    if embedded:
        worker_class = EmbeddedWorker
    elif own_process:
        worker_class = ProcessWorker
    return worker_class(
        queue,
        functions,
        cron_jobs=cron_jobs,
        concurrency=concurrency,
        startup=startup,
        # SAQ types its partial timers as total (keys from a total base): the other timers keep their defaults
        timers=cast(PartialTimersDict, {"sweep": heartbeat_s}),
    )
